"""The printer interface. Adapters submit a finished PDF and report job and printer state.

Adapters: ``printer_cups.CupsPrinter`` (CUPS over IPP, Linux/macOS counters), the Qt
printer in ``ui/printer_qt.py`` (Windows counters; Qt-side, so it lives in ui/), and the
folder and simulated printers in ``printer_folder.py`` (demo and tests). None of them
ever shows a print dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class JobState(StrEnum):
    PENDING = "pending"  # held or queued at the spooler (also: printer stopped meanwhile)
    PRINTING = "printing"
    COMPLETED = "completed"  # the spooler says done; paper may still be missing (PRN-06)
    FAILED = "failed"  # aborted by the spooler: part of it may have printed
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # the spooler no longer knows the job (history purged, restarted)


@dataclass(frozen=True)
class PrinterState:
    ready: bool
    #: stable reason codes, e.g. "offline", "media-empty", "stopped", "not-accepting"
    reasons: tuple[str, ...] = ()


#: reason codes the staff screen has a message for; others show as "other"
KNOWN_REASONS = (
    "offline",
    "stopped",
    "not-accepting",
    "media-empty",
    "media-jam",
    "door-open",
    "toner-empty",
    "unreachable",
)


class Printer(Protocol):
    name: str

    def state(self) -> PrinterState: ...

    def submit(self, pdf: bytes, job_name: str) -> str:
        """Send one job; return the spooler's job id. ``job_name`` holds no personal data.

        Raises PrinterOffline, PrinterOutOfPaper, PrinterStopped or PrinterError when the
        job provably did not reach the spooler (safe to retry), and PrintOutcomeUnknown
        when it may have (never retried without a clerk).
        """
        ...

    def job_state(self, job_id: str) -> JobState:
        """Raises PrinterError when the spooler cannot be asked right now."""
        ...

    def cancel(self, job_id: str) -> None:
        """Withdraw a job from the spooler; a job it no longer knows is not an error."""
        ...
