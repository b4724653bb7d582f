"""Run blocking work on one worker thread per lane and deliver results on the UI thread.

This is the Qt side of ``kiosk.runner.Runner``: adapters and services stay blocking and
Qt-free; the worker emits a queued signal and the callback runs in the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kiosk.runner import LANES

log = logging.getLogger(__name__)


class _Poster(QObject):
    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, thunk: Callable[[], None]) -> None:
        thunk()


class QtRunner:
    def __init__(self) -> None:
        self._poster = _Poster()
        self._executors = {
            lane: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kiosk-{lane}")
            for lane in LANES
        }
        self._closed = False
        self.pending = 0

    def submit(
        self,
        lane: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        if self._closed:
            return
        self.pending += 1

        def work() -> None:
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - delivered to the UI's failure path
                error = exc  # `exc` is unbound when the except block ends
                self._poster.deliver.emit(lambda: self._finish(on_failure, error))
                return
            self._poster.deliver.emit(lambda: self._finish(on_success, result))

        self._executors[lane].submit(work)

    def _finish(self, callback: Callable[[Any], None], value: Any) -> None:
        self.pending -= 1
        if self._closed:
            return
        try:
            callback(value)
        except Exception:
            log.exception("UI callback failed")

    def shutdown(self) -> None:
        """Join every worker thread (a QThread or executor left running aborts at exit)."""
        self._closed = True
        for executor in self._executors.values():
            executor.shutdown(wait=True, cancel_futures=True)
