"""Injectable time, so timers and dates are testable without sleeping."""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def now(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(JST)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._mono = 1000.0
        self._now = start or datetime(2026, 11, 24, 9, 0, tzinfo=JST)

    def monotonic(self) -> float:
        return self._mono

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._mono += seconds
        self._now += timedelta(seconds=seconds)


def today(clock: Clock) -> date:
    return clock.now().astimezone(JST).date()


class ShiftableClock(SystemClock):
    """The system clock plus an offset that a scripted tour can move forward
    (to show the idle warning without waiting a minute)."""

    def __init__(self) -> None:
        self._offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def now(self) -> datetime:
        from datetime import timedelta

        return datetime.now(JST) + timedelta(seconds=self._offset)

    def shift(self, seconds: float) -> None:
        self._offset += seconds

    def reset(self) -> None:
        """Back to the system time (before talking to a service that stamps real times)."""
        self._offset = 0.0
