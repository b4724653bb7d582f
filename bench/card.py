"""Card read figures through the real pcscd + vpcd + the virtual card: the adapter's read
beside the same APDU sequence replayed raw with pyscard, and the APDUs per read."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devices.mynumber.emulator import demo_profile

PROFILE = demo_profile()


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _raw_replay(reader_name: str, commands: list[bytes]) -> Callable[[], None]:
    from smartcard import scard as s

    def run() -> None:
        _, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
        _, card, protocol = s.SCardConnect(
            ctx, reader_name, s.SCARD_SHARE_EXCLUSIVE, s.SCARD_PROTOCOL_T1
        )
        for command in commands:
            hresult, response = s.SCardTransmit(card, protocol, list(command))
            assert hresult == s.SCARD_S_SUCCESS
            assert response[-2:] in ([0x90, 0x00], [0x63, 0xC3])
        s.SCardDisconnect(card, s.SCARD_UNPOWER_CARD)
        s.SCardReleaseContext(ctx)

    return run


def bench_card(runs: int = 30) -> dict[str, Any]:
    try:
        from devices.mynumber import apdu
        from devices.mynumber.vpcd import VpcdCardServer
        from devices.pcsc_reader import PcscCardReader
        from tests.helpers.pcscd import Pcscd, PcscdUnavailable
    except ImportError as exc:
        return {"skipped": f"missing: {exc.name}"}
    daemon = Pcscd()
    try:
        daemon.start()
    except PcscdUnavailable as exc:
        daemon.cleanup()
        return {"skipped": str(exc).splitlines()[0]}
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "card.json"
            path.write_text(json.dumps(PROFILE, ensure_ascii=False), encoding="utf-8")
            server = VpcdCardServer.from_file(path, port=daemon.port)
            server.start()
            reader = PcscCardReader(daemon.reader)
            deadline = time.monotonic() + 10
            while not reader.state().card_present and time.monotonic() < deadline:
                time.sleep(0.05)
            four_ms = _median_ms(lambda: reader.read("1234", include_my_number=False), runs)
            four_apdus = reader.last_stats.apdus
            number_ms = _median_ms(lambda: reader.read("1234", include_my_number=True), runs)
            number_apdus = reader.last_stats.apdus
            tries_ms = _median_ms(reader.pin_tries_left, runs)
            sequence = [
                apdu.select_df(),
                apdu.verify_query(0x11),
                apdu.verify("1234", 0x11),
                apdu.read_binary_sfi(0x02, 0, 256),
            ]
            raw_four_ms = _median_ms(_raw_replay(daemon.reader, sequence), runs)
            raw_number_ms = _median_ms(
                _raw_replay(daemon.reader, [*sequence, apdu.read_binary_sfi(0x01, 0, 17)]), runs
            )
    finally:
        if server is not None:
            server.stop()
        daemon.cleanup()
    return {
        "basic_four": {"adapter_ms": four_ms, "raw_pyscard_ms": raw_four_ms, "apdus": four_apdus},
        "with_my_number": {
            "adapter_ms": number_ms,
            "raw_pyscard_ms": raw_number_ms,
            "apdus": number_apdus,
        },
        "pin_tries_left_ms": tries_ms,
        "runs": runs,
        "note": "adapter = connect, tries before VERIFY, parse, unpowered disconnect; "
        "raw = the same APDUs replayed with pyscard's scard module",
    }
