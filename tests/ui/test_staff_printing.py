"""The clerk's print controls in the real staff window: the preview of the exact PDF, a
stopped printer shown and the job retried by the queue timer, 印刷できました, reprint with
its reissue count, cancel, a job left by a crash; and the Qt printer adapter."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from devices.printer_folder import SimulatedPrinter
from kiosk.clock import FakeClock
from kiosk.print_service import JobStatus, retry_delay_s
from kiosk.status import Status
from tests.ui.test_counter_flow import click, resident_applies, sign_in_and_claim, tick_identity
from ui.app import Kiosk
from ui.printer_qt import QtPrinter


def approved_on_screen(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    sign_in_and_claim(qtbot, kiosk, ticket)
    tick_identity(qtbot, kiosk)


def job_is(kiosk: Kiosk, status: JobStatus) -> bool:
    return kiosk.staff.job is not None and kiosk.staff.job.status is status


def status_of(kiosk: Kiosk) -> Status | None:
    return kiosk.staff.current.status if kiosk.staff.current else None


def simulated(kiosk: Kiosk) -> SimulatedPrinter:
    printer = kiosk.ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    return printer


def test_preview_shows_the_exact_pdf_and_leaves_no_dialog_or_file(
    qtbot: QtBot, kiosk: Kiosk
) -> None:
    approved_on_screen(qtbot, kiosk)
    s = kiosk.staff
    assert s.current is not None
    click(qtbot, s, "preview")
    qtbot.waitUntil(lambda: s.preview_pages > 0, timeout=10000)
    assert s.pdf_document.status() is QPdfDocument.Status.Ready
    expected = kiosk.ctx.printing.preview_pdf(s.current.id)
    assert s.pdf_document.pageCount() == len(PdfReader(__import__("io").BytesIO(expected)).pages)
    assert simulated(kiosk).printed_count == 0  # a preview prints nothing
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog)]
    click(qtbot, s, "preview_close")
    assert s.detail_stack.currentIndex() == 0
    assert s.pdf_document.pageCount() == 0  # the form left memory with the preview


def test_a_stopped_printer_is_shown_and_the_queue_timer_prints_once_when_it_is_back(
    qtbot: QtBot, kiosk: Kiosk, clock: FakeClock
) -> None:
    approved_on_screen(qtbot, kiosk)
    s = kiosk.staff
    printer = simulated(kiosk)
    printer.stopped = True
    click(qtbot, s, "approve_print")
    qtbot.waitUntil(lambda: job_is(kiosk, JobStatus.WAITING), timeout=10000)
    qtbot.waitUntil(lambda: "停止中" in s.printer_state.text(), timeout=5000)
    assert "自動再送信待ち" in s.job_line.text()
    assert s.print_queue.count() == 1
    assert "自動再送信待ち" in s.print_queue.item(0).text()
    printer.stopped = False
    clock.advance(retry_delay_s(1) + 1)
    qtbot.waitUntil(lambda: job_is(kiosk, JobStatus.NEEDS_CONFIRMATION), timeout=10000)
    qtbot.waitUntil(lambda: "準備完了" in s.printer_state.text(), timeout=5000)
    assert "用紙を確認" in s.message.text()
    click(qtbot, s, "confirm_printed")
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.PRINTED, timeout=10000
    )
    assert printer.printed_count == 1
    qtbot.waitUntil(lambda: "印刷待ちはありません" in s.print_queue.item(0).text(), timeout=5000)


def test_did_not_print_reprints_with_the_reissue_count_then_a_spoiled_copy_is_reissued(
    qtbot: QtBot, kiosk: Kiosk
) -> None:
    approved_on_screen(qtbot, kiosk)
    s = kiosk.staff
    click(qtbot, s, "approve_print")
    qtbot.waitUntil(lambda: job_is(kiosk, JobStatus.NEEDS_CONFIRMATION), timeout=10000)
    click(qtbot, s, "reprint")  # 「印刷できていない（再印刷）」
    qtbot.waitUntil(
        lambda: (
            s.job is not None and s.job.reissue == 1 and job_is(kiosk, JobStatus.NEEDS_CONFIRMATION)
        ),
        timeout=10000,
    )
    assert "再発行 1回目" in s.job_line.text()
    text = "".join(p.extract_text() for p in PdfReader(simulated(kiosk).last_path).pages)
    assert "再発行 (1回目)" in text
    click(qtbot, s, "confirm_printed")
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.PRINTED, timeout=10000
    )
    qtbot.waitUntil(lambda: s.print_buttons["reprint"].text() == "再発行", timeout=5000)
    click(qtbot, s, "reprint")  # a spoiled copy: 再発行 2, the application stays printed
    qtbot.waitUntil(lambda: s.job is not None and s.job.reissue == 2, timeout=10000)
    assert s.current is not None
    assert s.current.status is Status.PRINTED
    assert simulated(kiosk).printed_count == 3


def test_cancel_withdraws_a_waiting_job_and_the_form_can_be_printed_later(
    qtbot: QtBot, kiosk: Kiosk
) -> None:
    approved_on_screen(qtbot, kiosk)
    s = kiosk.staff
    printer = simulated(kiosk)
    printer.out_of_paper = True
    click(qtbot, s, "approve_print")
    qtbot.waitUntil(lambda: job_is(kiosk, JobStatus.WAITING), timeout=10000)
    qtbot.waitUntil(lambda: "用紙切れ" in s.printer_state.text(), timeout=5000)
    click(qtbot, s, "cancel_print")
    qtbot.waitUntil(lambda: job_is(kiosk, JobStatus.CANCELLED), timeout=10000)
    assert s.current is not None
    assert s.current.status is Status.APPROVED
    printer.out_of_paper = False
    click(qtbot, s, "retry_print")  # 再送信: a new job
    qtbot.waitUntil(lambda: job_is(kiosk, JobStatus.NEEDS_CONFIRMATION), timeout=10000)
    assert printer.printed_count == 1


def test_a_job_left_by_a_crash_waits_in_the_print_queue_for_the_clerk(
    qtbot: QtBot, kiosk: Kiosk
) -> None:
    import socket

    from tests.unit.test_print_queue import _dead_pid, _leave_sending

    approved_on_screen(qtbot, kiosk)
    s = kiosk.staff
    assert s.current is not None
    app_id = s.current.id
    kiosk.ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    job_id = _leave_sending(kiosk.ctx, app_id, f"{socket.gethostname()}:{_dead_pid()}", 1)
    assert kiosk.ctx.printing.recover_interrupted() == [job_id]  # as at start-up
    s.load(app_id)
    qtbot.waitUntil(lambda: job_is(kiosk, JobStatus.NEEDS_CONFIRMATION), timeout=10000)
    assert "アプリが終了しました" in s.message.text()
    qtbot.waitUntil(lambda: "印刷の確認待ち" in s.print_queue.item(0).text(), timeout=5000)
    assert s.print_buttons["confirm"].isEnabled()
    assert s.print_buttons["reprint"].isEnabled()
    assert simulated(kiosk).printed_count == 0  # nothing was sent again by itself


def test_the_qt_printer_paints_every_page_under_the_neutral_job_name(
    qtbot: QtBot, kiosk: Kiosk, tmp_path: Path
) -> None:
    approved_on_screen(qtbot, kiosk)
    assert kiosk.staff.current is not None
    pdf = kiosk.ctx.printing.preview_pdf(kiosk.staff.current.id)
    out = tmp_path / "qt.pdf"
    printer = QtPrinter(output_file=out)
    assert printer.state().ready
    job_id = printer.submit(pdf, "APP-000001-1")
    assert printer.job_state(job_id).value == "completed"
    assert printer.job_state("qt-999").value == "unknown"
    written = PdfReader(out)
    assert len(written.pages) == len(PdfReader(__import__("io").BytesIO(pdf)).pages)
    assert written.metadata is not None
    assert written.metadata.title == "APP-000001-1"  # the document name: ids only


def test_an_unknown_qt_printer_is_reported_unreachable_and_gets_no_job() -> None:
    from devices.errors import PrinterOffline

    printer = QtPrinter("no-such-printer-here")
    assert printer.state().reasons == ("unreachable",)
    try:
        printer.submit(b"%PDF-1.4", "APP-000001-1")
    except PrinterOffline:
        pass
    else:
        raise AssertionError("a job went to a printer that does not exist")


def test_no_print_or_page_setup_dialog_anywhere_in_the_ui() -> None:
    root = Path(__file__).resolve().parents[2] / "ui"
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for dialog in ("QPrintDialog", "QPageSetupDialog", "QPrintPreviewDialog"):
            assert dialog not in source, (path, dialog)
