"""The payment slips of an application, drawn from its stored payment order.

Everything printed comes from the order row (reference, amount, fee lines, QR payload,
expiry, payment time) and the application's ticket: a reprint of a slip shows exactly the
order it was made for, whatever happened to the application since.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from devices.emv.decode import decode
from devices.emv.errors import EmvError
from devices.emv.merchant import DEMO_MERCHANT_ID
from devices.payment_local_jpqr import JPQR_GUID
from devices.payment_simulated import SimulatedPaymentProvider
from forms.model import Template
from kiosk.storage.models import ApplicationRow, PaymentOrderRow
from printing.slips import PaymentSlip, Receipt, SlipHeader, render_payment_slip, render_receipt

if TYPE_CHECKING:
    from kiosk.print_service import Document


def is_demo_order(provider: str, qr_content: str | None) -> bool:
    """The simulated provider's codes, and JPQR codes of the demo merchant, move no money."""
    if provider == SimulatedPaymentProvider.name:
        return True
    if not qr_content:
        return False
    try:
        decoded = decode(qr_content, tolerant=True)
    except EmvError:
        return False
    for obj in decoded.objects:
        guid = obj.child("00")
        if guid is None or guid.value != JPQR_GUID:
            continue
        parts = [obj.child(f"{i:02d}") for i in range(1, 5)]
        if "-".join(p.value if p else "" for p in parts) == DEMO_MERCHANT_ID:
            return True
    return False


def fee_lines(order: PaymentOrderRow, template: Template) -> tuple[tuple[str, int, int], ...]:
    """The order's fee lines (label, unit yen, units) from the basis it was computed from."""
    labels = {rule.code: rule.label["ja"] for rule in template.fees}
    lines = []
    for part in (order.fee_basis or "").split(";"):
        code, _, rest = part.partition(":")
        unit, _, units = rest.partition("x")
        if code and unit.isdigit() and units.isdigit():
            lines.append((labels.get(code, code), int(unit), int(units)))
    if not lines or sum(u * n for _, u, n in lines) != order.amount:
        # no (or a truncated) basis: one line with the order's amount
        return ((labels.get(order.fee_code, order.fee_code), order.amount, 1),)
    return tuple(lines)


def _local(value: datetime, zone: tzinfo | None) -> datetime:
    # SQLite gives back naive times stored in the clock's zone, PostgreSQL aware ones
    return value if value.tzinfo is None or zone is None else value.astimezone(zone)


def render_slip(
    document: Document,
    order: PaymentOrderRow,
    app: ApplicationRow,
    template: Template,
    *,
    municipality: str,
    clerk: str,
    reissue_note: str,
    zone: tzinfo | None,
) -> bytes:
    """The PDF of a payment slip (``payment_slip``) or 利用控え (``receipt``)."""
    header = SlipHeader(
        municipality=municipality,
        procedure=template.title["ja"],
        ticket=app.ticket or "",
        reference=order.reference,
        lines=fee_lines(order, template),
        total=order.amount,
        reissue_note=reissue_note,
    )
    if document.value == "payment_slip":
        if order.qr_content is None:
            raise ValueError("the order has no QR code")
        expires = _local(order.expires_at, zone) if order.expires_at else None
        demo = is_demo_order(order.provider, order.qr_content)
        return render_payment_slip(PaymentSlip(header, order.qr_content, expires, demo))
    if order.paid_at is None:
        raise ValueError("the order is not paid")
    return render_receipt(Receipt(header, order.method, _local(order.paid_at, zone), clerk))
