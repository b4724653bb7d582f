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


#: the person-row item that marks a foreign resident's row (Western dates allowed)
NATIONALITY_ITEM = "nationality"


def _is_foreign(row: dict[str, str]) -> bool:
    nationality = row.get(NATIONALITY_ITEM, "").strip()
    return bool(nationality) and nationality not in ("日本", "JP", "JPN", "Japan")


def display_item(item: Field, row: dict[str, str], language: str = "ja") -> str:
    """One item of a person row; an 'either' date is Western for a foreign resident."""
    value = row.get(item.id, "")
    if item.kind is FieldKind.DATE and item.date_style == "either" and value:
        try:
            return format_western(value) if _is_foreign(row) else format_wareki(value)
        except ValueError:
            return value
    return display_value(item, value, language)


def person_lines(f: Field, value: str | None, language: str = "ja") -> list[str]:
    """Each person row as one line of its items, for screens and the automatic layout."""
    from forms.validation import person_rows

    try:
        rows = person_rows(value)
    except ValueError:
        return [value or ""]
    return [
        "　".join(t for t in (display_item(i, row, language) for i in f.items) if t) for row in rows
    ]


def display_value(f: Field, value: str | None, language: str = "ja") -> str:
    if value is None or value == "":
        return ""
    if f.kind is FieldKind.PERSONS:
        return "\n".join(person_lines(f, value, language))
    if f.source is Source.CARD_SEX and not f.choices:
        return pick(SEX_LABELS.get(value, {"ja": value}), language)
    match f.kind:
        case FieldKind.DATE:
            try:
                return format_western(value) if f.date_style == "western" else format_wareki(value)
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
