"""A printer that fails on cue, for the print-queue rules (the CUPS faults are tested
against a real cupsd in tests/integration/test_cups_integration.py)."""

from __future__ import annotations

from pathlib import Path

from devices.errors import PrintOutcomeUnknown
from devices.printer_folder import SimulatedPrinter


class FaultyPrinter(SimulatedPrinter):
    """``refuse`` raises before anything is written (the job provably did not start);
    ``accept_then_fail`` writes the job and then fails as a broken connection would after
    the data went out; ``explode`` raises an error the adapter did not describe."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.refuse: list[Exception] = []
        self.accept_then_fail = 0
        self.explode = 0
        self.submits = 0

    def submit(self, pdf: bytes, job_name: str) -> str:
        self.submits += 1
        self.last_job_name = job_name
        if self.refuse:
            raise self.refuse.pop(0)
        if self.explode:
            self.explode -= 1
            raise RuntimeError("adapter fault")
        job_id = super().submit(pdf, job_name)
        if self.accept_then_fail:
            self.accept_then_fail -= 1
            raise PrintOutcomeUnknown(job=job_id)
        return job_id
