"""A dynamic EMV/JPQR code built on this PC for a municipality with its own merchant ID.

Such a code moves money through the municipality's acquirer, but nobody here can ask
whether it was paid: ``can_query_status`` is False, so the clerk confirms the payment on
the staff screen (audited), as with the JPQR stands counters use today. Refunds are made
by hand under the municipality's rule (PAY-06).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from devices.emv.jpqr import build_jpqr_payload
from devices.emv.merchant import MerchantConfig, MerchantConfigError
from devices.errors import PaymentError, RefundNotSupported
from devices.payment import OrderStatus, ProviderOrder

JPQR_GUID = "jp.or.paymentsjapan"
#: the JPQR ID (統一店舗識別コード) as configured: 13-4-6-6 digits,
#: e.g. 0000000000001-0001-000001-000001
_MERCHANT_ID = re.compile(r"^(\d{13})-(\d{4})-(\d{6})-(\d{6})$")
_ANS = re.compile(r"^[\x20-\x7e]+$")


class StatusNotQueryable(PaymentError):
    message_key = "payment_confirm_by_staff"


class LocalJpqrProvider:
    name = "local_jpqr"
    can_query_status = False
    supports_refund = False

    def __init__(
        self,
        *,
        merchant_id: str,
        merchant_name: str,
        merchant_city: str,
        postal_code: str = "",
        mcc: str = "9399",
        ttl_s: float = 600.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        match = _MERCHANT_ID.match(merchant_id)
        if match is None:
            raise ValueError("jpqr_merchant_id must be 13-4-6-6 digits")
        if not (_ANS.match(merchant_name) and len(merchant_name) <= 25):
            raise ValueError("jpqr_merchant_name: ASCII, at most 25 characters (EMV tag 59)")
        if not (_ANS.match(merchant_city) and len(merchant_city) <= 15):
            raise ValueError("jpqr_merchant_city: ASCII, at most 15 characters (EMV tag 60)")
        try:
            # the JPQR profile: ID under jp.or.paymentsjapan in 26, 392, JP, 郵便番号 in 61
            self._merchant = MerchantConfig(
                merchant_id="-".join(match.groups()),
                name=merchant_name,
                city=merchant_city,
                postal_code=postal_code,
                mcc=mcc,
            )
        except MerchantConfigError as exc:
            raise ValueError(f"jpqr_{exc}") from None
        self.ttl_s = ttl_s
        self._now = now

    def create_order(
        self, *, amount_yen: int, reference: str, fee_code: str, idempotency_key: str
    ) -> ProviderOrder:
        # Same inputs, same code: building it again for a retried key changes nothing.
        payload = build_jpqr_payload(self._merchant, amount_yen=amount_yen, reference=reference)
        return ProviderOrder(reference, payload, self._now() + timedelta(seconds=self.ttl_s))

    def get_status(self, provider_order_id: str) -> OrderStatus:
        raise StatusNotQueryable()

    def cancel(self, provider_order_id: str) -> OrderStatus:
        return OrderStatus.CANCELLED  # the code just stops being shown; nothing to tell

    def refund(
        self, provider_order_id: str, *, amount_yen: int, idempotency_key: str
    ) -> OrderStatus:
        raise RefundNotSupported()

    def close(self) -> None:
        pass
