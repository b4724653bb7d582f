"""Form rendering figures for each shipped template: the first render in a fresh process
(font loading and subsetting included), warm renders, pages per second and bytes per page,
beside the same form drawn on a bare reportlab canvas: the layout's boxes, lines and texts
at their places with plain ``drawString`` — no fitting, no 外字 check, no QR.

Run alone with ``python -m bench.printing``; ``python -m bench`` includes it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 12, 1)


def _document(template_id: str) -> Any:
    from kiosk.template_editing import sample_document
    from kiosk.templates_repo import shipped_templates

    template = next(t for t in shipped_templates() if t.id == template_id)
    return sample_document(template, {}, "松浦市長　様", DAY, ticket="A-001")


def bare_canvas(doc: Any) -> bytes:
    """The baseline: every box, line and text of the layout drawn with no logic at all."""
    from reportlab.pdfgen.canvas import Canvas

    from forms.layout import BoxElement, FieldElement, LineElement, RowsElement, TextElement
    from printing.fonts import FAMILIES, GOTHIC, MINCHO, register_fonts

    register_fonts()
    layout = doc.layout
    mm = 72 / 25.4
    width, height = (v * mm for v in layout.size_mm)
    buf = BytesIO()
    c = Canvas(buf, pagesize=(width, height), initialFontName=FAMILIES[GOTHIC])
    for page in range(1, layout.pages + 1):
        for e in layout.on_page(page):
            if isinstance(e, BoxElement):
                r = e.rect
                c.rect(r.x * mm, height - (r.y + r.h) * mm, r.w * mm, r.h * mm)
            elif isinstance(e, LineElement):
                c.line(e.x * mm, height - e.y * mm, e.x2 * mm, height - e.y2 * mm)
            elif isinstance(e, TextElement | FieldElement):
                text = e.text if isinstance(e, TextElement) else doc.fields[e.field].text
                font = FAMILIES[GOTHIC if e.style.font == "gothic" else MINCHO]
                c.setFont(font, e.style.size)
                baseline = height - (e.rect.y + e.rect.h / 2) * mm - e.style.size / 3
                c.drawString(e.rect.x * mm + 3, baseline, text.replace("\n", " "))
            elif isinstance(e, RowsElement):
                for n, row in enumerate(doc.fields[e.field].rows):
                    c.setFont(FAMILIES[MINCHO], 9)
                    y = height - (e.rect.y + (n + 0.6) * e.rect.h) * mm
                    c.drawString(e.rect.x * mm + 3, y, "　".join(row.values()))
        c.showPage()
    c.save()
    return buf.getvalue()


def _median_ms(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 2)


def _first_render_ms(template_id: str) -> float:
    """A fresh interpreter: fonts are loaded and subset for the first time."""
    code = (
        "import time, sys; sys.path.insert(0, sys.argv[1]);"
        "from bench.printing import _document; from printing.render import render_pdf;"
        f"d = _document({template_id!r}); t = time.perf_counter(); render_pdf(d);"
        "print((time.perf_counter() - t) * 1000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True
    )
    return round(float(out.stdout.strip().splitlines()[-1]), 1)


def bench_printing(runs: int) -> dict[str, Any]:
    from kiosk.templates_repo import shipped_templates
    from printing.render import render_pdf

    figures: dict[str, Any] = {}
    for template in shipped_templates():
        doc = _document(template.id)
        pdf = render_pdf(doc)
        pages = doc.layout.pages if doc.layout is not None else pdf.count(b"/Type /Page\n")
        warm = _median_ms(lambda d=doc: render_pdf(d), runs)
        bare = bare_canvas(doc)
        figures[template.id] = {
            "first_render_ms": _first_render_ms(template.id),
            "warm_render_ms": warm,
            "pages_per_s": round(pages * 1000 / warm, 1),
            "bytes_per_page": len(pdf) // max(pages, 1),
            "bare_canvas_ms": _median_ms(lambda d=doc: bare_canvas(d), runs),
            "bare_canvas_bytes_per_page": len(bare) // max(pages, 1),
        }
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(bench_printing(20), indent=2, ensure_ascii=False))
