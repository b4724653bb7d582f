"""The simulated provider's service starts on a fresh data folder (no logs/ yet)."""

from __future__ import annotations

from pathlib import Path

from devices.payment_sim_process import SimServerProcess


def test_the_service_starts_when_its_log_folder_does_not_exist_yet(tmp_path: Path) -> None:
    log_file = tmp_path / "data" / "logs" / "payment-sim.log"
    server = SimServerProcess(delay_s=None, ttl_s=60.0, log_file=log_file).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert log_file.parent.is_dir()
    finally:
        server.stop()
