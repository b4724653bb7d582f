"""Start and stop the simulated provider service (devices/payment_sim_server.py) as a child
process on 127.0.0.1 with a free port; used by the demo and the tests."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from devices.payment_sim_server import KEY_ENV

ROOT = Path(__file__).resolve().parents[1]


class SimServerFailed(RuntimeError):
    pass


class SimServerProcess:
    def __init__(
        self, *, delay_s: float | None = 4.0, ttl_s: float = 300.0, log_file: Path | None = None
    ) -> None:
        self.delay_s = delay_s
        self.ttl_s = ttl_s
        self.log_file = log_file
        #: a fresh key per run, handed to the child through its environment
        self.api_key = secrets.token_urlsafe(24)
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 15.0) -> SimServerProcess:
        folder = Path(tempfile.mkdtemp(prefix="kiosk-paysim-"))
        port_file = folder / "port"
        env = dict(os.environ)
        env[KEY_ENV] = self.api_key
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        delay = -1.0 if self.delay_s is None else self.delay_s
        command = [
            sys.executable,
            "-m",
            "devices.payment_sim_server",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--delay",
            str(delay),
            "--ttl",
            str(self.ttl_s),
        ]
        if self.log_file is not None:  # a fresh data folder has no logs/ yet
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab") if self.log_file else subprocess.DEVNULL
        try:
            self._proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        finally:
            if self.log_file:
                log.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout_s
        try:
            while not port_file.exists():
                if self._proc.poll() is not None:
                    raise SimServerFailed(f"payment simulator exited ({self._proc.returncode})")
                if time.monotonic() > deadline:
                    raise SimServerFailed("payment simulator did not start in time")
                time.sleep(0.02)
            self.port = int(port_file.read_text(encoding="ascii"))
            self.admin("GET", "/_sim/health")
        except BaseException:
            self.stop()
            raise
        finally:
            port_file.unlink(missing_ok=True)
            folder.rmdir()
        return self

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Talk to the failure-injection endpoints (tests, the tour)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data if method == "POST" else None,
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        if method == "POST" and data is None:
            request.data = b"{}"
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def fault(self, op: str, kind: str, *, count: int = 1, hang_s: float = 5.0) -> None:
        self.admin(
            "POST", "/_sim/faults", {"op": op, "kind": kind, "count": count, "hang_s": hang_s}
        )

    def complete(self, reference: str, *, late: bool = False) -> str:
        return str(
            self.admin("POST", f"/_sim/orders/{reference}/complete", {"late": late})["status"]
        )

    def orders(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/_sim/orders")["orders"])

    def stats(self) -> dict[str, Any]:
        return dict(self.admin("GET", "/_sim/stats"))

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
