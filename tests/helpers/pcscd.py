"""The real pcscd for integration tests: foreground, with a private reader.conf.d that
holds only vsmartcard's vpcd driver on a test port, started and stopped by the tests.

pcsc-lite 1.9 always serves /run/pcscd/pcscd.comm, so only one pcscd can run at a time.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
COMM = Path("/run/pcscd/pcscd.comm")
PID = Path("/run/pcscd/pcscd.pid")


class PcscdUnavailable(RuntimeError):
    pass


def _running_pid() -> int | None:
    try:
        pid = int(PID.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def free_port_pair() -> int:
    """A port P with P and P+1 free (vpcd serves two slots). A fresh pair per run keeps a
    previous run's sockets in TIME_WAIT from stopping vpcd from listening."""
    for _ in range(200):
        port = random.randint(20000, 60000)
        try:
            for candidate in (port, port + 1):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise PcscdUnavailable("no free port pair for vpcd")


class Pcscd:
    def __init__(self, port: int | None = None) -> None:
        port = port or free_port_pair()
        binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(binary).exists() or not VPCD_DRIVER.exists():
            raise PcscdUnavailable("apt-get install pcscd vsmartcard-vpcd (make test does)")
        self.binary = binary
        self.port = port
        self.workdir = Path(tempfile.mkdtemp(prefix="kiosk-pcscd-"))
        self.with_vpcd_dir = self.workdir / "with-vpcd"
        self.without_dir = self.workdir / "empty"
        self.with_vpcd_dir.mkdir()
        self.without_dir.mkdir()
        (self.with_vpcd_dir / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME   /dev/null:0x{port:X}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    0x{port:X}\n"
        )
        self.log = self.workdir / "pcscd.log"
        self.process: subprocess.Popen[bytes] | None = None

    reader = "Virtual PCD 00 00"

    def start(self, *, with_vpcd: bool = True, timeout: float = 15.0) -> None:
        other = _running_pid()
        if other is not None:
            raise PcscdUnavailable(f"another pcscd (pid {other}) is running; stop it first")
        conf = self.with_vpcd_dir if with_vpcd else self.without_dir
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--foreground", "--info", "-c", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise PcscdUnavailable(f"pcscd exited: {self.log.read_text()[-2000:]}")
            if COMM.exists() and (not with_vpcd or self.reader in _list_readers()):
                return
            time.sleep(0.05)
        self.stop()  # never leave a half-started daemon behind
        raise PcscdUnavailable(f"pcscd did not become ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None
        deadline = time.monotonic() + 5
        while COMM.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self, *, with_vpcd: bool = True) -> None:
        self.stop()
        self.start(with_vpcd=with_vpcd)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _list_readers() -> list[str]:
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCardEstablishContext,
        SCardListReaders,
        SCardReleaseContext,
    )

    hresult, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        return []
    try:
        hresult, names = SCardListReaders(ctx, [])
        return list(names) if hresult == SCARD_S_SUCCESS else []
    finally:
        SCardReleaseContext(ctx)
