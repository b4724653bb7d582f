"""The template model: what a form asks, where each value comes from, what it costs.

Templates are JSON documents (forms/templates/*.json). ``parse_template`` turns one into
frozen dataclasses and refuses anything malformed with a ``TemplateError`` that names the
offending place, so an administrator's mistake never reaches a resident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from forms.layout import Layout, LayoutError, check_layout_fields, parse_layout
from forms.localized import pick

if TYPE_CHECKING:  # parsed by forms/rules.py after the fields (they refer to each other)
    from forms.computed import Computation
    from forms.conditions import Condition
    from forms.eligibility import Eligibility
    from forms.rules import Rule


class TemplateError(ValueError):
    """A template definition is malformed; ``where`` names the offending element."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")


class FieldKind(StrEnum):
    TEXT = "text"
    KANA = "kana"
    DATE = "date"
    CHOICE = "choice"
    #: several of the choices; stored as their values joined by "," in template order
    MULTI_CHOICE = "multi_choice"
    CHECKBOX = "checkbox"
    NUMBER = "number"
    PHONE = "phone"
    POSTAL_CODE = "postal_code"
    ADDRESS = "address"
    #: a box signed by hand on the printed form; it holds no value in the application
    SIGNATURE = "signature"
    #: repeating person rows (e.g. the household members who move); the value is a JSON
    #: array of objects keyed by the ids of the field's ``items``
    PERSONS = "persons"


#: kinds an item of a person row may have
ROW_ITEM_KINDS = frozenset(
    {
        FieldKind.TEXT,
        FieldKind.KANA,
        FieldKind.DATE,
        FieldKind.CHOICE,
        FieldKind.CHECKBOX,
        FieldKind.NUMBER,
        FieldKind.PHONE,
        FieldKind.POSTAL_CODE,
        FieldKind.ADDRESS,
    }
)


class FilledBy(StrEnum):
    RESIDENT = "resident"
    STAFF = "staff"
    SYSTEM = "system"


class Source(StrEnum):
    CARD_NAME = "card.name"
    CARD_ADDRESS = "card.address"
    CARD_BIRTH_DATE = "card.birth_date"
    CARD_SEX = "card.sex"
    CARD_MY_NUMBER = "card.my_number"
    SESSION_TODAY = "session.today"
    #: filled by the system from other values (``compute``: age, today, tax_year, delivery)
    COMPUTED = "computed"


CARD_SOURCES = frozenset(s for s in Source if s.value.startswith("card."))

Localized = dict[str, str]


@dataclass(frozen=True)
class Choice:
    value: str
    label: Localized


@dataclass(frozen=True)
class Field:
    id: str
    kind: FieldKind
    label: Localized
    filled_by: FilledBy
    required: bool = False
    source: Source | None = None
    help: Localized = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    default: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    #: print this date field in 和暦 (default), in Western form, or ("either") in Western
    #: form for a foreign resident's row (one with a nationality) and in 和暦 otherwise
    date_style: str = "wareki"
    #: the label on the printed form when the screen asks differently (「委任状の提出」 for
    #: 「ご本人が書いた委任状をお持ちですか」); empty = the label
    print_label: Localized = field(default_factory=dict)
    #: the items of one person row (kind PERSONS only)
    items: tuple[Field, ...] = ()
    max_rows: int | None = None
    #: asked and kept only while this holds (forms/conditions.py); None: always
    shown_when: Condition | None = None
    #: required (a checkbox: ticked) while this holds, on top of ``required``
    required_when: Condition | None = None
    #: how a ``computed`` source or a computed default (``"default": {"compute": …}``) is made
    compute: Computation | None = None

    @property
    def printed_label(self) -> str:
        return (self.print_label or self.label)["ja"]

    @property
    def from_card(self) -> bool:
        return self.source in CARD_SOURCES

    def choice_label(self, value: str, language: str) -> str:
        for choice in self.choices:
            if choice.value == value:
                return pick(choice.label, language)
        return value


@dataclass(frozen=True)
class Section:
    id: str
    title: Localized
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class FeeRule:
    """``amount`` yen per unit; the unit count comes from ``per_field`` (else 1), less
    ``free_units`` (a surcharge such as +50円 for each sheet after the first).
    ``when`` restricts the rule to applications where a field has a given value; an
    amount of 0 makes the case free."""

    code: str
    label: Localized
    amount: int
    per_field: str | None = None
    when_field: str | None = None
    when_value: str | None = None
    free_units: int = 0


@dataclass(frozen=True)
class Template:
    id: str
    version: int
    title: Localized
    short_title: Localized
    business: str
    my_number_business: bool
    #: which person block the card fills: the applicant (申請者) or the person filing (届出人)
    card_fills: str
    sections: tuple[Section, ...]
    fees: tuple[FeeRule, ...]
    description: Localized = field(default_factory=dict)
    #: where everything is printed; None = the automatic table layout
    layout: Layout | None = None
    #: cross-field rules (``when`` ⇒ ``require``), checked before submission and approval
    rules: tuple[Rule, ...] = ()
    #: who may apply and what each must bring; None: anyone, nothing extra
    eligibility: Eligibility | None = None

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for section in self.sections for f in section.fields)

    def field(self, field_id: str) -> Field:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    @property
    def needs_my_number(self) -> bool:
        return any(f.source is Source.CARD_MY_NUMBER for f in self.fields)


_E = TypeVar("_E", bound=StrEnum)
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _localized(raw: Any, where: str) -> Localized:
    if not isinstance(raw, dict) or "ja" not in raw:
        raise TemplateError(where, "needs a Japanese text ('ja')")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise TemplateError(where, "texts must be strings")
    return dict(raw)


def _ident(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not _ID.match(raw):
        raise TemplateError(where, "id must be lower-case letters, digits and '_'")
    return raw


def _opt_int(raw: Any, where: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise TemplateError(where, "must be an integer")
    return raw


def _enum(kind: type[_E], raw: Any, where: str) -> _E:
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise TemplateError(where, f"unknown value {raw!r}; allowed: {allowed}") from None


def _parse_items(raw: Any, where: str) -> tuple[Field, ...]:
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{where}.items", "person rows need their items (name, …)")
    items = tuple(_parse_field(i, f"{where}.items[{n}]", in_row=True) for n, i in enumerate(raw))
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise TemplateError(f"{where}.items", "duplicate item id")
    return items


def _parse_field(raw: Any, where: str, *, in_row: bool = False) -> Field:
    if not isinstance(raw, dict):
        raise TemplateError(where, "a field must be an object")
    fid = _ident(raw.get("id"), where)
    where = f"{where} ({fid})"
    kind = _enum(FieldKind, raw.get("kind"), f"{where}.kind")
    if in_row and kind not in ROW_ITEM_KINDS:
        raise TemplateError(f"{where}.kind", f"a person row cannot hold a {kind.value} item")
    items: tuple[Field, ...] = ()
    if kind is FieldKind.PERSONS:
        items = _parse_items(raw.get("items"), where)
        if raw.get("source"):
            raise TemplateError(f"{where}.source", "person rows are entered, not read from a card")
    elif "items" in raw:
        raise TemplateError(f"{where}.items", "only a persons field has items")
    source = _enum(Source, raw["source"], f"{where}.source") if raw.get("source") else None
    choices = tuple(
        Choice(str(c.get("value")), _localized(c.get("label"), f"{where}.choices[{i}]"))
        for i, c in enumerate(raw.get("choices", []))
    )
    if kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE) and not choices:
        raise TemplateError(where, "a choice field needs choices")
    if kind is FieldKind.MULTI_CHOICE and any("," in c.value for c in choices):
        raise TemplateError(where, "multi-choice values may not contain ','")
    if kind is FieldKind.SIGNATURE and (raw.get("required") or raw.get("source")):
        raise TemplateError(where, "a signature box is signed on paper: no source, not required")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise TemplateError(f"{where}.pattern", f"invalid regular expression: {exc}") from None
    date_style = raw.get("date_style", "wareki")
    if date_style not in ("wareki", "western", "either"):
        raise TemplateError(f"{where}.date_style", "must be 'wareki', 'western' or 'either'")
    max_rows = _opt_int(raw.get("max_rows"), f"{where}.max_rows")
    if max_rows is not None and (kind is not FieldKind.PERSONS or max_rows < 1):
        raise TemplateError(f"{where}.max_rows", "a persons field's row limit (≥ 1)")
    return Field(
        id=fid,
        kind=kind,
        label=_localized(raw.get("label"), f"{where}.label"),
        filled_by=_enum(FilledBy, raw.get("filled_by", "resident"), f"{where}.filled_by"),
        required=bool(raw.get("required", False)),
        source=source,
        help=_localized(raw["help"], f"{where}.help") if "help" in raw else {},
        choices=choices,
        # a computed default ({"compute": …}) is parsed by forms/rules.py
        default=(
            None
            if raw.get("default") is None or isinstance(raw["default"], dict)
            else str(raw["default"])
        ),
        minimum=_opt_int(raw.get("min"), f"{where}.min"),
        maximum=_opt_int(raw.get("max"), f"{where}.max"),
        max_length=_opt_int(raw.get("max_length"), f"{where}.max_length"),
        pattern=pattern,
        date_style=date_style,
        items=items,
        max_rows=max_rows,
        print_label=(
            _localized(raw["print_label"], f"{where}.print_label") if "print_label" in raw else {}
        ),
    )


def _parse_fee(raw: Any, where: str, field_ids: set[str]) -> FeeRule:
    if not isinstance(raw, dict):
        raise TemplateError(where, "a fee rule must be an object")
    amount = _opt_int(raw.get("amount"), f"{where}.amount")
    if amount is None or amount < 0:
        raise TemplateError(f"{where}.amount", "must be a non-negative integer (yen)")
    rule = FeeRule(
        code=_ident(raw.get("code"), f"{where}.code"),
        label=_localized(raw.get("label"), f"{where}.label"),
        amount=amount,
        per_field=raw.get("per_field"),
        when_field=(raw.get("when") or {}).get("field"),
        when_value=(raw.get("when") or {}).get("equals"),
        free_units=_opt_int(raw.get("free_units"), f"{where}.free_units") or 0,
    )
    if rule.free_units < 0:
        raise TemplateError(f"{where}.free_units", "must be 0 or more")
    if rule.free_units and rule.per_field is None:
        raise TemplateError(f"{where}.free_units", "needs per_field (the units it counts)")
    for ref in (rule.per_field, rule.when_field):
        if ref is not None and ref not in field_ids:
            raise TemplateError(where, f"refers to unknown field {ref!r}")
    return rule


def parse_template(raw: Any) -> Template:
    """Parse and check a template definition; raise ``TemplateError`` if anything is wrong."""
    if not isinstance(raw, dict):
        raise TemplateError("template", "must be an object")
    tid = _ident(raw.get("id"), "id")
    version = _opt_int(raw.get("version"), "version")
    if version is None or version < 1:
        raise TemplateError("version", "must be a positive integer")
    sections = []
    seen: set[str] = set()
    for si, sraw in enumerate(raw.get("sections", [])):
        where = f"sections[{si}]"
        fields_ = tuple(
            _parse_field(fraw, f"{where}.fields[{fi}]")
            for fi, fraw in enumerate(sraw.get("fields", []))
        )
        for f in fields_:
            if f.id in seen:
                raise TemplateError(where, f"duplicate field id {f.id!r}")
            seen.add(f.id)
        sections.append(
            Section(
                _ident(sraw.get("id"), f"{where}.id"),
                _localized(sraw.get("title"), f"{where}.title"),
                fields_,
            )
        )
    if not sections:
        raise TemplateError("sections", "a template needs at least one section")
    my_number_business = bool(raw.get("my_number_business", False))
    template = Template(
        id=tid,
        version=version,
        title=_localized(raw.get("title"), "title"),
        short_title=_localized(raw.get("short_title", raw.get("title")), "short_title"),
        business=str(raw.get("business", "")),
        my_number_business=my_number_business,
        card_fills=str(raw.get("card_fills", "applicant")),
        sections=tuple(sections),
        fees=tuple(_parse_fee(f, f"fees[{i}]", seen) for i, f in enumerate(raw.get("fees", []))),
        description=_localized(raw["description"], "description") if "description" in raw else {},
        layout=_parse_template_layout(raw.get("layout")),
    )
    if not template.business:
        raise TemplateError("business", "name the 事務 this form serves")
    if template.needs_my_number and not my_number_business:
        # 番号法: only a 個人番号利用事務 may bind the My Number (LEG-01).
        raise TemplateError(
            "my_number_business", "binds card.my_number but is not a 個人番号利用事務"
        )
    if template.card_fills not in ("applicant", "notifier"):
        raise TemplateError("card_fills", "must be 'applicant' or 'notifier'")
    from forms.rules import attach_logic  # conditions need every field parsed first

    template = attach_logic(template, raw)
    if template.layout is not None:
        _check_layout(template, template.layout)
    return template


def _parse_template_layout(raw: Any) -> Layout | None:
    if raw is None:
        return None
    try:
        return parse_layout(raw)
    except LayoutError as exc:
        raise TemplateError(exc.where, exc.problem) from None


def _check_layout(template: Template, layout: Layout) -> None:
    fields_ = template.fields
    try:
        check_layout_fields(
            layout,
            [f.id for f in fields_],
            {f.id: f.kind.value for f in fields_},
            {f.id: {c.value for c in f.choices} for f in fields_},
            {f.id: {i.id for i in f.items} for f in fields_},
        )
    except LayoutError as exc:
        raise TemplateError(exc.where, exc.problem) from None
