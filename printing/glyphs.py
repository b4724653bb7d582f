"""外字 detection: the characters of a form that the fonts it is drawn in cannot draw.

A name may hold a kanji the embedded IPAex fonts lack (𠮷 U+20BB7, private-use 外字 such
as U+E000) or an ideographic variation sequence (葛 + U+E0100). Printing such a value
would put a blank box where the resident's name should be, so every character of every
text is checked before printing and each problem is reported with its field and position.

What counts as drawable, character by character ("cluster" = a base character followed by
the variation selectors and combining marks that belong to it):

* the base must be in the font's cmap;
* a variation selector (U+FE00–FE0F, U+E0100–E01EF) is drawable only when the font's
  cmap format 14 lists the sequence as a *default* variant (the base glyph already is that
  variant): reportlab selects glyphs by code point alone and cannot draw a non-default
  variant glyph, so such a sequence is missing even when the font has it;
* a combining mark must be in the cmap with zero advance (reportlab does no mark
  positioning: a spacing mark would print beside its base, not on it).

Tab, CR and LF are layout (the renderer turns them into spaces and line breaks); every
other character, spaces included, must be in the font.
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from printing.document import GlyphPolicy, PrintDocument
from printing.fonts import FALLBACK, GOTHIC, MINCHO, font_info

#: the marks a cluster carries; also used by the renderer so a line never breaks inside one
MARKS = (
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\u3099\u309a"
    "\ufe00-\ufe0f\ufe20-\ufe2f\U000e0100-\U000e01ef]"
)
CLUSTER = re.compile(f"(?s:.){MARKS}*")
_LAYOUT = frozenset("\t\r\n")


def is_selector(ch: str) -> bool:
    code = ord(ch)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def _is_mark(ch: str) -> bool:
    return CLUSTER.fullmatch("a" + ch) is not None


def clusters(text: str) -> Iterator[tuple[int, str]]:
    """(code-point index of the base, cluster) for every character of ``text``."""
    index = 0
    for m in CLUSTER.finditer(text):
        yield index, m.group()
        index += len(m.group())


def code_label(code_point: int) -> str:
    """``U+20BB7``: upper-case hex, at least four digits."""
    return f"U+{code_point:04X}"


class Reason(StrEnum):
    NOT_IN_FONT = "not_in_font"
    VARIANT = "variant"  # a variation sequence the renderer cannot draw as that variant
    COMBINING = "combining"  # a mark the renderer cannot place on its base


# ---------------------------------------------------------------------------- font coverage


@dataclass(frozen=True)
class Coverage:
    """What one registered font can draw, read once from its cmap."""

    family: str
    chars: frozenset[int]
    #: (base, selector) pairs whose glyph is the base's own glyph (cmap 14 default UVS)
    default_variants: frozenset[tuple[int, int]]
    zero_width_marks: frozenset[int]

    def problem(self, cluster: str) -> tuple[int, Reason] | None:
        """(offset in ``cluster``, reason) of the first thing this font cannot draw."""
        base = ord(cluster[0])
        if base not in self.chars:
            return 0, Reason.NOT_IN_FONT
        for offset, ch in enumerate(cluster[1:], start=1):
            if is_selector(ch):
                if (base, ord(ch)) not in self.default_variants:
                    return offset, Reason.VARIANT
            elif ord(ch) not in self.chars:
                return offset, Reason.NOT_IN_FONT
            elif ord(ch) not in self.zero_width_marks:
                return offset, Reason.COMBINING
        return None

    def drawn(self, cluster: str) -> str:
        """The code points to draw for a drawable cluster: default-variant selectors have
        no glyph of their own (the base glyph is the variant) and are left out."""
        return "".join(ch for ch in cluster if not is_selector(ch))


def _table_offset(fh: BinaryIO, tag: bytes) -> int | None:
    """Absolute offset of table ``tag`` in the first face of a .ttf/.otf/.ttc file."""
    head = fh.read(12)
    if head[:4] == b"ttcf":
        (face,) = struct.unpack(">I", fh.read(4))  # face 0, as printing.fonts registers
        fh.seek(face)
        head = fh.read(12)
    (num_tables,) = struct.unpack(">H", head[4:6])
    for _ in range(num_tables):
        record = fh.read(16)
        if record[:4] == tag:
            return int(struct.unpack(">I", record[8:12])[0])
    return None


def read_default_variants(path: Path) -> frozenset[tuple[int, int]]:
    """The default variation sequences of a font's cmap format 14 subtable (empty if none).

    Non-default ones are not returned: the renderer cannot draw them anyway."""
    pairs: set[tuple[int, int]] = set()
    with path.open("rb") as fh:
        cmap = _table_offset(fh, b"cmap")
        if cmap is None:
            return frozenset()
        fh.seek(cmap)
        _version, count = struct.unpack(">HH", fh.read(4))
        records = [struct.unpack(">HHI", fh.read(8)) for _ in range(count)]
        for platform, encoding, offset in records:
            if (platform, encoding) != (0, 5):
                continue
            sub = cmap + offset
            fh.seek(sub)
            fmt, _length, selectors = struct.unpack(">HII", fh.read(10))
            if fmt != 14:
                continue
            table = fh.read(11 * selectors)
            for i in range(selectors):
                rec = table[11 * i : 11 * i + 11]
                selector = int.from_bytes(rec[:3], "big")
                (default_offset,) = struct.unpack(">I", rec[3:7])
                if not default_offset:
                    continue
                fh.seek(sub + default_offset)
                (ranges,) = struct.unpack(">I", fh.read(4))
                data = fh.read(4 * ranges)
                for r in range(ranges):
                    start = int.from_bytes(data[4 * r : 4 * r + 3], "big")
                    stop = start + data[4 * r + 3] + 1  # additionalCount more after start
                    pairs.update((base, selector) for base in range(start, stop))
    return frozenset(pairs)


_cache: dict[str, Coverage | None] = {}
_cache_lock = threading.Lock()


def coverage(role: str) -> Coverage | None:
    """The coverage of the ``role`` font, cached per process; None for a fallback that is
    not installed."""
    with _cache_lock:
        if role not in _cache:
            _cache[role] = _read_coverage(role)
        return _cache[role]


def _read_coverage(role: str) -> Coverage | None:
    from reportlab.pdfbase import pdfmetrics

    info = font_info(role)
    if info is None:
        return None
    chars = frozenset(pdfmetrics.getFont(info.family).face.charToGlyph)
    marks = frozenset(
        code
        for code in chars
        if _is_mark(chr(code)) and pdfmetrics.stringWidth(chr(code), info.family, 1000) == 0
    )
    return Coverage(info.family, chars, read_default_variants(info.path), marks)


# ---------------------------------------------------------------------------- a document's texts


@dataclass(frozen=True)
class DrawnText:
    #: field id, or the document part ("title", "<field>.label", "sections[0].title", …)
    field: str
    #: what staff see as the field's name
    label: str
    text: str
    role: str


def document_texts(doc: PrintDocument) -> Iterator[DrawnText]:
    """Every text the renderer draws for ``doc`` with the font role it uses (kept in step
    with printing/render.py: labels and headings Gothic, values Mincho)."""
    g, m = GOTHIC, MINCHO
    yield DrawnText("title", "表題", f"{doc.title}（続き）", g)
    yield DrawnText("reference", "受付番号", f"受付番号 {doc.reference}", g)
    yield DrawnText("ticket", "整理券", f"整理券 {doc.ticket}", g)
    yield DrawnText("reissue_note", "再発行", doc.reissue_note, g)
    yield DrawnText("application_date", "申請日", doc.application_date, m)
    yield DrawnText("municipality", "宛先", doc.municipality, m)
    yield DrawnText("footer", "欄外", doc.footer, g)
    yield DrawnText("layout", "様式", "申請日手数料合計収納印署名0123456789 /", g)
    if doc.layout is not None:
        yield from _layout_texts(doc)
    else:
        yield from _section_texts(doc)
    if doc.fee is not None:
        for i, (label, unit, units) in enumerate(doc.fee.lines):
            yield DrawnText(f"fee[{i}].label", label, label, m)
            yield DrawnText(f"fee[{i}]", label, f"{unit:,}円 × {units} = {doc.fee.total:,}", m)


def _role(font: str) -> str:
    return GOTHIC if font == "gothic" else MINCHO


def _layout_texts(doc: PrintDocument) -> Iterator[DrawnText]:
    """What printing/fixed.py draws: the layout's own texts and each placed value."""
    from forms.address import address_part
    from forms.layout import FieldElement, RowsElement, TextElement

    assert doc.layout is not None
    for i, e in enumerate(doc.layout.elements):
        if isinstance(e, TextElement):
            yield DrawnText(f"layout.elements[{i}]", e.text, e.text, _role(e.style.font))
        elif isinstance(e, FieldElement) and e.field in doc.fields:
            value = doc.fields[e.field]
            text = value.text if e.part is None else address_part(value.raw, e.part.value)
            yield DrawnText(e.field, value.label, text, _role(e.style.font))
        elif isinstance(e, RowsElement) and e.field in doc.fields:
            value = doc.fields[e.field]
            for row in value.rows:
                for column in e.columns:
                    yield DrawnText(
                        e.field, value.label, row.get(column.field, ""), _role(column.style.font)
                    )


def _section_texts(doc: PrintDocument) -> Iterator[DrawnText]:
    g, m = GOTHIC, MINCHO
    for s, section in enumerate(doc.sections):
        yield DrawnText(f"sections[{s}].title", section.title, section.title, g)
        for r, row in enumerate(section.rows):
            field = row.field_id or f"sections[{s}].rows[{r}]"
            label = row.label or "署名"
            yield DrawnText(f"{field}.label", label, label, g)
            yield DrawnText(field, label, row.value, g if row.kind == "signature" else m)


# ---------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class MissingGlyph:
    field: str
    label: str
    #: 0-based code-point index in the field's text
    index: int
    code_point: int
    #: the whole character as typed: base plus its selectors and marks
    cluster: str
    role: str
    reason: Reason
    #: the fallback font (IPAmj明朝) can draw the whole cluster
    fallback: bool

    @property
    def code(self) -> str:
        return code_label(self.code_point)

    def cli_line(self) -> str:
        return f"missing glyph {self.code} in field {self.field}"


class MissingGlyphs(ValueError):
    """Characters the fonts lack and no staff decision for them. The message names fields
    and code points only: the text itself is personal data."""

    def __init__(self, problems: list[MissingGlyph]) -> None:
        self.problems = list(problems)
        fields = sorted({p.field for p in problems})
        super().__init__(f"{len(problems)} missing glyph(s) in field(s) {', '.join(fields)}")


def missing_in_text(text: DrawnText) -> list[MissingGlyph]:
    cov = coverage(text.role)
    assert cov is not None  # the two roles are always registered
    found: list[MissingGlyph] = []
    fallback: Coverage | bool | None = False  # read lazily: IPAmj is large
    for index, cluster in clusters(text.text):
        if cluster[0] in _LAYOUT:
            continue
        problem = cov.problem(cluster)
        if problem is None:
            continue
        if fallback is False:
            fallback = coverage(FALLBACK)
        offset, reason = problem
        found.append(
            MissingGlyph(
                field=text.field,
                label=text.label,
                index=index + offset,
                code_point=ord(cluster[offset]),
                cluster=cluster,
                role=text.role,
                reason=reason,
                fallback=isinstance(fallback, Coverage) and fallback.problem(cluster) is None,
            )
        )
    return found


def find_missing(doc: PrintDocument) -> list[MissingGlyph]:
    """Every character of ``doc`` its fonts cannot draw, in document order."""
    return [p for text in document_texts(doc) for p in missing_in_text(text)]


def require_drawable(doc: PrintDocument) -> None:
    """Raise MissingGlyphs unless every character can be drawn or a decision covers it."""
    if doc.glyph_policy is GlyphPolicy.REFUSE:
        problems = find_missing(doc)
        if problems:
            raise MissingGlyphs(problems)


def fingerprint(problems: list[MissingGlyph]) -> str:
    """Identifies a set of problems, so a decision stops applying once a value changes."""
    import hashlib

    key = "\n".join(f"{p.field}:{p.index}:{p.code_point}" for p in sorted(problems, key=_order))
    return hashlib.sha256(key.encode()).hexdigest()


def _order(p: MissingGlyph) -> tuple[str, int]:
    return p.field, p.index
