"""Payment orders for an application's fee: cashless through the provider, or cash.

The amount always comes from the stored application (computed from the template's fee
rules in the core), never from anything shown on a screen.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.payment import OrderStatus, PaymentProvider
from kiosk import audit
from kiosk.applications import ApplicationService
from kiosk.clock import Clock
from kiosk.errors import IllegalTransition, NotFound
from kiosk.status import Status
from kiosk.storage.db import Database
from kiosk.storage.models import ApplicationRow, PaymentOrderRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentView:
    order_id: int
    reference: str
    amount: int
    method: str
    status: OrderStatus
    qr_content: str | None
    expires_at: datetime | None


def _view(row: PaymentOrderRow) -> PaymentView:
    return PaymentView(
        row.id,
        row.reference,
        row.amount,
        row.method,
        OrderStatus(row.status),
        row.qr_content,
        row.expires_at,
    )


class PaymentService:
    def __init__(
        self, db: Database, apps: ApplicationService, provider: PaymentProvider, clock: Clock
    ) -> None:
        self._db = db
        self._apps = apps
        self._provider = provider
        self._clock = clock

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

    def issue(self, app_id: int, staff: str) -> PaymentView:
        """Create the cashless order (once) and move the application to awaiting payment."""
        now = self._clock.now()
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id)
            if app is None:
                raise NotFound()
            existing = self._open_order(session, app_id)
            if existing is not None and existing.qr_content:
                return _view(existing)
            # printed: the first code; awaiting payment without an open order: the previous
            # code expired or failed, so a new one (with a new reference) is issued
            reissue = app.status == Status.AWAITING_PAYMENT.value
            if app.fee_amount <= 0 or not (reissue or app.status == Status.PRINTED.value):
                raise IllegalTransition(current=app.status, target="awaiting_payment")
            detail = self._apps.detail(app_id)
            count = len(
                session.scalars(
                    select(PaymentOrderRow.id).where(PaymentOrderRow.application_id == app_id)
                ).all()
            )
            order = existing or PaymentOrderRow(
                application_id=app_id,
                reference=f"{app.ticket_date:%Y%m%d}{app.ticket_no:04d}P{count + 1}",
                idempotency_key=uuid.uuid4().hex,
                amount=app.fee_amount,
                fee_code=detail.fee.primary_code,
                method="cashless",
                provider=self._provider.name,
                status=OrderStatus.OPEN.value,
                created_at=now,
            )
            session.add(order)
            session.flush()
            # The row (with its idempotency key) is committed in this transaction even if the
            # provider call fails, so a retry reuses the key and cannot create a second order.
            key, reference, amount, fee_code = (
                order.idempotency_key,
                order.reference,
                order.amount,
                order.fee_code,
            )
            order_id = order.id
        created = self._provider.create_order(
            amount_yen=amount, reference=reference, fee_code=fee_code, idempotency_key=key
        )
        with self._db.write() as session:
            stored = session.get(PaymentOrderRow, order_id)
            assert stored is not None
            stored.provider_order_id = created.provider_order_id
            stored.qr_content = created.qr_content
            stored.expires_at = created.expires_at
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is not None and app.status == Status.PRINTED.value:
                self._apps.transition_in(session, app_id, Status.AWAITING_PAYMENT, staff)
            audit.record(
                session,
                at=self._clock.now(),
                actor=staff,
                action="payment_issued",
                object_type="payment_order",
                object_id=stored.id,
                amount=amount,
                fee_code=fee_code,
            )
            return _view(stored)

    def poll(self, app_id: int) -> PaymentView | None:
        """Ask the provider about the open order; a paid order marks the application paid."""
        with self._db.read() as session:
            order = self._open_order(session, app_id)
            if order is None or order.provider_order_id is None:
                return None
            provider_id = order.provider_order_id
        status = self._provider.get_status(provider_id)
        with self._db.write() as session:
            order = self._open_order(session, app_id)
            if order is None:  # settled meanwhile (e.g. cash at the counter)
                return self.current(app_id)
            if status is not OrderStatus.OPEN:
                order.status = status.value
                if status is OrderStatus.PAID:
                    order.paid_at = self._clock.now()
                    order.recorded_by = f"provider:{self._provider.name}"
                    app = session.get(ApplicationRow, app_id, with_for_update=True)
                    if app is not None and app.status == Status.AWAITING_PAYMENT.value:
                        self._apps.transition_in(session, app_id, Status.PAID, order.recorded_by)
                    else:  # money arrived for an application that no longer expects it
                        audit.record(
                            session,
                            at=self._clock.now(),
                            actor=order.recorded_by,
                            action="payment_needs_refund",
                            object_type="payment_order",
                            object_id=order.id,
                            amount=order.amount,
                        )
                audit.record(
                    session,
                    at=self._clock.now(),
                    actor=f"provider:{order.provider}",
                    action=f"payment_{status.value}",
                    object_type="payment_order",
                    object_id=order.id,
                )
            return _view(order)

    def poll_open_orders(self) -> list[int]:
        """Poll every open cashless order (all counters); return the applications that
        changed, so a payment is recorded even when no clerk is looking at it."""
        with self._db.read() as session:
            app_ids = list(
                session.scalars(
                    select(PaymentOrderRow.application_id).where(
                        PaymentOrderRow.status == OrderStatus.OPEN.value,
                        PaymentOrderRow.provider_order_id.is_not(None),
                    )
                )
            )
        changed = []
        for app_id in app_ids:
            view = self.poll(app_id)
            if view is not None and view.status is not OrderStatus.OPEN:
                changed.append(app_id)
        return changed

    def has_open_order(self, app_id: int) -> bool:
        with self._db.read() as session:
            return self._open_order(session, app_id) is not None

    def pay_cash(self, app_id: int, staff: str) -> PaymentView:
        """The resident pays cash: any open cashless order is cancelled first."""
        with self._db.read() as session:
            order = self._open_order(session, app_id)
            provider_id = order.provider_order_id if order else None
        if provider_id is not None and self._provider.cancel(provider_id) is OrderStatus.PAID:
            view = self.poll(app_id)  # it was paid by QR a moment ago: do not take cash too
            assert view is not None
            return view
        now = self._clock.now()
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id)
            if app is None:
                raise NotFound()
            open_order = self._open_order(session, app_id)
            if open_order is not None:
                open_order.status = OrderStatus.CANCELLED.value
            if app.status == Status.PRINTED.value:
                self._apps.transition_in(session, app_id, Status.AWAITING_PAYMENT, staff)
            elif app.status != Status.AWAITING_PAYMENT.value:
                raise IllegalTransition(current=app.status, target=Status.PAID.value)
            seq = (
                len(
                    session.scalars(
                        select(PaymentOrderRow.id).where(PaymentOrderRow.application_id == app_id)
                    ).all()
                )
                + 1
            )
            cash = PaymentOrderRow(
                application_id=app_id,
                reference=f"{app.ticket_date:%Y%m%d}{app.ticket_no:04d}C{seq}",
                idempotency_key=uuid.uuid4().hex,
                amount=app.fee_amount,
                fee_code=self._apps.detail(app_id).fee.primary_code,
                method="cash",
                provider="cash",
                status=OrderStatus.PAID.value,
                created_at=now,
                paid_at=now,
                recorded_by=staff,
            )
            session.add(cash)
            session.flush()
            self._apps.transition_in(session, app_id, Status.PAID, staff)
            audit.record(
                session,
                at=now,
                actor=staff,
                action="payment_cash",
                object_type="payment_order",
                object_id=cash.id,
                amount=app.fee_amount,
            )
            return _view(cash)
