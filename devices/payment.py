"""The payment-provider interface. A provider sees order references, fee codes and
amounts only — never personal data (PAY-01).

Calls are blocking and run on the payment worker lane. ``create_order`` and ``refund``
carry an idempotency key: a caller that timed out retries with the same key and gets the
same order or refund, never a second one (PAY-04).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class OrderStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class ProviderOrder:
    provider_order_id: str
    qr_content: str
    expires_at: datetime


class PaymentProvider(Protocol):
    name: str
    #: False for a locally built code that has no status to query (staff confirm payment)
    can_query_status: bool
    #: False where money can only be given back by hand (cash drawer, bank transfer)
    supports_refund: bool

    def create_order(
        self, *, amount_yen: int, reference: str, fee_code: str, idempotency_key: str
    ) -> ProviderOrder:
        """Create (or, for a repeated idempotency key, return) an order."""
        ...

    def get_status(self, provider_order_id: str) -> OrderStatus: ...

    def cancel(self, provider_order_id: str) -> OrderStatus:
        """Withdraw an open order; returns the order's status afterwards (PAID when the
        resident paid a moment before)."""
        ...

    def refund(
        self, provider_order_id: str, *, amount_yen: int, idempotency_key: str
    ) -> OrderStatus:
        """Give a paid order's money back; REFUNDED once done. Raises PaymentError where
        ``supports_refund`` is False."""
        ...

    def close(self) -> None:
        """Release what the adapter holds (a started service, connections)."""
        ...
