"""Background work, Qt-free: one lane (single worker) per device plus one for the database.

The UI supplies a runner that calls ``on_success``/``on_failure`` on the UI thread
(ui/bridge.py); tests use ``ImmediateRunner`` or ``ManualRunner``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

LANES = ("card", "printer", "payment", "db")


class Runner(Protocol):
    def submit(
        self,
        lane: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None: ...


class ImmediateRunner:
    """Runs everything at once on the calling thread."""

    def submit(
        self,
        lane: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        assert lane in LANES, lane
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - handed to the caller's failure path
            on_failure(exc)
            return
        on_success(result)


@dataclass
class _Task:
    lane: str
    fn: Callable[[], Any]
    on_success: Callable[[Any], None]
    on_failure: Callable[[BaseException], None]


class ManualRunner:
    """Queues work until the test says ``run_all()``: shows the in-between states."""

    def __init__(self) -> None:
        self.pending: list[_Task] = []

    def submit(
        self,
        lane: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        assert lane in LANES, lane
        self.pending.append(_Task(lane, fn, on_success, on_failure))

    def run_all(self) -> None:
        while self.pending:
            ImmediateRunner().submit(**vars(self.pending.pop(0)))
