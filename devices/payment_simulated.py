"""A simulated cashless provider: an order is paid ``delay_s`` seconds after it was created.

It keeps the properties the real flow relies on — idempotent creation, status polling,
expiry, cancellation, refunds — so the counter flow meets the same outcomes. It holds the
order reference, fee code and amount only.

Two jobs: run in-process on an injected clock for the fast unit and window tests, and be
the state behind the loopback HTTP service (``devices/payment_sim_server.py``) that the
demo and the provider-fault tests talk to through the real HTTP adapter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from devices.emv_mpm import build_dynamic_payload
from devices.errors import PaymentError, PaymentRejected
from devices.payment import OrderStatus, ProviderOrder


class UnknownOrder(PaymentError):
    message_key = "payment_error"


@dataclass
class SimOrder:
    order: ProviderOrder
    reference: str
    fee_code: str
    amount: int
    created: float
    status: OrderStatus = OrderStatus.OPEN
    refund_key: str | None = None


class SimulatedPaymentProvider:
    name = "simulated"
    can_query_status = True
    supports_refund = True

    def __init__(
        self,
        *,
        delay_s: float | None = 4.0,
        ttl_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        merchant_name: str = "MATSUURA CITY",
        merchant_city: str = "MATSUURA",
    ) -> None:
        #: seconds until the simulated resident pays; None: only when told (``complete``)
        self.delay_s = delay_s
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._merchant = (merchant_name, merchant_city)
        self._lock = threading.Lock()
        self._orders: dict[str, SimOrder] = {}
        self._by_key: dict[str, str] = {}
        self.create_calls = 0

    def create_order(
        self, *, amount_yen: int, reference: str, fee_code: str, idempotency_key: str
    ) -> ProviderOrder:
        with self._lock:
            self.create_calls += 1
            if idempotency_key in self._by_key:
                known = self._orders[self._by_key[idempotency_key]]
                if (known.amount, known.reference) != (amount_yen, reference):
                    raise PaymentRejected()  # a reused key must describe the same order
                return known.order
            order_id = f"SIM{len(self._orders) + 1:08d}"
            payload = build_dynamic_payload(
                merchant_account=(("00", "jp.kakanai.simulated"), ("01", order_id)),
                amount_yen=amount_yen,
                reference=reference,
                merchant_name=self._merchant[0],
                merchant_city=self._merchant[1],
            )
            expires = datetime.now(UTC) + timedelta(seconds=self.ttl_s)
            order = ProviderOrder(order_id, payload, expires)
            self._orders[order_id] = SimOrder(
                order, reference, fee_code, amount_yen, self._monotonic()
            )
            self._by_key[idempotency_key] = order_id
            return order

    def _entry(self, provider_order_id: str) -> SimOrder:
        try:
            return self._orders[provider_order_id]
        except KeyError:
            raise UnknownOrder() from None

    def _advance(self, entry: SimOrder) -> None:
        if entry.status is OrderStatus.OPEN:
            age = self._monotonic() - entry.created
            if age >= self.ttl_s:
                entry.status = OrderStatus.EXPIRED
            elif self.delay_s is not None and age >= self.delay_s:
                entry.status = OrderStatus.PAID

    def get_status(self, provider_order_id: str) -> OrderStatus:
        with self._lock:
            entry = self._entry(provider_order_id)
            self._advance(entry)
            return entry.status

    def cancel(self, provider_order_id: str) -> OrderStatus:
        with self._lock:
            entry = self._entry(provider_order_id)
            self._advance(entry)
            if entry.status is OrderStatus.OPEN:
                entry.status = OrderStatus.CANCELLED
            return entry.status

    def refund(
        self, provider_order_id: str, *, amount_yen: int, idempotency_key: str
    ) -> OrderStatus:
        with self._lock:
            entry = self._entry(provider_order_id)
            self._advance(entry)
            if entry.status is OrderStatus.REFUNDED and entry.refund_key == idempotency_key:
                return entry.status
            if entry.status is not OrderStatus.PAID or amount_yen != entry.amount:
                raise PaymentRejected()  # one full refund of a paid order, as providers allow
            entry.status = OrderStatus.REFUNDED
            entry.refund_key = idempotency_key
            return entry.status

    # --- what the simulated resident and the fault tests do ----------------------------
    def complete(self, provider_order_id: str, *, late: bool = False) -> OrderStatus:
        """The resident pays. ``late``: the payment was already on its way when the order
        expired or was cancelled, and lands anyway (money for a withdrawn order)."""
        with self._lock:
            entry = self._entry(provider_order_id)
            if entry.status is OrderStatus.OPEN or (
                late and entry.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
            ):
                entry.status = OrderStatus.PAID
            return entry.status

    def expire(self, provider_order_id: str) -> OrderStatus:
        with self._lock:
            entry = self._entry(provider_order_id)
            if entry.status is OrderStatus.OPEN:
                entry.status = OrderStatus.EXPIRED
            return entry.status

    def find(self, reference: str) -> SimOrder | None:
        with self._lock:
            return next((o for o in self._orders.values() if o.reference == reference), None)

    def orders(self) -> list[SimOrder]:
        with self._lock:
            for entry in self._orders.values():
                self._advance(entry)
            return list(self._orders.values())

    def close(self) -> None:
        pass
