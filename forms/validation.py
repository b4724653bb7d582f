"""Field validation with messages as catalog keys (never echoing the value)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms.model import Field, FieldKind, FilledBy, Template
from forms.visibility import is_required, visible_ids
from forms.wareki import PartialDate

# Hiragana, katakana, the long-vowel mark and spaces (full and half width).
_KANA = re.compile(r"^[\u3041-\u309F\u30A0-\u30FF\u30FC\u3000 ]+$")
_PHONE = re.compile(r"^0\d{1,4}-?\d{1,4}-?\d{3,4}$")
_POSTAL = re.compile(r"^\d{3}-?\d{4}$")


@dataclass(frozen=True)
class Problem:
    field_id: str
    message_key: str
    params: tuple[tuple[str, object], ...] = ()


def person_rows(value: str | None) -> list[dict[str, str]]:
    """The rows of a persons value; raise ValueError when it is not a JSON array of rows."""
    if not value or not value.strip():
        return []
    data: Any = json.loads(value)
    if not isinstance(data, list) or not all(
        isinstance(r, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in r.items())
        for r in data
    ):
        raise ValueError("persons value must be a JSON array of objects of strings")
    return data


def encode_person_rows(rows: list[dict[str, str]]) -> str:
    # Blank rows are dropped; key order follows the entry so staff see what they typed.
    kept = [{k: v for k, v in r.items() if v.strip()} for r in rows]
    return json.dumps([r for r in kept if r], ensure_ascii=False, separators=(",", ":"))


def _check_persons(f: Field, value: str | None, required: bool) -> Problem | None:
    try:
        rows = person_rows(value)
    except ValueError:
        return Problem(f.id, "invalid_format")
    if not rows:
        return Problem(f.id, "invalid_required") if required else None
    if f.max_rows is not None and len(rows) > f.max_rows:
        return Problem(f.id, "invalid_too_many_rows", (("max", f.max_rows),))
    known = {i.id for i in f.items}
    for n, row in enumerate(rows, start=1):
        if set(row) - known:
            return Problem(f.id, "invalid_format")
        for item in f.items:
            problem = check_field(item, row.get(item.id))
            if problem is not None:
                # ``row`` and ``item`` say where, so staff can go straight to the cell
                return Problem(
                    f.id, problem.message_key, (("row", n), ("item", item.id), *problem.params)
                )
    return None


def check_field(f: Field, value: str | None, *, required: bool | None = None) -> Problem | None:
    """Return the first problem with ``value`` for ``f``, or ``None``. ``required``
    overrides the field's own flag (a ``required_when`` that holds)."""
    required = f.required if required is None else required
    if f.kind is FieldKind.PERSONS:
        return _check_persons(f, value, required)
    text = (value or "").strip()
    if not text or (f.kind is FieldKind.CHECKBOX and text == "0" and required):
        return Problem(f.id, "invalid_required") if required else None
    if f.max_length is not None and len(text) > f.max_length:
        return Problem(f.id, "invalid_too_long", (("max", f.max_length),))
    match f.kind:
        case FieldKind.KANA:
            if not _KANA.match(text):
                return Problem(f.id, "invalid_kana")
        case FieldKind.NUMBER:
            if not text.isdigit():
                return Problem(f.id, "invalid_number")
            number = int(text)
            if f.minimum is not None and number < f.minimum:
                return Problem(f.id, "invalid_min", (("min", f.minimum),))
            if f.maximum is not None and number > f.maximum:
                return Problem(f.id, "invalid_max", (("max", f.maximum),))
        case FieldKind.DATE:
            try:
                PartialDate.parse(text)
            except ValueError:
                return Problem(f.id, "invalid_date")
        case FieldKind.CHOICE:
            if text not in {c.value for c in f.choices}:
                return Problem(f.id, "invalid_choice")
        case FieldKind.MULTI_CHOICE:
            chosen = text.split(",")
            if not set(chosen) <= {c.value for c in f.choices} or len(set(chosen)) != len(chosen):
                return Problem(f.id, "invalid_choice")
        case FieldKind.CHECKBOX:
            if text not in ("0", "1"):
                return Problem(f.id, "invalid_choice")
        case FieldKind.PHONE:
            if not _PHONE.match(text):
                return Problem(f.id, "invalid_phone")
        case FieldKind.POSTAL_CODE:
            if not _POSTAL.match(text):
                return Problem(f.id, "invalid_postal_code")
        case FieldKind.TEXT | FieldKind.ADDRESS | FieldKind.SIGNATURE | FieldKind.PERSONS:
            pass
    if f.pattern is not None and not re.fullmatch(f.pattern, text):
        return Problem(f.id, "invalid_format")
    return None


def validate(
    template: Template, values: Mapping[str, str], *, include_staff: bool = False
) -> list[Problem]:
    """Problems for the whole form; staff-filled fields are checked only when asked, and
    fields whose ``shown_when`` does not hold not at all."""
    problems = []
    shown = visible_ids(template, values)
    applying = {k: v for k, v in values.items() if k in shown}
    for f in template.fields:
        if (f.filled_by is FilledBy.STAFF and not include_staff) or f.id not in shown:
            continue
        problem = check_field(f, values.get(f.id), required=is_required(f, applying))
        if problem is not None:
            problems.append(problem)
    return problems
