"""The payment slip (QR) and the 利用控え: real PDFs read back with poppler and zxing-cpp,
and the print queue's rules for slip jobs on both databases."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.emv.merchant import DEMO_MERCHANT_ID
from devices.errors import PrinterOffline
from devices.payment import OrderStatus
from devices.payment_local_jpqr import LocalJpqrProvider
from devices.printer_folder import SimulatedPrinter
from devices.registry import Devices
from kiosk.clock import FakeClock
from kiosk.config import Settings
from kiosk.context import AppContext, build_context
from kiosk.payment_slips import is_demo_order
from kiosk.print_service import (
    Document,
    JobStatus,
    PrintInProgress,
    SlipUnavailable,
    retry_delay_s,
)
from kiosk.status import Status
from kiosk.storage.models import AuditEventRow, PaymentOrderRow, PrintJobRow
from printing.slips import PaymentSlip, Receipt, SlipHeader, render_payment_slip, render_receipt
from tests.helpers.applications import printed_application
from tests.helpers.printers import FaultyPrinter
from tests.unit.test_payment_provider import JPQR, make_ctx

HEADER = SlipHeader(
    municipality="松浦市役所",
    procedure="住民票の写し等交付申請書",
    ticket="A-007",
    reference="202611240007P1",
    lines=(("住民票の写し", 300, 2),),
    total=600,
)
PAYLOAD = "00020101021226390020jp.kakanai.simulated0111SIM000000015204939953033925403600"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def font_rows(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    emb = listing[0].index("emb")
    rows = listing[2:]
    assert rows, listing
    assert all(row[emb : emb + 3] == "yes" for row in rows), listing
    return rows


def read_qr(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")],
        check=True,
    )
    with Image.open(tmp_path / "page.png") as page:
        return [r.text for r in zxingcpp.read_barcodes(page)]


def test_the_payment_slip_shows_amount_reference_ticket_and_a_readable_qr(
    tmp_path: Path,
) -> None:
    slip = PaymentSlip(HEADER, PAYLOAD, datetime(2026, 11, 24, 9, 10), demo=True)
    pdf = render_payment_slip(slip)
    text = pdf_text(pdf, tmp_path)
    for part in ("600円", "202611240007P1", "A-007", "松浦市役所", "住民票の写し等交付申請書"):
        assert part in text
    assert "令和8年11月24日 09:10" in text  # the expiry
    assert "このコードではお支払いできません" in text  # demo: not payable
    rows = font_rows(pdf, tmp_path)
    assert not any("Helvetica" in row for row in rows)
    assert all("IPAex" in row for row in rows)
    assert read_qr(pdf, tmp_path) == [PAYLOAD]


def test_a_payable_code_carries_no_demo_note(tmp_path: Path) -> None:
    pdf = render_payment_slip(PaymentSlip(HEADER, PAYLOAD, None, demo=False))
    assert "お支払いできません" not in pdf_text(pdf, tmp_path)


def test_the_receipt_shows_amount_method_time_and_clerk(tmp_path: Path) -> None:
    receipt = Receipt(HEADER, "cash", datetime(2026, 11, 24, 9, 30), "S7")
    pdf = render_receipt(receipt)
    text = pdf_text(pdf, tmp_path)
    for part in ("利用控え", "600円", "202611240007P1", "A-007", "現金", "令和8年11月24日 09:30"):
        assert part in text
    assert "S7" in text
    assert not any("Helvetica" in row for row in font_rows(pdf, tmp_path))


def test_demo_codes_are_recognised() -> None:
    now = FakeClock().now
    demo = LocalJpqrProvider(**(JPQR | {"merchant_id": DEMO_MERCHANT_ID}), ttl_s=600, now=now)
    real = LocalJpqrProvider(**JPQR, ttl_s=600, now=now)
    for provider, expected in ((demo, True), (real, False)):
        code = provider.create_order(
            amount_yen=600, reference="R1", fee_code="x", idempotency_key="k"
        )
        assert is_demo_order("local_jpqr", code.qr_content) is expected
    assert is_demo_order("simulated", None)
    assert not is_demo_order("local_jpqr", "not an EMV payload")


# --- through the queue, on SQLite and PostgreSQL ----------------------------------------


def last_pdf(ctx: AppContext) -> bytes:
    printer = ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    return Path(printer.last_path).read_bytes()


def order_row(ctx: AppContext, app_id: int) -> PaymentOrderRow:
    with ctx.db.read() as session:
        row = session.scalars(
            select(PaymentOrderRow)
            .where(PaymentOrderRow.application_id == app_id)
            .order_by(PaymentOrderRow.id.desc())
        ).first()
        assert row is not None
        session.expunge(row)
        return row


def test_the_payment_slip_prints_the_open_order_and_never_moves_the_application(
    ctx: AppContext, tmp_path: Path
) -> None:
    app_id = printed_application(ctx)
    with pytest.raises(SlipUnavailable):  # no QR order yet
        ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S1")
    view = ctx.payments.issue(app_id, "S1")
    first = ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S1")
    assert (first.status, first.document) == (JobStatus.NEEDS_CONFIRMATION, Document.PAYMENT_SLIP)
    pdf = last_pdf(ctx)
    assert read_qr(pdf, tmp_path) == [view.qr_content]
    assert view.reference in pdf_text(pdf, tmp_path)
    with pytest.raises(PrintInProgress):  # one slip job on its way per application
        ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S2")
    assert ctx.printing.latest_job(app_id) == first  # the clerk sees the slip's job
    ctx.printing.confirm_printed(first.job_id, "S1")
    assert ctx.applications.detail(app_id).status is Status.AWAITING_PAYMENT
    assert ctx.printing.latest_job(app_id).document is Document.FORM  # type: ignore[union-attr]
    again = ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S1")
    assert again.reissue == 1  # a second copy is a reissue of the same order
    assert "再発行 (1回目)" in pdf_text(last_pdf(ctx), tmp_path)
    assert read_qr(last_pdf(ctx), tmp_path) == [view.qr_content]
    with ctx.db.read() as session:
        queued = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "print_queued")
        ).all()
        assert [e.detail["document"] for e in queued] == ["form", "payment_slip", "payment_slip"]


def test_the_receipt_prints_once_paid_and_a_reprint_shows_the_same_payment(
    ctx: AppContext, clock: FakeClock, tmp_path: Path
) -> None:
    app_id = printed_application(ctx)
    ctx.payments.issue(app_id, "S1")
    with pytest.raises(SlipUnavailable):  # not paid yet
        ctx.printing.print_slip(app_id, Document.RECEIPT, "S1")
    clock.advance(4)  # the simulated resident pays after 3 s
    assert ctx.payments.poll_open_orders() == [app_id]
    order = order_row(ctx, app_id)
    receipt = ctx.printing.print_slip(app_id, Document.RECEIPT, "S3")
    text = pdf_text(last_pdf(ctx), tmp_path)
    for part in (order.reference, "600円", "キャッシュレス", "S3"):
        assert part in text
    ctx.printing.confirm_printed(receipt.job_id, "S3")
    ctx.applications.complete(app_id, "S3")
    reprint = ctx.printing.reprint(receipt.job_id, "S3")  # a lost copy, after completion
    assert (reprint.reissue, reprint.document) == (1, Document.RECEIPT)
    assert order.reference in pdf_text(last_pdf(ctx), tmp_path)
    assert ctx.applications.detail(app_id).status is Status.COMPLETED


def test_a_form_job_and_a_slip_job_do_not_block_each_other(ctx: AppContext) -> None:
    printer = ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    app_id = printed_application(ctx)
    ctx.payments.issue(app_id, "S1")
    printer.complete_jobs = False  # jobs stay at the spooler
    form = ctx.printing.latest_job(app_id)
    assert form is not None
    reissued = ctx.printing.reprint(form.job_id, "S1")  # a spoiled form: 再発行
    assert reissued.status is JobStatus.SENT
    slip = ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S1")
    assert slip.status is JobStatus.SENT
    with pytest.raises(PrintInProgress):
        ctx.printing.reprint(form.job_id, "S1")  # the form's own rule still holds


def test_a_slip_whose_code_expired_while_waiting_is_withdrawn_not_printed(
    settings: Settings, clock: FakeClock
) -> None:
    printer = FaultyPrinter(settings.print_output_dir)
    provider = LocalJpqrProvider(**JPQR, ttl_s=60, now=clock.now)
    ctx = build_context(
        settings,
        clock=clock,
        devices=Devices(
            card_reader=SimulatedCardReader(demo_card()), printer=printer, payment=provider
        ),
    )
    try:
        app_id = printed_application(ctx)
        ctx.payments.issue(app_id, "S1")
        printer.refuse = [PrinterOffline()]
        waiting = ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S1")
        assert waiting.status is JobStatus.WAITING
        clock.advance(61)
        ctx.payments.poll_open_orders()  # the code expires here
        assert order_row(ctx, app_id).status == OrderStatus.EXPIRED.value
        clock.advance(retry_delay_s(1))
        ctx.printing.run_due()
        with ctx.db.read() as session:
            row = session.get(PrintJobRow, waiting.job_id)
            assert row is not None
            assert row.status == JobStatus.CANCELLED.value
        assert printer.printed_count == 1  # the form only
    finally:
        ctx.close()


def test_local_jpqr_payment_slip_carries_no_demo_note(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    ctx = make_ctx(settings, clock, LocalJpqrProvider(**JPQR, ttl_s=600, now=clock.now))
    try:
        app_id = printed_application(ctx)
        view = ctx.payments.issue(app_id, "S1")
        ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S1")
        pdf = last_pdf(ctx)
        assert "お支払いできません" not in pdf_text(pdf, tmp_path)
        assert read_qr(pdf, tmp_path) == [view.qr_content]
    finally:
        ctx.close()


def test_no_payment_slip_for_a_code_past_its_expiry_even_before_the_next_poll(
    settings: Settings, clock: FakeClock
) -> None:
    ctx = make_ctx(settings, clock, LocalJpqrProvider(**JPQR, ttl_s=60, now=clock.now))
    try:
        app_id = printed_application(ctx)
        ctx.payments.issue(app_id, "S1")
        clock.advance(61)
        assert order_row(ctx, app_id).status == OrderStatus.OPEN.value  # not polled yet
        with pytest.raises(SlipUnavailable):
            ctx.printing.print_slip(app_id, Document.PAYMENT_SLIP, "S1")
    finally:
        ctx.close()
