"""The CUPS adapter and the durable print queue against a real, private cupsd.

The scheduler runs with ``PreserveJobFiles No`` and one raw queue whose backend writes each
job's PDF into a folder (tests/helpers/cupsd.py). Faults are the scheduler's own: a
stopped queue (cupsdisable), a queue refusing jobs (cupsreject), a backend that fails
(CUPS stops the queue and keeps the job), and the app killed between the spooler's
acceptance and the database update.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.payment_simulated import SimulatedPaymentProvider
from devices.printer_cups import CupsPrinter
from devices.registry import Devices
from forms.model import FieldKind
from forms.prefill import FilledValue, Provenance
from kiosk.clock import FakeClock
from kiosk.config import load_settings
from kiosk.context import AppContext, build_context
from kiosk.print_service import STUCK_SENDING_S, JobStatus, PrintOutcome, retry_delay_s
from kiosk.status import Status
from kiosk.storage.models import AuditEventRow, PrintJobRow
from kiosk.template_editing import sample_values
from printing.document import PrintDocument
from tests.helpers.cupsd import QUEUE, Cupsd

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cupsd() -> Iterator[Cupsd]:
    # like pcscd, a missing cupsd fails the run: `make test` installs it (cups-daemon)
    server = Cupsd()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def queue(cupsd: Cupsd) -> Iterator[Cupsd]:
    """The queue as a counter has it: started, accepting, a working backend, empty."""
    cupsd.repair_backend()
    cupsd.enable()
    cupsd.accept()
    conn = cupsd.connection()
    for job_id in conn.getJobs(which_jobs="not-completed"):
        conn.cancelJob(job_id, purge_job=True)
    for old in cupsd.printed():
        old.unlink()
    yield cupsd
    cupsd.repair_backend()
    cupsd.enable()
    cupsd.accept()


def cups_settings(tmp_path: Path, cupsd: Cupsd):  # type: ignore[no-untyped-def]
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'data' / 'kiosk.sqlite3'}",
        printer="cups",
        printer_queue=QUEUE,
        cups_server=f"127.0.0.1:{cupsd.port}",
    )


@pytest.fixture
def ctx(tmp_path: Path, queue: Cupsd, clock: FakeClock) -> Iterator[AppContext]:
    settings = cups_settings(tmp_path, queue)
    devices = Devices(
        card_reader=SimulatedCardReader(demo_card()),
        printer=CupsPrinter(QUEUE, f"127.0.0.1:{queue.port}"),
        payment=SimulatedPaymentProvider(delay_s=3.0, monotonic=clock.monotonic),
    )
    context = build_context(settings, clock=clock, devices=devices)
    yield context
    context.close()


def approved(ctx: AppContext, template_id: str = "juminhyo") -> int:
    pk = next(p.pk for p in ctx.templates.active() if p.template.id == template_id)
    template = ctx.templates.get(pk)
    plain = sample_values(template, "20261124")
    for f in template.fields:  # sample_values has no answer for multiple choices
        if f.kind is FieldKind.MULTI_CHOICE:
            plain[f.id] = ",".join(c.value for c in f.choices[:2])
    values = {k: FilledValue(v, Provenance.RESIDENT) for k, v in plain.items()}
    app_id = ctx.applications.create_draft(pk, "ja", values)
    ctx.applications.submit(app_id, values)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    return app_id


def follow(ctx: AppContext, outcome: PrintOutcome, timeout: float = 20.0) -> PrintOutcome:
    """Poll the spooler as the staff window's timer does, until the job leaves 'sent'."""
    deadline = time.monotonic() + timeout
    while outcome.status is JobStatus.SENT and time.monotonic() < deadline:
        time.sleep(0.1)
        outcome = ctx.printing.refresh(outcome.job_id, "S1")
    return outcome


def pdf_text(path: Path) -> str:
    raw = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return re.sub(r"\s", "", raw)  # wrapped values and ideographic spaces compare whole


def job_row(ctx: AppContext, job_id: int) -> PrintJobRow:
    with ctx.db.read() as session:
        job = session.get(PrintJobRow, job_id)
        assert job is not None
        session.expunge(job)
        return job


def confirmed_texts(ctx: AppContext, app_id: int, doc: PrintDocument) -> list[str]:
    """Each confirmed value as the form prints it: a chosen option's own label next to its
    tick box, a person row's cells, every other value as one text."""
    template = ctx.applications.detail(app_id).template
    out: list[str] = []
    for field_id, value in doc.fields.items():
        f = template.field(field_id)
        if value.chosen:
            out.extend(f.choice_label(v, "ja") for v in sorted(value.chosen))
        elif value.rows:
            out.extend(cell for row in value.rows for cell in row.values() if cell)
        elif value.text and f.kind.value != "checkbox":
            out.append(value.text)
    return out


def test_every_shipped_template_prints_its_confirmed_values_through_cupsd(
    ctx: AppContext, queue: Cupsd
) -> None:
    template_ids = sorted({p.template.id for p in ctx.templates.active()})
    assert len(template_ids) >= 5
    conn = queue.connection()
    for n, template_id in enumerate(template_ids, start=1):
        app_id = approved(ctx, template_id)
        doc = ctx.printing.build_document(app_id)
        outcome = follow(ctx, ctx.printing.print_application(app_id, "S1"))
        # the spooler finished; the clerk still has to confirm the paper (PRN-06)
        assert (outcome.status, outcome.confirm_reason) == (
            JobStatus.NEEDS_CONFIRMATION,
            "spooler_completed",
        )
        assert ctx.applications.detail(app_id).status is Status.APPROVED
        printed = queue.wait_printed(n)[-1]
        text = pdf_text(printed)
        values = confirmed_texts(ctx, app_id, doc)
        assert values, template_id
        for value in values:
            assert re.sub(r"\s", "", value) in text, (template_id, value)
        assert re.sub(r"\s", "", doc.title) in text
        spooler_id = int(job_row(ctx, outcome.job_id).spooler_job_id or 0)
        attrs = conn.getJobAttributes(spooler_id, requested_attributes=["job-name"])
        assert attrs["job-name"] == f"APP-{app_id:06d}-{outcome.job_id}"  # ids only
        ctx.printing.confirm_printed(outcome.job_id, "S1")
        assert ctx.applications.detail(app_id).status is Status.PRINTED
    # PreserveJobFiles No: no document of a finished job is left in the spool
    assert queue.spooled_files() == []


def test_a_stopped_printer_keeps_the_job_waiting_and_it_prints_once_when_back(
    ctx: AppContext, queue: Cupsd, clock: FakeClock
) -> None:
    queue.disable()
    state = ctx.printing.printer_state()
    assert not state.ready
    assert "stopped" in state.reasons
    app_id = approved(ctx)
    first = ctx.printing.print_application(app_id, "S1")
    assert (first.status, first.error_key) == (JobStatus.WAITING, "printer_stopped")
    assert ctx.printing.run_due() == []  # not due yet: back-off
    clock.advance(retry_delay_s(1) + 0.1)
    ctx.printing.run_due()
    second = job_row(ctx, first.job_id)
    assert (second.status, second.attempts) == ("waiting", 2)
    assert queue.printed() == []
    assert conn_jobs(queue) == []  # the spooler never held the form
    queue.enable()
    clock.advance(retry_delay_s(2) + 0.1)
    assert ctx.printing.run_due() == [app_id]
    outcome = follow(ctx, ctx.printing.latest_job(app_id) or first)
    assert outcome.status is JobStatus.NEEDS_CONFIRMATION
    assert len(queue.wait_printed(1)) == 1
    for _ in range(3):  # later rounds never send it again
        clock.advance(BACKOFF_LONG)
        ctx.printing.run_due()
    time.sleep(0.5)
    assert len(queue.printed()) == 1
    ctx.printing.confirm_printed(outcome.job_id, "S1")
    assert ctx.applications.detail(app_id).status is Status.PRINTED


BACKOFF_LONG = 400.0


def conn_jobs(queue: Cupsd) -> list[int]:
    return list(queue.connection().getJobs(which_jobs="not-completed"))


def test_a_queue_refusing_jobs_is_retried_until_it_accepts(
    ctx: AppContext, queue: Cupsd, clock: FakeClock
) -> None:
    queue.reject()
    assert "not-accepting" in ctx.printing.printer_state().reasons
    app_id = approved(ctx)
    first = ctx.printing.print_application(app_id, "S1")
    assert first.status is JobStatus.WAITING
    queue.accept()
    assert ctx.printing.retry(first.job_id, "S1").status in (
        JobStatus.SENT,
        JobStatus.NEEDS_CONFIRMATION,
    )
    assert follow(ctx, ctx.printing.latest_job(app_id) or first).status is (
        JobStatus.NEEDS_CONFIRMATION
    )
    assert len(queue.wait_printed(1)) == 1


def test_a_failing_backend_stops_the_queue_and_the_job_prints_once_after_repair(
    ctx: AppContext, queue: Cupsd, clock: FakeClock
) -> None:
    queue.break_backend()
    app_id = approved(ctx)
    first = ctx.printing.print_application(app_id, "S1")
    deadline = time.monotonic() + 20
    while ctx.printing.printer_state().ready and time.monotonic() < deadline:
        time.sleep(0.1)  # the backend fails; ErrorPolicy stop-printer stops the queue
    assert "stopped" in ctx.printing.printer_state().reasons
    # the spooler keeps the job: the kiosk follows it and never sends a second copy
    assert ctx.printing.refresh(first.job_id, "S1").status is JobStatus.SENT
    other = approved(ctx)
    waiting = ctx.printing.print_application(other, "S1")
    assert waiting.status is JobStatus.WAITING  # a stopped printer gets no new job
    queue.repair_backend()
    queue.enable()
    assert follow(ctx, ctx.printing.refresh(first.job_id, "S1")).status is (
        JobStatus.NEEDS_CONFIRMATION
    )
    clock.advance(retry_delay_s(1) + 0.1)
    ctx.printing.run_due()
    assert follow(ctx, ctx.printing.latest_job(other) or waiting).status is (
        JobStatus.NEEDS_CONFIRMATION
    )
    assert len(queue.wait_printed(2)) == 2
    time.sleep(0.5)
    assert len(queue.printed()) == 2


_CRASHING_CHILD = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from devices.card_simulated import SimulatedCardReader, demo_card
from devices.payment_simulated import SimulatedPaymentProvider
from devices.printer_cups import CupsPrinter
from devices.registry import Devices
from kiosk.config import load_settings
from kiosk.context import build_context


class DiesAfterTheSpoolerAccepts(CupsPrinter):
    def submit(self, pdf, job_name):
        job_id = super().submit(pdf, job_name)
        os.kill(os.getpid(), signal.SIGKILL)  # before the app records the acceptance
        return job_id


settings = load_settings(data_dir=Path({data!r}), database_url={url!r})
devices = Devices(
    card_reader=SimulatedCardReader(demo_card()),
    printer=DiesAfterTheSpoolerAccepts({queue!r}, "127.0.0.1:{port}"),
    payment=SimulatedPaymentProvider(),
)
ctx = build_context(settings, devices=devices)
ctx.printing.print_application({app_id}, "S1")
"""


def test_the_app_killed_after_the_spooler_accepted_asks_a_clerk_and_never_resends(
    tmp_path: Path, queue: Cupsd, clock: FakeClock
) -> None:
    settings = cups_settings(tmp_path, queue)
    first_ctx = build_context(
        settings,
        clock=clock,
        devices=Devices(
            SimulatedCardReader(demo_card()),
            CupsPrinter(QUEUE, f"127.0.0.1:{queue.port}"),
            SimulatedPaymentProvider(),
        ),
    )
    app_id = approved(first_ctx)
    first_ctx.close()
    child = textwrap.dedent(_CRASHING_CHILD).format(
        root=str(ROOT),
        data=str(settings.data_dir),
        url=settings.effective_database_url,
        queue=QUEUE,
        port=queue.port,
        app_id=app_id,
    )
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=120)
    assert result.returncode == -9, result.stderr.decode()[-2000:]
    assert len(queue.wait_printed(1)) == 1  # the spooler had it

    # restart: the job the dead process was handing over goes to a clerk, not to the printer
    ctx = build_context(
        settings,
        clock=clock,
        devices=Devices(
            SimulatedCardReader(demo_card()),
            CupsPrinter(QUEUE, f"127.0.0.1:{queue.port}"),
            SimulatedPaymentProvider(),
        ),
    )
    try:
        job = ctx.printing.latest_job(app_id)
        assert job is not None
        assert (job.status, job.confirm_reason) == (
            JobStatus.NEEDS_CONFIRMATION,
            "unknown_after_restart",
        )
        clock.advance(STUCK_SENDING_S + BACKOFF_LONG)
        ctx.printing.run_due()
        time.sleep(0.5)
        assert len(queue.printed()) == 1  # not resent silently
        # the clerk says it did not print: a reprint marked 再発行 (1)
        reprint = follow(ctx, ctx.printing.reprint(job.job_id, "S1"))
        assert (reprint.status, reprint.reissue) == (JobStatus.NEEDS_CONFIRMATION, 1)
        second = queue.wait_printed(2)[-1]
        assert "再発行(1回目)" in pdf_text(second)
        ctx.printing.confirm_printed(reprint.job_id, "S1")
        assert ctx.applications.detail(app_id).status is Status.PRINTED
        with ctx.db.read() as session:
            actions = [
                (e.action, e.object_id, e.detail)
                for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id))
                if e.object_type == "print_job"
            ]
        names = [a for a, _o, _d in actions]
        assert names.count("print_queued") == 2
        assert ("print_needs_confirmation", str(job.job_id)) in [(a, o) for a, o, _d in actions]
        assert "print_not_printed" in names
        assert "print_confirmed" in names
    finally:
        ctx.close()
