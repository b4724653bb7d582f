"""Database models. Personal values live only in ``field_values`` and ``field_corrections``;
the audit log and print jobs reference rows by id and never hold resident data.
The My Number is never stored (see kiosk/applications.py)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class FormTemplateRow(Base):
    """One published version of a form template; immutable once stored."""

    __tablename__ = "form_templates"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    definition: Mapped[dict[str, object]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApplicationRow(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("ticket_date", "ticket_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_pk: Mapped[int] = mapped_column(ForeignKey("form_templates.id"))
    status: Mapped[str] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(16))
    #: the ticket is issued when the application is submitted
    ticket_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    ticket_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ticket: Mapped[str | None] = mapped_column(String(16), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    identity_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    reject_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version_id: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    template: Mapped[FormTemplateRow] = relationship()
    values: Mapped[list[FieldValueRow]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="FieldValueRow.id"
    )
    history: Mapped[list[StatusChangeRow]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="StatusChangeRow.id"
    )

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012 - SQLAlchemy API


class FieldValueRow(Base):
    __tablename__ = "field_values"
    __table_args__ = (UniqueConstraint("application_id", "field_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    #: provenance: card / resident / staff / system
    source: Mapped[str] = mapped_column(String(16))

    application: Mapped[ApplicationRow] = relationship(back_populates="values")


class FieldCorrectionRow(Base):
    """A clerk's correction, with the reason the handbook requires."""

    __tablename__ = "field_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    field_id: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str] = mapped_column(Text)
    new_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StatusChangeRow(Base):
    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    application: Mapped[ApplicationRow] = relationship(back_populates="history")


class PrintJobRow(Base):
    """Stores what to print (application + template version, or a payment order for the
    payment slips), never the rendered PDF."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    template_pk: Mapped[int] = mapped_column(ForeignKey("form_templates.id"))
    status: Mapped[str] = mapped_column(String(24), index=True)
    printer: Mapped[str] = mapped_column(String(64))
    spooler_job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reissue: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: when a job the printer refused is sent again by itself (back-off); None = not by itself
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: why a clerk must say whether it printed (spooler_completed, unknown_after_restart, …)
    confirm_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: the earlier job a reprint replaces (its reissue count is one more)
    replaces_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: "host:pid" of the process handing the job to the spooler (status sending)
    sending_by: Mapped[str | None] = mapped_column(String(96), nullable=True)
    #: what the job prints: "form" (the application), "payment_slip" or "receipt"
    document: Mapped[str] = mapped_column(String(16), default="form", server_default="form")
    #: the payment order a slip is built from when it is sent (None for the form)
    payment_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_orders.id", name="fk_print_jobs_payment_order_id"), nullable=True
    )
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentOrderRow(Base):
    """Holds the order reference, fee code and amount only: no personal data."""

    __tablename__ = "payment_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    fee_code: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))  # cashless / cash
    provider: Mapped[str] = mapped_column(String(32))
    provider_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # devices.payment.OrderStatus
    qr_content: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: fee codes, unit amounts and units the amount was computed from ("code:300x2;…"):
    #: when the application's basis changes, the order is cancelled and reissued
    fee_basis: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: how often create_order was sent with this order's idempotency key
    create_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refund_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    refund_method: Mapped[str | None] = mapped_column(String(16), nullable=True)  # provider/manual
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    refunded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditEventRow(Base):
    """Who did what, when, to which object. ``detail`` holds codes, never personal values."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class TicketCounterRow(Base):
    __tablename__ = "ticket_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class FeeOverrideRow(Base):
    """The municipality's fee table: a fee code's amount, overriding the template default
    without a new template version."""

    __tablename__ = "fee_overrides"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AdminAccountRow(Base):
    """An administrator; only an argon2id hash of the password is kept."""

    __tablename__ = "admin_accounts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GlyphDecisionRow(Base):
    """A clerk's decision on how to print the characters the fonts lack (外字). Holds a hash
    of the problems it was made for, never the characters: a later correction that changes
    them leaves the decision behind. Every decision is a new row (and audited)."""

    __tablename__ = "glyph_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    #: printing.document.GlyphPolicy: "fallback" (IPAmj明朝) or "blank" (handwritten)
    decision: Mapped[str] = mapped_column(String(16))
    fingerprint: Mapped[str] = mapped_column(String(64))
    problem_count: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
