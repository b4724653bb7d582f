"""Values the system works out instead of asking: today, an age, the tax year, delivery.

A field gets one either as its value (``"source": "computed", "compute": "age"``, filled by
the system and recomputed whenever the values change) or as a default the resident may
change (``"default": {"compute": "tax_year"}``).

- ``today``: the session's date (YYYYMMDD), for a date field.
- ``age``: the full years of a date field (``"from"``; default: the field filled from
  ``card.birth_date``) on the session's date, for a number field. Japanese law (年齢計算ニ
  関スル法律) completes a year at the end of the day before the birthday, which on whole
  days means "from the birthday on"; someone born on 29 February turns a year older on
  1 March in common years. A partial birth date (month or day unknown) gives no age.
- ``tax_year``: the newest 年度 of 所得・課税証明書 (handbook §4.4: 年度 = income year + 1),
  as the choice value ``R<n>`` (令和n年度), for a choice field. The 年度 Y certificate can be
  issued only once 住民税 for Y is assessed, in early June of Y, so up to the day before
  ``"available_from"`` (MM-DD, default 06-01: set it to the town's issue date) the newest
  one is Y − 1. A value missing from the choices leaves the field unanswered.
- ``delivery``: ``mail`` when the eligibility outcome says the copy is mailed to the
  person (a proxy asked for the My Number or 住民票コード), else ``counter``, for a choice
  field that offers both; stored with the application, so staff and the print show it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from forms.model import Field, FieldKind, FilledBy, Source, Template, TemplateError
from forms.wareki import PartialDate


class Compute(StrEnum):
    TODAY = "today"
    AGE = "age"
    TAX_YEAR = "tax_year"
    DELIVERY = "delivery"


#: the field kind each computation fills
KIND_OF = {
    Compute.TODAY: FieldKind.DATE,
    Compute.AGE: FieldKind.NUMBER,
    Compute.TAX_YEAR: FieldKind.CHOICE,
    Compute.DELIVERY: FieldKind.CHOICE,
}
DELIVERY_VALUES = ("counter", "mail")
REIWA_BASE = 2018  # 令和n年 = 2018 + n


@dataclass(frozen=True)
class Computation:
    kind: Compute
    #: for age: the date field it is counted from
    from_field: str | None = None
    #: for tax_year: (month, day) from which the year's certificate is issued
    available_from: tuple[int, int] = (6, 1)


def parse_computation(
    raw: Any, f: Field, where: str, fields: Mapping[str, Field], *, as_default: bool
) -> Computation:
    if not isinstance(raw, dict):
        raise TemplateError(where, 'must be an object such as {"compute": "age"}')
    try:
        kind = Compute(str(raw.get("compute")))
    except ValueError:
        allowed = ", ".join(c.value for c in Compute)
        raise TemplateError(
            f"{where}.compute", f"unknown computation {raw.get('compute')!r}; allowed: {allowed}"
        ) from None
    extra = set(raw) - {"compute", "from", "available_from"}
    if extra:
        raise TemplateError(where, f"unknown keys {sorted(extra)}")
    if f.kind is not KIND_OF[kind]:
        raise TemplateError(where, f"{kind.value} fills a {KIND_OF[kind].value} field")
    if as_default and kind is Compute.DELIVERY:
        raise TemplateError(where, "delivery is decided by the eligibility rules, not a default")
    computation = Computation(kind)
    if kind is Compute.AGE:
        source = raw.get("from") or next(
            (g.id for g in fields.values() if g.source is Source.CARD_BIRTH_DATE), None
        )
        if source is None or source not in fields or fields[source].kind is not FieldKind.DATE:
            raise TemplateError(
                f"{where}.from", f"age needs a date field to count from (got {source!r})"
            )
        computation = Computation(kind, from_field=source)
    elif "from" in raw:
        raise TemplateError(f"{where}.from", "only age counts from a field")
    if kind is Compute.TAX_YEAR and "available_from" in raw:
        computation = Computation(kind, available_from=_month_day(raw["available_from"], where))
    elif "available_from" in raw:
        raise TemplateError(f"{where}.available_from", "only tax_year has an issue date")
    if kind is Compute.DELIVERY and not set(DELIVERY_VALUES) <= {c.value for c in f.choices}:
        raise TemplateError(where, "delivery needs the choices 'counter' and 'mail'")
    return computation


def _month_day(raw: Any, where: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in str(raw).split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is accepted
    except ValueError:
        raise TemplateError(f"{where}.available_from", "must be MM-DD, e.g. 06-01") from None
    return month, day


def age_on(birth: PartialDate, day: date) -> int | None:
    if birth.is_partial:
        return None
    years = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return max(years, 0)


def tax_year_on(day: date, available_from: tuple[int, int] = (6, 1)) -> int:
    """The 年度 (Western year) of the newest income/tax certificate on ``day``."""
    return day.year if (day.month, day.day) >= available_from else day.year - 1


def tax_year_value(fiscal_year: int) -> str:
    return f"R{fiscal_year - REIWA_BASE}"


def _value(f: Field, c: Computation, values: Mapping[str, str], day: date) -> str:
    match c.kind:
        case Compute.TODAY:
            return day.strftime("%Y%m%d")
        case Compute.AGE:
            assert c.from_field is not None
            try:
                age = age_on(PartialDate.parse(values.get(c.from_field, "")), day)
            except ValueError:
                return ""
            return "" if age is None else str(age)
        case Compute.TAX_YEAR:
            value = tax_year_value(tax_year_on(day, c.available_from))
            return value if value in {choice.value for choice in f.choices} else ""
        case _:  # delivery depends on the whole form: computed_values() decides it
            return ""


def computed_values(template: Template, values: Mapping[str, str], day: date) -> dict[str, str]:
    """The value of every ``computed`` field for ``values`` on ``day``."""
    from forms.eligibility import Obligation, evaluate

    result: dict[str, str] = {}
    outcome = None
    for f in template.fields:
        if f.source is not Source.COMPUTED or f.compute is None:
            continue
        if f.compute.kind is Compute.DELIVERY:
            outcome = outcome or evaluate(template, values)
            result[f.id] = "mail" if Obligation.MAIL_TO_PERSON in outcome.obligations else "counter"
        else:
            result[f.id] = _value(f, f.compute, values, day)
    return result


def computed_defaults(template: Template, day: date) -> dict[str, str]:
    """Defaults worked out for the session (``"default": {"compute": …}``) by field id."""
    result = {}
    for f in template.fields:
        if f.compute is not None and f.source is not Source.COMPUTED:
            value = _value(f, f.compute, {}, day)
            if value:
                result[f.id] = value
    return result


def check_computed_field(f: Field, where: str) -> None:
    """A computed value is the system's: nobody is asked for it."""
    if f.source is Source.COMPUTED and f.compute is None:
        raise TemplateError(where, 'a computed field needs "compute"')
    if f.source is Source.COMPUTED and f.filled_by is not FilledBy.SYSTEM:
        raise TemplateError(where, "a computed field is filled by the system")
