"""The condition language of templates: small enough for an administrator to write.

A condition is JSON:

- ``{"field": "relation", "equals": "proxy"}`` — the field holds that value;
- ``{"field": "relation", "in": ["self", "household"]}`` — it holds one of these;
- ``{"field": "reason_detail", "filled": true}`` — it has a value (a checkbox: ticked);
- ``{"field": "age", "at_least": 15}`` / ``{"field": "age", "at_most": 64}`` — a number;
- ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` — combinations.

For a multi-choice field ``equals`` means "this value is among the chosen ones" and ``in``
"any of these is chosen". A field that is not shown (its ``shown_when`` does not hold)
counts as empty. Parsing checks every field and choice value named, so a typo is a
``TemplateError`` naming the place instead of a rule that silently never applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms.model import Field, FieldKind, TemplateError

_OPERATORS = ("equals", "in", "filled", "at_least", "at_most")


@dataclass(frozen=True)
class FieldTest:
    field: str
    op: str  # one of _OPERATORS
    kind: FieldKind = FieldKind.TEXT  # the field's kind decides what "equals" and "filled" mean
    values: tuple[str, ...] = ()  # for equals (one) and in (several)
    number: int = 0  # for at_least / at_most
    filled: bool = True


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


Condition = FieldTest | AllOf | AnyOf | Not


def _allowed_values(f: Field) -> set[str] | None:
    """The values a field can hold, when they are a closed set."""
    if f.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        return {c.value for c in f.choices}
    if f.kind is FieldKind.CHECKBOX:
        return {"0", "1"}
    return None


def _check_value(f: Field, value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise TemplateError(where, 'a value to compare must be a string (e.g. "1", "proxy")')
    allowed = _allowed_values(f)
    if allowed is not None and value not in allowed:
        raise TemplateError(
            where,
            f"{value!r} is not a value of field {f.id!r}; allowed: {', '.join(sorted(allowed))}",
        )
    return value


def _parse_test(raw: dict[str, Any], where: str, fields: Mapping[str, Field]) -> FieldTest:
    fid = raw["field"]
    if not isinstance(fid, str) or fid not in fields:
        raise TemplateError(where, f"refers to unknown field {fid!r}")
    f = fields[fid]
    if f.kind is FieldKind.SIGNATURE:
        raise TemplateError(where, f"field {fid!r} is a signature box and holds no value")
    ops = [k for k in raw if k != "field"]
    if len(ops) != 1 or ops[0] not in _OPERATORS:
        raise TemplateError(
            where, f"give the field and exactly one of: {', '.join(_OPERATORS)} (got {ops})"
        )
    op = ops[0]
    arg = raw[op]
    match op:
        case "equals":
            return FieldTest(fid, op, f.kind, (_check_value(f, arg, f"{where}.equals"),))
        case "in":
            if not isinstance(arg, list) or not arg:
                raise TemplateError(f"{where}.in", "must be a non-empty list of values")
            checked = tuple(_check_value(f, v, f"{where}.in[{i}]") for i, v in enumerate(arg))
            return FieldTest(fid, op, f.kind, checked)
        case "filled":
            if not isinstance(arg, bool):
                raise TemplateError(f"{where}.filled", "must be true or false")
            return FieldTest(fid, op, f.kind, filled=arg)
        case _:  # at_least / at_most
            if f.kind is not FieldKind.NUMBER:
                raise TemplateError(where, f"{op} needs a number field; {fid!r} is {f.kind.value}")
            if not isinstance(arg, int) or isinstance(arg, bool):
                raise TemplateError(f"{where}.{op}", "must be an integer")
            return FieldTest(fid, op, f.kind, number=arg)


def parse_condition(raw: Any, where: str, fields: Mapping[str, Field]) -> Condition:
    """Parse one condition; ``fields`` are the template's fields by id."""
    if not isinstance(raw, dict) or not raw:
        raise TemplateError(
            where, 'a condition must be an object such as {"field": …, "equals": …}'
        )
    if "field" in raw:
        return _parse_test(raw, where, fields)
    if len(raw) != 1:
        raise TemplateError(where, "combine conditions with exactly one of: all, any, not")
    ((key, arg),) = raw.items()
    if key in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            raise TemplateError(f"{where}.{key}", "must be a non-empty list of conditions")
        items = tuple(parse_condition(c, f"{where}.{key}[{i}]", fields) for i, c in enumerate(arg))
        return AllOf(items) if key == "all" else AnyOf(items)
    if key == "not":
        return Not(parse_condition(arg, f"{where}.not", fields))
    raise TemplateError(where, f"unknown condition {key!r}; use field, all, any or not")


def holds(condition: Condition, values: Mapping[str, str]) -> bool:
    """Whether ``condition`` is true for ``values`` (field id → stored text)."""
    match condition:
        case AllOf(items):
            return all(holds(c, values) for c in items)
        case AnyOf(items):
            return any(holds(c, values) for c in items)
        case Not(item):
            return not holds(item, values)
        case FieldTest():
            return _test(condition, (values.get(condition.field) or "").strip())


def _test(t: FieldTest, value: str) -> bool:
    match t.op:
        case "equals" | "in":
            chosen = set(value.split(",")) if t.kind is FieldKind.MULTI_CHOICE else {value}
            return bool(chosen & set(t.values))
        case "filled":
            present = value == "1" if t.kind is FieldKind.CHECKBOX else bool(value)
            return present is t.filled
        case "at_least":
            return value.isdigit() and int(value) >= t.number
        case _:
            return value.isdigit() and int(value) <= t.number


def fields_of(condition: Condition) -> frozenset[str]:
    """Every field id the condition reads."""
    match condition:
        case AllOf(items) | AnyOf(items):
            return frozenset().union(*(fields_of(c) for c in items))
        case Not(item):
            return fields_of(item)
        case FieldTest():
            return frozenset({condition.field})
