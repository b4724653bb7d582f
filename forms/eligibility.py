"""Who may apply, and what each applicant must bring: the template's ``eligibility``.

::

    "eligibility": {
      "relation_field": "relation",
      "relations": {"self": [], "proxy": ["power_of_attorney"]},
      "obligations": [{"when": <condition>, "obligation": "mail_to_person"}],
      "refuse": [{"when": <condition>, "reason": "koiki_no_proxy", "message": {"ja": …}}]
    }

``relations`` lists the values of the relation field that may apply, each with what that
applicant must bring (checked by the clerk); any other value is refused. ``obligations``
add duties under a condition; ``refuse`` entries refuse the application with their own
message (e.g. 広域交付 allows no proxy). ``evaluate`` is pure and Qt-free: the resident flow
shows its outcome on the review screen, the application service enforces it at submission
and approval, and the staff screen lists the obligations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from forms.conditions import Condition, fields_of, holds, parse_condition
from forms.model import Field, FieldKind, Localized, Template, TemplateError, _ident, _localized
from forms.visibility import effective_values


class Obligation(StrEnum):
    """Duties the kiosk cannot discharge itself; each has resident and staff texts in the
    catalogs (``obligation_<value>``, ``staff_obligation_<value>``)."""

    #: a 委任状 signed by the person the certificate is about
    POWER_OF_ATTORNEY = "power_of_attorney"
    #: the 印鑑登録証 (seal registration card)
    SEAL_CARD = "seal_card"
    #: a photo ID (e.g. 広域交付 of 戸籍)
    PHOTO_ID = "photo_id"
    #: a third party's stated reason is reviewed by the clerk
    REASON_REVIEW = "reason_review"
    #: the copy is mailed to the person's registered address, never handed over
    MAIL_TO_PERSON = "mail_to_person"


class Verdict(StrEnum):
    ALLOWED = "allowed"
    REFUSED = "refused"


#: the reason of a refusal by relation; its message is the catalog's refused_<reason>
RELATION_NOT_ALLOWED = "relation_not_allowed"


@dataclass(frozen=True)
class ConditionalObligation:
    when: Condition
    obligation: Obligation


@dataclass(frozen=True)
class Refusal:
    when: Condition
    reason: str
    message: Localized


@dataclass(frozen=True)
class Eligibility:
    relation_field: str
    #: allowed relation value → what that applicant must bring
    relations: tuple[tuple[str, tuple[Obligation, ...]], ...]
    obligations: tuple[ConditionalObligation, ...] = ()
    refusals: tuple[Refusal, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """Allowed (possibly with obligations) or refused with a reason key and, for a
    template's own refusal, its message (else the catalog's ``refused_<reason>``)."""

    verdict: Verdict
    relation: str = ""
    obligations: tuple[Obligation, ...] = ()
    reason: str = ""
    message: Localized = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED

    @property
    def mail_to_person(self) -> bool:
        return Obligation.MAIL_TO_PERSON in self.obligations


def _obligation(raw: Any, where: str) -> Obligation:
    try:
        return Obligation(raw)
    except ValueError:
        allowed = ", ".join(o.value for o in Obligation)
        raise TemplateError(where, f"unknown obligation {raw!r}; allowed: {allowed}") from None


def parse_eligibility(
    raw: Any, fields: Mapping[str, Field], computed_from_outcome: set[str]
) -> Eligibility:
    where = "eligibility"
    if not isinstance(raw, dict):
        raise TemplateError(where, "must be an object")
    extra = set(raw) - {"relation_field", "relations", "obligations", "refuse"}
    if extra:
        raise TemplateError(where, f"unknown keys {sorted(extra)}")
    relation_field = raw.get("relation_field")
    f = fields.get(relation_field) if isinstance(relation_field, str) else None
    if f is None or f.kind is not FieldKind.CHOICE:
        raise TemplateError(
            f"{where}.relation_field", f"must name a choice field (got {relation_field!r})"
        )
    choices = {c.value for c in f.choices}
    relations_raw = raw.get("relations")
    if not isinstance(relations_raw, dict) or not relations_raw:
        raise TemplateError(f"{where}.relations", "list the relations that may apply")
    relations = []
    for value, needs in relations_raw.items():
        place = f"{where}.relations.{value}"
        if value not in choices:
            raise TemplateError(
                place,
                f"{value!r} is not a choice of {f.id!r}; choices: {', '.join(sorted(choices))}",
            )
        if not isinstance(needs, list):
            raise TemplateError(place, "must be a list of obligations (may be empty)")
        relations.append(
            (value, tuple(_obligation(n, f"{place}[{i}]") for i, n in enumerate(needs)))
        )

    def condition(entry: Any, place: str) -> Condition:
        if not isinstance(entry, dict) or "when" not in entry:
            raise TemplateError(place, "needs a condition 'when'")
        cond = parse_condition(entry["when"], f"{place}.when", fields)
        loop = fields_of(cond) & computed_from_outcome
        if loop:
            raise TemplateError(f"{place}.when", f"reads {sorted(loop)}, which it decides itself")
        return cond

    obligations = []
    for i, entry in enumerate(_list(raw.get("obligations", []), f"{where}.obligations")):
        place = f"{where}.obligations[{i}]"
        cond = condition(entry, place)
        obligations.append(
            ConditionalObligation(cond, _obligation(entry.get("obligation"), f"{place}.obligation"))
        )
    refusals = []
    for i, entry in enumerate(_list(raw.get("refuse", []), f"{where}.refuse")):
        place = f"{where}.refuse[{i}]"
        cond = condition(entry, place)
        refusals.append(
            Refusal(
                cond,
                _ident(entry.get("reason"), f"{place}.reason"),
                _localized(entry.get("message"), f"{place}.message"),
            )
        )
    return Eligibility(f.id, tuple(relations), tuple(obligations), tuple(refusals))


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise TemplateError(where, "must be a list")
    return raw


def evaluate(template: Template, values: Mapping[str, str]) -> Outcome:
    """The eligibility outcome for ``values`` (fields that do not apply count as empty)."""
    rules = template.eligibility
    if rules is None:
        return Outcome(Verdict.ALLOWED)
    shown = effective_values(template, values)
    relation = shown.get(rules.relation_field, "")
    needs = dict(rules.relations)
    if relation not in needs:
        return Outcome(Verdict.REFUSED, relation, reason=RELATION_NOT_ALLOWED)
    for refusal in rules.refusals:
        if holds(refusal.when, shown):
            return Outcome(
                Verdict.REFUSED, relation, reason=refusal.reason, message=refusal.message
            )
    duties = list(needs[relation])
    for conditional in rules.obligations:
        if holds(conditional.when, shown) and conditional.obligation not in duties:
            duties.append(conditional.obligation)
    return Outcome(Verdict.ALLOWED, relation, tuple(duties))
