"""Measuring and drawing one line of text character by character (cluster by cluster), so
a clerk's 外字 decision reaches the paper: a character the form's font lacks is drawn in
IPAmj明朝 (GlyphPolicy.FALLBACK) or left as a marked blank box to be written in by hand
(GlyphPolicy.BLANK). Text without such characters takes the plain one-run path.

The renderer sets the document's policy around a whole render with ``drawing``; the text
is always drawn literally, code point by code point, never parsed as markup.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from reportlab.pdfbase.pdfmetrics import stringWidth

from printing.document import GlyphPolicy
from printing.fonts import FALLBACK, FAMILIES, GOTHIC, MINCHO
from printing.glyphs import MARKS, Coverage, clusters, coverage

_policy: ContextVar[GlyphPolicy] = ContextVar("glyph_policy", default=GlyphPolicy.REFUSE)
_ROLE_OF = {FAMILIES[GOTHIC]: GOTHIC, FAMILIES[MINCHO]: MINCHO}
_MARK_CHARS = re.compile(MARKS)
#: the blank's advance, in em: one full-width character
BLANK_EM = 1.0


@contextmanager
def drawing(policy: GlyphPolicy) -> Iterator[None]:
    token = _policy.set(policy)
    try:
        yield
    finally:
        _policy.reset(token)


@dataclass(frozen=True)
class Run:
    family: str
    #: the code points to draw; empty for a blank
    text: str
    blank: bool = False


def runs(text: str, family: str) -> tuple[Run, ...]:
    cov = _coverage_of(family)
    if cov is None or _plain(text, cov):
        return (Run(family, text),)
    return _runs(text, family, _policy.get())


@functools.cache
def _coverage_of(family: str) -> Coverage | None:
    role = _ROLE_OF.get(family)
    return coverage(role) if role else None


@functools.lru_cache(maxsize=4096)
def _runs(text: str, family: str, policy: GlyphPolicy) -> tuple[Run, ...]:
    cov = _coverage_of(family)
    assert cov is not None
    out: list[Run] = []
    fallback: Coverage | None = None
    if policy is GlyphPolicy.FALLBACK:
        fallback = coverage(FALLBACK)
    for _index, cluster in clusters(text):
        if cov.problem(cluster) is None:
            run = Run(family, cov.drawn(cluster))
        elif fallback is not None and fallback.problem(cluster) is None:
            run = Run(fallback.family, fallback.drawn(cluster))
        elif policy is GlyphPolicy.REFUSE:
            run = Run(family, cluster)  # only reachable outside render_pdf's check
        else:
            out.append(Run(family, "", blank=True))
            continue
        if out and not out[-1].blank and out[-1].family == run.family:
            out[-1] = Run(run.family, out[-1].text + run.text)
        else:
            out.append(run)
    return tuple(out)


def _plain(text: str, cov: Coverage) -> bool:
    """No mark, selector or character the font lacks: the common case, tested in C."""
    return cov.chars.issuperset(map(ord, text)) and _MARK_CHARS.search(text) is None


def width(text: str, family: str, size: float) -> float:
    cov = _coverage_of(family)
    if cov is None or _plain(text, cov):
        return float(stringWidth(text, family, size))
    return sum(
        BLANK_EM * size if run.blank else float(stringWidth(run.text, run.family, size))
        for run in runs(text, family)
    )


def draw(c: Any, t: Any, x: float, y: float, text: str, family: str, size: float) -> None:
    """Add ``text`` to the text object ``t`` (started at x, y in ``family``); blanks get a
    marked box drawn on the canvas ``c``."""
    cursor = x
    current = family
    for run in runs(text, family):
        if run.family != current:
            t.setFont(run.family, size)
            current = run.family
        if run.blank:
            t.textOut("\u3000")  # keeps the advance (and reads back as a space)
            _marked_box(c, cursor, y, size)
            cursor += BLANK_EM * size
            continue
        t.textOut(run.text)
        cursor += float(stringWidth(run.text, run.family, size))
    if current != family:
        t.setFont(family, size)


def _marked_box(c: Any, x: float, baseline: float, size: float) -> None:
    """A square in the character's place with a filled corner, so it reads as "write the
    character here", not as a printed □."""
    side = 0.86 * size
    left, bottom = x + (size - side) / 2, baseline - 0.1 * size
    c.saveState()
    c.setStrokeGray(0)
    c.setFillGray(0)
    c.setLineWidth(max(0.4, size * 0.05))
    c.rect(left, bottom, side, side, stroke=1, fill=0)
    corner = c.beginPath()
    corner.moveTo(left, bottom + side)
    corner.lineTo(left + side * 0.32, bottom + side)
    corner.lineTo(left, bottom + side * 0.68)
    corner.close()
    c.drawPath(corner, stroke=0, fill=1)
    c.restoreState()
