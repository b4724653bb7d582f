"""The payment-provider interface. A provider sees order references, fee codes and
amounts only — never personal data."""

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


@dataclass(frozen=True)
class ProviderOrder:
    provider_order_id: str
    qr_content: str
    expires_at: datetime


class PaymentProvider(Protocol):
    name: str
    #: False for a locally built code that has no status to query (staff confirm payment)
    can_query_status: bool

    def create_order(
        self, *, amount_yen: int, reference: str, fee_code: str, idempotency_key: str
    ) -> ProviderOrder:
        """Create (or, for a repeated idempotency key, return) an order."""
        ...

    def get_status(self, provider_order_id: str) -> OrderStatus: ...

    def cancel(self, provider_order_id: str) -> OrderStatus: ...
