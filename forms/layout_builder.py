"""Arrange a template's fields as an official-looking A4 form and return the layout data.

The result is ordinary layout data (``forms.layout``): the shipped templates carry a
layout made here and then adjusted by hand, and the administrators' editor offers it for
a new or changed template as a starting point. Rows have fixed heights like a printed
form's boxes; the renderer shrinks and wraps values into them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from forms.model import Field, FieldKind, Template

PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT = 15.0, 195.0
TOP = 12.0
BAND_W = 22.0
LABEL_W = 40.0
LABEL_X = LEFT + BAND_W
VALUE_X = LABEL_X + LABEL_W
VALUE_W = RIGHT - VALUE_X
FOOTER_H = 5.0
BODY_TOP = 57.0
CONT_TOP = 26.0  # where the body starts on a continuation page

ROW_H = 8.5
ADDRESS_H = 12.0
CHECK_H = 7.5
SIGNATURE_H = 16.0
MARK_LINE_H = 7.0
PERSON_HEAD_H = 6.0
PERSON_ROW_H = 10.0
MARK = 3.2

BAND_FILL = 0.84
LABEL_FILL = 0.93

#: relative column widths of person-row items by kind
_ITEM_WEIGHT = {
    FieldKind.TEXT: 3.0,
    FieldKind.KANA: 3.0,
    FieldKind.DATE: 3.4,
    FieldKind.CHOICE: 1.6,
    FieldKind.CHECKBOX: 1.0,
    FieldKind.NUMBER: 1.2,
    FieldKind.PHONE: 2.4,
    FieldKind.POSTAL_CODE: 1.8,
    FieldKind.ADDRESS: 4.0,
}


def _item_weight(item: Field) -> float:
    if item.kind is FieldKind.TEXT and item.max_length is not None:
        # a name (80) gets a wide column, a relationship (20) a narrow one
        return min(4.0, max(1.3, item.max_length / 20))
    return _ITEM_WEIGHT.get(item.kind, 2.0)


def _r(v: float) -> float:
    return round(v, 1)


@dataclass
class _Builder:
    #: the fee slip's height (0: no fee on this form)
    fee_h: float
    split_addresses: frozenset[str]
    #: rows are drawn this much lower than their full height to keep a form on one page
    scale: float = 1.0
    elements: list[dict[str, Any]] = field(default_factory=list)
    page: int = 1
    y: float = BODY_TOP

    @property
    def bottom(self) -> float:
        reserve = FOOTER_H + 4 + (self.fee_h + 4 if self.fee_h else 0.0)
        return PAGE_H - TOP - reserve

    def add(self, kind: str, **props: Any) -> None:
        props = {k: _r(v) if isinstance(v, float) else v for k, v in props.items()}
        self.elements.append({"type": kind, "page": self.page, **props})

    def box(self, x: float, y: float, w: float, h: float, **extra: Any) -> None:
        self.add("box", x=x, y=y, w=w, h=h, **extra)

    def text(self, x: float, y: float, w: float, h: float, text: str, **style: Any) -> None:
        self.add("text", x=x, y=y, w=w, h=h, text={"ja": text}, **style)

    def new_page(self) -> None:
        self.page += 1
        self.y = CONT_TOP


def _header(b: _Builder) -> None:
    b.add("slot", slot="reissue", x=LEFT, y=TOP, w=44.0, h=9.0, size=11, bold=True)
    b.add("slot", slot="reference_qr", x=RIGHT - 24, y=TOP - 2, w=24.0, h=24.0)
    b.add(
        "slot",
        slot="title",
        x=LEFT + 32,
        y=TOP + 5,
        w=RIGHT - LEFT - 64,
        h=13.0,
        size=18,
        min_size=12,
        bold=True,
        align="center",
    )
    b.add(
        "slot",
        slot="reference",
        x=RIGHT - 60,
        y=TOP + 23,
        w=60.0,
        h=4.5,
        size=7,
        min_size=6,
        align="right",
    )
    b.add(
        "slot",
        slot="ticket",
        x=RIGHT - 60,
        y=TOP + 27.5,
        w=60.0,
        h=6.0,
        size=11,
        bold=True,
        align="right",
    )
    b.add(
        "slot",
        slot="addressee",
        x=LEFT,
        y=TOP + 34,
        w=100.0,
        h=8.0,
        font="mincho",
        size=13,
        min_size=9,
    )
    b.text(RIGHT - 62, TOP + 34, 14.0, 8.0, "申請日", size=9, align="right")
    b.add(
        "slot",
        slot="application_date",
        x=RIGHT - 48,
        y=TOP + 34,
        w=48.0,
        h=8.0,
        font="mincho",
        size=12,
        min_size=8,
    )


def _continuation_header(b: _Builder) -> None:
    b.add("slot", slot="title", x=LEFT, y=TOP, w=110.0, h=8.0, size=11, min_size=8, bold=True)
    b.add("slot", slot="reference", x=RIGHT - 60, y=TOP, w=60.0, h=8.0, size=8, align="right")
    b.add("line", x=LEFT, y=TOP + 10, x2=RIGHT, y2=TOP + 10, line=0.8)


def _footer(b: _Builder, pages: int) -> None:
    for page in range(1, pages + 1):
        b.elements.append(
            {
                "type": "slot",
                "page": page,
                "slot": "footer",
                "x": LEFT,
                "y": PAGE_H - TOP - FOOTER_H,
                "w": RIGHT - LEFT,
                "h": FOOTER_H,
                "size": 7.5,
                "min_size": 6,
                "align": "center",
            }
        )


def _mark_lines(f: Field) -> list[list[tuple[str, str, float]]]:
    """Choices laid out in lines that fit the value cell: (value, label, width mm)."""
    lines: list[list[tuple[str, str, float]]] = [[]]
    used = 0.0
    for c in f.choices:
        # 3.9 mm per full-width character at 11pt, plus the box and a gap
        w = MARK + 1.5 + 3.9 * sum(1 if ord(ch) > 0x2FF else 0.5 for ch in c.label["ja"]) + 4
        if lines[-1] and used + w > VALUE_W - 3:
            lines.append([])
            used = 0.0
        lines[-1].append((c.value, c.label["ja"], w))
        used += w
    return lines


def _row_height(f: Field, split: bool, scale: float) -> float:
    return _r(_full_height(f, split) * scale)


def _full_height(f: Field, split: bool) -> float:
    match f.kind:
        case FieldKind.ADDRESS:
            return ROW_H if split else ADDRESS_H
        case FieldKind.CHECKBOX:
            return CHECK_H
        case FieldKind.SIGNATURE:
            return SIGNATURE_H
        case FieldKind.CHOICE | FieldKind.MULTI_CHOICE if len(f.choices) <= 8:
            return max(ROW_H, len(_mark_lines(f)) * MARK_LINE_H + 2)
        case FieldKind.PERSONS:
            return PERSON_HEAD_H + (f.max_rows or 4) * PERSON_ROW_H  # head kept, rows scale
        case _:
            return ROW_H


def _value(b: _Builder, f: Field, y: float, h: float) -> None:
    if f.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE) and len(f.choices) <= 8:
        marks = []
        line_h = min(MARK_LINE_H, (h - 1) / len(_mark_lines(f)))
        line_top = y + (h - len(_mark_lines(f)) * line_h) / 2
        for line in _mark_lines(f):
            x = VALUE_X + 2
            for value, label, w in line:
                marks.append({"value": value, "x": _r(x), "y": _r(line_top + (line_h - MARK) / 2)})
                b.text(
                    x + MARK + 0.3,
                    line_top,
                    w - MARK - 1,
                    _r(line_h),
                    label,
                    font="mincho",
                    size=10.5,
                    min_size=7,
                )
                x += w
            line_top += line_h
        b.add("field", field=f.id, x=VALUE_X, y=y, w=VALUE_W, h=h, show="marks", marks=marks)
    elif f.kind is FieldKind.ADDRESS and f.id in b.split_addresses:
        x = VALUE_X
        for part, w, unit in (("prefecture", 26.0, "都道府県"), ("municipality", 36.0, "市区町村")):
            b.add("field", field=f.id, part=part, x=x, y=y, w=w - 9, h=h, size=11, min_size=7)
            b.text(x + w - 9, y, 9.0, h, unit, size=6.5, min_size=5)
            b.add("line", x=x + w, y=y, x2=x + w, y2=y + h, line=0.3)
            x += w
        b.add("field", field=f.id, part="rest", x=x, y=y, w=RIGHT - x, h=h, size=11, min_size=7)
    elif f.kind is FieldKind.SIGNATURE:
        b.text(VALUE_X, y, 60.0, 5.0, "ご本人が自署してください", size=7, min_size=6)
        b.add("field", field=f.id, x=VALUE_X, y=y + 5, w=VALUE_W, h=h - 5)
    else:
        b.add("field", field=f.id, x=VALUE_X, y=y, w=VALUE_W, h=h, size=11, min_size=7)


def _row(b: _Builder, f: Field, y: float, h: float) -> None:
    if f.kind is FieldKind.CHECKBOX:
        b.box(LABEL_X, y, RIGHT - LABEL_X, h, line=0.45)
        b.add(
            "field", field=f.id, show="check", x=LABEL_X + 2, y=y + (h - MARK) / 2, w=MARK, h=MARK
        )
        b.text(
            LABEL_X + 2 + MARK + 1.5,
            y,
            RIGHT - LABEL_X - MARK - 5,
            h,
            f.printed_label,
            size=10,
            min_size=7,
        )
        return
    if f.kind is FieldKind.PERSONS:
        _persons(b, f, y)
        return
    b.box(LABEL_X, y, LABEL_W, h, line=0.45, fill=LABEL_FILL)
    b.text(LABEL_X, y, LABEL_W, h, f.printed_label, size=9.5, min_size=6.5)
    b.box(VALUE_X, y, VALUE_W, h, line=0.45)
    _value(b, f, y, h)


def _persons(b: _Builder, f: Field, y: float) -> None:
    width = RIGHT - LABEL_X
    weights = [_item_weight(i) for i in f.items]
    widths = [_r(width * w / sum(weights)) for w in weights]
    widths[-1] = _r(width - sum(widths[:-1]))
    x = LABEL_X
    for item, w in zip(f.items, widths, strict=True):
        b.box(x, y, w, PERSON_HEAD_H, line=0.45, fill=LABEL_FILL)
        b.text(x, y, w, PERSON_HEAD_H, item.label["ja"], size=8, min_size=5.5, align="center")
        x += w
    columns = [
        {"field": i.id, "w": w, "size": 9, "min_size": 6}
        for i, w in zip(f.items, widths, strict=True)
    ]
    b.add(
        "rows",
        field=f.id,
        x=LABEL_X,
        y=y + PERSON_HEAD_H,
        w=width,
        h=_r(PERSON_ROW_H * b.scale),
        rows=f.max_rows or 4,
        columns=columns,
    )


def _band(b: _Builder, title: str, top: float, bottom: float) -> None:
    b.box(LEFT, top, BAND_W, bottom - top, line=0.7, fill=BAND_FILL)
    b.text(LEFT, top, BAND_W, bottom - top, title, size=9.5, min_size=6, bold=True, align="center")
    b.box(LEFT, top, RIGHT - LEFT, bottom - top, line=1.0)


def _section(b: _Builder, title: str, fields: Iterable[Field]) -> None:
    top = b.y
    for f in fields:
        h = _row_height(f, f.id in b.split_addresses, b.scale)
        if f.kind is FieldKind.PERSONS:
            h = _r(PERSON_HEAD_H + (f.max_rows or 4) * _r(PERSON_ROW_H * b.scale))
        if b.y + h > b.bottom:
            if b.y > top:
                _band(b, title, top, b.y)
            b.new_page()
            _continuation_header(b)
            top = b.y
        _row(b, f, b.y, h)
        b.y += h
    if b.y > top:
        _band(b, title, top, b.y)
    b.y += 3.0


#: row heights tried, tallest first, to keep a form on one page (an official form is one
#: sheet); below the last the form goes on to a second page instead
SCALES = (1.0, 0.94, 0.88, 0.82, 0.76, 0.7)


def auto_layout(template: Template, *, split_addresses: Iterable[str] = ()) -> dict[str, Any]:
    """Layout data placing every field of ``template`` (see the module docstring)."""
    for scale in SCALES:
        layout = _arrange(template, frozenset(split_addresses), scale)
        if layout["pages"] == 1:
            return layout
    return _arrange(template, frozenset(split_addresses), SCALES[0])


def _fee_height(template: Template) -> float:
    """Room for the fee lines that can apply at once (at most one per rule), in mm."""
    if not template.fees:
        return 0.0
    # rules on different values of one choice never apply together: one line for them
    unconditional = sum(1 for r in template.fees if r.when_field is None)
    lines = unconditional + len({r.when_field for r in template.fees if r.when_field})
    # printing/render.py: 6pt margins, 19pt a line, 27pt the total; at least 76pt
    return _r(max(76.0, 12 + 19 * lines + 27) / 72 * 25.4 + 1)


def _arrange(template: Template, split: frozenset[str], scale: float) -> dict[str, Any]:
    b = _Builder(fee_h=_fee_height(template), split_addresses=split, scale=scale)
    _header(b)
    for section in template.sections:
        _section(b, section.title["ja"], section.fields)
    if template.fees:
        b.page = b.page  # the fee slip stays on the last page, above the footer
        b.add(
            "slot",
            slot="fee",
            x=LEFT,
            y=PAGE_H - TOP - FOOTER_H - 4 - b.fee_h,
            w=RIGHT - LEFT,
            h=b.fee_h,
        )
    pages = b.page
    _footer(b, pages)
    return {
        "page": {"size": "A4", "orientation": "portrait"},
        "pages": pages,
        "elements": b.elements,
    }


def format_template_json(raw: dict[str, Any], original: str | None = None) -> str:
    """A template as JSON text: indented, with each layout element on one line so a
    layout stays readable and a moved box is a one-line diff. With ``original`` (the
    file's text, layout last as this function writes it) everything before the layout is
    kept byte for byte, so re-arranging a form changes only its layout lines."""
    import json

    body = {k: v for k, v in raw.items() if k != "layout"}
    text = json.dumps(body, ensure_ascii=False, indent=2)
    if original is not None:
        cut = original.find('\n  "layout": ')
        kept = original[:cut] if cut >= 0 else original[: original.rstrip().rindex("}")]
        text = kept.rstrip().rstrip(",") + "\n}"
    layout = raw.get("layout")
    if layout is None:
        return text + "\n"
    head = {k: v for k, v in layout.items() if k != "elements"}
    lines = [f'    "{k}": {json.dumps(v, ensure_ascii=False)},' for k, v in head.items()]
    elements = ",\n".join(
        "      " + json.dumps(e, ensure_ascii=False) for e in layout.get("elements", [])
    )
    block = "{\n" + "\n".join(lines) + '\n    "elements": [\n' + elements + "\n    ]\n  }"
    return text[: text.rindex("}")].rstrip() + ',\n  "layout": ' + block + "\n}\n"
