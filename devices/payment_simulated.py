"""A simulated cashless provider: an order is paid ``delay_s`` seconds after it was created.

It keeps the properties the real flow relies on — idempotent creation, status polling,
expiry, cancellation — so the counter flow meets the same outcomes. It runs in-process;
the loopback HTTP service with failure injection is built on the same class.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from devices.emv_mpm import build_dynamic_payload
from devices.payment import OrderStatus, ProviderOrder


@dataclass
class _Order:
    order: ProviderOrder
    amount: int
    fee_code: str
    created: float
    status: OrderStatus = OrderStatus.OPEN


class SimulatedPaymentProvider:
    name = "simulated"
    can_query_status = True

    def __init__(
        self,
        *,
        delay_s: float = 4.0,
        ttl_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        merchant_name: str = "MATSUURA CITY",
        merchant_city: str = "MATSUURA",
    ) -> None:
        self.delay_s = delay_s
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._merchant = (merchant_name, merchant_city)
        self._lock = threading.Lock()
        self._orders: dict[str, _Order] = {}
        self._by_key: dict[str, str] = {}
        self.create_calls = 0

    def create_order(
        self, *, amount_yen: int, reference: str, fee_code: str, idempotency_key: str
    ) -> ProviderOrder:
        with self._lock:
            self.create_calls += 1
            if idempotency_key in self._by_key:
                return self._orders[self._by_key[idempotency_key]].order
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
            self._orders[order_id] = _Order(order, amount_yen, fee_code, self._monotonic())
            self._by_key[idempotency_key] = order_id
            return order

    def get_status(self, provider_order_id: str) -> OrderStatus:
        with self._lock:
            entry = self._orders[provider_order_id]
            if entry.status is OrderStatus.OPEN:
                age = self._monotonic() - entry.created
                if age >= self.ttl_s:
                    entry.status = OrderStatus.EXPIRED
                elif age >= self.delay_s:
                    entry.status = OrderStatus.PAID
            return entry.status

    def cancel(self, provider_order_id: str) -> OrderStatus:
        with self._lock:
            entry = self._orders[provider_order_id]
            if entry.status is OrderStatus.OPEN:
                entry.status = OrderStatus.CANCELLED
            return entry.status
