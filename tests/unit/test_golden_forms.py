"""Every shipped form, rendered, still looks like its reviewed page image (pdftoppm),
within a small tolerance for anti-aliasing; a moved box or a lost value is caught."""

from __future__ import annotations

import pytest
from PIL import ImageDraw

from forms.model import Template
from tests.golden.forms import changed_fraction, golden_path, render_page, shipped

#: up to 0.3 % of the pixels may differ (anti-aliasing, font hinting)
TOLERANCE = 0.003


@pytest.mark.parametrize("template", shipped(), ids=lambda t: t.id)
def test_the_rendered_form_matches_its_reviewed_image(template: Template) -> None:
    from PIL import Image

    path = golden_path(template)
    assert path.exists(), f"no reviewed image: run python -m tests.golden.forms ({path.name})"
    with Image.open(path) as golden:
        fraction = changed_fraction(render_page(template), golden.convert("L"))
    assert fraction <= TOLERANCE, f"{fraction:.2%} of the page changed"


def test_the_comparison_notices_a_moved_box() -> None:
    template = shipped()[0]
    page = render_page(template)
    moved = page.copy()
    ImageDraw.Draw(moved).rectangle((60, 300, 360, 330), fill=0)  # a box where none was
    assert changed_fraction(page, page.copy()) == 0.0
    assert changed_fraction(page, moved) > TOLERANCE
