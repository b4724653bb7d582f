"""Field validation with messages as catalog keys (never echoing the value)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

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


def check_field(f: Field, value: str | None, *, required: bool | None = None) -> Problem | None:
    """Return the first problem with ``value`` for ``f``, or ``None``. ``required``
    overrides the field's own flag (a ``required_when`` that holds)."""
    required = f.required if required is None else required
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
        case FieldKind.TEXT | FieldKind.ADDRESS | FieldKind.SIGNATURE:
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
