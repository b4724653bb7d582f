"""Payment QR symbols as PNG, in byte mode (EMVCo §4.12.1.1) at error correction M or
higher.

An ASCII payload is drawn with ``qrcode``, the library the rest of the kiosk uses. EMVCo
§4.12.1.2 asks for an ECI 26 (UTF-8) header when a payload holds characters outside the
"ans" set (template 64 in Japanese); ``qrcode`` cannot write one, so such a payload is
drawn with ``segno``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import qrcode
import segno
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.util import MODE_8BIT_BYTE, QRData

from devices.emv.rules import is_ans

Level = Literal["M", "Q", "H"]
_QRCODE_LEVELS = {"M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
#: ISO/IEC 18004 quiet zone, in modules
QUIET_ZONE = 4


@dataclass(frozen=True)
class PaymentQr:
    png: bytes
    version: int
    error_correction: str
    #: True when the symbol starts with ECI 000026 (UTF-8)
    eci_utf8: bool
    library: Literal["qrcode", "segno"]


def needs_eci(payload: str) -> bool:
    return not is_ans(payload)


def make_payment_qr(payload: str, *, error_correction: Level = "M", scale: int = 8) -> PaymentQr:
    """The symbol for ``payload``; ``scale`` is pixels per module."""
    if error_correction not in _QRCODE_LEVELS:
        raise ValueError("a payment QR uses error correction M, Q or H")
    if scale < 1:
        raise ValueError("scale is at least one pixel per module")
    if needs_eci(payload):
        return _segno(payload, error_correction, scale)
    return _qrcode(payload, error_correction, scale)


def _qrcode(payload: str, level: Level, scale: int) -> PaymentQr:
    code = qrcode.QRCode(error_correction=_QRCODE_LEVELS[level], box_size=scale, border=QUIET_ZONE)
    # an explicit byte segment: left alone, qrcode would pick numeric/alphanumeric runs
    code.add_data(QRData(payload.encode("ascii"), mode=MODE_8BIT_BYTE))
    code.make(fit=True)
    buf = io.BytesIO()
    code.make_image().save(buf)
    return PaymentQr(buf.getvalue(), int(code.version), level, False, "qrcode")


def _segno(payload: str, level: Level, scale: int) -> PaymentQr:
    symbol = segno.make(
        payload,
        mode="byte",
        encoding="utf-8",
        eci=True,
        error=level.lower(),
        boost_error=False,  # keep the level asked for, like the qrcode path
        micro=False,
    )
    buf = io.BytesIO()
    symbol.save(buf, kind="png", scale=scale, border=QUIET_ZONE)
    version = symbol.version
    assert isinstance(version, int)  # micro=False: never an "M1"-style Micro QR version
    return PaymentQr(buf.getvalue(), version, str(symbol.error), True, "segno")
