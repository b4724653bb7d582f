"""Printers that write PDFs into a folder: the demo's printer and a fault-injecting
simulation. Real counters use CUPS (or Qt printing on Windows).

These keep every printed form on disk by design: they are for demos and tests only, never
for a counter that handles residents' data (PRN-03)."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from devices.errors import PrinterOffline, PrinterOutOfPaper, PrinterStopped
from devices.printer import JobState, PrinterState


class FolderPrinter:
    """Each job becomes ``<job id>-<job name>.pdf`` in ``folder``, written atomically."""

    name = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._jobs: dict[str, JobState] = {}
        self._next = 1

    def state(self) -> PrinterState:
        return PrinterState(ready=True)

    def submit(self, pdf: bytes, job_name: str) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            job_id = f"{os.getpid()}-{self._next}"
            self._next += 1
        safe_name = "".join(c if c.isalnum() or c in "-_" else "_" for c in job_name)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
            fh.flush()
            os.fsync(fh.fileno())
        target = self.folder / f"{safe_name}-{job_id}.pdf"
        os.replace(tmp, target)
        with self._lock:
            self._jobs[job_id] = JobState.COMPLETED
        self.last_path = target
        return job_id

    def job_state(self, job_id: str) -> JobState:
        with self._lock:  # a job of an earlier run is not known to this one
            return self._jobs.get(job_id, JobState.UNKNOWN)

    def cancel(self, job_id: str) -> None:
        with self._lock:
            if self._jobs.get(job_id) in (JobState.PENDING, JobState.PRINTING):
                self._jobs[job_id] = JobState.CANCELLED


class SimulatedPrinter(FolderPrinter):
    """A folder printer whose faults can be switched on: offline, out of paper, stopped."""

    name = "simulated"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.offline = False
        self.out_of_paper = False
        self.stopped = False
        #: when False, accepted jobs stay pending (like a busy spooler) until finish_pending()
        self.complete_jobs = True

    def state(self) -> PrinterState:
        reasons = tuple(
            reason
            for reason, active in (
                ("offline", self.offline),
                ("media-empty", self.out_of_paper),
                ("stopped", self.stopped),
            )
            if active
        )
        return PrinterState(ready=not reasons, reasons=reasons)

    def submit(self, pdf: bytes, job_name: str) -> str:
        if self.offline:
            raise PrinterOffline()
        if self.out_of_paper:
            raise PrinterOutOfPaper()
        if self.stopped:
            raise PrinterStopped()
        job_id = super().submit(pdf, job_name)
        if not self.complete_jobs:
            with self._lock:
                self._jobs[job_id] = JobState.PENDING
        return job_id

    def finish_pending(self) -> None:
        with self._lock:
            for job_id, state in self._jobs.items():
                if state is JobState.PENDING:
                    self._jobs[job_id] = JobState.COMPLETED

    @property
    def printed_count(self) -> int:
        return len(list(self.folder.glob("*.pdf"))) if self.folder.exists() else 0
