"""CUPS through pycups (the Python binding of libcups, the scheduler's own client library).

Why pycups: libcups speaks IPP and HTTP to the scheduler (local socket or TCP, its
authentication and encryption) exactly as ``lp`` does, returns job ids and IPP attributes
as data rather than localised text to parse, and lets the PDF be streamed from memory
(Create-Job + Send-Document) so the client never writes a rendered form to disk. The cost
is a build dependency on Linux counters (``libcups2-dev``); Windows counters print through
Qt instead (``ui/printer_qt.py``).

Rules this adapter keeps: the printer's state is read before every submission and a
printer that cannot print now (stopped, refusing jobs, offline, out of paper) gets no job,
so the job waits in the kiosk's own durable queue instead of the spooler's; an error
before the document is complete withdraws the half-made job and reports "not sent" (safe
to retry); an error after that reports PrintOutcomeUnknown (never retried on its own).
The job name is the caller's neutral id; CUPS should run with ``PreserveJobFiles No``.
"""

from __future__ import annotations

import logging
from typing import Any

from devices.errors import (
    PrinterError,
    PrinterOffline,
    PrinterOutOfPaper,
    PrinterStopped,
    PrintOutcomeUnknown,
)
from devices.printer import JobState, PrinterState

log = logging.getLogger(__name__)

# IPP values (RFC 8011 §5.4.11, §5.4.15; CUPS IPP status codes)
_PRINTER_STOPPED = 5
_JOB_STATES = {
    3: JobState.PENDING,
    4: JobState.PENDING,  # pending-held
    5: JobState.PRINTING,
    6: JobState.PENDING,  # processing-stopped: the printer stopped under the job
    7: JobState.CANCELLED,
    8: JobState.FAILED,  # aborted
    9: JobState.COMPLETED,
}
_IPP_NOT_FOUND = 0x0406
_IPP_NOT_ACCEPTING = 0x0506
_PRINTER_ATTRS = [
    "printer-state",
    "printer-state-reasons",
    "printer-is-accepting-jobs",
]
#: reasons that mean no paper can come out now (a "-report"/"-warning" suffix does not)
_BLOCKING = {"offline", "paused", "media-empty", "media-jam", "door-open", "toner-empty"}


def _reason_code(raw: str) -> str:
    for suffix in ("-error", "-warning", "-report"):
        if raw.endswith(suffix):
            return raw[: -len(suffix)]
    return raw


class CupsPrinter:
    name = "cups"

    def __init__(self, queue: str = "", server: str = "", *, cups_module: Any = None) -> None:
        """``queue`` empty means the CUPS default destination; ``server`` is "host:port" or
        empty for libcups' own choice (CUPS_SERVER, client.conf, the local socket)."""
        if cups_module is None:
            import cups  # pycups only when CUPS is chosen

            cups_module = cups
        self._cups = cups_module
        self._host, self._port = "", 0
        if server:
            host, _, port = server.rpartition(":")
            self._host, self._port = (host, int(port)) if host else (server, 631)
            # libcups builds the printer URI of Send-Document from the global server/port
            cups_module.setServer(self._host)
            cups_module.setPort(self._port)
        self.queue = queue

    # --- connection ----------------------------------------------------------------------
    def _connect(self) -> Any:
        try:
            if self._host:
                return self._cups.Connection(host=self._host, port=self._port)
            return self._cups.Connection()
        except RuntimeError as exc:  # "failed to connect to server"
            raise PrinterOffline(reason="unreachable") from exc

    def _queue(self, conn: Any) -> str:
        if self.queue:
            return self.queue
        default = conn.getDefault()
        if not default:
            raise PrinterError(reason="no-default-queue")
        return str(default)

    # --- state ---------------------------------------------------------------------------
    def state(self) -> PrinterState:
        try:
            conn = self._connect()
            queue = self._queue(conn)
            attrs = conn.getPrinterAttributes(queue, requested_attributes=_PRINTER_ATTRS)
        except PrinterError:
            return PrinterState(ready=False, reasons=("unreachable",))
        except self._cups.IPPError as exc:
            log.warning("CUPS printer state: IPP status 0x%04x", exc.args[0])
            return PrinterState(ready=False, reasons=("unreachable",))
        return _printer_state(attrs)

    def _check_ready(self, conn: Any, queue: str) -> None:
        attrs = conn.getPrinterAttributes(queue, requested_attributes=_PRINTER_ATTRS)
        state = _printer_state(attrs)
        if state.ready:
            return
        reasons = state.reasons
        if "media-empty" in reasons:
            raise PrinterOutOfPaper()
        if "offline" in reasons:
            raise PrinterOffline()
        raise PrinterStopped(reason=reasons[0] if reasons else "stopped")

    # --- jobs ----------------------------------------------------------------------------
    def submit(self, pdf: bytes, job_name: str) -> str:
        conn = self._connect()
        cups = self._cups
        try:
            queue = self._queue(conn)
            self._check_ready(conn, queue)
            job_id = conn.createJob(queue, job_name, {})
        except cups.IPPError as exc:
            raise _refused(exc) from exc
        except cups.HTTPError as exc:
            raise PrinterOffline(reason="unreachable") from exc
        try:
            conn.startDocument(queue, job_id, job_name, "application/pdf", 1)
            conn.writeRequestData(pdf, len(pdf))
        except (cups.IPPError, cups.HTTPError) as exc:
            # the document never arrived whole: withdraw the empty job, safe to retry
            self._withdraw(job_id)
            raise PrinterOffline(reason="unreachable") from exc
        try:
            conn.finishDocument(queue)
        except (cups.IPPError, cups.HTTPError) as exc:
            raise PrintOutcomeUnknown(job=str(job_id)) from exc
        return str(job_id)

    def _withdraw(self, job_id: int) -> None:
        try:
            self._connect().cancelJob(job_id, purge_job=True)
        except (PrinterError, self._cups.IPPError, self._cups.HTTPError):
            log.warning("CUPS job %s could not be withdrawn", job_id)

    def job_state(self, job_id: str) -> JobState:
        conn = self._connect()
        try:
            attrs = conn.getJobAttributes(int(job_id), requested_attributes=["job-state"])
        except self._cups.IPPError as exc:
            if exc.args[0] == _IPP_NOT_FOUND:
                return JobState.UNKNOWN
            raise PrinterError(reason="ipp-error") from exc
        except self._cups.HTTPError as exc:
            raise PrinterOffline(reason="unreachable") from exc
        return _JOB_STATES.get(int(attrs.get("job-state", 0)), JobState.UNKNOWN)

    def cancel(self, job_id: str) -> None:
        conn = self._connect()
        try:
            conn.cancelJob(int(job_id), purge_job=True)
        except self._cups.IPPError as exc:
            if exc.args[0] != _IPP_NOT_FOUND:
                raise PrinterError(reason="ipp-error") from exc
        except self._cups.HTTPError as exc:
            raise PrinterOffline(reason="unreachable") from exc


def _printer_state(attrs: dict[str, Any]) -> PrinterState:
    raw = attrs.get("printer-state-reasons", [])
    raw_reasons = [raw] if isinstance(raw, str) else list(raw)
    reasons: list[str] = []
    if int(attrs.get("printer-state", 3)) == _PRINTER_STOPPED:
        reasons.append("stopped")
    if not attrs.get("printer-is-accepting-jobs", True):
        reasons.append("not-accepting")
    blocking = bool(reasons)
    for item in raw_reasons:
        code = _reason_code(str(item))
        if code in ("none", "paused") or code.startswith("cups-"):
            continue  # "paused" is the stopped state already listed
        if code not in reasons:
            reasons.append(code)
        if code in _BLOCKING or str(item).endswith("-error"):
            blocking = True
    return PrinterState(ready=not blocking, reasons=tuple(reasons))


def _refused(exc: Any) -> PrinterError:
    status = exc.args[0] if exc.args else 0
    if status == _IPP_NOT_ACCEPTING:
        return PrinterStopped(reason="not-accepting")
    if status == _IPP_NOT_FOUND:
        return PrinterError(reason="no-such-queue")
    return PrinterError(reason="ipp-error")
