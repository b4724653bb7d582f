"""Printing through Qt (QPrinter + QPdfDocument) for Windows counters, where there is no
CUPS. Implements ``devices.printer.Printer``; it lives in ui/ because it needs Qt.

The PDF is loaded from memory (QBuffer), each page rendered by QtPdf at the printer's
resolution and painted onto the QPrinter; no print dialog is ever shown and no file is
written (unless ``output_file`` is set, for tests and "print to PDF" set-ups). The
document name the spooler shows is the caller's neutral job name. Qt hands the job to
the operating system's spooler and cannot follow it further, so a job handed over counts
as finished at the spooler and the clerk confirms the paper (PRN-06). Windows: turn off
"Keep printed documents" for the printer (PRN-01).

Select it with ``printer = "qt"`` (and ``printer_queue`` = the printer's name, empty for
the system default); ``register()`` adds it to the device registry at start-up.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from devices.errors import PrinterError, PrinterOffline, PrinterStopped, PrintOutcomeUnknown
from devices.printer import JobState, Printer, PrinterState
from devices.registry import PrinterOptions, register_printer


class QtPrinter:
    name = "qt"

    def __init__(self, printer_name: str = "", *, output_file: Path | None = None) -> None:
        self.printer_name = printer_name
        self.output_file = output_file
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._handed_over: set[str] = set()

    def _info(self) -> QPrinterInfo:
        if self.printer_name:
            return QPrinterInfo.printerInfo(self.printer_name)
        return QPrinterInfo.defaultPrinter()

    def state(self) -> PrinterState:
        if self.output_file is not None:
            return PrinterState(ready=True)
        info = self._info()
        if info.isNull():
            return PrinterState(ready=False, reasons=("unreachable",))
        state = info.state()
        if state == QPrinter.PrinterState.Error:
            return PrinterState(ready=False, reasons=("offline",))
        if state == QPrinter.PrinterState.Aborted:
            return PrinterState(ready=False, reasons=("stopped",))
        return PrinterState(ready=True)

    def submit(self, pdf: bytes, job_name: str) -> str:
        state = self.state()
        if not state.ready:
            if "stopped" in state.reasons:
                raise PrinterStopped()
            raise PrinterOffline(reason=state.reasons[0])
        document = QPdfDocument()
        buffer = QBuffer()
        buffer.setData(QByteArray(pdf))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        try:
            document.load(buffer)
            if document.status() != QPdfDocument.Status.Ready or document.pageCount() == 0:
                raise PrinterError(reason="unreadable-document")
            self._paint(document, job_name)
        finally:
            document.close()
            buffer.close()
            buffer.setData(QByteArray())
        job_id = f"qt-{next(self._ids)}"
        with self._lock:
            self._handed_over.add(job_id)
        return job_id

    def _paint(self, document: QPdfDocument, job_name: str) -> None:
        if self.output_file is not None:
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(self.output_file))
        else:
            printer = QPrinter(self._info(), QPrinter.PrinterMode.HighResolution)
        printer.setDocName(job_name)  # what the spooler's queue shows: ids only
        printer.setFullPage(True)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        painter = QPainter()
        if not painter.begin(printer):
            raise PrinterOffline()  # nothing was handed over
        try:
            for page in range(document.pageCount()):
                if page and not printer.newPage():
                    raise PrintOutcomeUnknown()  # earlier pages may already be spooled
                target = painter.viewport()
                image = document.render(page, QSize(target.width(), target.height()))
                painter.drawImage(target, image)
        finally:
            ended = painter.end()
        if not ended or printer.printerState() == QPrinter.PrinterState.Error:
            raise PrintOutcomeUnknown()

    def job_state(self, job_id: str) -> JobState:
        with self._lock:
            known = job_id in self._handed_over
        return JobState.COMPLETED if known else JobState.UNKNOWN

    def cancel(self, job_id: str) -> None:
        """Qt cannot withdraw a job from the system spooler; a handed-over job is already
        "finished" here, so the queue never asks."""


def _factory(options: PrinterOptions) -> Printer:
    return QtPrinter(options.queue)


def register() -> None:
    register_printer("qt", _factory)
