"""QR codes as a plain module matrix, shared by the Qt UI and the PDF renderer.

Drawing the modules ourselves (rather than with reportlab's barcode widget) keeps the
PDF free of the Helvetica font the widget would pull in for its human-readable text.
"""

from __future__ import annotations

from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.util import MODE_8BIT_BYTE, QRData

_LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}

#: light modules a scanner needs around the symbol, in modules (ISO/IEC 18004)
QUIET_ZONE = 4


def qr_matrix(data: str, *, error_correction: str = "M") -> list[list[bool]]:
    """The symbol for ``data`` without quiet zone; ``True`` is a dark module."""
    try:
        level = _LEVELS[error_correction]
    except KeyError:
        raise ValueError(f"error_correction must be one of {sorted(_LEVELS)}") from None
    code = qrcode.QRCode(error_correction=level, border=0)
    # Byte mode with explicit UTF-8 so any string (kana included) encodes the same way
    # regardless of qrcode's mode guessing.
    code.add_data(QRData(data.encode("utf-8"), mode=MODE_8BIT_BYTE))
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def draw_qr(canvas: Any, matrix: list[list[bool]], x: float, y: float, size: float) -> None:
    """Draw ``matrix`` as a ``size``-point square with its lower-left corner at (x, y).

    Runs of dark modules in a row become one rectangle, so viewers show no hairline seams
    between neighbours. The caller leaves the quiet zone around the square blank.
    """
    if not matrix:
        return
    n = len(matrix)
    module = size / n
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - r * module
        c = 0
        while c < n:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            path.rect(x + start * module, top - module, (c - start) * module, module)
    canvas.saveState()
    canvas.setFillGray(0)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
