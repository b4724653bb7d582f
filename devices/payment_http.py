"""A cashless provider reached over HTTP with a JSON API (the simulated service speaks it;
a real provider's adapter follows the same rules).

Rules the counter relies on:
- each call has a timeout; a timeout, a refused connection or a 5xx is retried with
  back-off, and create/refund retries carry the *same* idempotency key, so a lost answer
  never becomes a second order or a second refund (PAY-04);
- a 4xx is the provider's answer and is never retried;
- an answer is checked field by field before anything trusts it;
- the API key comes from a callable (the OS keyring in production), read per call so a
  rotated key needs no restart, and never logged.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devices.errors import PaymentError, PaymentRejected, PaymentUnavailable
from devices.payment import OrderStatus, ProviderOrder

log = logging.getLogger(__name__)

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_MAX_QR = 512  # EMVCo §4.1; a provider URL is far shorter


class _Retry(Exception):
    """A try that may be repeated (timeout, connection refused, 5xx)."""


def check_base_url(url: str) -> str:
    """HTTPS anywhere, plain HTTP only to this machine (the simulated service)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return url.rstrip("/")
    raise ValueError("payment provider URL must be https:// (or http:// on loopback)")


class HttpPaymentProvider:
    can_query_status = True
    supports_refund = True

    def __init__(
        self,
        base_url: str,
        api_key: Callable[[], str],
        *,
        name: str = "http",
        timeout_s: float = 3.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._base = check_base_url(base_url)
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._on_close = on_close

    # --- transport ---------------------------------------------------------------------
    def _once(
        self, method: str, path: str, body: dict[str, Any] | None, key: str | None
    ) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self._api_key()}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if key is not None:
            headers["Idempotency-Key"] = key
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(
            self._base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                raw = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code >= 500:
                raise _Retry(f"HTTP {exc.code}") from None
            if exc.code in (401, 403):
                raise PaymentError() from None  # wrong key: a clerk calls the administrator
            if exc.code == 409:
                raise PaymentRejected() from None
            raise PaymentError() from None
        except (TimeoutError, ConnectionError) as exc:
            raise _Retry(type(exc).__name__) from None
        except urllib.error.URLError as exc:
            raise _Retry(type(exc.reason).__name__) from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise PaymentError() from None
        if not isinstance(answer, dict):
            raise PaymentError()
        return answer

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                return self._once(method, path, body, key)
            except _Retry as exc:
                log.warning(
                    "payment %s %s: try %d of %d failed (%s)",
                    method, path.split("/")[2], attempt, self.attempts, exc,
                )  # fmt: skip
                if attempt == self.attempts:
                    break
                self._sleep(delay)
                delay *= 2
        raise PaymentUnavailable()

    # --- the interface -----------------------------------------------------------------
    def create_order(
        self, *, amount_yen: int, reference: str, fee_code: str, idempotency_key: str
    ) -> ProviderOrder:
        answer = self._call(
            "POST",
            "/v1/orders",
            {"amount": amount_yen, "reference": reference, "fee_code": fee_code},
            key=idempotency_key,
        )
        order_id, qr, expires = (answer.get(k) for k in ("order_id", "qr_content", "expires_at"))
        if not (isinstance(order_id, str) and order_id.isalnum() and len(order_id) <= 64):
            raise PaymentError()
        if not (isinstance(qr, str) and 0 < len(qr) <= _MAX_QR and qr.isprintable()):
            raise PaymentError()
        try:
            expires_at = datetime.fromisoformat(str(expires))
        except ValueError:
            raise PaymentError() from None
        if expires_at.tzinfo is None:
            raise PaymentError()
        return ProviderOrder(order_id, qr, expires_at)

    @staticmethod
    def _status(answer: dict[str, Any]) -> OrderStatus:
        try:
            return OrderStatus(str(answer.get("status")))
        except ValueError:
            raise PaymentError() from None

    @staticmethod
    def _path(provider_order_id: str, action: str = "") -> str:
        if not provider_order_id.isalnum():
            raise PaymentError()
        return f"/v1/orders/{provider_order_id}{action}"

    def get_status(self, provider_order_id: str) -> OrderStatus:
        return self._status(self._call("GET", self._path(provider_order_id)))

    def cancel(self, provider_order_id: str) -> OrderStatus:
        return self._status(self._call("POST", self._path(provider_order_id, "/cancel")))

    def refund(
        self, provider_order_id: str, *, amount_yen: int, idempotency_key: str
    ) -> OrderStatus:
        answer = self._call(
            "POST",
            self._path(provider_order_id, "/refund"),
            {"amount": amount_yen},
            key=idempotency_key,
        )
        return self._status(answer)

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
