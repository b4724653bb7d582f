"""The two small slips of the payment step, drawn on A4 with reportlab.

- 手数料のお支払い（QRコード）: the fee lines, the total and the payment QR with its expiry,
  for a resident who would rather scan paper than the screen;
- 利用控え: the resident's copy once the fee is paid (amount, method, when, which clerk).

Both carry ids and amounts only: never the resident's name, address or numbers. Text is
drawn literally with ``drawString`` in the two embedded fonts of ``printing.fonts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from forms.wareki import format_wareki
from printing.fonts import FAMILIES, GOTHIC, MINCHO, register_fonts
from printing.qr import QUIET_ZONE, draw_qr, qr_matrix
from printing.render import _render_lock

PAGE_W, PAGE_H = float(A4[0]), float(A4[1])
MM = float(mm)
X0, X1 = 25 * MM, PAGE_W - 25 * MM
TOP = PAGE_H - 25 * MM
ROW_H = 8 * MM
#: the printed QR's side without its quiet zone: large enough for any phone camera
QR_SIZE = 60 * MM
RED = (0.78, 0.08, 0.08)

METHOD_LABELS = {"cashless": "キャッシュレス", "cash": "現金"}


@dataclass(frozen=True)
class SlipHeader:
    """What both slips show about the application: codes and amounts, no personal data."""

    municipality: str
    procedure: str
    ticket: str
    reference: str
    lines: tuple[tuple[str, int, int], ...]  # (label, unit yen, units)
    total: int
    reissue_note: str = ""


@dataclass(frozen=True)
class PaymentSlip:
    header: SlipHeader
    qr_payload: str
    expires_at: datetime | None
    #: a code of the demo merchant or the simulated provider: it can never move money
    demo: bool


@dataclass(frozen=True)
class Receipt:
    header: SlipHeader
    method: str  # cashless / cash
    paid_at: datetime
    clerk: str


def when(value: datetime) -> str:
    """A stored time as the resident reads it: 令和8年12月1日 09:30."""
    return f"{format_wareki(value.date())} {value:%H:%M}"


def yen(amount: int) -> str:
    return f"{amount:,}円"


def _canvas(buf: BytesIO, title: str) -> Any:
    gothic = FAMILIES[GOTHIC]
    # initialFontName keeps reportlab from referencing (unembedded) Helvetica at all
    c = Canvas(
        buf,
        pagesize=(PAGE_W, PAGE_H),
        invariant=1,
        pageCompression=1,
        lang="ja-JP",
        initialFontName=gothic,
        initialFontSize=10,
    )
    c.setFont(gothic, 10)
    c.setTitle(title)
    c.setAuthor("")
    c.setCreator("kakanai-madoguchi kiosk")
    return c


def _text(c: Any, x: float, y: float, text: str, size: float, *, role: str = GOTHIC) -> None:
    c.setFont(FAMILIES[role], size)
    c.drawString(x, y, text)


def _right(c: Any, x: float, y: float, text: str, size: float, *, role: str = GOTHIC) -> None:
    c.setFont(FAMILIES[role], size)
    c.drawRightString(x, y, text)


def _head(c: Any, title: str, h: SlipHeader) -> float:
    """Title, municipality, procedure, ticket and reference; returns the next baseline."""
    _text(c, X0, TOP, h.municipality, 12)
    if h.reissue_note:
        c.setFillColorRGB(*RED)
        _right(c, X1, TOP, h.reissue_note, 11)
        c.setFillGray(0)
    c.setFont(FAMILIES[GOTHIC], 20)
    c.drawCentredString(PAGE_W / 2, TOP - 16 * MM, title)
    y = TOP - 32 * MM
    for label, value in (
        ("手続き", h.procedure),
        ("受付番号", h.ticket),
        ("お支払い番号", h.reference),
    ):
        _text(c, X0, y, label, 11)
        _text(c, X0 + 38 * MM, y, value, 13, role=MINCHO)
        y -= ROW_H
    return y - 2 * MM


def _fee_table(c: Any, h: SlipHeader, y: float) -> float:
    """The fee lines and the total between rules; returns the next baseline."""
    c.setLineWidth(0.6)
    c.line(X0, y + 5 * MM, X1, y + 5 * MM)
    for label, unit, units in h.lines:
        _text(c, X0, y, label, 11)
        _right(c, X1 - 45 * MM, y, f"{yen(unit)} × {units}", 11)
        _right(c, X1, y, yen(unit * units), 11)
        y -= ROW_H
    c.line(X0, y + 5 * MM, X1, y + 5 * MM)
    _text(c, X0, y - 2 * MM, "合計", 14)
    _right(c, X1, y - 3 * MM, yen(h.total), 22)
    return y - 16 * MM


def _footer(c: Any, text: str) -> None:
    _text(c, X0, 20 * MM, text, 9)


def render_payment_slip(slip: PaymentSlip) -> bytes:
    """手数料のお支払い（QRコード） as PDF bytes."""
    register_fonts()
    title = "手数料のお支払い（QRコード）"
    with _render_lock:
        buf = BytesIO()
        c = _canvas(buf, title)
        y = _fee_table(c, slip.header, _head(c, title, slip.header))
        matrix = qr_matrix(slip.qr_payload, error_correction="M")
        module = QR_SIZE / len(matrix)
        quiet = QUIET_ZONE * module
        qr_x = (PAGE_W - QR_SIZE) / 2
        qr_y = y - quiet - QR_SIZE
        draw_qr(c, matrix, qr_x, qr_y, QR_SIZE)  # the quiet zone around it stays blank
        y = qr_y - quiet - 8 * MM
        c.setFont(FAMILIES[GOTHIC], 12)
        c.drawCentredString(PAGE_W / 2, y, "スマートフォンの決済アプリで読み取ってください")
        if slip.expires_at is not None:
            y -= ROW_H
            c.setFont(FAMILIES[GOTHIC], 13)
            c.drawCentredString(PAGE_W / 2, y, f"有効期限　{when(slip.expires_at)}")
            y -= ROW_H * 0.8
            c.setFont(FAMILIES[GOTHIC], 10)
            c.drawCentredString(PAGE_W / 2, y, "期限を過ぎたら、窓口で新しいコードをお渡しします")
        if slip.demo:
            y -= ROW_H * 1.6
            c.setFillColorRGB(*RED)
            c.setFont(FAMILIES[GOTHIC], 16)
            c.drawCentredString(PAGE_W / 2, y, "見本（デモ）：このコードではお支払いできません")
            c.setFillGray(0)
        _footer(c, "お支払いが確認できましたら、窓口で利用控えをお渡しします。")
        c.showPage()
        c.save()
        return buf.getvalue()


def render_receipt(receipt: Receipt) -> bytes:
    """利用控え as PDF bytes."""
    register_fonts()
    title = "利用控え"
    with _render_lock:
        buf = BytesIO()
        c = _canvas(buf, title)
        y = _fee_table(c, receipt.header, _head(c, title, receipt.header))
        for label, value in (
            ("お支払い方法", METHOD_LABELS.get(receipt.method, receipt.method)),
            ("お支払い日時", when(receipt.paid_at)),
            ("担当", receipt.clerk),
        ):
            _text(c, X0, y, label, 11)
            _text(c, X0 + 38 * MM, y, value, 13, role=MINCHO)
            y -= ROW_H
        _footer(c, "この控えは領収書ではありません。大切に保管してください。")
        c.showPage()
        c.save()
        return buf.getvalue()
