"""Draw a ``PrintDocument`` as an A4 application form with reportlab.

Layout is computed first (every row measured, pages planned as lists of drawing
operations) and drawn afterwards, so page numbers know the page count and nothing is
ever drawn outside its box. Values are always drawn literally with ``drawString`` /
text objects: reportlab's Paragraph would read ``<`` and ``&`` in a resident's input as
markup.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from printing import text_runs
from printing.document import FeeSlip, PrintDocument, PrintRow, PrintSection
from printing.fonts import FAMILIES, GOTHIC, MINCHO, register_fonts
from printing.glyphs import MARKS, require_drawable
from printing.qr import QUIET_ZONE, draw_qr, qr_matrix

PAGE_W, PAGE_H = float(A4[0]), float(A4[1])
MM = float(mm)
MARGIN_X = 18 * MM
MARGIN_TOP = 13 * MM
MARGIN_BOTTOM = 12 * MM
X0, X1 = MARGIN_X, PAGE_W - MARGIN_X
CONTENT_W = X1 - X0

BAND_W = 66.0  # section title band on the left of each table
LABEL_W = 118.0
LABEL_X = X0 + BAND_W
VALUE_X = LABEL_X + LABEL_W
PAD_X, PAD_Y = 5.0, 4.0
MIN_ROW_H = 24.0
MIN_CHECK_H = 21.0
SIGNATURE_H = 50.0
CHECK_BOX = 9.5

QR_SIZE = 62.0
CORNER_W = 104.0  # QR + reference block; the title keeps clear of it on both sides

ASCENT = 0.88  # IPAex glyphs sit 0.88 em above and 0.12 em below the baseline
GRID_GRAY = 0.2
BAND_GRAY = 0.84
LABEL_GRAY = 0.93
RED = (0.78, 0.08, 0.08)
# Check-row values that merely repeat the drawn tick (e.g. display_value's "✓").
_TICK_GLYPHS = frozenset({"✓", "✔", "☑", "☒", "レ"})

Op = Callable[[Any], None]


class ValueDoesNotFit(ValueError):
    """A value is too long for its box even at the smallest font size and most lines."""

    def __init__(self, label: str, detail: str = "") -> None:
        self.label = label
        msg = f"the value of {label!r} does not fit its box on the printed form"
        super().__init__(f"{msg}: {detail}" if detail else msg)


# ---------------------------------------------------------------------------- text fitting


@dataclass(frozen=True)
class TextStyle:
    font: str
    max_size: float
    min_size: float
    #: a single line shrinks only to this size; below it wrapping reads better
    single_floor: float
    max_lines: int
    leading: float = 1.28  # line pitch as a multiple of the font size


@dataclass(frozen=True)
class Fitted:
    font: str
    size: float
    lines: tuple[str, ...]
    leading: float

    @property
    def pitch(self) -> float:
        return self.size * self.leading

    @property
    def height(self) -> float:
        """Ink height of the block: full em boxes plus the gaps between lines."""
        return 0.0 if not self.lines else self.size + (len(self.lines) - 1) * self.pitch

    def width(self) -> float:
        return max((_width(s, self.font, self.size) for s in self.lines), default=0.0)


def _width(text: str, font: str, size: float) -> float:
    return text_runs.width(text, font, size)


def _sizes(high: float, low: float) -> Iterator[float]:
    size = high
    while size >= low - 1e-6:
        yield size
        size -= 0.5


def _clean(text: str) -> str:
    # Tabs and carriage returns have no glyph; everything else is printed as given.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")


_NO_START = frozenset(
    "、。，．・：；？！゛゜ヽヾゝゞ々ー）］｝〕〉》」』】〙〗〟’”"
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…‥,.:;?!)]}"
)
_NO_END = frozenset("（［｛〔〈《「『【〘〖〝‘“([{")
# ASCII words stay whole; any other character may break, but never before its marks
_TOKENS = re.compile(rf"(?:[!-~]{MARKS}*)+| +|.{MARKS}*")


def _tokens(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    out: list[str] = []
    for tok in _TOKENS.findall(paragraph):
        # A word wider than the whole line has to break somewhere: break it anywhere.
        out.extend(tok if len(tok) > 1 and not tok.isspace() and not fits(tok) else [tok])
    return out


def _kinsoku(line: str, nxt: str, fits: Callable[[str], bool]) -> tuple[str, str]:
    """Move one character down so no line starts with 。） or ends with （「."""
    if len(line) > 1 and (nxt[0] in _NO_START or line[-1] in _NO_END) and fits(line[-1] + nxt):
        return line[:-1], line[-1] + nxt
    return line, nxt


def _wrap_paragraph(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    lines: list[str] = []
    cur = ""
    for tok in _tokens(paragraph, fits):
        if not cur or fits(cur + tok):
            cur += tok
        elif tok.isspace():
            lines.append(cur)
            cur = ""
        else:
            done, cur = _kinsoku(cur, tok, fits)
            lines.append(done)
        if lines and cur.isspace():
            cur = ""  # a wrapped line never starts with blanks
    lines.append(cur)
    return [line.rstrip(" ") for line in lines]


def wrap_text(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (explicit newlines kept)."""

    def fits(s: str) -> bool:
        return _width(s, font, size) <= width

    return [line for para in _clean(text).split("\n") for line in _wrap_paragraph(para, fits)]


def fit_text(text: str, width: float, style: TextStyle) -> Fitted | None:
    """The largest legible setting of ``text`` within ``width``, or None if none exists."""
    text = _clean(text)
    if not text:
        return Fitted(style.font, style.max_size, (), style.leading)
    if "\n" not in text:
        for size in _sizes(style.max_size, max(style.single_floor, style.min_size)):
            if _width(text, style.font, size) <= width:
                return Fitted(style.font, size, (text,), style.leading)
    for size in _sizes(style.max_size, style.min_size):
        lines = wrap_text(text, style.font, size, width)
        if len(lines) <= style.max_lines and all(
            _width(s, style.font, size) <= width for s in lines
        ):
            return Fitted(style.font, size, tuple(lines), style.leading)
    return None


def _fit(label: str, text: str, width: float, style: TextStyle) -> Fitted:
    fitted = fit_text(text, width, style)
    if fitted is None:
        raise ValueDoesNotFit(
            label,
            f"{len(text)} characters exceed {style.max_lines} lines of "
            f"{width:.0f}pt at {style.min_size}pt",
        )
    return fitted


def _gothic(size: float, *, lines: int = 1, floor: float | None = None) -> TextStyle:
    low = min(7.0, size)
    return TextStyle(FAMILIES[GOTHIC], size, low, floor or low, lines)


LABEL_STYLE = TextStyle(FAMILIES[GOTHIC], 9.5, 7.0, 8.0, 4)
VALUE_STYLE = TextStyle(FAMILIES[MINCHO], 11.5, 7.0, 9.0, 5)
#: a check row's value next to its label: one line, else it goes below the label
INLINE_VALUE_STYLE = TextStyle(FAMILIES[MINCHO], 11.5, 9.0, 9.0, 1)
CHECK_LABEL_STYLE = TextStyle(FAMILIES[GOTHIC], 10.0, 7.0, 8.5, 3)
BAND_STYLE = TextStyle(FAMILIES[GOTHIC], 9.5, 7.0, 8.0, 6, leading=1.2)
TITLE_STYLE = TextStyle(FAMILIES[GOTHIC], 20.0, 12.0, 15.0, 2, leading=1.2)


# ---------------------------------------------------------------------------- drawing helpers


def _draw_line(
    c: Any,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    *,
    align: str = "left",
    bold: bool = False,
    color: tuple[float, float, float] = (0, 0, 0),
) -> None:
    if align == "right":
        x -= _width(text, font, size)
    elif align == "center":
        x -= _width(text, font, size) / 2
    c.saveState()
    c.setFillColorRGB(*color)
    t = c.beginText(x, y)
    t.setFont(font, size)
    if bold:  # fill + thin stroke of the same colour: IPAex has no bold face
        c.setStrokeColorRGB(*color)
        c.setLineWidth(size * 0.035)
        t.setTextRenderMode(2)
    text_runs.draw(c, t, x, y, text, font, size)
    c.drawText(t)
    c.restoreState()


def _draw_block(
    c: Any,
    f: Fitted,
    x: float,
    top: float,
    *,
    align: str = "left",
    bold: bool = False,
    color: tuple[float, float, float] = (0, 0, 0),
) -> None:
    """Draw ``f`` with its ink box starting at ``top``; ``x`` is the left/centre/right edge."""
    for i, line in enumerate(f.lines):
        baseline = top - ASCENT * f.size - i * f.pitch
        _draw_line(c, x, baseline, line, f.font, f.size, align=align, bold=bold, color=color)


def _draw_centered_v(
    c: Any,
    f: Fitted,
    x: float,
    top: float,
    height: float,
    *,
    align: str = "left",
    bold: bool = False,
) -> None:
    _draw_block(c, f, x, top - (height - f.height) / 2, align=align, bold=bold)


def _fill_rect(c: Any, x: float, y: float, w: float, h: float, gray: float) -> None:
    c.saveState()
    c.setFillGray(gray)
    c.rect(x, y, w, h, stroke=0, fill=1)
    c.restoreState()


def _stroke_rect(c: Any, x: float, y: float, w: float, h: float, width: float) -> None:
    c.saveState()
    c.setStrokeGray(GRID_GRAY)
    c.setLineWidth(width)
    c.rect(x, y, w, h, stroke=1, fill=0)
    c.restoreState()


def _hline(c: Any, x0: float, x1: float, y: float, width: float = 0.45) -> None:
    c.saveState()
    c.setStrokeGray(GRID_GRAY)
    c.setLineWidth(width)
    c.line(x0, y, x1, y)
    c.restoreState()


def _vline(c: Any, x: float, y0: float, y1: float, width: float = 0.45) -> None:
    c.saveState()
    c.setStrokeGray(GRID_GRAY)
    c.setLineWidth(width)
    c.line(x, y0, x, y1)
    c.restoreState()


def _draw_check_box(
    c: Any, x: float, y: float, checked: bool, side: float = CHECK_BOX, tick: float = 1.5
) -> None:
    """A square with its lower-left at (x, y); the tick is two strokes, not a glyph."""
    c.saveState()
    c.setStrokeGray(0)
    c.setLineWidth(0.7)
    c.rect(x, y, side, side, stroke=1, fill=0)
    if checked:
        c.setLineWidth(tick)
        c.setLineCap(1)
        c.setLineJoin(1)
        s = side
        p = c.beginPath()
        p.moveTo(x + 0.18 * s, y + 0.52 * s)
        p.lineTo(x + 0.42 * s, y + 0.22 * s)
        p.lineTo(x + 0.86 * s, y + 0.86 * s)
        c.drawPath(p, stroke=1, fill=0)
    c.restoreState()


# ---------------------------------------------------------------------------- table rows


@dataclass
class _Row:
    height: float
    #: (canvas, top, height) -> draws the contents; fills and grid are the table's job
    draw: Callable[[Any, float, float], None]
    #: text and signature rows have a shaded label column; check rows span both columns
    two_columns: bool = True


VALUE_INNER_W = X1 - VALUE_X - 2 * PAD_X
LABEL_INNER_W = LABEL_W - 2 * PAD_X


def _text_row(row: PrintRow) -> _Row:
    label = _fit(row.label, row.label, LABEL_INNER_W, LABEL_STYLE)
    value = _fit(row.label, row.value, VALUE_INNER_W, VALUE_STYLE)
    height = max(MIN_ROW_H, label.height + 2 * PAD_Y + 2, value.height + 2 * PAD_Y + 2)

    def draw(c: Any, top: float, h: float) -> None:
        _draw_centered_v(c, label, LABEL_X + PAD_X, top, h)
        _draw_centered_v(c, value, VALUE_X + PAD_X, top, h)

    return _Row(height, draw)


def _signature_row(row: PrintRow) -> _Row:
    text = row.label or "署名"
    label = _fit(text, text, LABEL_INNER_W, LABEL_STYLE)
    hint = _fit(text, row.value, VALUE_INNER_W, _gothic(7.5, lines=2))
    height = max(SIGNATURE_H, label.height + 2 * PAD_Y + 2, hint.height + 34)

    def draw(c: Any, top: float, h: float) -> None:
        _draw_centered_v(c, label, LABEL_X + PAD_X, top, h)
        c.saveState()
        c.setFillGray(0.45)
        _draw_block(c, hint, VALUE_X + PAD_X, top - 3)
        c.restoreState()

    return _Row(height, draw)


def _check_value(row: PrintRow) -> str:
    return "" if row.value.strip() in _TICK_GLYPHS else row.value


def _check_row(row: PrintRow) -> _Row:
    text_x = LABEL_X + PAD_X + CHECK_BOX + 6
    text_w = X1 - PAD_X - text_x
    label = _fit(row.label, row.label, text_w, CHECK_LABEL_STYLE)
    value_text = _check_value(row)
    inline_w = text_w - label.width() - 12
    value = None
    if value_text and len(label.lines) == 1 and inline_w > 40:
        value = fit_text(value_text, inline_w, INLINE_VALUE_STYLE)
    inline = value is not None
    if value is None:
        value = _fit(row.label, value_text, text_w, VALUE_STYLE)
    block_h = (
        max(label.height, value.height)
        if inline
        else (label.height + (value.pitch * 0.3 + value.height if value.lines else 0.0))
    )
    height = max(MIN_CHECK_H, block_h + 2 * PAD_Y + 2)

    def draw(c: Any, top: float, h: float) -> None:
        _draw_check_box(c, LABEL_X + PAD_X + 1, top - h / 2 - CHECK_BOX / 2, row.checked)
        if inline:
            _draw_centered_v(c, label, text_x, top, h)
            _draw_centered_v(c, value, text_x + label.width() + 12, top, h)
            return
        block_top = top - (h - block_h) / 2
        _draw_block(c, label, text_x, block_top)
        _draw_block(c, value, text_x, block_top - block_h + value.height)

    return _Row(height, draw, two_columns=False)


def _layout_row(row: PrintRow) -> _Row:
    if row.kind == "check":
        return _check_row(row)
    if row.kind == "signature":
        return _signature_row(row)
    return _text_row(row)


# ---------------------------------------------------------------------------- pages


@dataclass
class _Pages:
    """Pages as lists of drawing operations, with a cursor on the current page."""

    header: Callable[[_Pages], float]  # draws a continuation header, returns the new cursor
    bottom: float  # lowest y content may reach
    pages: list[list[Op]] = field(default_factory=lambda: [[]])
    y: float = 0.0

    def add(self, op: Op) -> None:
        self.pages[-1].append(op)

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.header(self)

    @functools.cached_property
    def fresh_capacity(self) -> float:
        """Room on an empty continuation page (measured on a throwaway page)."""
        probe = _Pages(self.header, self.bottom)
        return probe.header(probe) - self.bottom

    def room(self) -> float:
        return self.y - self.bottom


def _draw_segment(c: Any, band: Fitted, rows: list[tuple[_Row, float]], top: float) -> None:
    total = sum(h for _, h in rows)
    _fill_rect(c, X0, top - total, BAND_W, total, BAND_GRAY)
    y = top
    for row, h in rows:
        if row.two_columns:
            _fill_rect(c, LABEL_X, y - h, LABEL_W, h, LABEL_GRAY)
        y -= h
    _draw_centered_v(c, band, X0 + BAND_W / 2, top, total, align="center", bold=True)
    y = top
    for row, h in rows:
        row.draw(c, y, h)
        if row.two_columns:
            _vline(c, VALUE_X, y - h, y)
        y -= h
        if y > top - total + 0.1:
            _hline(c, LABEL_X, X1, y)
    _vline(c, LABEL_X, top - total, top, 0.7)
    _stroke_rect(c, X0, top - total, CONTENT_W, total, 1.0)


def _place_section(pages: _Pages, section: PrintSection) -> None:
    band = _fit(section.title, section.title, BAND_W - 8, BAND_STYLE)
    band_need = band.height + 2 * PAD_Y + 4
    rows = [_layout_row(r) for r in section.rows]
    if not rows:
        rows = [_Row(MIN_ROW_H, lambda c, top, h: None, two_columns=False)]
    total = max(sum(r.height for r in rows), band_need)
    if total > pages.room() and total <= pages.fresh_capacity:
        pages.new_page()  # keep a section on one page whenever it can be
    segment: list[tuple[_Row, float]] = []

    def close() -> None:
        seg_h = sum(h for _, h in segment)
        if seg_h < band_need:  # the band title needs the room: stretch the last row
            segment[-1] = (segment[-1][0], segment[-1][1] + band_need - seg_h)
            seg_h = band_need
        top, placed = pages.y, list(segment)
        pages.add(lambda c: _draw_segment(c, band, placed, top))
        pages.y -= seg_h
        segment.clear()

    for row in rows:
        if row.height > pages.fresh_capacity:
            raise ValueDoesNotFit(section.title, "a row is taller than a page")
        seg_h = sum(h for _, h in segment)
        if max(seg_h + row.height, band_need) > pages.room():
            if segment:
                close()
            pages.new_page()
        segment.append((row, row.height))
    close()


# ---------------------------------------------------------------------------- header / footer


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _reissue_badge(doc: PrintDocument, width: float) -> Fitted | None:
    if not doc.reissue_note:
        return None
    return _fit("reissue_note", doc.reissue_note, width - 8, _gothic(11, lines=2, floor=8))


def _draw_badge(c: Any, badge: Fitted, x: float, top: float) -> None:
    w, h = badge.width() + 8, badge.height + 7
    c.saveState()
    c.setStrokeColorRGB(*RED)
    c.setLineWidth(1.1)
    c.rect(x, top - h, w, h, stroke=1, fill=0)
    c.restoreState()
    _draw_block(c, badge, x + 4, top - 3.5, bold=True, color=RED)


def _first_page_header(pages: _Pages, doc: PrintDocument) -> None:
    top = PAGE_H - MARGIN_TOP
    side = CORNER_W + 16  # keeps the centred title clear of the QR's quiet zone
    title = _fit("title", doc.title, CONTENT_W - 2 * side, TITLE_STYLE)
    ref = _fit("reference", f"受付番号 {doc.reference}", CORNER_W, _gothic(7.5))
    ticket = _fit("ticket", f"整理券 {doc.ticket}", CORNER_W, _gothic(11))
    badge = _reissue_badge(doc, CORNER_W)
    matrix = qr_matrix(doc.reference)
    qr_bottom = top - QR_SIZE
    # Scanners need a blank margin of QUIET_ZONE modules around the symbol.
    quiet = QR_SIZE / len(matrix) * QUIET_ZONE
    ref_top = qr_bottom - quiet
    corner_bottom = ref_top - ref.height - 4 - ticket.height

    to_label = _gothic(9)
    date_label = _fit("application_date", "申請日", 40, to_label)
    date = _fit(
        "application_date", doc.application_date, 150, TextStyle(FAMILIES[MINCHO], 12, 8, 8, 1)
    )
    addressee = _fit(
        "municipality", doc.municipality, CONTENT_W - 220, TextStyle(FAMILIES[MINCHO], 13, 8, 10, 2)
    )
    line_top = corner_bottom - 10
    line_h = max(addressee.height, date.height)

    def draw(c: Any) -> None:
        draw_qr(c, matrix, X1 - QR_SIZE, qr_bottom, QR_SIZE)
        _draw_block(c, ref, X1, ref_top, align="right")
        _draw_block(c, ticket, X1, ref_top - 4 - ref.height, align="right", bold=True)
        if badge is not None:
            _draw_badge(c, badge, X0, top)
        title_top = top - (top - corner_bottom - title.height) / 2
        _draw_block(c, title, PAGE_W / 2, title_top, align="center", bold=True)
        _draw_centered_v(c, addressee, X0, line_top, line_h)
        _draw_block(c, date, X1, line_top - (line_h - date.height) / 2, align="right")
        date_x = X1 - date.width() - 6 - date_label.width()
        _draw_block(c, date_label, date_x, line_top - (line_h - date_label.height) / 2)

    pages.add(draw)
    pages.y = line_top - line_h - 10


def _continuation_header(doc: PrintDocument) -> Callable[[_Pages], float]:
    top = PAGE_H - MARGIN_TOP
    ref = _fit("reference", f"受付番号 {doc.reference}　整理券 {doc.ticket}", 200, _gothic(8))
    badge = _reissue_badge(doc, 160)
    badge_w = badge.width() + 16 if badge else 0.0
    title = _fit(
        "title",
        f"{doc.title}（続き）",
        CONTENT_W - ref.width() - badge_w - 16,
        _gothic(11, lines=2, floor=8),
    )

    # The red badge box reaches 5pt below its text; the title block may be two lines.
    header_h = max(title.height, badge.height + 3 if badge else 0.0)

    def header(pages: _Pages) -> float:
        def draw(c: Any) -> None:
            x = X0
            if badge is not None:
                _draw_badge(c, badge, x, top + 2)
                x += badge_w
            _draw_block(c, title, x, top, bold=True)
            _draw_block(c, ref, X1, top - (title.height - ref.height), align="right")
            _hline(c, X0, X1, top - header_h - 5, 0.8)

        pages.add(draw)
        return top - header_h - 14

    return header


def _footer(doc: PrintDocument) -> Fitted:
    return _fit("footer", doc.footer, CONTENT_W - 80, _gothic(7.5, lines=3, floor=6.5))


def _draw_footer(c: Any, footer: Fitted, page: int, count: int) -> None:
    c.saveState()
    c.setFillGray(0.3)
    _draw_block(c, footer, PAGE_W / 2, MARGIN_BOTTOM + footer.height - 4, align="center")
    c.restoreState()
    if count > 1:
        _draw_line(
            c,
            X1,
            MARGIN_BOTTOM - 4 + footer.height - ASCENT * 8,
            f"{page} / {count}",
            FAMILIES[GOTHIC],
            8,
            align="right",
        )


# ---------------------------------------------------------------------------- fee slip


FEE_LINE_H = 19.0
FEE_TOTAL_H = 27.0
STAMP_W = 80.0


def fee_slip_height(fee: FeeSlip) -> float:
    return max(2 * 6 + len(fee.lines) * FEE_LINE_H + FEE_TOTAL_H, 76.0)


def _draw_fee_slip(c: Any, fee: FeeSlip, x0: float, x1: float, top: float, height: float) -> None:
    """The fee lines, the total and the cashier's stamp box in the ``x0``–``x1`` band."""
    mincho = FAMILIES[MINCHO]
    amount_font = TextStyle(mincho, 11, 8, 8, 1)
    calcs = [f"{_yen(unit)} × {units}" for _, unit, units in fee.lines]
    amounts = [_yen(unit * units) for _, unit, units in fee.lines]
    total = _yen(fee.total)
    total_size = 15.0
    area_l, area_r = x0 + BAND_W, x1 - STAMP_W
    right = area_r - 12
    amount_w = max([_width(a, mincho, 11) for a in amounts] + [_width(total, mincho, total_size)])
    eq_x = right - amount_w - 14
    calc_right = eq_x - 12
    calc_w = max((_width(s, mincho, 11) for s in calcs), default=0.0)
    label_w = calc_right - calc_w - 16 - (area_l + 8)
    labels = [_fit(label, label, label_w, amount_font) for label, _, _ in fee.lines]
    band = _fit("手数料", "手数料", BAND_W - 8, BAND_STYLE)
    lines_h = len(fee.lines) * FEE_LINE_H
    if height < lines_h + FEE_TOTAL_H + 6:
        raise ValueDoesNotFit("手数料", "the fee box is too low for its lines")
    _fill_rect(c, x0, top - height, BAND_W, height, BAND_GRAY)
    _draw_centered_v(c, band, x0 + BAND_W / 2, top, height, align="center", bold=True)
    y = top - (height - FEE_TOTAL_H - lines_h) / 2  # lines centred above the total
    for label, calc, amount in zip(labels, calcs, amounts, strict=True):
        _draw_centered_v(c, label, area_l + 8, y, FEE_LINE_H)
        base = y - FEE_LINE_H / 2 - 11 * (ASCENT - 0.5)
        _draw_line(c, calc_right, base, calc, mincho, 11, align="right")
        _draw_line(c, eq_x, base, "=", mincho, 11, align="center")
        _draw_line(c, right, base, amount, mincho, 11, align="right")
        y -= FEE_LINE_H
    total_top = top - height + FEE_TOTAL_H + 2
    _hline(c, area_l + 6, area_r - 6, total_top, 0.6)
    base = total_top - FEE_TOTAL_H / 2 - total_size * (ASCENT - 0.5) - 1
    _draw_line(c, area_l + 8, base + 1.5, "合計", FAMILIES[GOTHIC], 11, bold=True)
    _draw_line(c, right, base, total, mincho, total_size, align="right", bold=True)
    _draw_stamp_box(c, area_r, top, height)
    _vline(c, x0 + BAND_W, top - height, top, 0.7)
    _vline(c, area_r, top - height, top, 0.7)
    _stroke_rect(c, x0, top - height, x1 - x0, height, 1.0)


def _place_fee(pages: _Pages, fee: FeeSlip) -> None:
    height = fee_slip_height(fee)
    if pages.room() < height + 14:
        pages.new_page()
    top = pages.bottom + height
    # measure now (raises ValueDoesNotFit early), draw with the page
    _draw_fee_slip(_Measure(), fee, X0, X1, top, height)
    pages.add(lambda c: _draw_fee_slip(c, fee, X0, X1, top, height))
    pages.y = top - height


class _Measure:
    """A canvas that draws nothing: running the drawing code once checks every fit."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self


def _draw_stamp_box(c: Any, x: float, top: float, height: float) -> None:
    """The cashier's receipt stamp area (収納印) to the right of the fee lines."""
    _draw_line(c, x + STAMP_W / 2, top - 12, "収納印", FAMILIES[GOTHIC], 7.5, align="center")
    c.saveState()
    c.setStrokeGray(0.55)
    c.setLineWidth(0.5)
    c.setDash(2, 2)
    side = min(STAMP_W - 20, height - 26)
    c.circle(x + STAMP_W / 2, top - 17 - side / 2 - 2, side / 2, stroke=1, fill=0)
    c.restoreState()


# ---------------------------------------------------------------------------- entry points


_render_lock = threading.Lock()  # reportlab font subsetting state is process-global


def _plan(doc: PrintDocument) -> tuple[list[list[Op]], Fitted]:
    footer = _footer(doc)
    bottom = MARGIN_BOTTOM + footer.height + 10
    pages = _Pages(_continuation_header(doc), bottom)
    _first_page_header(pages, doc)
    for section in doc.sections:
        _place_section(pages, section)
    if doc.fee is not None:
        _place_fee(pages, doc.fee)
    return pages.pages, footer


def _new_canvas(
    buf: BytesIO, doc: PrintDocument, *, pagesize: tuple[float, float] = (PAGE_W, PAGE_H)
) -> Any:
    gothic = FAMILIES[GOTHIC]
    # initialFontName keeps reportlab from referencing (unembedded) Helvetica at all.
    c = Canvas(
        buf,
        pagesize=pagesize,
        invariant=1,
        pageCompression=1,
        lang="ja-JP",
        initialFontName=gothic,
        initialFontSize=10,
    )
    c.setFont(gothic, 10)
    c.setTitle(doc.title)
    c.setSubject(doc.metadata_subject)
    c.setAuthor("")
    c.setCreator("kakanai-madoguchi kiosk")
    return c


def _render_fixed(doc: PrintDocument) -> bytes:
    from printing.fixed import draw_fixed, page_size_pt

    assert doc.layout is not None
    buf = BytesIO()
    c = _new_canvas(buf, doc, pagesize=page_size_pt(doc.layout))
    draw_fixed(c, doc.layout, doc)
    c.save()
    return buf.getvalue()


def render_pdf(doc: PrintDocument) -> bytes:
    """The whole form as PDF bytes; raises ValueDoesNotFit, MissingGlyphs or FontMissing.

    A template with a layout is drawn exactly as the layout says; one without gets the
    automatic table layout, which grows rows to fit and continues on further pages.
    """
    register_fonts()
    require_drawable(doc)
    with _render_lock, text_runs.drawing(doc.glyph_policy):
        if doc.layout is not None:
            return _render_fixed(doc)
        pages, footer = _plan(doc)
        buf = BytesIO()
        c = _new_canvas(buf, doc)
        for number, ops in enumerate(pages, start=1):
            c.setFont(FAMILIES[GOTHIC], 10)
            for op in ops:
                op(c)
            _draw_footer(c, footer, number, len(pages))
            c.showPage()
        c.save()
        return buf.getvalue()


def render_pdf_to_file(doc: PrintDocument, path: str | os.PathLike[str]) -> Path:
    """Render and write atomically: readers see the old file or the whole new one."""
    target = Path(path)
    data = render_pdf(doc)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
