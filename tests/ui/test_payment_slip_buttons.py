"""The clerk prints the payment slip while the QR is open and the 利用控え once paid, with
the two buttons of the staff screen, through the print queue (the paper is confirmed like
the form's, and never moves the application)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from devices.payment_sim_process import SimServerProcess
from devices.printer_folder import SimulatedPrinter
from kiosk.clock import FakeClock
from kiosk.payment_service import POLL_MAX_S
from kiosk.print_service import Document, JobStatus
from kiosk.status import Status
from kiosk.storage.models import PaymentOrderRow
from tests.ui.test_counter_flow import click
from tests.ui.test_payment_counter import http_kiosk, sim, to_printed
from ui.app import Kiosk

__all__ = ["http_kiosk", "sim"]  # fixtures used below


def slip_needs_confirmation(kiosk: Kiosk, document: Document) -> bool:
    job = kiosk.staff.job
    return (
        job is not None and job.document is document and job.status is JobStatus.NEEDS_CONFIRMATION
    )


def last_pdf(kiosk: Kiosk, tmp_path: Path) -> Path:
    printer = kiosk.ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    target = tmp_path / "slip.pdf"
    target.write_bytes(Path(printer.last_path).read_bytes())
    return target


def test_the_clerk_prints_the_payment_slip_and_then_the_receipt(
    qtbot: QtBot, http_kiosk: Kiosk, sim: SimServerProcess, clock: FakeClock, tmp_path: Path
) -> None:
    k = http_kiosk
    to_printed(qtbot, k)
    s = k.staff
    slip_button = s.action_buttons["payment_slip"]
    assert slip_button.objectName() == "print_payment_slip"
    assert s.action_buttons["receipt"].objectName() == "print_receipt"
    assert not slip_button.isEnabled()  # no QR order yet
    click(qtbot, s, "issue_qr")
    qtbot.waitUntil(slip_button.isEnabled, timeout=5000)
    assert not s.action_buttons["receipt"].isEnabled()
    click(qtbot, s, "print_payment_slip")
    qtbot.waitUntil(lambda: slip_needs_confirmation(k, Document.PAYMENT_SLIP), timeout=10000)
    assert "支払い用紙" in s.job_line.text()
    pdf = last_pdf(k, tmp_path)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", pdf, tmp_path / "p"], check=True
    )
    with k.ctx.db.read() as session:
        order = session.scalars(select(PaymentOrderRow)).one()
        payload, reference = order.qr_content, order.reference
    with Image.open(tmp_path / "p.png") as page:
        assert [r.text for r in zxingcpp.read_barcodes(page)] == [payload]
    click(qtbot, s, "confirm_printed")
    qtbot.waitUntil(lambda: s.job is not None and s.job.document is Document.FORM, timeout=5000)
    assert s.current is not None
    assert s.current.status is Status.AWAITING_PAYMENT  # a slip's paper moves nothing
    sim.complete(reference)  # the resident pays with the phone
    clock.advance(POLL_MAX_S)
    qtbot.waitUntil(lambda: s.current is not None and s.current.status is Status.PAID, timeout=8000)
    qtbot.waitUntil(s.action_buttons["receipt"].isEnabled, timeout=5000)
    assert not slip_button.isEnabled()
    click(qtbot, s, "print_receipt")
    qtbot.waitUntil(lambda: slip_needs_confirmation(k, Document.RECEIPT), timeout=10000)
    text = subprocess.run(
        ["pdftotext", "-layout", last_pdf(k, tmp_path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for part in ("利用控え", reference, "600円", "キャッシュレス", "S1024"):
        assert part in text
    click(qtbot, s, "confirm_printed")
    qtbot.waitUntil(lambda: s.job is not None and s.job.document is Document.FORM, timeout=5000)
    assert s.current is not None
    assert s.current.status is Status.PAID
    assert s.action_buttons["complete"].isEnabled()
