"""Reviewed page images of every shipped form: how they are made and compared.

``python -m tests.golden.forms`` rewrites the images after an intended change; look at
each one before committing it (they are the reviewed look of the official forms).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from PIL import Image, ImageChops

from forms.model import Template
from kiosk.template_editing import sample_document
from kiosk.templates_repo import shipped_templates
from printing.render import render_pdf

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
DAY = date(2026, 12, 1)
DPI = 50
#: a pixel counts as changed when its grey level moved by more than this
LEVEL = 64


def shipped() -> list[Template]:
    return shipped_templates()


def render_page(template: Template) -> Image.Image:
    """Page 1 of ``template`` filled with the sample values on a fixed day, in grey."""
    doc = sample_document(template, {}, "松浦市長　様", DAY, ticket="A-001")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "form.pdf"
        pdf.write_bytes(render_pdf(doc))
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                str(DPI),
                "-gray",
                "-png",
                "-singlefile",
                "-f",
                "1",
                str(pdf),
                str(Path(tmp) / "page"),
            ],
            check=True,
            timeout=60,
        )
        with Image.open(Path(tmp) / "page.png") as page:
            return page.convert("L").copy()


def changed_fraction(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a, b).point(lambda v: 255 if v > LEVEL else 0)
    histogram = diff.histogram()
    return histogram[255] / (a.size[0] * a.size[1])


def golden_path(template: Template) -> Path:
    return GOLDEN / f"form-{template.id}.png"


def main() -> int:
    for template in shipped():
        render_page(template).save(golden_path(template))
        sys.stdout.write(f"written: {golden_path(template)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
