"""Payment orders for an application's fee: cashless through the provider, or cash.

- The amount is computed here from the stored application and the template's fee rules
  (with the municipality's fee table), never taken from a screen (PAY-02). A screen that
  shows another amount is refused and audited.
- One open order per application, with a unique reference and an idempotency key that
  is committed before the provider is called: a retry after a timeout or a crash reuses
  the key and cannot make a second order (PAY-04).
- An order is paid only when the provider says so (PAY-05), or — for a locally built
  code with no status to query — when a clerk confirms it on the staff screen (audited).
- Open orders are polled with back-off, and reconciled at start-up.
- When the application's fee basis changes while its order is open, the order is
  cancelled and a new one is issued under a new reference.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.errors import PaymentError, RefundNotSupported
from devices.payment import OrderStatus, PaymentProvider
from forms.fees import Fee
from kiosk import audit
from kiosk.applications import ApplicationService
from kiosk.clock import Clock
from kiosk.errors import IllegalTransition, NotFound, UserFacingError
from kiosk.status import Status
from kiosk.storage.db import Database
from kiosk.storage.models import ApplicationRow, PaymentOrderRow

log = logging.getLogger(__name__)

#: PayPay's texts say 2–3 s (API doc) and 4–5 s (SDK); start fast, slow down while open
POLL_FIRST_S = 2.0
POLL_MAX_S = 10.0
POLL_GROWTH = 1.5
#: after a failed poll: wait longer each time, up to this
POLL_ERROR_MAX_S = 30.0
#: a code withdrawn (cancelled, expired) this recently may still be paid by a payment
#: that was already on its way: it is asked about again every LATE_POLL_S
LATE_WINDOW_S = 30 * 60
LATE_POLL_S = 15.0
#: ``refund_method`` of a paid order whose money must go back (e.g. paid twice)
NEEDS_REFUND = "pending"


class AmountMismatch(UserFacingError):
    """The amount a screen showed is not the amount computed from the application."""

    message_key = "payment_amount_mismatch"


class StaffConfirmNotAllowed(UserFacingError):
    """A provider that reports payment itself is never overruled by a clerk's click."""

    message_key = "payment_confirm_not_allowed"


class NothingToRefund(UserFacingError):
    message_key = "payment_nothing_to_refund"


@dataclass(frozen=True)
class PaymentView:
    order_id: int
    reference: str
    amount: int
    method: str
    status: OrderStatus
    qr_content: str | None
    expires_at: datetime | None
    provider: str = ""
    refund_method: str | None = None

    @property
    def needs_refund(self) -> bool:
        return self.status is OrderStatus.PAID and self.refund_method == NEEDS_REFUND

    def seconds_left(self, now: datetime) -> int | None:
        """Whole seconds until the code expires (0 once it has); None without expiry."""
        if self.expires_at is None or self.status is not OrderStatus.OPEN:
            return None
        expires = self.expires_at
        if expires.tzinfo is None:  # SQLite returns naive datetimes, stored in the clock's zone
            now = now.replace(tzinfo=None)
        return max(0, int((expires - now).total_seconds()))


def _view(row: PaymentOrderRow) -> PaymentView:
    return PaymentView(
        row.id,
        row.reference,
        row.amount,
        row.method,
        OrderStatus(row.status),
        row.qr_content,
        row.expires_at,
        row.provider,
        row.refund_method,
    )


def fee_basis(fee: Fee) -> str:
    """The codes, unit amounts and units an amount comes from (no personal data)."""
    return ";".join(f"{line.code}:{line.unit_amount}x{line.units}" for line in fee.lines)[:200]


def _reference(app: ApplicationRow, kind: str, seq: int) -> str:
    """Unique per order: ticket day, ticket number, P (provider) or C (cash), sequence."""
    return f"{app.ticket_date:%Y%m%d}{app.ticket_no:04d}{kind}{seq}"


@dataclass
class _Schedule:
    next_at: float
    interval: float


class PaymentService:
    def __init__(
        self, db: Database, apps: ApplicationService, provider: PaymentProvider, clock: Clock
    ) -> None:
        self._db = db
        self._apps = apps
        self._provider = provider
        self._clock = clock
        self._schedule: dict[int, _Schedule] = {}
        self._late_next_at = 0.0
        #: True while the last poll round could not reach the provider
        self.unreachable = False

    @property
    def provider_name(self) -> str:
        return self._provider.name

    @property
    def staff_confirms(self) -> bool:
        """True when clerks confirm cashless payment themselves (no status to query)."""
        return not self._provider.can_query_status

    # --- reading -----------------------------------------------------------------------
    def _open_order(self, session: Session, app_id: int) -> PaymentOrderRow | None:
        return session.scalars(
            select(PaymentOrderRow).where(
                PaymentOrderRow.application_id == app_id,
                PaymentOrderRow.status == OrderStatus.OPEN.value,
            )
        ).first()

    def current(self, app_id: int) -> PaymentView | None:
        with self._db.read() as session:
            row = session.scalars(
                select(PaymentOrderRow)
                .where(PaymentOrderRow.application_id == app_id)
                .order_by(PaymentOrderRow.id.desc())
            ).first()
            return _view(row) if row else None

    def needs_refund(self, app_id: int) -> bool:
        """Money that must go back: paid twice, or paid for a cancelled application."""
        with self._db.read() as session:
            return (
                session.scalars(
                    select(PaymentOrderRow.id).where(
                        PaymentOrderRow.application_id == app_id,
                        PaymentOrderRow.status == OrderStatus.PAID.value,
                        PaymentOrderRow.refund_method == NEEDS_REFUND,
                    )
                ).first()
                is not None
            )

    def has_open_order(self, app_id: int) -> bool:
        with self._db.read() as session:
            return self._open_order(session, app_id) is not None

    def seconds_left(self, view: PaymentView) -> int | None:
        return view.seconds_left(self._clock.now())

    def _count(self, session: Session, app_id: int) -> int:
        return len(
            session.scalars(
                select(PaymentOrderRow.id).where(PaymentOrderRow.application_id == app_id)
            ).all()
        )

    def _audit(
        self, session: Session, actor: str, action: str, order_id: int, **detail: str | int | None
    ) -> None:
        audit.record(
            session,
            at=self._clock.now(),
            actor=actor,
            action=action,
            object_type="payment_order",
            object_id=order_id,
            **detail,
        )

    # --- issuing -----------------------------------------------------------------------
    def issue(self, app_id: int, staff: str, *, shown_amount: int | None = None) -> PaymentView:
        """Create the cashless order (once) and move the application to awaiting payment.

        ``shown_amount`` is what the clerk's screen showed; it is checked, never used."""
        fee = self._apps.detail(app_id).fee
        amount, basis = fee.total, fee_basis(fee)
        if shown_amount is not None and shown_amount != amount:
            with self._db.write() as session:
                audit.record(
                    session,
                    at=self._clock.now(),
                    actor=staff,
                    action="payment_amount_mismatch",
                    object_type="application",
                    object_id=app_id,
                    shown=shown_amount,
                    computed=amount,
                )
            raise AmountMismatch(shown=shown_amount, computed=amount)
        self._supersede_if_changed(app_id, basis, staff)
        now = self._clock.now()
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is None:
                raise NotFound()
            existing = self._open_order(session, app_id)
            if existing is not None and existing.qr_content:
                return _view(existing)
            # printed: the first code; awaiting payment without an open order: the previous
            # code expired, was cancelled or superseded, so a new one (new reference)
            reissue = app.status == Status.AWAITING_PAYMENT.value
            if amount <= 0 or not (reissue or app.status == Status.PRINTED.value):
                raise IllegalTransition(current=app.status, target="awaiting_payment")
            if app.fee_amount != amount:  # the fee table changed since the application
                audit.record(
                    session,
                    at=now,
                    actor=staff,
                    action="fee_recomputed",
                    object_type="application",
                    object_id=app_id,
                    previous=app.fee_amount,
                    amount=amount,
                )
                app.fee_amount = amount
            order = existing or PaymentOrderRow(
                application_id=app_id,
                reference=_reference(app, "P", self._count(session, app_id) + 1),
                idempotency_key=uuid.uuid4().hex,
                amount=amount,
                fee_code=fee.primary_code,
                fee_basis=basis,
                method="cashless",
                provider=self._provider.name,
                status=OrderStatus.OPEN.value,
                created_at=now,
                create_attempts=0,
            )
            order.create_attempts = (order.create_attempts or 0) + 1
            session.add(order)
            session.flush()
            # Committed before the provider is called: a retry (after a timeout, an error
            # or a crash) reuses this key and cannot create a second order.
            key, reference, fee_code, order_id = (
                order.idempotency_key,
                order.reference,
                order.fee_code,
                order.id,
            )
            amount = order.amount
        created = self._provider.create_order(
            amount_yen=amount, reference=reference, fee_code=fee_code, idempotency_key=key
        )
        with self._db.write() as session:
            stored = session.get(PaymentOrderRow, order_id)
            assert stored is not None
            stored.provider_order_id = created.provider_order_id
            stored.qr_content = created.qr_content
            # in the clock's zone, like every other time stored (SQLite keeps no offset)
            stored.expires_at = created.expires_at.astimezone(self._clock.now().tzinfo)
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is not None and app.status == Status.PRINTED.value:
                self._apps.transition_in(session, app_id, Status.AWAITING_PAYMENT, staff)
            self._audit(
                session,
                staff,
                "payment_issued",
                stored.id,
                amount=amount,
                fee_code=fee_code,
                provider=self._provider.name,
                attempts=stored.create_attempts,
            )
            self._schedule[stored.id] = _Schedule(
                self._clock.monotonic() + POLL_FIRST_S, POLL_FIRST_S
            )
            return _view(stored)

    def _supersede_if_changed(self, app_id: int, basis: str, actor: str) -> bool:
        """An open order made for other fee lines than the application's now is withdrawn
        (the caller issues a new one). False if there was nothing to withdraw."""
        with self._db.read() as session:
            order = self._open_order(session, app_id)
            if order is None or order.fee_basis in (None, basis):
                return False
            provider_id = order.provider_order_id
        status = OrderStatus.CANCELLED
        if provider_id is not None:
            status = self._provider.cancel(provider_id)
        with self._db.write() as session:
            order = self._open_order(session, app_id)
            if order is None:
                return False
            if status is OrderStatus.PAID:  # paid at the old amount a moment ago: keep it
                self._settle(session, order, status)
                return False
            order.status = OrderStatus.CANCELLED.value
            self._audit(session, actor, "payment_superseded", order.id, reason="fee_changed")
            return True

    # --- settling ----------------------------------------------------------------------
    def _settle(self, session: Session, order: PaymentOrderRow, status: OrderStatus) -> None:
        """Record what the provider reported for an open order."""
        order.status = status.value
        actor = f"provider:{order.provider}"
        if status is OrderStatus.PAID:
            order.paid_at = self._clock.now()
            order.recorded_by = actor
            app = session.get(ApplicationRow, order.application_id, with_for_update=True)
            if app is not None and app.status == Status.AWAITING_PAYMENT.value:
                self._apps.transition_in(session, order.application_id, Status.PAID, actor)
            else:  # money arrived for an application that no longer expects it
                order.refund_method = NEEDS_REFUND
                self._audit(session, actor, "payment_needs_refund", order.id, amount=order.amount)
        self._audit(session, actor, f"payment_{status.value}", order.id)
        self._schedule.pop(order.id, None)

    def poll(self, app_id: int) -> PaymentView | None:
        """Ask the provider about the open order; a paid order marks the application paid.

        A code past its expiry is withdrawn at the provider (a payment that lands in that
        moment still counts). Codes without a status to query only expire here."""
        with self._db.read() as session:
            order = self._open_order(session, app_id)
            if order is None or order.provider_order_id is None:
                return None
            basis = order.fee_basis
        if basis is not None:
            fee = self._apps.detail(app_id).fee
            if fee_basis(fee) != basis and self._supersede_if_changed(
                app_id, fee_basis(fee), "system"
            ):
                return self.issue(app_id, "system")  # the application changed: a new code
        with self._db.read() as session:
            order = self._open_order(session, app_id)
            if order is None or order.provider_order_id is None:
                return self.current(app_id)
            provider_id, expired = (
                order.provider_order_id,
                _view(order).seconds_left(self._clock.now()) == 0,
            )
        if not self._provider.can_query_status:
            status = OrderStatus.EXPIRED if expired else OrderStatus.OPEN
        else:
            status = self._provider.get_status(provider_id)
            if status is OrderStatus.OPEN and expired:
                status = self._provider.cancel(provider_id)
                if status is OrderStatus.CANCELLED:
                    status = OrderStatus.EXPIRED
        with self._db.write() as session:
            order = self._open_order(session, app_id)
            if order is None:  # settled meanwhile (e.g. cash at the counter)
                return self.current(app_id)
            if status is not OrderStatus.OPEN:
                self._settle(session, order, status)
            return _view(order)

    def _open_app_ids(self) -> list[tuple[int, int]]:
        with self._db.read() as session:
            return [
                (row.id, row.application_id)
                for row in session.scalars(
                    select(PaymentOrderRow).where(
                        PaymentOrderRow.status == OrderStatus.OPEN.value,
                        PaymentOrderRow.provider_order_id.is_not(None),
                    )
                )
            ]

    def _poll_some(self, due_only: bool) -> list[int]:
        changed: list[int] = []
        failed = asked = False
        now = self._clock.monotonic()
        for order_id, app_id in self._open_app_ids():
            plan = self._schedule.setdefault(order_id, _Schedule(now, POLL_FIRST_S))
            if due_only and now < plan.next_at:
                continue
            asked = True
            try:
                view = self.poll(app_id)
            except PaymentError as exc:
                failed = True
                plan.interval = min(max(plan.interval, POLL_FIRST_S) * 2, POLL_ERROR_MAX_S)
                plan.next_at = now + plan.interval
                log.warning("payment order %d: poll failed (%s)", order_id, exc)
                continue
            if view is not None and view.status is not OrderStatus.OPEN:
                changed.append(app_id)
            elif order_id in self._schedule:
                plan.interval = min(plan.interval * POLL_GROWTH, POLL_MAX_S)
                plan.next_at = now + plan.interval
        changed += self._check_late(due_only)
        if asked:  # a round in which nothing was due says nothing about the provider
            self.unreachable = failed
        return changed

    def _check_late(self, due_only: bool) -> list[int]:
        """A payment already on its way when its code was withdrawn lands anyway: the
        application is paid by it if it still waits, otherwise it is flagged for refund."""
        if not self._provider.can_query_status:
            return []
        now = self._clock.monotonic()
        if due_only and now < self._late_next_at:
            return []
        self._late_next_at = now + LATE_POLL_S
        since = self._clock.now() - timedelta(seconds=LATE_WINDOW_S)
        with self._db.read() as session:
            late = [
                (row.id, row.application_id, row.provider_order_id)
                for row in session.scalars(
                    select(PaymentOrderRow).where(
                        PaymentOrderRow.status.in_(
                            (OrderStatus.CANCELLED.value, OrderStatus.EXPIRED.value)
                        ),
                        PaymentOrderRow.provider == self._provider.name,
                        PaymentOrderRow.provider_order_id.is_not(None),
                        PaymentOrderRow.created_at >= since,
                    )
                )
            ]
        changed = []
        for order_id, app_id, provider_id in late:
            assert provider_id is not None
            try:
                status = self._provider.get_status(provider_id)
            except PaymentError:
                continue
            if status is not OrderStatus.PAID:
                continue
            with self._db.write() as session:
                order = session.get(PaymentOrderRow, order_id)
                if order is None or order.status == OrderStatus.PAID.value:
                    continue
                newer_open = self._open_order(session, app_id) is not None
                # this payment counts; a newer code still out is withdrawn below
                self._audit(session, f"provider:{order.provider}", "payment_late", order.id)
                self._settle(session, order, OrderStatus.PAID)
            if newer_open:
                try:
                    self.cancel_order(app_id, "system")
                except PaymentError:
                    pass  # asked again in the next round
            changed.append(app_id)
        return changed

    def poll_due(self) -> list[int]:
        """Poll the open orders whose turn has come (back-off while a code stays unpaid or
        the provider cannot be reached); return the applications that changed."""
        return self._poll_some(due_only=True)

    def poll_open_orders(self) -> list[int]:
        """Poll every open order now (all counters), so a payment is recorded even when no
        clerk is looking at it; return the applications that changed."""
        return self._poll_some(due_only=False)

    def reconcile_open_orders(self) -> list[int]:
        """At start-up: orders left open by a crash or a power cut are settled from the
        provider's status (PAY-05, REC-01). An unreachable provider leaves them open for
        the normal polling."""
        changed = self.poll_open_orders()
        if changed:
            with self._db.write() as session:
                for app_id in changed:
                    audit.record(
                        session,
                        at=self._clock.now(),
                        actor="system",
                        action="payment_reconciled",
                        object_type="application",
                        object_id=app_id,
                    )
        return changed

    # --- the clerk's actions -----------------------------------------------------------
    def cancel_order(self, app_id: int, staff: str) -> PaymentView | None:
        """Withdraw the open QR code; the application keeps waiting for payment (a new
        code or cash). If the resident paid a moment before, the payment is recorded."""
        with self._db.read() as session:
            order = self._open_order(session, app_id)
            if order is None:
                return self.current(app_id)
            provider_id = order.provider_order_id
        status = self._provider.cancel(provider_id) if provider_id else OrderStatus.CANCELLED
        with self._db.write() as session:
            order = self._open_order(session, app_id)
            if order is None:
                return self.current(app_id)
            if status is OrderStatus.OPEN:  # the provider would not withdraw it
                raise PaymentError()
            if status is OrderStatus.CANCELLED:
                order.status = status.value
                self._schedule.pop(order.id, None)
                self._audit(session, staff, "payment_cancelled", order.id)
            else:
                self._settle(session, order, status)
            return _view(order)

    def confirm_paid(self, app_id: int, staff: str) -> PaymentView:
        """The clerk saw the payment completed on the resident's phone: only for codes
        that have no status to query (the JPQR stand practice), and audited."""
        if self._provider.can_query_status:
            raise StaffConfirmNotAllowed()
        with self._db.write() as session:
            order = self._open_order(session, app_id)
            if order is None or order.provider != self._provider.name:
                raise NotFound()
            order.status = OrderStatus.PAID.value
            order.paid_at = self._clock.now()
            order.recorded_by = staff
            self._apps.transition_in(session, app_id, Status.PAID, staff)
            self._audit(session, staff, "payment_confirmed_by_staff", order.id, amount=order.amount)
            self._schedule.pop(order.id, None)
            return _view(order)

    def refund(self, app_id: int, staff: str) -> PaymentView:
        """Give the money back: through the provider where it supports refunds, by hand
        otherwise (cash, or the municipality's bank transfer), audited either way. A paid
        application is cancelled with it; a completed one (document handed over) is not
        refunded here."""
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is None:
                raise NotFound()
            paid = list(
                session.scalars(
                    select(PaymentOrderRow)
                    .where(
                        PaymentOrderRow.application_id == app_id,
                        PaymentOrderRow.status == OrderStatus.PAID.value,
                    )
                    .order_by(PaymentOrderRow.id.desc())
                )
            )
            # money paid twice (or for a cancelled application) goes back first; otherwise
            # the one payment of a paid application, which is then cancelled
            flagged = [o for o in paid if o.refund_method == NEEDS_REFUND]
            order = flagged[0] if flagged else (paid[0] if paid else None)
            refundable = app.status in (Status.PAID.value, Status.CANCELLED.value) or flagged
            if order is None or not refundable:
                raise NothingToRefund()
            cancels_application = not flagged and app.status == Status.PAID.value
            by_provider = (
                order.method == "cashless"
                and order.provider == self._provider.name
                and self._provider.supports_refund
            )
            if order.refund_key is None:
                order.refund_key = uuid.uuid4().hex  # committed before the provider call
            order_id, key = order.id, order.refund_key
            provider_id, amount = order.provider_order_id, order.amount
        if by_provider:
            assert provider_id is not None
            try:
                status = self._provider.refund(provider_id, amount_yen=amount, idempotency_key=key)
            except RefundNotSupported:
                by_provider = False
            else:
                if status is not OrderStatus.REFUNDED:
                    raise PaymentError()
        with self._db.write() as session:
            order = session.get(PaymentOrderRow, order_id)
            assert order is not None
            if order.status == OrderStatus.REFUNDED.value:
                return _view(order)
            order.status = OrderStatus.REFUNDED.value
            order.refund_method = "provider" if by_provider else "manual"
            order.refunded_at = self._clock.now()
            order.refunded_by = staff
            self._audit(
                session, staff, "payment_refunded", order.id,
                amount=order.amount, refund_method=order.refund_method,
            )  # fmt: skip
            if cancels_application:
                self._apps.transition_in(session, app_id, Status.CANCELLED, staff)
            return _view(order)

    def pay_cash(self, app_id: int, staff: str) -> PaymentView:
        """The resident pays cash: any open cashless order is cancelled first."""
        with self._db.read() as session:
            order = self._open_order(session, app_id)
            provider_id = order.provider_order_id if order else None
        if provider_id is not None and self._provider.cancel(provider_id) is OrderStatus.PAID:
            view = self.poll(app_id)  # it was paid by QR a moment ago: do not take cash too
            if view is None or view.status is not OrderStatus.PAID:
                view = self.current(app_id)
            assert view is not None
            return view
        now = self._clock.now()
        fee = self._apps.detail(app_id).fee
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is None:
                raise NotFound()
            open_order = self._open_order(session, app_id)
            if open_order is not None:
                open_order.status = OrderStatus.CANCELLED.value
                self._schedule.pop(open_order.id, None)
                self._audit(session, staff, "payment_cancelled", open_order.id, reason="cash")
            if app.status == Status.PRINTED.value:
                self._apps.transition_in(session, app_id, Status.AWAITING_PAYMENT, staff)
            elif app.status != Status.AWAITING_PAYMENT.value:
                raise IllegalTransition(current=app.status, target=Status.PAID.value)
            if fee.total <= 0:
                raise IllegalTransition(current=app.status, target=Status.PAID.value)
            app.fee_amount = fee.total
            cash = PaymentOrderRow(
                application_id=app_id,
                reference=_reference(app, "C", self._count(session, app_id) + 1),
                idempotency_key=uuid.uuid4().hex,
                amount=fee.total,
                fee_code=fee.primary_code,
                fee_basis=fee_basis(fee),
                method="cash",
                provider="cash",
                status=OrderStatus.PAID.value,
                created_at=now,
                paid_at=now,
                recorded_by=staff,
                create_attempts=0,
            )
            session.add(cash)
            session.flush()
            self._apps.transition_in(session, app_id, Status.PAID, staff)
            self._audit(session, staff, "payment_cash", cash.id, amount=fee.total)
            return _view(cash)
