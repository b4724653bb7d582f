"""The print layout as template data: paper, static boxes and texts, and each field's place.

An administrator adjusts a form to the municipality's own paper by editing these numbers;
``printing/fixed.py`` draws exactly what is described here. Positions are millimetres from
the top-left corner of the page, as one measures on paper with a ruler.

``parse_layout`` refuses anything it could not draw faithfully (unknown fields, boxes off
the page, a field with no place) with a ``TemplateError`` naming the element.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: paper sizes in millimetres (portrait); B5/B4 are the JIS sizes used by Japanese offices
PAPER_MM: dict[str, tuple[float, float]] = {
    "A4": (210.0, 297.0),
    "A3": (297.0, 420.0),
    "B5": (182.0, 257.0),
    "B4": (257.0, 364.0),
}


class Fit(StrEnum):
    #: one line; the font shrinks down to ``min_size``
    SHRINK = "shrink"
    #: lines wrap at the given size; the box height limits the number of lines
    WRAP = "wrap"
    #: one line shrinking to a legible size first, then wrapping while shrinking further
    SHRINK_WRAP = "shrink_wrap"


class Show(StrEnum):
    #: the value as text (choice labels, 和暦 dates, …)
    TEXT = "text"
    #: a tick box, ticked when a checkbox field is on
    CHECK = "check"
    #: one tick box per listed choice, ticked for the chosen ones
    MARKS = "marks"
    #: a date as era boxes (明治 大正 昭和 平成 令和, the date's era ticked) and the rest of
    #: the 和暦 date after them, as many official forms print a birth date
    ERA = "era"


class Slot(StrEnum):
    """Parts of the form that are not fields: filled by the system at print time."""

    TITLE = "title"
    ADDRESSEE = "addressee"
    APPLICATION_DATE = "application_date"
    TICKET = "ticket"
    REFERENCE = "reference"  # the back-office application number as text
    REFERENCE_QR = "reference_qr"
    FEE = "fee"  # the fee and payment slip; drawn only when a fee is due
    FOOTER = "footer"
    REISSUE = "reissue"  # the red 再発行 badge of a reprint; empty on a first print


class AddressPart(StrEnum):
    PREFECTURE = "prefecture"
    MUNICIPALITY = "municipality"
    REST = "rest"


FONTS = ("gothic", "mincho")
ALIGNS = ("left", "center", "right")


@dataclass(frozen=True)
class Rect:
    page: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class TextStyleSpec:
    font: str = "mincho"
    size: float = 11.0
    min_size: float = 7.0
    fit: Fit = Fit.SHRINK_WRAP
    align: str = "left"
    bold: bool = False


@dataclass(frozen=True)
class BoxElement:
    rect: Rect
    line: float = 0.5  # stroke width in points; 0 = no outline
    fill: float | None = None  # grey level 0 (black) … 1 (white); None = not filled


@dataclass(frozen=True)
class LineElement:
    page: int
    x: float
    y: float
    x2: float
    y2: float
    line: float = 0.5


@dataclass(frozen=True)
class TextElement:
    rect: Rect
    text: str
    style: TextStyleSpec


@dataclass(frozen=True)
class Mark:
    value: str
    x: float
    y: float


@dataclass(frozen=True)
class FieldElement:
    field: str
    rect: Rect
    style: TextStyleSpec
    show: Show = Show.TEXT
    part: AddressPart | None = None
    marks: tuple[Mark, ...] = ()


@dataclass(frozen=True)
class Column:
    field: str
    w: float
    style: TextStyleSpec


@dataclass(frozen=True)
class RowsElement:
    """A repeating person field drawn as a table: one line per person, a column per item."""

    field: str
    rect: Rect  # h is the height of one row
    rows: int
    columns: tuple[Column, ...]
    line: float = 0.45


@dataclass(frozen=True)
class SlotElement:
    slot: Slot
    rect: Rect
    style: TextStyleSpec


Element = BoxElement | LineElement | TextElement | FieldElement | RowsElement | SlotElement


@dataclass(frozen=True)
class Layout:
    paper: str
    landscape: bool
    pages: int
    elements: tuple[Element, ...]

    @property
    def size_mm(self) -> tuple[float, float]:
        w, h = PAPER_MM[self.paper]
        return (h, w) if self.landscape else (w, h)

    def on_page(self, page: int) -> tuple[Element, ...]:
        return tuple(e for e in self.elements if _page_of(e) == page)

    def placed_fields(self) -> set[str]:
        out: set[str] = set()
        for e in self.elements:
            if isinstance(e, FieldElement | RowsElement):
                out.add(e.field)
        return out


def _page_of(e: Element) -> int:
    return e.page if isinstance(e, LineElement) else e.rect.page


# ---------------------------------------------------------------------------- parsing


class LayoutError(ValueError):
    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")


def _num(raw: dict[str, Any], key: str, where: str, *, low: float = 0.0) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LayoutError(f"{where}.{key}", "must be a number (millimetres)")
    if value < low:
        raise LayoutError(f"{where}.{key}", f"must be at least {low:g}")
    return float(value)


def _style(raw: dict[str, Any], where: str, *, font: str, size: float) -> TextStyleSpec:
    style = TextStyleSpec(
        font=str(raw.get("font", font)),
        size=float(raw.get("size", size)),
        min_size=float(raw.get("min_size", min(7.0, float(raw.get("size", size))))),
        fit=_fit(raw.get("fit", "shrink_wrap"), where),
        align=str(raw.get("align", "left")),
        bold=bool(raw.get("bold", False)),
    )
    if style.font not in FONTS:
        raise LayoutError(f"{where}.font", f"must be one of {', '.join(FONTS)}")
    if style.align not in ALIGNS:
        raise LayoutError(f"{where}.align", f"must be one of {', '.join(ALIGNS)}")
    if not 4.0 <= style.min_size <= style.size <= 72.0:
        raise LayoutError(f"{where}.size", "needs 4 ≤ min_size ≤ size ≤ 72 (points)")
    return style


def _fit(raw: Any, where: str) -> Fit:
    try:
        return Fit(raw)
    except ValueError:
        raise LayoutError(
            f"{where}.fit", f"unknown fit rule {raw!r}; allowed: {', '.join(Fit)}"
        ) from None


class _Parser:
    def __init__(self, size_mm: tuple[float, float], pages: int) -> None:
        self.width, self.height = size_mm
        self.pages = pages

    def rect(self, raw: dict[str, Any], where: str) -> Rect:
        page = raw.get("page", 1)
        if not isinstance(page, int) or not 1 <= page <= self.pages:
            raise LayoutError(f"{where}.page", f"must be a page from 1 to {self.pages}")
        x, y = _num(raw, "x", where), _num(raw, "y", where)
        w, h = _num(raw, "w", where, low=1.0), _num(raw, "h", where, low=1.0)
        self.inside(x + w, y + h, where)
        return Rect(page, x, y, w, h)

    def inside(self, x: float, y: float, where: str) -> None:
        if x > self.width + 1e-6 or y > self.height + 1e-6:
            raise LayoutError(where, f"reaches off the page ({self.width:g}×{self.height:g} mm)")

    def element(self, raw: Any, where: str) -> Element:
        if not isinstance(raw, dict):
            raise LayoutError(where, "an element must be an object")
        kind = raw.get("type")
        if kind == "box":
            fill = raw.get("fill")
            if fill is not None and not (isinstance(fill, int | float) and 0 <= fill <= 1):
                raise LayoutError(f"{where}.fill", "must be a grey level from 0 to 1")
            return BoxElement(
                self.rect(raw, where),
                float(raw.get("line", 0.5)),
                None if fill is None else float(fill),
            )
        if kind == "line":
            page = raw.get("page", 1)
            if not isinstance(page, int) or not 1 <= page <= self.pages:
                raise LayoutError(f"{where}.page", f"must be a page from 1 to {self.pages}")
            x, y, x2, y2 = (_num(raw, k, where) for k in ("x", "y", "x2", "y2"))
            self.inside(max(x, x2), max(y, y2), where)
            return LineElement(page, x, y, x2, y2, float(raw.get("line", 0.5)))
        if kind == "text":
            text = raw.get("text")
            if isinstance(text, dict):
                text = text.get("ja")
            if not isinstance(text, str) or not text:
                raise LayoutError(f"{where}.text", "needs the text to print ('ja')")
            return TextElement(
                self.rect(raw, where), text, _style(raw, where, font="gothic", size=9.5)
            )
        if kind == "field":
            return self.field(raw, where)
        if kind == "rows":
            return self.rows(raw, where)
        if kind == "slot":
            try:
                slot = Slot(str(raw.get("slot")))
            except ValueError:
                raise LayoutError(
                    f"{where}.slot", f"unknown slot {raw.get('slot')!r}; allowed: {', '.join(Slot)}"
                ) from None
            style = _style(raw, where, font="gothic", size=10)
            return SlotElement(slot, self.rect(raw, where), style)
        raise LayoutError(
            f"{where}.type",
            f"unknown element {kind!r}; allowed: box, line, text, field, rows, slot",
        )

    def field(self, raw: dict[str, Any], where: str) -> FieldElement:
        fid = raw.get("field")
        if not isinstance(fid, str) or not fid:
            raise LayoutError(f"{where}.field", "name the field to print here")
        where = f"{where} ({fid})"
        try:
            show = Show(raw.get("show", "text"))
        except ValueError:
            raise LayoutError(f"{where}.show", "must be text, check, marks or era") from None
        part = None
        if raw.get("part") is not None:
            try:
                part = AddressPart(raw["part"])
            except ValueError:
                raise LayoutError(
                    f"{where}.part", "must be prefecture, municipality or rest"
                ) from None
        rect = self.rect(raw, where)
        marks = tuple(
            Mark(str(m.get("value")), _num(m, "x", f"{where}.marks[{i}]"), _num(m, "y", where))
            for i, m in enumerate(raw.get("marks", []))
            if isinstance(m, dict)
        )
        for m in marks:
            self.inside(m.x, m.y, f"{where}.marks ({m.value})")
        if show is Show.MARKS and not marks:
            raise LayoutError(f"{where}.marks", "marks need a position for each choice")
        return FieldElement(
            fid, rect, _style(raw, where, font="mincho", size=11.0), show, part, marks
        )

    def rows(self, raw: dict[str, Any], where: str) -> RowsElement:
        fid = raw.get("field")
        if not isinstance(fid, str) or not fid:
            raise LayoutError(f"{where}.field", "name the repeating field to print here")
        where = f"{where} ({fid})"
        count = raw.get("rows")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise LayoutError(f"{where}.rows", "must be the number of rows on the form (≥ 1)")
        columns = []
        for i, craw in enumerate(raw.get("columns", [])):
            cwhere = f"{where}.columns[{i}]"
            if not isinstance(craw, dict) or not isinstance(craw.get("field"), str):
                raise LayoutError(cwhere, "a column names an item of the person rows")
            columns.append(
                Column(
                    craw["field"],
                    _num(craw, "w", cwhere, low=1.0),
                    _style(craw, cwhere, font="mincho", size=9.5),
                )
            )
        if not columns:
            raise LayoutError(f"{where}.columns", "a table needs at least one column")
        row = self.rect(raw, where)
        if abs(sum(c.w for c in columns) - row.w) > 0.5:
            raise LayoutError(f"{where}.columns", "the column widths must add up to w")
        self.inside(row.x + row.w, row.y + row.h * count, where)
        return RowsElement(fid, row, count, tuple(columns), float(raw.get("line", 0.45)))


def parse_layout(raw: Any) -> Layout:
    if not isinstance(raw, dict):
        raise LayoutError("layout", "must be an object")
    page = raw.get("page", {})
    paper = page.get("size", "A4") if isinstance(page, dict) else None
    if paper not in PAPER_MM:
        raise LayoutError("layout.page.size", f"must be one of {', '.join(PAPER_MM)}")
    orientation = page.get("orientation", "portrait")
    if orientation not in ("portrait", "landscape"):
        raise LayoutError("layout.page.orientation", "must be portrait or landscape")
    pages = raw.get("pages", 1)
    if not isinstance(pages, int) or isinstance(pages, bool) or not 1 <= pages <= 20:
        raise LayoutError("layout.pages", "must be a number of pages from 1 to 20")
    layout = Layout(paper, orientation == "landscape", pages, ())
    parser = _Parser(layout.size_mm, pages)
    elements = tuple(
        parser.element(e, f"layout.elements[{i}]") for i, e in enumerate(raw.get("elements", []))
    )
    if not elements:
        raise LayoutError("layout.elements", "a layout needs elements to print")
    return Layout(paper, layout.landscape, pages, elements)


def check_layout_fields(
    layout: Layout,
    printable: Iterable[str],
    kinds: dict[str, str],
    choices: dict[str, set[str]],
    row_items: dict[str, set[str]],
) -> None:
    """Every printable field has a place, and every place names a field of the right kind."""
    known = set(kinds)
    for i, e in enumerate(layout.elements):
        if not isinstance(e, FieldElement | RowsElement):
            continue
        where = f"layout.elements[{i}] ({e.field})"
        if e.field not in known:
            raise LayoutError(where, f"refers to unknown field {e.field!r}")
        kind = kinds[e.field]
        if isinstance(e, RowsElement):
            if kind != "persons":
                raise LayoutError(where, "a rows table prints a persons field")
            for c in e.columns:
                if c.field not in row_items[e.field]:
                    raise LayoutError(where, f"unknown item {c.field!r} of the person rows")
            continue
        if kind == "persons":
            raise LayoutError(where, "a persons field is printed with a rows table")
        if e.show is Show.CHECK and kind != "checkbox":
            raise LayoutError(where, "only a checkbox field prints as a tick box")
        if e.show is Show.MARKS:
            if kind not in ("choice", "multi_choice"):
                raise LayoutError(where, "marks print a choice field")
            for m in e.marks:
                if m.value not in choices[e.field]:
                    raise LayoutError(where, f"no choice {m.value!r}")
        if e.show is Show.ERA and kind != "date":
            raise LayoutError(where, "era boxes print a date field")
        if e.part is not None and kind != "address":
            raise LayoutError(where, "only an address field is printed in parts")
    missing = [f for f in printable if f not in layout.placed_fields()]
    if missing:
        raise LayoutError("layout", f"field {missing[0]!r} has no place on the printed form")
