"""What a printed form shows, already formatted: the renderer draws it and decides nothing.

``kiosk/print_service.py`` builds a ``PrintDocument`` from a template and the stored
values; keeping this layer free of template logic lets the renderer be tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from forms.layout import Layout


class GlyphPolicy(StrEnum):
    """How characters the fonts lack (外字) are printed; see printing/glyphs.py."""

    #: not at all: rendering raises MissingGlyphs (no staff decision yet)
    REFUSE = "refuse"
    #: in IPAmj明朝 where it has the character, else as a marked blank
    FALLBACK = "fallback"
    #: as a marked blank box, for staff to write the character in by hand
    BLANK = "blank"


@dataclass(frozen=True)
class PrintRow:
    label: str
    #: the value exactly as it must appear (already 和暦, choice labels, etc.)
    value: str
    #: "text" for ordinary cells, "check" for a tick box, "signature" for a signature box
    kind: str = "text"
    #: True when the value is checked (only for kind == "check")
    checked: bool = False
    #: the template field it shows, so problems can name it ("" for fixed rows)
    field_id: str = ""


@dataclass(frozen=True)
class PrintField:
    """One field's value for a template layout, keyed by field id in the document."""

    label: str
    #: the value exactly as it must appear (already 和暦, choice labels, etc.)
    text: str
    #: the stored value (an address is split from it for forms with separate boxes)
    raw: str = ""
    checked: bool = False
    #: the chosen values of a choice or multi-choice field
    chosen: frozenset[str] = frozenset()
    #: person rows: item id → the item as printed
    rows: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class PrintSection:
    title: str
    rows: tuple[PrintRow, ...]


@dataclass(frozen=True)
class FeeSlip:
    lines: tuple[tuple[str, int, int], ...]  # (label, unit yen, units)
    total: int


@dataclass(frozen=True)
class PrintDocument:
    title: str
    municipality: str  # e.g. "松浦市長　様" addressee line
    application_date: str  # already formatted, e.g. 令和8年11月24日
    ticket: str  # e.g. A-023
    reference: str  # back-office application number, also encoded as QR
    sections: tuple[PrintSection, ...]
    fee: FeeSlip | None = None
    #: e.g. "再発行 (2回目)" for a reissue; empty for the first print
    reissue_note: str = ""
    footer: str = ""
    metadata_subject: str = field(default="申請書")
    glyph_policy: GlyphPolicy = GlyphPolicy.REFUSE
    #: the template's print layout; None = the automatic table layout of ``sections``
    layout: Layout | None = None
    fields: Mapping[str, PrintField] = field(default_factory=dict)
