"""How a stored value reads on a screen or a printed form."""

from __future__ import annotations

from forms.localized import pick
from forms.model import Field, FieldKind, Source
from forms.wareki import format_wareki, format_western

SEX_LABELS = {
    "1": {"ja": "男", "en": "Male"},
    "2": {"ja": "女", "en": "Female"},
    "9": {"ja": "適用不能", "en": "Not applicable"},
}


def mask_my_number(value: str) -> str:
    """``123456789018`` → ``●●●●●●●●9018`` for resident screens."""
    return "●" * max(len(value) - 4, 0) + value[-4:]


def display_value(f: Field, value: str | None, language: str = "ja") -> str:
    if value is None or value == "":
        return ""
    if f.source is Source.CARD_SEX and not f.choices:
        return pick(SEX_LABELS.get(value, {"ja": value}), language)
    match f.kind:
        case FieldKind.DATE:
            try:
                return format_wareki(value) if f.date_style == "wareki" else format_western(value)
            except ValueError:
                return value
        case FieldKind.CHOICE:
            return f.choice_label(value, language)
        case FieldKind.MULTI_CHOICE:
            return "、".join(f.choice_label(v, language) for v in value.split(",") if v)
        case FieldKind.CHECKBOX:
            return "✓" if value == "1" else ""
        case _:
            return value
