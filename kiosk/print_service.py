"""Print an approved application through a durable queue (PRN-04…07).

A job row exists before anything reaches the printer, and it holds the application id and
template version only; the PDF is rendered again from the stored values each time and
lives in memory only. The rules:

- a printer that refuses a job before accepting it (offline, stopped, no paper) leaves it
  ``waiting``; it is sent again by itself with back-off (``run_due``), and only then;
- a job the spooler accepted is followed until the spooler finishes; "finished" is not
  "printed": a clerk confirms the paper (``needs_confirmation`` → ``printed``);
- a job whose hand-over was interrupted (crash, lost connection after the data went out)
  becomes ``needs_confirmation`` and is never sent again by itself;
- a clerk confirms "printed", orders a reprint (a new job marked 再発行 with its count)
  or cancels; every step is audited; at most one job per application is on its way.

The same queue prints the two slips of the payment step (``Document``): the payment slip
with the QR code and the 利用控え. A slip job names its payment order and is drawn from
it at send time, so a reprint shows the same order; at most one job per application and
slip is on its way, and confirming a slip's paper never moves the application.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.errors import PrinterError, PrintOutcomeUnknown
from devices.payment import OrderStatus
from devices.printer import JobState, Printer, PrinterState
from forms.display import display_item, display_value
from forms.fees import Fee
from forms.model import Field, FieldKind, Template, parse_template
from forms.validation import person_rows
from forms.wareki import format_wareki
from kiosk import audit
from kiosk.applications import ApplicationService
from kiosk.clock import Clock, today
from kiosk.errors import IllegalTransition, NotFound, UserFacingError
from kiosk.glyph_review import GlyphReview
from kiosk.payment_slips import render_slip
from kiosk.status import Status
from kiosk.storage.db import Database
from kiosk.storage.models import ApplicationRow, FormTemplateRow, PaymentOrderRow, PrintJobRow
from printing.document import FeeSlip, PrintDocument, PrintField, PrintRow, PrintSection
from printing.render import render_pdf

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "queued"  # stored, not yet handed to the spooler
    SENDING = "sending"  # being handed to the spooler right now (by ``sending_by``)
    SENT = "sent"  # the spooler accepted it; followed until the spooler finishes
    WAITING = "waiting"  # refused before acceptance (offline, no paper): sent again later
    NEEDS_CONFIRMATION = "needs_confirmation"  # only a clerk can say whether it printed
    PRINTED = "printed"  # a clerk confirmed the paper
    REPLACED = "replaced"  # a clerk said it did not print; a reprint replaces it
    CANCELLED = "cancelled"


class Document(StrEnum):
    FORM = "form"  # the application form
    PAYMENT_SLIP = "payment_slip"  # 手数料のお支払い（QRコード）
    RECEIPT = "receipt"  # 利用控え


SLIPS = (Document.PAYMENT_SLIP, Document.RECEIPT)


class ConfirmReason(StrEnum):
    SPOOLER_COMPLETED = "spooler_completed"  # done at the spooler ≠ on paper (PRN-06)
    SPOOLER_FAILED = "spooler_failed"  # aborted or cancelled there: part may have printed
    SPOOLER_LOST = "spooler_lost"  # the spooler no longer knows the job
    HANDOVER_UNKNOWN = "handover_unknown"  # the hand-over broke after the data went out
    UNKNOWN_AFTER_RESTART = "unknown_after_restart"  # the app died while handing it over


#: jobs still on their way to paper: no second job may start for the same application
ACTIVE = (
    JobStatus.QUEUED,
    JobStatus.SENDING,
    JobStatus.SENT,
    JobStatus.WAITING,
    JobStatus.NEEDS_CONFIRMATION,
)
#: seconds between automatic attempts after the printer refused a job: 5, 10, 20 … 300
BACKOFF_FIRST_S = 5.0
BACKOFF_MAX_S = 300.0
#: a hand-over that has not finished after this long died with its process
STUCK_SENDING_S = 300.0
#: application statuses in which a reprint (再発行) of an already printed form may be sent
_REISSUE_OK = (Status.APPROVED, Status.PRINTED, Status.AWAITING_PAYMENT, Status.PAID)


class PrintInProgress(UserFacingError):
    message_key = "print_in_progress"


class SlipUnavailable(UserFacingError):
    """No open QR order (payment slip) or no payment (利用控え) to print the slip from."""

    message_key = "print_slip_unavailable"


class PrintJobSettled(UserFacingError):
    """The job is no longer in a state that allows this step (another clerk acted)."""

    message_key = "print_job_settled"


@dataclass(frozen=True)
class PrintOutcome:
    job_id: int
    status: JobStatus
    error_key: str | None = None
    confirm_reason: str | None = None
    reissue: int = 0
    attempts: int = 0
    application_id: int = 0
    next_attempt_at: datetime | None = None
    document: Document = Document.FORM


@dataclass(frozen=True)
class QueuedJob:
    """One line of the staff screen's print queue: ids and codes, no personal data."""

    outcome: PrintOutcome
    ticket: str
    title: str


def retry_delay_s(attempts: int) -> float:
    return float(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1)))


def job_name(app_id: int, job_id: int) -> str:
    """What queues and job histories show (PRN-02): ids only, never a resident's name."""
    return f"APP-{app_id:06d}-{job_id}"


def reissue_note(reissue: int) -> str:
    return f"再発行 ({reissue}回目)" if reissue else ""


def _this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PrintService:
    def __init__(
        self,
        db: Database,
        apps: ApplicationService,
        printer: Printer,
        clock: Clock,
        addressee: str,
        municipality: str = "",
    ) -> None:
        self._db = db
        self._apps = apps
        self._printer = printer
        self._clock = clock
        self._addressee = addressee
        self._municipality = municipality
        self.glyphs = GlyphReview(db, clock, self.build_document)

    # --- documents -----------------------------------------------------------------------
    def build_document(self, app_id: int, *, reissue: int = 0) -> PrintDocument:
        detail = self._apps.detail(app_id)
        with self._db.read() as session:
            app = session.get(ApplicationRow, app_id)
            if app is None:
                raise NotFound()
            day = app.ticket_date or today(self._clock)
        return document_for(
            detail.template,
            {k: v.value for k, v in detail.values.items()},
            fee=detail.fee,
            addressee=self._addressee,
            day=day,
            ticket=detail.ticket or "",
            reference=f"{day:%Y%m%d}-{detail.ticket or detail.id}",
            reissue=reissue,
        )

    def preview_pdf(self, app_id: int) -> bytes:
        """The exact PDF the next job of this application sends, for the staff preview."""
        with self._db.read() as session:
            latest = self._latest(session, app_id, Document.FORM)
            reissue = 0
            if latest is not None and latest.status in (
                JobStatus.NEEDS_CONFIRMATION.value,
                JobStatus.PRINTED.value,
            ):
                reissue = latest.reissue + 1
            elif latest is not None and latest.status in [s.value for s in ACTIVE]:
                reissue = latest.reissue
        return render_pdf(self.glyphs.apply(app_id, self.build_document(app_id, reissue=reissue)))

    # --- queueing --------------------------------------------------------------------------
    def print_application(self, app_id: int, staff: str) -> PrintOutcome:
        """Queue and send the approved application. Refused while another job for the same
        application is still on its way, so a second click (or a second clerk) cannot
        print it twice."""
        self.glyphs.require_resolved(app_id)  # 外字 need a clerk's decision first
        now = self._clock.now()
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is None:
                raise NotFound()
            if app.status != Status.APPROVED.value:
                raise IllegalTransition(current=app.status, target=Status.PRINTED.value)
            self._refuse_if_active(session, app_id)
            job_id = self._new_job(session, app, staff, now, reissue=0, replaces=None)
        return self._send(job_id, staff)

    def print_slip(self, app_id: int, document: Document, staff: str) -> PrintOutcome:
        """Queue and send a payment slip: the QR slip while a QR order is open, the 利用控え
        once the fee is paid. Printing a slip again is a reissue (再発行) of the last one."""
        if document not in SLIPS:
            raise ValueError(f"{document!r} is not a slip")
        now = self._clock.now()
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is None:
                raise NotFound()
            order = slip_order(session, app, document, now)
            if order is None:
                raise SlipUnavailable()
            self._refuse_if_active(session, app_id, document)
            previous = session.scalars(
                select(PrintJobRow)
                .where(
                    PrintJobRow.application_id == app_id,
                    PrintJobRow.document == document.value,
                    PrintJobRow.payment_order_id == order.id,
                    PrintJobRow.status == JobStatus.PRINTED.value,
                )
                .order_by(PrintJobRow.id.desc())
            ).first()
            job_id = self._new_job(
                session,
                app,
                staff,
                now,
                reissue=previous.reissue + 1 if previous is not None else 0,
                replaces=previous.id if previous is not None else None,
                document=document,
                payment_order_id=order.id,
            )
        return self._send(job_id, staff)

    def build_slip(self, job_id: int) -> bytes:
        """The slip of ``job_id`` as PDF bytes, drawn from the job's stored payment order."""
        with self._db.read() as session:
            job = session.get(PrintJobRow, job_id)
            if job is None or job.payment_order_id is None:
                raise NotFound()
            order = session.get(PaymentOrderRow, job.payment_order_id)
            app = session.get(ApplicationRow, job.application_id)
            template = session.get(FormTemplateRow, job.template_pk)
            if order is None or app is None or template is None:
                raise NotFound()
            return render_slip(
                Document(job.document),
                order,
                app,
                parse_template(template.definition),
                municipality=self._municipality,
                clerk=job.requested_by,
                reissue_note=reissue_note(job.reissue),
                zone=self._clock.now().tzinfo,
            )

    def _refuse_if_active(
        self,
        session: Session,
        app_id: int,
        document: Document = Document.FORM,
        *,
        besides: int = 0,
    ) -> None:
        active = session.scalars(
            select(PrintJobRow.id).where(
                PrintJobRow.application_id == app_id,
                PrintJobRow.document == document.value,
                PrintJobRow.id != besides,
                PrintJobRow.status.in_([s.value for s in ACTIVE]),
            )
        ).first()
        if active is not None:
            raise PrintInProgress()

    def _new_job(
        self,
        session: Session,
        app: ApplicationRow,
        staff: str,
        now: datetime,
        *,
        reissue: int,
        replaces: int | None,
        document: Document = Document.FORM,
        payment_order_id: int | None = None,
    ) -> int:
        job = PrintJobRow(
            application_id=app.id,
            template_pk=app.template_pk,
            status=JobStatus.QUEUED.value,
            printer=self._printer.name,
            attempts=0,
            reissue=reissue,
            replaces_job_id=replaces,
            document=document.value,
            payment_order_id=payment_order_id,
            next_attempt_at=now,
            requested_by=staff,
            created_at=now,
            updated_at=now,
        )
        session.add(job)
        session.flush()
        audit.record(
            session,
            at=now,
            actor=staff,
            action="print_queued",
            object_type="print_job",
            object_id=job.id,
            application=app.id,
            reissue=reissue,
            replaces=replaces,
            document=document.value,
        )
        return job.id

    def retry(self, job_id: int, staff: str) -> PrintOutcome:
        """A clerk sends a waiting job now instead of at its next automatic attempt."""
        return self._send(job_id, staff)

    # --- sending ---------------------------------------------------------------------------
    def _send(self, job_id: int, actor: str, *, due_only: bool = False) -> PrintOutcome:
        with self._db.read() as session:
            job = session.get(PrintJobRow, job_id)
            if job is None:
                raise NotFound()
            if job.status not in (JobStatus.QUEUED.value, JobStatus.WAITING.value):
                return _outcome(job)
            app_id, reissue, kind = job.application_id, job.reissue, Document(job.document)
        # rendered before the claim: a crash while rendering leaves a job that provably
        # never reached the spooler, so it stays sendable
        try:
            if kind is Document.FORM:
                document = self.build_document(app_id, reissue=reissue)
                pdf = render_pdf(self.glyphs.apply(app_id, document))
            else:
                pdf = self.build_slip(job_id)
        except Exception:
            self._settle(job_id, actor, JobStatus.WAITING, error="render_failed", only_if=None)
            raise
        claimed = self._take_for_sending(job_id, due_only=due_only)
        if claimed is not None:
            return claimed
        try:
            spooler_id = self._printer.submit(pdf, job_name=job_name(app_id, job_id))
        except PrintOutcomeUnknown:
            return self._settle(
                job_id, actor, JobStatus.NEEDS_CONFIRMATION, confirm=ConfirmReason.HANDOVER_UNKNOWN
            )
        except PrinterError as exc:
            log.warning("print job %s waiting: %s", job_id, exc.message_key)
            return self._settle(job_id, actor, JobStatus.WAITING, error=exc.message_key)
        except Exception:
            # the adapter broke in a way it did not describe: the spooler may have it
            self._settle(
                job_id, actor, JobStatus.NEEDS_CONFIRMATION, confirm=ConfirmReason.HANDOVER_UNKNOWN
            )
            raise
        finally:
            del pdf  # the form is not kept a moment longer than the hand-over
        self._settle(job_id, actor, JobStatus.SENT, spooler_id=spooler_id)
        return self.refresh(job_id, actor)

    def _take_for_sending(self, job_id: int, *, due_only: bool) -> PrintOutcome | None:
        """Mark a queued or waiting job as being sent; only one caller can win. Returns the
        job's outcome when it is not (or no longer) to be sent."""
        now = self._clock.now()
        with self._db.write() as session:
            job = session.get(PrintJobRow, job_id, with_for_update=True)
            if job is None:
                raise NotFound()
            app = session.get(ApplicationRow, job.application_id)
            sendable = job.status in (JobStatus.QUEUED.value, JobStatus.WAITING.value)
            if not sendable or app is None:
                return _outcome(job)
            if job.document != Document.FORM.value:
                if not _slip_still_valid(session, job, now):
                    # the QR expired or was withdrawn, or the payment was refunded: paper
                    # showing it would mislead, so the job is withdrawn (a clerk may print anew)
                    return self._withdraw(session, job, now)
            elif Status(app.status) not in (_REISSUE_OK if job.reissue else (Status.APPROVED,)):
                return _outcome(job)
            if due_only and not self._is_due(session, job_id, now):
                return _outcome(job)
            job.status = JobStatus.SENDING.value
            job.sending_by = _this_process()
            job.attempts += 1
            job.next_attempt_at = None
            job.updated_at = now
            return None

    def _withdraw(self, session: Session, job: PrintJobRow, now: datetime) -> PrintOutcome:
        job.status, job.updated_at, job.next_attempt_at = JobStatus.CANCELLED.value, now, None
        audit.record(
            session,
            at=now,
            actor="system",
            action="print_cancelled",
            object_type="print_job",
            object_id=job.id,
            reason="payment_order_closed",
        )
        return _outcome(job)

    def _is_due(self, session: Session, job_id: int, now: datetime) -> bool:
        # compared in SQL: SQLite gives naive datetimes back, PostgreSQL aware ones
        return (
            session.scalar(
                select(PrintJobRow.id).where(
                    PrintJobRow.id == job_id,
                    PrintJobRow.next_attempt_at.is_not(None),
                    PrintJobRow.next_attempt_at <= now,
                )
            )
            is not None
        )

    def _settle(
        self,
        job_id: int,
        actor: str,
        status: JobStatus,
        *,
        error: str | None = None,
        confirm: ConfirmReason | None = None,
        spooler_id: str | None = None,
        only_if: JobStatus | None = JobStatus.SENDING,
    ) -> PrintOutcome:
        """Record the outcome of one hand-over (or render) attempt, audited."""
        now = self._clock.now()
        with self._db.write() as session:
            job = session.get(PrintJobRow, job_id, with_for_update=True)
            assert job is not None
            if only_if is not None and job.status != only_if.value:
                return _outcome(job)
            if only_if is None and job.status not in (
                JobStatus.QUEUED.value,
                JobStatus.WAITING.value,
            ):
                return _outcome(job)
            job.status = status.value
            job.error_code = error
            job.confirm_reason = confirm.value if confirm else None
            job.sending_by = None
            if spooler_id is not None:
                job.spooler_job_id = spooler_id
            if status is JobStatus.WAITING and error != "render_failed":
                job.next_attempt_at = now + timedelta(seconds=retry_delay_s(job.attempts))
            else:
                job.next_attempt_at = None
            job.updated_at = now
            audit.record(
                session,
                at=now,
                actor=actor,
                action={
                    JobStatus.SENT: "print_sent",
                    JobStatus.WAITING: "print_waiting",
                    JobStatus.NEEDS_CONFIRMATION: "print_needs_confirmation",
                }.get(status, "print_" + status.value),
                object_type="print_job",
                object_id=job_id,
                error=error,
                reason=job.confirm_reason,
                attempts=job.attempts,
            )
            return _outcome(job)

    # --- following -------------------------------------------------------------------------
    def refresh(self, job_id: int, actor: str) -> PrintOutcome:
        """Ask the spooler about a sent job. When it has finished, a clerk must confirm the
        paper; the job is never sent again by itself."""
        with self._db.read() as session:
            job = session.get(PrintJobRow, job_id)
            if job is None:
                raise NotFound()
            if job.status != JobStatus.SENT.value or job.spooler_job_id is None:
                return _outcome(job)
            spooler_id = job.spooler_job_id
        try:
            state = self._printer.job_state(spooler_id)  # no database lock while asking
        except PrinterError:
            with self._db.read() as session:
                job = session.get(PrintJobRow, job_id)
                assert job is not None
                return _outcome(job)  # ask again at the next round
        if state in (JobState.PENDING, JobState.PRINTING):
            with self._db.read() as session:
                job = session.get(PrintJobRow, job_id)
                assert job is not None
                return _outcome(job)
        reason = {
            JobState.COMPLETED: ConfirmReason.SPOOLER_COMPLETED,
            JobState.UNKNOWN: ConfirmReason.SPOOLER_LOST,
        }.get(state, ConfirmReason.SPOOLER_FAILED)
        return self._settle(
            job_id, actor, JobStatus.NEEDS_CONFIRMATION, confirm=reason, only_if=JobStatus.SENT
        )

    def run_due(self, actor: str = "system") -> list[int]:
        """One round of the queue: send the jobs whose retry time has come, follow the sent
        ones, and hand jobs whose sender died to a clerk. Returns the applications whose
        job changed. Driven by the staff window's timer on the printer lane."""
        now = self._clock.now()
        changed = {o.application_id for o in self._recover_stuck(actor, now)}
        with self._db.read() as session:
            due = session.scalars(
                select(PrintJobRow.id)
                .where(
                    PrintJobRow.status.in_([JobStatus.QUEUED.value, JobStatus.WAITING.value]),
                    PrintJobRow.next_attempt_at.is_not(None),
                    PrintJobRow.next_attempt_at <= now,
                )
                .order_by(PrintJobRow.id)
            ).all()
            sent = session.scalars(
                select(PrintJobRow.id).where(PrintJobRow.status == JobStatus.SENT.value)
            ).all()
            before = {
                int(r[0]): str(r[1])
                for r in session.execute(
                    select(PrintJobRow.id, PrintJobRow.status).where(
                        PrintJobRow.id.in_([*due, *sent])
                    )
                )
            }
        for job_id in due:
            try:
                outcome = self._send(job_id, actor, due_only=True)
            except Exception:
                log.exception("print job %s could not be prepared", job_id)
                continue
            if outcome.status.value != before.get(job_id) or outcome.status is JobStatus.SENT:
                changed.add(outcome.application_id)
        for job_id in sent:
            outcome = self.refresh(job_id, actor)
            if outcome.status.value != before.get(job_id):
                changed.add(outcome.application_id)
        return sorted(changed)

    def recover_interrupted(self, actor: str = "system") -> list[int]:
        """At start-up (REC-01 step 5): a job left ``sending`` by a process of this
        computer that is gone may or may not have reached the spooler. A clerk decides;
        it is never sent again silently. Returns the job ids handed to a clerk."""
        return [o.job_id for o in self._recover_stuck(actor, self._clock.now())]

    def _recover_stuck(self, actor: str, now: datetime) -> list[PrintOutcome]:
        host = socket.gethostname()
        cutoff = now - timedelta(seconds=STUCK_SENDING_S)
        with self._db.read() as session:
            rows = [
                (int(r[0]), r[1], bool(r[2]))
                for r in session.execute(
                    select(
                        PrintJobRow.id, PrintJobRow.sending_by, PrintJobRow.updated_at < cutoff
                    ).where(PrintJobRow.status == JobStatus.SENDING.value)
                )
            ]
        handed: list[PrintOutcome] = []
        for job_id, sender, stale in rows:
            sender_host, _, pid = (sender or "").rpartition(":")
            dead_here = (
                sender_host == host
                and pid.isdigit()
                and int(pid) != os.getpid()
                and not _pid_alive(int(pid))
            )
            if not (stale or dead_here):
                continue
            outcome = self._settle(
                job_id,
                actor,
                JobStatus.NEEDS_CONFIRMATION,
                confirm=ConfirmReason.UNKNOWN_AFTER_RESTART,
            )
            if outcome.status is JobStatus.NEEDS_CONFIRMATION:
                handed.append(outcome)
        return handed

    # --- a clerk's decisions ---------------------------------------------------------------
    def confirm_printed(self, job_id: int, staff: str) -> PrintOutcome:
        """The clerk holds the printed form: the job is done and the application printed."""
        now = self._clock.now()
        with self._db.write() as session:
            job = self._job_in(session, job_id, JobStatus.NEEDS_CONFIRMATION)
            job.status, job.updated_at = JobStatus.PRINTED.value, now
            app = session.get(ApplicationRow, job.application_id)
            assert app is not None
            # only the form's paper moves the application; a slip's never does
            if job.document == Document.FORM.value and app.status == Status.APPROVED.value:
                self._apps.transition_in(session, app.id, Status.PRINTED, staff)
            audit.record(
                session,
                at=now,
                actor=staff,
                action="print_confirmed",
                object_type="print_job",
                object_id=job_id,
                reason=job.confirm_reason,
                reissue=job.reissue,
            )
            return _outcome(job)

    def reprint(self, job_id: int, staff: str) -> PrintOutcome:
        """A new job marked 再発行 (n): after "it did not print" for a job that needs
        confirmation, or for a spoiled or lost copy of a printed form."""
        now = self._clock.now()
        with self._db.write() as session:
            job = session.get(PrintJobRow, job_id, with_for_update=True)
            if job is None:
                raise NotFound()
            app = session.get(ApplicationRow, job.application_id, with_for_update=True)
            assert app is not None
            if job.status == JobStatus.NEEDS_CONFIRMATION.value:
                job.status, job.updated_at = JobStatus.REPLACED.value, now
                audit.record(
                    session,
                    at=now,
                    actor=staff,
                    action="print_not_printed",
                    object_type="print_job",
                    object_id=job_id,
                    reason=job.confirm_reason,
                )
            elif job.status != JobStatus.PRINTED.value or (
                Status(app.status) not in _REISSUE_OK
                if job.document == Document.FORM.value
                else not _slip_still_valid(session, job, now)
            ):
                raise PrintJobSettled()
            document = Document(job.document)
            self._refuse_if_active(session, app.id, document, besides=job_id)
            new_id = self._new_job(
                session,
                app,
                staff,
                now,
                reissue=job.reissue + 1,
                replaces=job_id,
                document=document,
                payment_order_id=job.payment_order_id,
            )
        return self._send(new_id, staff)

    def cancel(self, job_id: int, staff: str) -> PrintOutcome:
        """Withdraw a job that has not printed (or whose paper the clerk discards); a job
        at the spooler is withdrawn there first. The application stays approved."""
        with self._db.read() as session:
            job = session.get(PrintJobRow, job_id)
            if job is None:
                raise NotFound()
            status, spooler_id = JobStatus(job.status), job.spooler_job_id
        if status is JobStatus.SENT and spooler_id is not None:
            self._printer.cancel(spooler_id)  # a PrinterError keeps the job followed
        now = self._clock.now()
        with self._db.write() as session:
            job = self._job_in(
                session,
                job_id,
                JobStatus.QUEUED,
                JobStatus.WAITING,
                JobStatus.SENT,
                JobStatus.NEEDS_CONFIRMATION,
            )
            before = job.status
            job.status, job.updated_at, job.next_attempt_at = JobStatus.CANCELLED.value, now, None
            audit.record(
                session,
                at=now,
                actor=staff,
                action="print_cancelled",
                object_type="print_job",
                object_id=job_id,
                was=before,
            )
            return _outcome(job)

    def _job_in(self, session: Session, job_id: int, *allowed: JobStatus) -> PrintJobRow:
        job = session.get(PrintJobRow, job_id, with_for_update=True)
        if job is None:
            raise NotFound()
        if job.status not in [s.value for s in allowed]:
            raise PrintJobSettled()
        return job

    # --- what the staff screen shows -------------------------------------------------------
    def latest_job(self, app_id: int) -> PrintOutcome | None:
        """The job the staff screen acts on: a slip job still on its way (it may need the
        clerk's confirmation) or else the form's latest job."""
        with self._db.read() as session:
            job = session.scalars(
                select(PrintJobRow)
                .where(
                    PrintJobRow.application_id == app_id,
                    PrintJobRow.document != Document.FORM.value,
                    PrintJobRow.status.in_([s.value for s in ACTIVE]),
                )
                .order_by(PrintJobRow.id.desc())
            ).first() or self._latest(session, app_id, Document.FORM)
            return None if job is None else _outcome(job)

    def latest_slip_job(self, app_id: int, document: Document) -> PrintOutcome | None:
        with self._db.read() as session:
            job = self._latest(session, app_id, document)
            return None if job is None else _outcome(job)

    def _latest(self, session: Session, app_id: int, document: Document) -> PrintJobRow | None:
        return session.scalars(
            select(PrintJobRow)
            .where(PrintJobRow.application_id == app_id, PrintJobRow.document == document.value)
            .order_by(PrintJobRow.id.desc())
        ).first()

    def open_jobs(self) -> list[QueuedJob]:
        """Every job still on its way or waiting for a clerk, oldest first."""
        with self._db.read() as session:
            rows = session.execute(
                select(PrintJobRow, ApplicationRow.ticket, FormTemplateRow.title)
                .join(ApplicationRow, ApplicationRow.id == PrintJobRow.application_id)
                .join(FormTemplateRow, FormTemplateRow.id == PrintJobRow.template_pk)
                .where(PrintJobRow.status.in_([s.value for s in ACTIVE]))
                .order_by(PrintJobRow.id)
            ).all()
            return [QueuedJob(_outcome(job), ticket or "", title) for job, ticket, title in rows]

    def printer_state(self) -> PrinterState:
        try:
            return self._printer.state()
        except Exception:  # an adapter fault is shown as "unreachable", never raised to the UI
            log.exception("printer state could not be read")
            return PrinterState(ready=False, reasons=("unreachable",))


def _outcome(job: PrintJobRow) -> PrintOutcome:
    return PrintOutcome(
        job.id,
        JobStatus(job.status),
        job.error_code,
        job.confirm_reason,
        job.reissue,
        job.attempts,
        job.application_id,
        job.next_attempt_at,
        Document(job.document),
    )


def slip_order(
    session: Session, app: ApplicationRow, document: Document, now: datetime
) -> PaymentOrderRow | None:
    """The order a slip is printed from: the open QR order whose code has not expired, or
    the payment of a paid (or completed) application that is not to be given back."""
    if document is Document.PAYMENT_SLIP:
        return session.scalars(
            select(PaymentOrderRow).where(
                PaymentOrderRow.application_id == app.id,
                PaymentOrderRow.status == OrderStatus.OPEN.value,
                PaymentOrderRow.qr_content.is_not(None),
                # compared in SQL: SQLite gives naive datetimes back, PostgreSQL aware ones
                PaymentOrderRow.expires_at > now,
            )
        ).first()
    if app.status not in (Status.PAID.value, Status.COMPLETED.value):
        return None
    return session.scalars(
        select(PaymentOrderRow)
        .where(
            PaymentOrderRow.application_id == app.id,
            PaymentOrderRow.status == OrderStatus.PAID.value,
            PaymentOrderRow.refund_method.is_(None),
        )
        .order_by(PaymentOrderRow.id.desc())
    ).first()


def _slip_still_valid(session: Session, job: PrintJobRow, now: datetime) -> bool:
    """A slip is sent only while its order still says what the slip says."""
    app = session.get(ApplicationRow, job.application_id)
    if app is None or job.payment_order_id is None:
        return False
    order = slip_order(session, app, Document(job.document), now)
    return order is not None and order.id == job.payment_order_id


def document_for(
    template: Template,
    values: Mapping[str, str],
    *,
    fee: Fee,
    addressee: str,
    day: date,
    ticket: str,
    reference: str,
    reissue: int = 0,
) -> PrintDocument:
    """What the printed form shows for ``values``: shared by printing an application and by
    `form render` (previews and drafts)."""
    sections = []
    fields: dict[str, PrintField] = {}
    for section in template.sections:
        rows = []
        for f in section.fields:
            raw = values.get(f.id, "")
            label = f.printed_label
            fields[f.id] = print_field(f, raw)
            if f.kind is FieldKind.SIGNATURE:
                rows.append(PrintRow(label, "", kind="signature", field_id=f.id))
            elif f.kind is FieldKind.CHECKBOX:
                rows.append(PrintRow(label, "", kind="check", checked=raw == "1", field_id=f.id))
            else:
                rows.append(PrintRow(label, display_value(f, raw, "ja"), field_id=f.id))
        sections.append(PrintSection(section.title["ja"], tuple(rows)))
    slip = None
    if fee.total:
        labels = {rule.code: rule.label["ja"] for rule in template.fees}
        slip = FeeSlip(
            tuple((labels[line.code], line.unit_amount, line.units) for line in fee.lines),
            fee.total,
        )
    return PrintDocument(
        title=template.title["ja"],
        municipality=addressee,
        application_date=format_wareki(day),
        ticket=ticket,
        reference=reference,
        sections=tuple(sections),
        fee=slip,
        reissue_note=reissue_note(reissue),
        footer=f"{template.business}　様式 {template.id} v{template.version}",
        metadata_subject=template.business,
        layout=template.layout,
        fields=fields,
    )


def print_field(f: Field, raw: str) -> PrintField:
    """A field's value as a template layout prints it."""
    label = f.printed_label
    if f.kind is FieldKind.PERSONS:
        try:
            people = person_rows(raw)
        except ValueError:
            people = []
        rows = tuple({i.id: display_item(i, row, "ja") for i in f.items} for row in people)
        return PrintField(label, display_value(f, raw, "ja"), raw, rows=rows)
    chosen: frozenset[str] = frozenset()
    if f.kind is FieldKind.CHOICE and raw:
        chosen = frozenset({raw})
    elif f.kind is FieldKind.MULTI_CHOICE:
        chosen = frozenset(v for v in raw.split(",") if v)
    return PrintField(label, display_value(f, raw, "ja"), raw, checked=raw == "1", chosen=chosen)
