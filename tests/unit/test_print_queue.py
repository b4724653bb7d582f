"""The durable print queue's rules, on both databases, with the simulated printer and a
printer that fails on cue. No job is lost; none prints twice without a clerk's decision."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.errors import PrinterOffline, PrinterOutOfPaper, PrinterStopped
from devices.payment_simulated import SimulatedPaymentProvider
from devices.printer_folder import SimulatedPrinter
from devices.registry import Devices
from kiosk.clock import FakeClock
from kiosk.config import Settings
from kiosk.context import AppContext, build_context
from kiosk.print_service import (
    BACKOFF_MAX_S,
    STUCK_SENDING_S,
    JobStatus,
    PrintInProgress,
    PrintJobSettled,
    retry_delay_s,
)
from kiosk.status import Status
from kiosk.storage.models import ApplicationRow, AuditEventRow, PrintJobRow
from tests.helpers.printers import FaultyPrinter
from tests.unit.test_services import approved


@pytest.fixture
def printer(settings: Settings) -> FaultyPrinter:
    return FaultyPrinter(settings.print_output_dir)


@pytest.fixture
def ctx(settings: Settings, clock: FakeClock, printer: FaultyPrinter) -> Iterator[AppContext]:
    devices = Devices(
        card_reader=SimulatedCardReader(demo_card()),
        printer=printer,
        payment=SimulatedPaymentProvider(delay_s=3.0, monotonic=clock.monotonic),
    )
    context = build_context(settings, clock=clock, devices=devices)
    yield context
    context.close()


def job(ctx: AppContext, job_id: int) -> PrintJobRow:
    with ctx.db.read() as session:
        row = session.get(PrintJobRow, job_id)
        assert row is not None
        session.expunge(row)
        return row


def audit_actions(ctx: AppContext) -> list[tuple[str, str | None]]:
    with ctx.db.read() as session:
        return [
            (e.action, e.object_id)
            for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id))
            if e.object_type == "print_job"
        ]


def printed_text(printer: SimulatedPrinter) -> str:
    return "".join(p.extract_text() for p in PdfReader(printer.last_path).pages)


def test_backoff_doubles_from_five_seconds_up_to_five_minutes() -> None:
    assert [retry_delay_s(n) for n in range(1, 8)] == [5, 10, 20, 40, 80, 160, 300]
    assert retry_delay_s(30) == BACKOFF_MAX_S


def test_a_refused_job_waits_and_is_sent_by_itself_only_when_due(
    ctx: AppContext, printer: FaultyPrinter, clock: FakeClock
) -> None:
    app_id = approved(ctx)
    printer.refuse = [PrinterOffline(), PrinterOutOfPaper()]
    first = ctx.printing.print_application(app_id, "S1")
    assert (first.status, first.error_key, first.attempts) == (
        JobStatus.WAITING,
        "printer_offline",
        1,
    )
    clock.advance(retry_delay_s(1) - 1)
    assert ctx.printing.run_due() == []  # not yet
    assert printer.submits == 1
    clock.advance(1.5)
    ctx.printing.run_due()
    second = job(ctx, first.job_id)
    assert (second.status, second.error_code, second.attempts) == (
        "waiting",
        "printer_out_of_paper",
        2,
    )
    clock.advance(retry_delay_s(2) + 0.1)
    assert ctx.printing.run_due() == [app_id]
    assert job(ctx, first.job_id).status == JobStatus.NEEDS_CONFIRMATION
    assert printer.printed_count == 1
    for _ in range(3):
        clock.advance(BACKOFF_MAX_S)
        ctx.printing.run_due()
    assert printer.printed_count == 1  # a job at the clerk is never sent again by itself
    actions = [a for a, _ in audit_actions(ctx)]
    assert actions == [
        "print_queued",
        "print_waiting",
        "print_waiting",
        "print_sent",
        "print_needs_confirmation",
    ]


def test_spooler_done_is_not_printed_until_a_clerk_confirms(
    ctx: AppContext, printer: FaultyPrinter
) -> None:
    app_id = approved(ctx)
    outcome = ctx.printing.print_application(app_id, "S1")
    assert (outcome.status, outcome.confirm_reason) == (
        JobStatus.NEEDS_CONFIRMATION,
        "spooler_completed",
    )
    assert ctx.applications.detail(app_id).status is Status.APPROVED
    with pytest.raises(PrintInProgress):  # no second job while the clerk has not decided
        ctx.printing.print_application(app_id, "S2")
    assert ctx.printing.confirm_printed(outcome.job_id, "S1").status is JobStatus.PRINTED
    assert ctx.applications.detail(app_id).status is Status.PRINTED
    with pytest.raises(PrintJobSettled):
        ctx.printing.confirm_printed(outcome.job_id, "S2")
    assert printer.last_job_name == f"APP-{app_id:06d}-{outcome.job_id}"
    assert ("print_confirmed", str(outcome.job_id)) in audit_actions(ctx)


def test_did_not_print_makes_a_reprint_marked_with_its_reissue_count(
    ctx: AppContext, printer: FaultyPrinter
) -> None:
    app_id = approved(ctx)
    first = ctx.printing.print_application(app_id, "S1")
    assert "再発行" not in printed_text(printer)
    second = ctx.printing.reprint(first.job_id, "S1")
    assert (second.status, second.reissue) == (JobStatus.NEEDS_CONFIRMATION, 1)
    assert job(ctx, first.job_id).status == JobStatus.REPLACED
    assert job(ctx, second.job_id).replaces_job_id == first.job_id
    assert "再発行 (1回目)" in printed_text(printer)
    third = ctx.printing.reprint(second.job_id, "S1")
    assert third.reissue == 2
    assert "再発行 (2回目)" in printed_text(printer)
    ctx.printing.confirm_printed(third.job_id, "S1")
    assert printer.printed_count == 3
    with pytest.raises(PrintJobSettled):  # a replaced job cannot be reprinted again
        ctx.printing.reprint(first.job_id, "S1")
    actions = audit_actions(ctx)
    assert actions.count(("print_not_printed", str(first.job_id))) == 1
    assert ("print_not_printed", str(second.job_id)) in actions


def test_a_spoiled_copy_of_a_printed_form_is_reissued_without_moving_the_application(
    ctx: AppContext, printer: FaultyPrinter
) -> None:
    app_id = approved(ctx)
    first = ctx.printing.print_application(app_id, "S1")
    ctx.printing.confirm_printed(first.job_id, "S1")
    ctx.payments.issue(app_id, "S1")
    assert ctx.applications.detail(app_id).status is Status.AWAITING_PAYMENT
    again = ctx.printing.reprint(first.job_id, "S1")
    assert (again.status, again.reissue) == (JobStatus.NEEDS_CONFIRMATION, 1)
    assert job(ctx, first.job_id).status == JobStatus.PRINTED  # that copy did print
    ctx.printing.confirm_printed(again.job_id, "S1")
    assert ctx.applications.detail(app_id).status is Status.AWAITING_PAYMENT


def test_cancel_withdraws_waiting_and_spooled_jobs_and_the_application_stays_approved(
    ctx: AppContext, printer: FaultyPrinter
) -> None:
    app_id = approved(ctx)
    printer.refuse = [PrinterStopped()]
    waiting = ctx.printing.print_application(app_id, "S1")
    assert ctx.printing.cancel(waiting.job_id, "S1").status is JobStatus.CANCELLED
    assert ctx.applications.detail(app_id).status is Status.APPROVED
    printer.complete_jobs = False  # the spooler holds the next one
    sent = ctx.printing.print_application(app_id, "S1")
    assert sent.status is JobStatus.SENT
    spooler_id = job(ctx, sent.job_id).spooler_job_id
    assert spooler_id is not None
    ctx.printing.cancel(sent.job_id, "S1")
    assert printer.job_state(spooler_id).value == "cancelled"
    assert job(ctx, sent.job_id).status == JobStatus.CANCELLED
    with pytest.raises(PrintJobSettled):
        ctx.printing.cancel(sent.job_id, "S1")
    assert [a for a, _ in audit_actions(ctx)].count("print_cancelled") == 2


def test_an_interrupted_hand_over_goes_to_a_clerk_and_is_never_resent(
    ctx: AppContext, printer: FaultyPrinter, clock: FakeClock
) -> None:
    app_id = approved(ctx)
    printer.accept_then_fail = 1
    outcome = ctx.printing.print_application(app_id, "S1")
    assert (outcome.status, outcome.confirm_reason) == (
        JobStatus.NEEDS_CONFIRMATION,
        "handover_unknown",
    )
    clock.advance(STUCK_SENDING_S + BACKOFF_MAX_S)
    ctx.printing.run_due()
    assert printer.submits == 1


def test_an_undescribed_adapter_fault_is_treated_as_maybe_printed(
    ctx: AppContext, printer: FaultyPrinter, clock: FakeClock
) -> None:
    app_id = approved(ctx)
    printer.explode = 1
    with pytest.raises(RuntimeError):
        ctx.printing.print_application(app_id, "S1")
    latest = ctx.printing.latest_job(app_id)
    assert latest is not None
    assert (latest.status, latest.confirm_reason) == (
        JobStatus.NEEDS_CONFIRMATION,
        "handover_unknown",
    )
    clock.advance(BACKOFF_MAX_S)
    ctx.printing.run_due()
    assert printer.submits == 1


def test_a_job_the_spooler_forgot_needs_confirmation(
    ctx: AppContext, printer: FaultyPrinter
) -> None:
    app_id = approved(ctx)
    printer.complete_jobs = False
    sent = ctx.printing.print_application(app_id, "S1")
    printer._jobs.clear()  # as after a spooler restart with its history purged
    outcome = ctx.printing.refresh(sent.job_id, "S1")
    assert (outcome.status, outcome.confirm_reason) == (
        JobStatus.NEEDS_CONFIRMATION,
        "spooler_lost",
    )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leave_sending(ctx: AppContext, app_id: int, sender: str, age_s: float) -> int:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        app = session.get(ApplicationRow, app_id)
        assert app is not None
        row = PrintJobRow(
            application_id=app_id,
            template_pk=app.template_pk,
            status=JobStatus.SENDING.value,
            printer="simulated",
            attempts=1,
            reissue=0,
            sending_by=sender,
            requested_by="S1",
            created_at=now,
            updated_at=now - timedelta(seconds=age_s),
        )
        session.add(row)
        session.flush()
        return row.id


def test_start_up_hands_jobs_left_sending_by_a_dead_process_to_a_clerk(
    ctx: AppContext, printer: FaultyPrinter, clock: FakeClock
) -> None:
    host = socket.gethostname()
    crashed = _leave_sending(ctx, approved(ctx), f"{host}:{_dead_pid()}", age_s=1)
    alive_elsewhere = _leave_sending(ctx, approved(ctx), "other-counter:4242", age_s=1)
    assert ctx.printing.recover_interrupted() == [crashed]
    assert job(ctx, crashed).status == JobStatus.NEEDS_CONFIRMATION
    assert job(ctx, crashed).confirm_reason == "unknown_after_restart"
    # another counter's hand-over in progress is left alone until it is clearly dead
    assert job(ctx, alive_elsewhere).status == JobStatus.SENDING
    clock.advance(STUCK_SENDING_S + 1)
    ctx.printing.run_due()
    assert job(ctx, alive_elsewhere).status == JobStatus.NEEDS_CONFIRMATION
    assert printer.submits == 0  # nothing was sent again


def test_a_form_that_cannot_be_rendered_waits_for_staff_not_for_the_timer(
    ctx: AppContext, printer: FaultyPrinter, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_id = approved(ctx)

    def broken(*_args: object, **_kw: object) -> bytes:
        raise ValueError("does not fit")

    monkeypatch.setattr("kiosk.print_service.render_pdf", broken)
    with pytest.raises(ValueError, match="does not fit"):
        ctx.printing.print_application(app_id, "S1")
    latest = ctx.printing.latest_job(app_id)
    assert latest is not None
    assert (latest.status, latest.error_key, latest.next_attempt_at) == (
        JobStatus.WAITING,
        "render_failed",
        None,
    )
    clock.advance(BACKOFF_MAX_S)
    assert ctx.printing.run_due() == []
    assert printer.submits == 0


def test_the_open_jobs_list_shows_ids_and_codes_for_the_staff_queue(
    ctx: AppContext, printer: FaultyPrinter
) -> None:
    first = approved(ctx)
    printer.refuse = [PrinterOffline()]
    ctx.printing.print_application(first, "S1")
    second = approved(ctx)
    ctx.printing.print_application(second, "S1")
    lines = ctx.printing.open_jobs()
    assert [(q.outcome.application_id, q.outcome.status) for q in lines] == [
        (first, JobStatus.WAITING),
        (second, JobStatus.NEEDS_CONFIRMATION),
    ]
    assert all(q.ticket.startswith("A-") for q in lines)
    assert lines[0].title == "住民票の写し等交付申請書"


def test_the_preview_is_the_pdf_the_next_job_sends(ctx: AppContext, printer: FaultyPrinter) -> None:
    app_id = approved(ctx)
    preview = ctx.printing.preview_pdf(app_id)
    assert preview.startswith(b"%PDF")
    first = ctx.printing.print_application(app_id, "S1")
    assert printer.last_path.read_bytes() == preview
    reprint_preview = ctx.printing.preview_pdf(app_id)  # the next job would be 再発行 (1)
    ctx.printing.reprint(first.job_id, "S1")
    assert printer.last_path.read_bytes() == reprint_preview
