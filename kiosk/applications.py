"""Application services: the resident's draft and submission, the clerk's review.

Every status change goes through ``_transition``, the one place that checks the table in
``kiosk/status.py``, writes the status history and the audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from forms.assessment import Assessment, assess, settle
from forms.eligibility import Outcome
from forms.fees import Fee, compute_fee
from forms.model import Source, Template
from forms.prefill import FilledValue, Provenance
from forms.rules import RuleFailure
from forms.validation import Problem, check_field
from forms.visibility import is_required
from kiosk import audit
from kiosk.clock import Clock, today
from kiosk.errors import (
    ConcurrentUpdate,
    IllegalTransition,
    NotFound,
    UserFacingError,
    ValidationFailed,
)
from kiosk.status import OPEN_FOR_STAFF, Status, can_transition
from kiosk.storage.db import Database
from kiosk.storage.models import (
    ApplicationRow,
    FieldCorrectionRow,
    FieldValueRow,
    PaymentOrderRow,
    StatusChangeRow,
    TicketCounterRow,
)
from kiosk.templates_repo import TemplateRepository


@dataclass(frozen=True)
class StoredValue:
    value: str
    provenance: Provenance


class PaymentOpen(UserFacingError):
    message_key = "payment_open"


class NotEligible(UserFacingError):
    """The template's eligibility refuses the application (``reason`` names the refusal)."""

    message_key = "error_not_eligible"


class RulesBroken(UserFacingError):
    """A cross-field rule of the template does not hold (e.g. a proxy without 委任状)."""

    message_key = "error_rules_broken"


@dataclass(frozen=True)
class QueueItem:
    id: int
    ticket: str
    template_title: str
    status: Status
    claimed_by: str | None
    submitted_at: datetime | None
    fee_amount: int


@dataclass(frozen=True)
class ApplicationDetail:
    id: int
    ticket: str | None
    status: Status
    template_pk: int
    template: Template
    values: dict[str, StoredValue]
    fee: Fee
    claimed_by: str | None
    approved_by: str | None
    identity_confirmed: bool
    history: tuple[tuple[str | None, str, str], ...]  # (from, to, actor)
    language: str
    #: who may apply and what the clerk must check (委任状, photo ID, mailed to the person)
    eligibility: Outcome | None = None
    #: the template's rules the values break, staff-filled fields included
    rule_failures: tuple[RuleFailure, ...] = ()


def persistable(template: Template, values: Mapping[str, FilledValue]) -> dict[str, FilledValue]:
    """Values that may be written to the database: never the My Number (kept in memory only
    for the card session until encrypted storage exists)."""
    banned = {f.id for f in template.fields if f.source is Source.CARD_MY_NUMBER}
    return {k: v for k, v in values.items() if k not in banned}


class ApplicationService:
    def __init__(
        self,
        db: Database,
        templates: TemplateRepository,
        clock: Clock,
        fee_table: Callable[[], Mapping[str, int]] | None = None,
        ticket_prefix: str = "A",
    ) -> None:
        self._db = db
        self._templates = templates
        self._clock = clock
        self._fee_table = fee_table or dict
        self._ticket_prefix = ticket_prefix

    # --- helpers -------------------------------------------------------------------------
    def fee_for(self, template: Template, values: Mapping[str, str]) -> Fee:
        return compute_fee(template, values, self._fee_table())

    def _load(self, session: Session, app_id: int) -> ApplicationRow:
        app = session.get(ApplicationRow, app_id, with_for_update=True)
        if app is None:
            raise NotFound()
        return app

    def _transition(
        self, session: Session, app: ApplicationRow, target: Status, actor: str
    ) -> None:
        current = Status(app.status)
        if not can_transition(current, target):
            raise IllegalTransition(current=current.value, target=target.value)
        if current is Status.PRINTED and target is Status.COMPLETED and app.fee_amount > 0:
            raise IllegalTransition(current=current.value, target=target.value)
        if current is Status.PRINTED and target is Status.AWAITING_PAYMENT and not app.fee_amount:
            raise IllegalTransition(current=current.value, target=target.value)
        now = self._clock.now()
        app.status = target.value
        app.updated_at = now
        session.add(
            StatusChangeRow(
                application_id=app.id,
                from_status=current.value,
                to_status=target.value,
                actor=actor,
                at=now,
            )
        )
        audit.record(
            session,
            at=now,
            actor=actor,
            action="status_changed",
            object_type="application",
            object_id=app.id,
            from_status=current.value,
            to_status=target.value,
        )

    @staticmethod
    def _values(app: ApplicationRow) -> dict[str, str]:
        return {v.field_id: v.value for v in app.values}

    def _set_values(
        self, app: ApplicationRow, template: Template, values: Mapping[str, FilledValue]
    ) -> None:
        existing = {v.field_id: v for v in app.values}
        for field_id, filled in persistable(template, values).items():
            template.field(field_id)  # KeyError for a field the template lacks
            row = existing.get(field_id)
            if row is None:
                app.values.append(
                    FieldValueRow(
                        field_id=field_id, value=filled.value, source=filled.provenance.value
                    )
                )
            elif row.value != filled.value or row.source != filled.provenance.value:
                row.value, row.source = filled.value, filled.provenance.value

    def _store_settled(
        self,
        app: ApplicationRow,
        template: Template,
        values: Mapping[str, FilledValue],
        day: date,
    ) -> dict[str, str]:
        """Store ``values`` without the fields that no longer apply (``shown_when``) and with
        the computed ones worked out again (e.g. delivery by post after a correction);
        return them as checked (the My Number included, though it is never stored)."""
        settled = settle(template, values, day)
        for row in [v for v in app.values if v.field_id not in settled]:
            app.values.remove(row)
        self._set_values(app, template, settled)
        return {k: v.value for k, v in settled.items()}

    @staticmethod
    def _stored(app: ApplicationRow) -> dict[str, FilledValue]:
        return {v.field_id: FilledValue(v.value, Provenance(v.source)) for v in app.values}

    @staticmethod
    def _enforce(result: Assessment) -> None:
        if result.problems:
            raise ValidationFailed(fields=",".join(p.field_id for p in result.problems))
        if not result.outcome.allowed:
            raise NotEligible(reason=result.outcome.reason)
        if result.failures:
            raise RulesBroken(fields=",".join(f for r in result.failures for f in r.fields))

    def _next_ticket(self, session: Session) -> tuple[int, str]:
        """The day's next ticket number; the counter row is locked, so two counters
        submitting at the same moment never get the same number (PostgreSQL)."""
        day = today(self._clock)
        counter = session.get(TicketCounterRow, day, with_for_update=True)
        if counter is None:
            try:
                with session.begin_nested():
                    session.add(TicketCounterRow(day=day, last=0))
            except IntegrityError:
                pass  # another counter created today's row first
            counter = session.get(
                TicketCounterRow, day, with_for_update=True, populate_existing=True
            )
            assert counter is not None
        counter.last += 1
        return counter.last, f"{self._ticket_prefix}-{counter.last:03d}"

    # --- resident ------------------------------------------------------------------------
    def create_draft(
        self, template_pk: int, language: str, values: Mapping[str, FilledValue]
    ) -> int:
        template = self._templates.get(template_pk)
        now = self._clock.now()
        with self._db.write() as session:
            app = ApplicationRow(
                template_pk=template_pk,
                status=Status.DRAFT.value,
                language=language,
                fee_amount=0,
                created_at=now,
                updated_at=now,
            )
            session.add(app)
            self._set_values(app, template, values)
            session.flush()
            session.add(
                StatusChangeRow(
                    application_id=app.id,
                    from_status=None,
                    to_status=Status.DRAFT.value,
                    actor="resident",
                    at=now,
                )
            )
            audit.record(
                session,
                at=now,
                actor="resident",
                action="draft_created",
                object_type="application",
                object_id=app.id,
                template=template.id,
            )
            return app.id

    def submit(self, app_id: int, values: Mapping[str, FilledValue]) -> tuple[str, int]:
        """Store the final values, check them, issue a ticket. Returns (ticket, fee)."""
        with self._db.write() as session:
            app = self._load(session, app_id)
            template = self._templates.get(app.template_pk)
            plain = self._store_settled(app, template, values, today(self._clock))
            self._enforce(assess(template, plain))
            app.fee_amount = self.fee_for(template, plain).total
            app.ticket_no, app.ticket = self._next_ticket(session)
            app.ticket_date = today(self._clock)
            app.submitted_at = self._clock.now()
            self._transition(session, app, Status.SUBMITTED, "resident")
            return app.ticket, app.fee_amount

    def abandon_draft(self, app_id: int, reason: str) -> None:
        """The resident cancelled or walked away: cancel and drop the values entered."""
        with self._db.write() as session:
            app = self._load(session, app_id)
            if app.status != Status.DRAFT.value:
                return
            app.values.clear()  # data minimisation: nothing of an abandoned draft stays
            self._transition(session, app, Status.CANCELLED, "resident")
            audit.record(
                session,
                at=self._clock.now(),
                actor="resident",
                action="draft_abandoned",
                object_type="application",
                object_id=app.id,
                reason=reason,
            )

    # --- staff ---------------------------------------------------------------------------
    def queue(self) -> list[QueueItem]:
        with self._db.read() as session:
            rows = session.scalars(
                select(ApplicationRow)
                .where(ApplicationRow.status.in_([s.value for s in OPEN_FOR_STAFF]))
                .order_by(ApplicationRow.submitted_at, ApplicationRow.id)
            ).all()
            return [
                QueueItem(
                    r.id,
                    r.ticket or "",
                    self._templates.get(r.template_pk).short_title["ja"],
                    Status(r.status),
                    r.claimed_by,
                    r.submitted_at,
                    r.fee_amount,
                )
                for r in rows
            ]

    def detail(self, app_id: int) -> ApplicationDetail:
        with self._db.read() as session:
            app = session.scalars(
                select(ApplicationRow)
                .where(ApplicationRow.id == app_id)
                .options(selectinload(ApplicationRow.values), selectinload(ApplicationRow.history))
            ).one_or_none()
            if app is None:
                raise NotFound()
            template = self._templates.get(app.template_pk)
            values = {v.field_id: StoredValue(v.value, Provenance(v.source)) for v in app.values}
            checked = assess(template, {k: v.value for k, v in values.items()}, include_staff=True)
            return ApplicationDetail(
                id=app.id,
                ticket=app.ticket,
                status=Status(app.status),
                template_pk=app.template_pk,
                template=template,
                values=values,
                fee=self.fee_for(template, {k: v.value for k, v in values.items()}),
                claimed_by=app.claimed_by,
                approved_by=app.approved_by,
                identity_confirmed=app.identity_confirmed,
                history=tuple((h.from_status, h.to_status, h.actor) for h in app.history),
                language=app.language,
                eligibility=checked.outcome,
                rule_failures=checked.failures,
            )

    def claim(self, app_id: int, staff: str) -> None:
        with self._db.write() as session:
            app = self._load(session, app_id)
            if app.status == Status.IN_REVIEW.value and app.claimed_by == staff:
                return
            if app.status != Status.SUBMITTED.value:
                raise ConcurrentUpdate()
            app.claimed_by = staff
            self._transition(session, app, Status.IN_REVIEW, staff)

    def release(self, app_id: int, staff: str) -> None:
        with self._db.write() as session:
            app = self._require_claim(session, app_id, staff)
            app.claimed_by = None
            app.identity_confirmed = False
            self._transition(session, app, Status.SUBMITTED, staff)

    def _require_claim(self, session: Session, app_id: int, staff: str) -> ApplicationRow:
        app = self._load(session, app_id)
        if app.status != Status.IN_REVIEW.value or app.claimed_by != staff:
            raise ConcurrentUpdate()
        return app

    def correct(
        self, app_id: int, staff: str, field_id: str, new_value: str, reason: str
    ) -> Problem | None:
        """A clerk's correction: needs a reason; returns the validation problem, if any."""
        if not reason.strip():
            raise ValidationFailed("correction_reason_required")
        with self._db.write() as session:
            app = self._require_claim(session, app_id, staff)
            template = self._templates.get(app.template_pk)
            field = template.field(field_id)
            if field.source is Source.CARD_MY_NUMBER:
                raise ValidationFailed("my_number_not_stored")
            after = {**self._values(app), field_id: new_value}
            problem = check_field(field, new_value, required=is_required(field, after))
            if problem is not None:
                return problem
            old = self._values(app).get(field_id, "")
            corrected = {**self._stored(app), field_id: FilledValue(new_value, Provenance.STAFF)}
            self._store_settled(app, template, corrected, app.ticket_date or today(self._clock))
            now = self._clock.now()
            session.add(
                FieldCorrectionRow(
                    application_id=app.id,
                    field_id=field_id,
                    old_value=old,
                    new_value=new_value,
                    reason=reason.strip()[:200],
                    staff_id=staff,
                    at=now,
                )
            )
            app.fee_amount = self.fee_for(template, self._values(app)).total
            app.updated_at = now
            audit.record(
                session,
                at=now,
                actor=staff,
                action="field_corrected",
                object_type="application",
                object_id=app.id,
                field=field_id,
            )
        return None

    def approve(self, app_id: int, staff: str, *, identity_confirmed: bool) -> None:
        """Approval records the clerk and the 本人確認 (face photo compared with the person)."""
        if not identity_confirmed:
            raise ValidationFailed("identity_not_confirmed")
        with self._db.write() as session:
            app = self._require_claim(session, app_id, staff)
            template = self._templates.get(app.template_pk)
            self._enforce(assess(template, self._values(app), include_staff=True))
            app.identity_confirmed = True
            app.approved_by = staff
            app.approved_at = self._clock.now()
            audit.record(
                session,
                at=self._clock.now(),
                actor=staff,
                action="identity_confirmed",
                object_type="application",
                object_id=app.id,
                method="face_photo",
            )
            self._transition(session, app, Status.APPROVED, staff)

    def reject(self, app_id: int, staff: str, reason: str) -> None:
        with self._db.write() as session:
            app = self._require_claim(session, app_id, staff)
            app.reject_reason = reason.strip()[:200]
            self._transition(session, app, Status.REJECTED, staff)

    def cancel(self, app_id: int, actor: str) -> None:
        """Refused while a cashless order is open: cancel or settle the payment first, so
        money paid by QR cannot arrive for a cancelled application unnoticed."""
        with self._db.write() as session:
            app = self._load(session, app_id)
            open_order = session.scalars(
                select(PaymentOrderRow.id).where(
                    PaymentOrderRow.application_id == app_id, PaymentOrderRow.status == "open"
                )
            ).first()
            if open_order is not None:
                raise PaymentOpen()
            if app.status == Status.PAID.value:  # the money goes back first
                raise PaymentOpen("payment_refund_first")
            self._transition(session, app, Status.CANCELLED, actor)

    def _ids_where(self, status: Status, *conditions: ColumnElement[bool]) -> list[int]:
        with self._db.read() as session:
            query = select(ApplicationRow.id).where(
                ApplicationRow.status == status.value, *conditions
            )
            return list(session.scalars(query))

    def abandon_stale_drafts(self, older_than_s: float) -> int:
        """At start-up: drafts left by a crash or power cut hold personal values that no
        clerk will ever see. Cancel them and drop the values (REC-01)."""
        cutoff = self._clock.now() - timedelta(seconds=older_than_s)
        ids = self._ids_where(Status.DRAFT, ApplicationRow.created_at < cutoff)
        for app_id in ids:
            self.abandon_draft(app_id, "stale")
        return len(ids)

    def release_claims(self, staff: str) -> int:
        """At sign-out: the clerk's applications in review go back to the queue."""
        ids = self._ids_where(Status.IN_REVIEW, ApplicationRow.claimed_by == staff)
        for app_id in ids:
            try:
                self.release(app_id, staff)
            except ConcurrentUpdate:
                pass  # someone took it over meanwhile
        return len(ids)

    def take_over(self, app_id: int, staff: str) -> None:
        """A clerk takes over an application another clerk left in review (audited)."""
        with self._db.write() as session:
            app = self._load(session, app_id)
            if app.status != Status.IN_REVIEW.value:
                raise ConcurrentUpdate()
            previous = app.claimed_by
            if previous == staff:
                return
            app.claimed_by = staff
            app.identity_confirmed = False  # the new clerk checks the person again
            app.updated_at = self._clock.now()
            audit.record(
                session,
                at=self._clock.now(),
                actor=staff,
                action="claim_taken_over",
                object_type="application",
                object_id=app.id,
                previous=previous,
            )

    def complete(self, app_id: int, staff: str) -> None:
        with self._db.write() as session:
            self._transition(session, self._load(session, app_id), Status.COMPLETED, staff)

    # used by the print and payment services inside their own transactions
    def transition_in(self, session: Session, app_id: int, target: Status, actor: str) -> None:
        self._transition(session, self._load(session, app_id), target, actor)
