"""Draw a form whose layout is template data (``forms.layout``): every box, text and field
exactly where the template puts it, on the template's paper.

Nothing moves: a value that does not fit its box after shrinking to the box's minimum
size and wrapping within its height raises ``ValueDoesNotFit`` naming the field, so staff
learn of it before anything is printed. Values are drawn literally (text objects only).
"""

from __future__ import annotations

from typing import Any

from forms.address import address_part
from forms.layout import (
    BoxElement,
    Element,
    FieldElement,
    Fit,
    Layout,
    LineElement,
    Rect,
    RowsElement,
    Show,
    Slot,
    SlotElement,
    TextElement,
    TextStyleSpec,
)
from forms.wareki import ERAS
from printing.document import PrintDocument, PrintField
from printing.fonts import FAMILIES, GOTHIC, MINCHO
from printing.qr import QUIET_ZONE, draw_qr, qr_matrix
from printing.render import (
    MM,
    RED,
    Fitted,
    ValueDoesNotFit,
    _draw_block,
    _draw_check_box,
    _draw_fee_slip,
    _sizes,
    _width,
    wrap_text,
)

#: the era names in the order official forms list them
ERA_NAMES = tuple(era.name for era in sorted(ERAS, key=lambda era: era.start))
PAD_X_MM = 1.2
PAD_Y_MM = 0.6
LEADING = 1.25
MARK_MM = 3.2  # side of a printed tick box for a choice


def fit_in_box(text: str, width: float, height: float, style: TextStyleSpec, font: str) -> Fitted:
    """The largest setting of ``text`` that fits a ``width`` × ``height`` point box by the
    element's fit rule, or raise ``ValueError``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not text:
        return Fitted(font, style.size, (), LEADING)
    single = "\n" not in text
    if style.fit in (Fit.SHRINK, Fit.SHRINK_WRAP) and single:
        floor = style.min_size if style.fit is Fit.SHRINK else max(style.min_size, style.size * 0.8)
        for size in _sizes(style.size, floor):
            if _width(text, font, size) <= width and size <= height + 0.01:
                return Fitted(font, size, (text,), LEADING)
        if style.fit is Fit.SHRINK:
            raise ValueError(f"one line of {width / MM:.0f} mm at {style.min_size}pt is too short")
    sizes = [style.size] if style.fit is Fit.WRAP else list(_sizes(style.size, style.min_size))
    for size in sizes:
        lines = wrap_text(text, font, size, width)
        fitted = Fitted(font, size, tuple(lines), LEADING)
        if fitted.height <= height + 0.01 and all(_width(s, font, size) <= width for s in lines):
            return fitted
    raise ValueError(
        f"{len(text)} characters do not fit {width / MM:.0f}×{height / MM:.0f} mm at {sizes[-1]}pt"
    )


class _Page:
    """Millimetres from the top-left corner → reportlab points from the bottom-left."""

    def __init__(self, canvas: Any, height_pt: float) -> None:
        self.c = canvas
        self.h = height_pt

    def x(self, mm: float) -> float:
        return mm * MM

    def y(self, mm: float) -> float:
        return self.h - mm * MM

    def text(
        self, rect: Rect, text: str, style: TextStyleSpec, who: str, *, color: Any = None
    ) -> None:
        font = FAMILIES[GOTHIC if style.font == "gothic" else MINCHO]
        inner_w = (rect.w - 2 * PAD_X_MM) * MM
        inner_h = (rect.h - 2 * PAD_Y_MM) * MM
        try:
            fitted = fit_in_box(text, inner_w, inner_h, style, font)
        except ValueError as exc:
            raise ValueDoesNotFit(who, str(exc)) from None
        if not fitted.lines:
            return
        if style.align == "center":
            x = self.x(rect.x + rect.w / 2)
        elif style.align == "right":
            x = self.x(rect.x + rect.w - PAD_X_MM)
        else:
            x = self.x(rect.x + PAD_X_MM)
        top = self.y(rect.y) - (rect.h * MM - fitted.height) / 2
        _draw_block(
            self.c, fitted, x, top, align=style.align, bold=style.bold, color=color or (0, 0, 0)
        )

    def box(self, x: float, y: float, w: float, h: float, line: float, fill: float | None) -> None:
        c = self.c
        c.saveState()
        if fill is not None:
            c.setFillGray(fill)
        c.setStrokeGray(0.2)
        c.setLineWidth(line)
        c.rect(
            self.x(x),
            self.y(y + h),
            w * MM,
            h * MM,
            stroke=1 if line > 0 else 0,
            fill=1 if fill is not None else 0,
        )
        c.restoreState()

    def tick_box(self, x: float, y: float, side: float, checked: bool) -> None:
        s = side * MM
        _draw_check_box(self.c, self.x(x), self.y(y) - s, checked, s, max(1.0, s * 0.14))


def _field_text(element: FieldElement, value: PrintField) -> str:
    return value.text if element.part is None else address_part(value.raw, element.part.value)


def _draw_field(page: _Page, e: FieldElement, doc: PrintDocument) -> None:
    value = doc.fields.get(e.field)
    if value is None:
        return
    if e.show is Show.CHECK:
        side = min(e.rect.w, e.rect.h)
        page.tick_box(e.rect.x, e.rect.y + (e.rect.h - side) / 2, side, value.checked)
        return
    if e.show is Show.MARKS:
        for mark in e.marks:
            page.tick_box(mark.x, mark.y, MARK_MM, mark.value in value.chosen)
        return
    if e.show is Show.ERA:
        _draw_era_date(page, e, value)
        return
    page.text(e.rect, _field_text(e, value), e.style, value.label)


ERA_W_MM = 11.5  # one era box with its two-character name


def _draw_era_date(page: _Page, e: FieldElement, value: PrintField) -> None:
    """明治 大正 昭和 平成 令和 with the date's era ticked, then ``33年4月12日``."""
    era = next((name for name in ERA_NAMES if value.text.startswith(name)), "")
    r = e.rect
    label = TextStyleSpec(font="gothic", size=min(8.0, e.style.size), min_size=5.0)
    for i, name in enumerate(ERA_NAMES):
        x = r.x + PAD_X_MM + i * ERA_W_MM
        page.tick_box(x, r.y + (r.h - MARK_MM) / 2, MARK_MM, name == era and bool(era))
        page.text(Rect(r.page, x + MARK_MM, r.y, ERA_W_MM - MARK_MM, r.h), name, label, name)
    rest_x = r.x + PAD_X_MM + len(ERA_NAMES) * ERA_W_MM
    rest = value.text[len(era) :] if era else value.text
    page.text(Rect(r.page, rest_x, r.y, r.x + r.w - rest_x, r.h), rest, e.style, value.label)


def _draw_rows(page: _Page, e: RowsElement, doc: PrintDocument) -> None:
    value = doc.fields.get(e.field)
    rows = value.rows if value is not None else ()
    label = value.label if value is not None else e.field
    if len(rows) > e.rows:
        raise ValueDoesNotFit(label, f"{len(rows)} persons, the form has {e.rows} rows")
    for r in range(e.rows):
        x = e.rect.x
        y = e.rect.y + r * e.rect.h
        for column in e.columns:
            cell = Rect(e.rect.page, x, y, column.w, e.rect.h)
            page.box(x, y, column.w, e.rect.h, e.line, None)
            if r < len(rows):
                page.text(cell, rows[r].get(column.field, ""), column.style, label)
            x += column.w


def _draw_slot(page: _Page, e: SlotElement, doc: PrintDocument) -> None:
    r = e.rect
    match e.slot:
        case Slot.TITLE:
            page.text(r, doc.title, e.style, "title")
        case Slot.ADDRESSEE:
            page.text(r, doc.municipality, e.style, "addressee")
        case Slot.APPLICATION_DATE:
            page.text(r, doc.application_date, e.style, "application_date")
        case Slot.TICKET:
            if doc.ticket:
                page.text(r, f"整理券 {doc.ticket}", e.style, "ticket")
        case Slot.REFERENCE:
            page.text(r, f"受付番号 {doc.reference}", e.style, "reference")
        case Slot.REFERENCE_QR:
            matrix = qr_matrix(doc.reference)
            n = len(matrix)
            # the symbol plus its quiet zone fill the square the template reserved
            side = min(r.w, r.h) * MM
            module = side / (n + 2 * QUIET_ZONE)
            draw_qr(
                page.c,
                matrix,
                page.x(r.x) + module * QUIET_ZONE,
                page.y(r.y) - side + module * QUIET_ZONE,
                module * n,
            )
        case Slot.FEE:
            if doc.fee is not None:
                _draw_fee_slip(
                    page.c, doc.fee, page.x(r.x), page.x(r.x + r.w), page.y(r.y), r.h * MM
                )
        case Slot.FOOTER:
            page.text(r, doc.footer, e.style, "footer")
        case Slot.REISSUE:
            if doc.reissue_note:
                page.box(r.x, r.y, r.w, r.h, 1.1, None)
                page.text(r, doc.reissue_note, e.style, "reissue_note", color=RED)


def _draw(page: _Page, e: Element, doc: PrintDocument) -> None:
    if isinstance(e, BoxElement):
        page.box(e.rect.x, e.rect.y, e.rect.w, e.rect.h, e.line, e.fill)
    elif isinstance(e, LineElement):
        c = page.c
        c.saveState()
        c.setStrokeGray(0.2)
        c.setLineWidth(e.line)
        c.line(page.x(e.x), page.y(e.y), page.x(e.x2), page.y(e.y2))
        c.restoreState()
    elif isinstance(e, TextElement):
        page.text(e.rect, e.text, e.style, e.text)
    elif isinstance(e, FieldElement):
        _draw_field(page, e, doc)
    elif isinstance(e, RowsElement):
        _draw_rows(page, e, doc)
    else:
        _draw_slot(page, e, doc)


def page_size_pt(layout: Layout) -> tuple[float, float]:
    w, h = layout.size_mm
    return w * MM, h * MM


def draw_fixed(canvas: Any, layout: Layout, doc: PrintDocument) -> None:
    """Draw every page of ``layout`` filled with ``doc`` (the caller saves the canvas)."""
    _, height = page_size_pt(layout)
    for number in range(1, layout.pages + 1):
        page = _Page(canvas, height)
        canvas.setFont(FAMILIES[GOTHIC], 10)
        for element in layout.on_page(number):
            _draw(page, element, doc)
        if layout.pages > 1:
            page.text(
                Rect(number, layout.size_mm[0] - 40, layout.size_mm[1] - 9, 30, 5),
                f"{number} / {layout.pages}",
                TextStyleSpec(font="gothic", size=8, min_size=6, align="right"),
                "page_number",
            )
        canvas.showPage()
