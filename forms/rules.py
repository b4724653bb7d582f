"""Cross-field rules, and the second parsing pass that attaches all template logic.

A rule reads ``{"when": <condition>, "require": <condition>, "message": {ja, en, ja-easy}}``:
whenever ``when`` holds (always, if left out), ``require`` must hold too, else the
application is blocked with ``message`` (e.g. 代理人 ⇒ 委任状あり). A rule that reads a
staff-filled field is checked at approval only, since the resident cannot fix it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms.computed import Compute, check_computed_field, parse_computation
from forms.conditions import Condition, fields_of, holds, parse_condition
from forms.eligibility import parse_eligibility
from forms.model import Field, FilledBy, Localized, Section, Source, Template, TemplateError
from forms.model import _localized as localized
from forms.visibility import effective_values


@dataclass(frozen=True)
class Rule:
    require: Condition
    message: Localized
    when: Condition | None = None

    @property
    def fields(self) -> frozenset[str]:
        return fields_of(self.require) | (fields_of(self.when) if self.when else frozenset())


@dataclass(frozen=True)
class RuleFailure:
    index: int
    message: Localized
    fields: tuple[str, ...]


def _staff_rule(template: Template, rule: Rule) -> bool:
    return any(template.field(fid).filled_by is FilledBy.STAFF for fid in rule.fields)


def broken(rule: Rule, values: Mapping[str, str]) -> bool:
    return (rule.when is None or holds(rule.when, values)) and not holds(rule.require, values)


def check_rules(
    template: Template, values: Mapping[str, str], *, include_staff: bool = False
) -> list[RuleFailure]:
    """The rules ``values`` break; staff-stage rules only when asked."""
    shown = effective_values(template, values)
    return [
        RuleFailure(i, rule.message, tuple(sorted(rule.fields)))
        for i, rule in enumerate(template.rules)
        if (include_staff or not _staff_rule(template, rule)) and broken(rule, shown)
    ]


def rule_against_answer(
    template: Template, values: Mapping[str, str], field_id: str, settled: set[str]
) -> RuleFailure | None:
    """The first resident-stage rule that the answer to ``field_id`` breaks, counting only
    rules whose fields are all ``settled`` (answered, or not the resident's to answer): a
    rule that waits for a later question must not stop this one."""
    shown = effective_values(template, values)
    for i, rule in enumerate(template.rules):
        if field_id not in fields_of(rule.require) or _staff_rule(template, rule):
            continue
        if rule.fields <= settled and broken(rule, shown):
            return RuleFailure(i, rule.message, tuple(sorted(rule.fields)))
    return None


# --- the second parsing pass ----------------------------------------------------------
def _field_logic(f: Field, raw: dict[str, Any], where: str, fields: Mapping[str, Field]) -> Field:
    shown_when = (
        parse_condition(raw["shown_when"], f"{where}.shown_when", fields)
        if "shown_when" in raw
        else None
    )
    required_when = (
        parse_condition(raw["required_when"], f"{where}.required_when", fields)
        if "required_when" in raw
        else None
    )
    if shown_when is not None and f.id in fields_of(shown_when):
        raise TemplateError(f"{where}.shown_when", "a field cannot depend on itself")
    compute = None
    spec = {k: raw[k] for k in ("compute", "from", "available_from") if k in raw}
    if f.source is Source.COMPUTED:
        compute = parse_computation(spec, f, where, fields, as_default=False)
    elif spec:
        raise TemplateError(where, f'{sorted(spec)} need "source": "computed"')
    if isinstance(raw.get("default"), dict):
        if f.source is not None:
            raise TemplateError(f"{where}.default", "a field with a source has no default")
        compute = parse_computation(raw["default"], f, f"{where}.default", fields, as_default=True)
    result = dataclasses.replace(
        f, shown_when=shown_when, required_when=required_when, compute=compute
    )
    check_computed_field(result, where)
    return result


def _refuse_cycles(fields: Mapping[str, Field], places: Mapping[str, str]) -> None:
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(fid: str) -> None:
        state[fid] = 1
        cond = fields[fid].shown_when
        for dep in sorted(fields_of(cond)) if cond else ():
            if state.get(dep) == 1:
                raise TemplateError(
                    f"{places[fid]}.shown_when", f"depends on {dep!r}, which depends back on it"
                )
            if dep not in state:
                visit(dep)
        state[fid] = 2

    for fid in fields:
        if fid not in state:
            visit(fid)


def _parse_rule(raw: Any, where: str, fields: Mapping[str, Field]) -> Rule:
    if not isinstance(raw, dict) or "require" not in raw:
        raise TemplateError(where, "a rule needs 'require' (and optionally 'when')")
    extra = set(raw) - {"when", "require", "message"}
    if extra:
        raise TemplateError(where, f"unknown keys {sorted(extra)}")
    return Rule(
        require=parse_condition(raw["require"], f"{where}.require", fields),
        message=localized(raw.get("message"), f"{where}.message"),
        when=parse_condition(raw["when"], f"{where}.when", fields) if "when" in raw else None,
    )


def attach_logic(template: Template, raw: Mapping[str, Any]) -> Template:
    """Parse what refers to other fields (conditions, rules, eligibility, computations) once
    every field is known; every unknown field or value is a ``TemplateError`` naming it."""
    fields = {f.id: f for f in template.fields}
    places: dict[str, str] = {}
    sections = []
    for si, section in enumerate(template.sections):
        new_fields = []
        for fi, f in enumerate(section.fields):
            where = f"sections[{si}].fields[{fi}] ({f.id})"
            places[f.id] = where
            new_fields.append(_field_logic(f, raw["sections"][si]["fields"][fi], where, fields))
        sections.append(Section(section.id, section.title, tuple(new_fields)))
    fields = {f.id: f for s in sections for f in s.fields}
    _refuse_cycles(fields, places)
    rules_raw = raw.get("rules", [])
    if not isinstance(rules_raw, list):
        raise TemplateError("rules", "must be a list")
    rules = tuple(_parse_rule(r, f"rules[{i}]", fields) for i, r in enumerate(rules_raw))
    decided = {
        f.id
        for f in fields.values()
        if f.compute is not None and f.compute.kind is Compute.DELIVERY
    }
    eligibility = (
        parse_eligibility(raw["eligibility"], fields, decided) if "eligibility" in raw else None
    )
    if decided and eligibility is None:
        raise TemplateError(places[min(decided)], 'delivery needs an "eligibility" block')
    return dataclasses.replace(
        template, sections=tuple(sections), rules=rules, eligibility=eligibility
    )
