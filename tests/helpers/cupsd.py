"""A private, real CUPS scheduler for integration tests.

``cupsd -f -c <cupsd.conf> -s <cups-files.conf>`` runs in the foreground on a free loopback
port with its own server root, spool, state, cache and log folders, ``PreserveJobFiles No``
and one raw queue whose backend writes each job's document (the PDF exactly as the app
sent it) into ``output/job-<id>.pdf``. The queue can be stopped (``cupsdisable``),
refuse jobs (``cupsreject``) and its backend made to fail, to drive the app's retry and
confirmation rules against the scheduler itself.

Permissions: cupsd must start as root to drop filters/backends to ``User lp``; the test
backend is installed ``0700 root`` so cupsd runs it as root (CUPS runs a backend as root
only when it is owned by root and not readable by others), which lets it write into the
test's temp folder. The folders cupsd itself touches must be traversable by ``lp``.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

CUPSD = Path("/usr/sbin/cupsd")
SYSTEM_SERVERBIN = Path("/usr/lib/cups")
DATADIR = Path("/usr/share/cups")
QUEUE = "kiosk-pdf"

# The backend: no arguments = discovery line; otherwise argv 1 job id, 6 the spooled file
# (absent when the data come on stdin). A FAIL file beside the output makes it fail, as a
# jammed or unplugged printer's backend would (exit 1 = CUPS_BACKEND_FAILED).
_BACKEND = """#!/bin/sh
if [ $# -eq 0 ]; then
  echo 'direct kioskpdf "Unknown" "Kiosk test PDF folder"'
  exit 0
fi
dir=${DEVICE_URI#kioskpdf://}
if [ -e "$dir/../FAIL" ]; then
  echo "ERROR: simulated backend failure" >&2
  exit 1
fi
tmp="$dir/.job-$1.part"
if [ $# -ge 6 ]; then cat "$6" > "$tmp"; else cat > "$tmp"; fi
mv "$tmp" "$dir/job-$1.pdf"
echo "INFO: written" >&2
exit 0
"""


class CupsdUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cupsd:
    def __init__(self) -> None:
        if not CUPSD.exists():
            raise CupsdUnavailable("apt-get install cups-daemon (make test does)")
        if os.geteuid() != 0:
            raise CupsdUnavailable("cupsd must start as root to run its backends as lp")
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-cupsd-"))
        os.chmod(self.root, 0o755)  # lp must reach the spool below it
        self.etc = self.root / "etc"
        self.spool = self.root / "spool"
        self.output = self.root / "output"
        self.serverbin = self.root / "serverbin"
        self.logs = self.root / "log"
        for folder in (self.etc, self.spool, self.output, self.logs, self.root / "state"):
            folder.mkdir()
        (self.root / "cache").mkdir()
        (self.spool / "tmp").mkdir()
        self._install_serverbin()
        self.cupsd_conf = self.etc / "cupsd.conf"
        self.files_conf = self.etc / "cups-files.conf"
        self.cupsd_conf.write_text(self._cupsd_conf())
        self.files_conf.write_text(self._files_conf())
        self.process: subprocess.Popen[bytes] | None = None

    # --- configuration -------------------------------------------------------------------
    def _install_serverbin(self) -> None:
        """cupsd finds cups-exec, filters and backends under ServerBin: the system's, plus
        the test backend."""
        self.serverbin.mkdir()
        for part in ("daemon", "filter", "notifier", "cgi-bin", "monitor", "driver"):
            if (SYSTEM_SERVERBIN / part).exists():
                (self.serverbin / part).symlink_to(SYSTEM_SERVERBIN / part)
        backend = self.serverbin / "backend"
        backend.mkdir()
        script = backend / "kioskpdf"
        script.write_text(_BACKEND)
        os.chown(script, 0, 0)
        os.chmod(script, stat.S_IRWXU)  # 0700 root: cupsd runs it as root

    def _files_conf(self) -> str:
        r = self.root
        return (
            f"ServerRoot {self.etc}\n"
            f"RequestRoot {self.spool}\n"
            f"TempDir {self.spool / 'tmp'}\n"
            f"StateDir {r / 'state'}\n"
            f"CacheDir {r / 'cache'}\n"
            f"DataDir {DATADIR}\n"
            f"DocumentRoot {DATADIR / 'doc-root'}\n"
            f"ServerBin {self.serverbin}\n"
            f"ErrorLog {self.logs / 'error_log'}\n"
            f"AccessLog {self.logs / 'access_log'}\n"
            f"PageLog {self.logs / 'page_log'}\n"
            f"Printcap {r / 'printcap'}\n"
            "User lp\nGroup lp\nSystemGroup root\n"
        )

    def _cupsd_conf(self) -> str:
        # the deployment rules under test: no job files kept after a job ends (PRN-01);
        # a backend failure stops the queue and keeps the job, as CUPS does by default
        return (
            f"Listen 127.0.0.1:{self.port}\n"
            "LogLevel info\n"
            "PreserveJobFiles No\n"
            "PreserveJobHistory Yes\n"
            "ErrorPolicy stop-printer\n"
            "Browsing No\n"
            "WebInterface No\n"
            "DefaultAuthType None\n"
            "DefaultEncryption Never\n"
            "<Location />\n  Order allow,deny\n  Allow from 127.0.0.1\n</Location>\n"
            # job names are shown to anyone here so the tests can check they hold ids only
            "<Policy default>\n  JobPrivateValues none\n"
            "  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n"
        )

    # --- life cycle ----------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> None:
        with (self.logs / "cupsd.out").open("ab") as out:
            self.process = subprocess.Popen(
                [str(CUPSD), "-f", "-c", str(self.cupsd_conf), "-s", str(self.files_conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise CupsdUnavailable(f"cupsd exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            self.stop()
            raise CupsdUnavailable(f"cupsd did not listen: {self.log_tail()}")
        self.add_queue()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, n: int = 3000) -> str:
        parts = []
        for name in ("cupsd.out", "error_log"):
            path = self.logs / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-n:])
        return "\n".join(parts)

    # --- administration (IPP through pycups, as lpadmin/cupsenable would) -------------------
    def connection(self) -> Any:
        import cups

        cups.setServer("127.0.0.1")
        cups.setPort(self.port)
        return cups.Connection(host="127.0.0.1", port=self.port)

    def add_queue(self) -> None:
        conn = self.connection()
        conn.addPrinter(QUEUE, device=f"kioskpdf://{self.output}", info="kiosk test queue")
        conn.enablePrinter(QUEUE)
        conn.acceptJobs(QUEUE)

    def disable(self, reason: str = "stopped by the test") -> None:
        self.connection().disablePrinter(QUEUE, reason=reason)

    def enable(self) -> None:
        self.connection().enablePrinter(QUEUE)

    def reject(self) -> None:
        self.connection().rejectJobs(QUEUE)

    def accept(self) -> None:
        self.connection().acceptJobs(QUEUE)

    def break_backend(self) -> None:
        (self.root / "FAIL").touch()

    def repair_backend(self) -> None:
        (self.root / "FAIL").unlink(missing_ok=True)

    # --- what came out -------------------------------------------------------------------
    def printed(self) -> list[Path]:
        return sorted(self.output.glob("job-*.pdf"), key=lambda p: int(p.stem.split("-")[1]))

    def spooled_files(self) -> list[Path]:
        """Job data files left in the spool (c* are control files, d* the documents)."""
        return sorted(self.spool.glob("d*"))

    def wait_printed(self, count: int, timeout: float = 20.0) -> list[Path]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.printed()
            if len(done) >= count:
                return done
            time.sleep(0.1)
        raise AssertionError(f"{len(self.printed())} of {count} jobs printed: {self.log_tail()}")
