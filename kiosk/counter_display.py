"""What the resident's screen shows about a payment, Qt-free: the QR code with its amount
and the time left while an order is open, then 「お支払いが完了しました」 for a moment.

The staff screen publishes the order it issued; the resident window renders the snapshot
once a second. The remaining time is computed here from the order's expiry, so every
screen counts down to the same second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from devices.payment import OrderStatus
from kiosk.clock import Clock
from kiosk.payment_service import PaymentView

#: how long 「お支払いが完了しました」 stays on the resident's screen
PAID_SHOWN_S = 8.0


class DisplayKind(StrEnum):
    NONE = "none"
    QR = "qr"
    PAID = "paid"


@dataclass(frozen=True)
class DisplayState:
    kind: DisplayKind
    qr_content: str = ""
    amount: int = 0
    seconds_left: int = 0

    @property
    def countdown(self) -> str:
        """m:ss, as shown under the code."""
        return f"{self.seconds_left // 60}:{self.seconds_left % 60:02d}"


NOTHING = DisplayState(DisplayKind.NONE)


class CounterDisplay:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._view: PaymentView | None = None
        self._paid_at: float | None = None
        self._listeners: list[Callable[[DisplayState], None]] = []

    def subscribe(self, listener: Callable[[DisplayState], None]) -> None:
        self._listeners.append(listener)

    def _emit(self) -> None:
        state = self.state()
        for listener in self._listeners:
            listener(state)

    def show(self, view: PaymentView | None) -> None:
        """Show what an order's latest state calls for (an open code, paid, nothing)."""
        if view is not None and view.status is OrderStatus.OPEN and view.qr_content:
            changed = self._view != view
            self._view, self._paid_at = view, None
            if changed:
                self._emit()
        elif view is not None and view.status is OrderStatus.PAID and self._view is not None:
            if view.order_id == self._view.order_id and self._paid_at is None:
                self._paid_at = self._clock.monotonic()
                self._emit()
        elif self._view is not None and (view is None or view.order_id == self._view.order_id):
            self.clear()

    def clear(self) -> None:
        self._view, self._paid_at = None, None
        self._emit()

    def state(self, now: datetime | None = None) -> DisplayState:
        view = self._view
        if view is None:
            return NOTHING
        if self._paid_at is not None:
            if self._clock.monotonic() - self._paid_at >= PAID_SHOWN_S:
                self._view, self._paid_at = None, None
                return NOTHING
            return DisplayState(DisplayKind.PAID, amount=view.amount)
        left = view.seconds_left(now or self._clock.now()) or 0
        if left <= 0:
            return NOTHING  # an expired code is never shown as payable
        return DisplayState(DisplayKind.QR, view.qr_content or "", view.amount, left)

    def tick(self) -> None:
        """Once a second: the countdown moves, and the paid notice goes away in time."""
        if self._view is not None:
            self._emit()
