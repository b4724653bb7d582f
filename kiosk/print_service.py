"""Print an approved application: store the job first, render, send, record the outcome.

A job row exists before anything reaches the printer, and it holds the application id and
template version only; the PDF is rendered again from the stored values each time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select

from devices.errors import PrinterError
from devices.printer import JobState, Printer
from forms.display import display_item, display_value
from forms.fees import Fee
from forms.model import Field, FieldKind, Template
from forms.validation import person_rows
from forms.wareki import format_wareki
from kiosk import audit
from kiosk.applications import ApplicationService
from kiosk.clock import Clock, today
from kiosk.errors import IllegalTransition, NotFound, UserFacingError
from kiosk.glyph_review import GlyphReview
from kiosk.status import Status
from kiosk.storage.db import Database
from kiosk.storage.models import ApplicationRow, PrintJobRow
from printing.document import FeeSlip, PrintDocument, PrintField, PrintRow, PrintSection
from printing.render import render_pdf

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "queued"  # stored, not yet accepted by the spooler
    SENDING = "sending"  # being handed to the spooler right now
    SENT = "sent"  # the spooler accepted it
    PRINTED = "printed"
    WAITING = "waiting"  # the printer refused it (offline, no paper): retry later
    CANCELLED = "cancelled"


#: jobs still on their way to paper: no second job may start for the same application
ACTIVE = (JobStatus.QUEUED, JobStatus.SENDING, JobStatus.SENT, JobStatus.WAITING)


class PrintInProgress(UserFacingError):
    message_key = "print_in_progress"


@dataclass(frozen=True)
class PrintOutcome:
    job_id: int
    status: JobStatus
    error_key: str | None = None


class PrintService:
    def __init__(
        self, db: Database, apps: ApplicationService, printer: Printer, clock: Clock, addressee: str
    ) -> None:
        self._db = db
        self._apps = apps
        self._printer = printer
        self._clock = clock
        self._addressee = addressee
        self.glyphs = GlyphReview(db, clock, self.build_document)

    def build_document(self, app_id: int) -> PrintDocument:
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
        )

    def print_application(self, app_id: int, staff: str) -> PrintOutcome:
        """Queue and send the approved application; it becomes printed when the job completes.

        Refused while another job for the same application is still on its way, so a
        second click (or a second clerk) cannot print it twice.
        """
        self.glyphs.require_resolved(app_id)  # 外字 need a clerk's decision first
        now = self._clock.now()
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is None:
                raise NotFound()
            if app.status != Status.APPROVED.value:
                raise IllegalTransition(current=app.status, target=Status.PRINTED.value)
            active = session.scalars(
                select(PrintJobRow.id).where(
                    PrintJobRow.application_id == app_id,
                    PrintJobRow.status.in_([s.value for s in ACTIVE]),
                )
            ).first()
            if active is not None:
                raise PrintInProgress()
            job = PrintJobRow(
                application_id=app_id,
                template_pk=app.template_pk,
                status=JobStatus.QUEUED.value,
                printer=self._printer.name,
                attempts=0,
                reissue=0,
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
                application=app_id,
            )
            job_id = job.id
        return self._send(job_id, staff)

    def retry(self, job_id: int, staff: str) -> PrintOutcome:
        """Send a job the printer refused earlier (offline, no paper) once more."""
        return self._send(job_id, staff)

    def latest_job(self, app_id: int) -> PrintOutcome | None:
        with self._db.read() as session:
            job = session.scalars(
                select(PrintJobRow)
                .where(PrintJobRow.application_id == app_id)
                .order_by(PrintJobRow.id.desc())
            ).first()
            return None if job is None else _outcome(job)

    def _take_for_sending(self, job_id: int) -> tuple[int, PrintOutcome | None]:
        """Mark a queued or waiting job as being sent; only one caller can win."""
        with self._db.write() as session:
            job = session.get(PrintJobRow, job_id, with_for_update=True)
            if job is None:
                raise NotFound()
            app = session.get(ApplicationRow, job.application_id)
            sendable = job.status in (JobStatus.QUEUED.value, JobStatus.WAITING.value)
            if not sendable or app is None or app.status != Status.APPROVED.value:
                return job.application_id, _outcome(job)
            job.status = JobStatus.SENDING.value
            job.attempts += 1
            job.updated_at = self._clock.now()
            return job.application_id, None

    def _send(self, job_id: int, staff: str) -> PrintOutcome:
        app_id, settled = self._take_for_sending(job_id)
        if settled is not None:
            return settled
        try:
            pdf = render_pdf(self.glyphs.apply(app_id, self.build_document(app_id)))
            spooler_id = self._printer.submit(pdf, job_name=f"kiosk-job-{job_id}")
        except PrinterError as exc:
            self._record(job_id, staff, JobStatus.WAITING, error=exc.message_key)
            log.warning("print job %s waiting: %s", job_id, exc.message_key)
            return PrintOutcome(job_id, JobStatus.WAITING, exc.message_key)
        except Exception:
            # rendering failed (or the adapter broke): the job waits for a staff decision
            self._record(job_id, staff, JobStatus.WAITING, error="printer_error")
            raise
        self._record(job_id, staff, JobStatus.SENT, spooler_id=spooler_id)
        return self.refresh(job_id, staff)

    def _record(
        self,
        job_id: int,
        staff: str,
        status: JobStatus,
        *,
        error: str | None = None,
        spooler_id: str | None = None,
    ) -> None:
        with self._db.write() as session:
            job = session.get(PrintJobRow, job_id)
            assert job is not None
            job.status, job.error_code = status.value, error
            if spooler_id is not None:
                job.spooler_job_id = spooler_id
            job.updated_at = self._clock.now()
            audit.record(
                session,
                at=self._clock.now(),
                actor=staff,
                action="print_sent" if status is JobStatus.SENT else "print_failed",
                object_type="print_job",
                object_id=job_id,
                error=error,
            )

    def refresh(self, job_id: int, staff: str) -> PrintOutcome:
        """Ask the spooler about a sent job; a completed job marks the application printed."""
        with self._db.read() as session:
            job = session.get(PrintJobRow, job_id)
            if job is None:
                raise NotFound()
            if job.status != JobStatus.SENT.value or job.spooler_job_id is None:
                return _outcome(job)
            spooler_id = job.spooler_job_id
        state = self._printer.job_state(spooler_id)  # no database lock held while asking
        if state in (JobState.PENDING, JobState.PRINTING):
            return PrintOutcome(job_id, JobStatus.SENT)
        with self._db.write() as session:
            job = session.get(PrintJobRow, job_id, with_for_update=True)
            assert job is not None
            if job.status != JobStatus.SENT.value:
                return _outcome(job)
            job.updated_at = self._clock.now()
            if state is JobState.COMPLETED:
                job.status = JobStatus.PRINTED.value
                self._apps.transition_in(session, job.application_id, Status.PRINTED, staff)
            else:  # failed or cancelled at the spooler: staff decide to send it again
                job.status, job.error_code = JobStatus.WAITING.value, "printer_error"
            return _outcome(job)


def _outcome(job: PrintJobRow) -> PrintOutcome:
    return PrintOutcome(job.id, JobStatus(job.status), job.error_code)


def document_for(
    template: Template,
    values: Mapping[str, str],
    *,
    fee: Fee,
    addressee: str,
    day: date,
    ticket: str,
    reference: str,
) -> PrintDocument:
    """What the printed form shows for ``values``: shared by printing an application and by
    `form render` (previews and drafts)."""
    sections = []
    fields: dict[str, PrintField] = {}
    for section in template.sections:
        rows = []
        for f in section.fields:
            raw = values.get(f.id, "")
            label = f.label["ja"]
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
        footer=f"{template.business}　様式 {template.id} v{template.version}",
        metadata_subject=template.business,
        layout=template.layout,
        fields=fields,
    )


def print_field(f: Field, raw: str) -> PrintField:
    """A field's value as a template layout prints it."""
    label = f.label["ja"]
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
