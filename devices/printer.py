"""The printer interface. Adapters submit a finished PDF and report job and printer state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class JobState(StrEnum):
    PENDING = "pending"
    PRINTING = "printing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class PrinterState:
    ready: bool
    #: stable reason codes, e.g. "offline", "media-empty", "stopped"
    reasons: tuple[str, ...] = ()


class Printer(Protocol):
    name: str

    def state(self) -> PrinterState: ...

    def submit(self, pdf: bytes, job_name: str) -> str:
        """Send one job; return the spooler's job id. ``job_name`` holds no personal data.

        Raises PrinterOffline, PrinterOutOfPaper or PrinterError.
        """
        ...

    def job_state(self, job_id: str) -> JobState: ...
