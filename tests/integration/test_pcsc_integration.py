"""The real PC/SC path: pyscard → libpcsclite → pcscd (foreground, private reader.conf.d)
→ vsmartcard's vpcd → the project's virtual card over loopback TCP."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from devices.errors import CardError, CardRemoved, NoReader, ReaderError
from devices.mynumber.emulator import Faults, demo_profile
from devices.mynumber.vpcd import VpcdCardServer
from devices.payment_simulated import SimulatedPaymentProvider
from devices.pcsc_reader import PcscCardReader
from devices.printer_folder import SimulatedPrinter
from devices.registry import Devices
from kiosk.config import load_settings
from kiosk.context import build_context
from kiosk.resident_flow import Screen
from tests.helpers.pcscd import Pcscd
from ui.app import build_kiosk

ROOT = Path(__file__).resolve().parents[2]
PROFILE = demo_profile()
# the public sample card of the handbook (§10 / shared/testdata)
SAMPLE = {
    "name": "黒桐　幹也",
    "address": "東京都清瀬市観布子南１２－７－２０２",
    "birth_date": "19800217",
    "sex": "1",
    "my_number": "537686677188",
    "pin": "1357",
    "pin_tries_left": 3,
    "long_length_form": True,
}


@pytest.fixture(scope="module")
def pcscd() -> Iterator[Pcscd]:
    daemon = Pcscd()
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.cleanup()


def wait_present(reader: PcscCardReader, present: bool = True, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while reader.state().card_present is not present:
        if time.monotonic() > deadline:
            raise AssertionError(f"card present never became {present}")
        time.sleep(0.05)


def start_card(
    pcscd: Pcscd, path: Path, profile: dict[str, object], faults: Faults | None = None
) -> VpcdCardServer:
    """A new card on the reader, once pcscd has seen the previous one leave."""
    reader = PcscCardReader(pcscd.reader)
    wait_present(reader, False)
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    server = VpcdCardServer.from_file(path, port=pcscd.port, faults=faults)
    server.start()
    wait_present(reader)
    return server


@pytest.fixture
def card(pcscd: Pcscd, tmp_path: Path) -> Iterator[tuple[VpcdCardServer, Path]]:
    path = tmp_path / "profile.json"
    server = start_card(pcscd, path, PROFILE)
    wait_present(PcscCardReader(pcscd.reader))
    yield server, path
    server.stop()


def verifies_with_data(server: VpcdCardServer) -> int:
    return sum(1 for ins, _p1, _p2, length in server.card.commands if ins == 0x20 and length)


def test_reads_the_card_through_pcscd(pcscd: Pcscd, card: tuple[VpcdCardServer, Path]) -> None:
    reader = PcscCardReader(pcscd.reader)
    assert reader.pin_tries_left() == 3
    data = reader.read("1234", include_my_number=False)
    assert (data.name, data.address, data.birth_date, data.sex) == (
        PROFILE["name"],
        PROFILE["address"],
        "19580412",
        "2",
    )
    assert data.my_number is None
    assert reader.last_stats.apdus == 4
    with_number = reader.read("1234", include_my_number=True)
    assert with_number.my_number == "123456789018"
    # unpowered at the end of each read; the power-off reaches the virtual card through
    # pcscd and vpcd a moment after SCardDisconnect returns, so give it that moment
    deadline = time.monotonic() + 5
    while card[0].card.verified and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not card[0].card.verified


def test_the_public_sample_card_in_the_long_length_form(pcscd: Pcscd, tmp_path: Path) -> None:
    server = start_card(pcscd, tmp_path / "sample.json", SAMPLE)
    try:
        reader = PcscCardReader(pcscd.reader)
        wait_present(reader)
        data = reader.read("1357", include_my_number=True)
        assert (data.name, data.address, data.my_number) == (
            SAMPLE["name"],
            SAMPLE["address"],
            SAMPLE["my_number"],
        )
    finally:
        server.stop()


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "card", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_card_read_prints_exactly_the_profile(
    pcscd: Pcscd, card: tuple[VpcdCardServer, Path]
) -> None:
    result = run_cli("read", "--pin-stdin", "--with-number", "--json", stdin="1234\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "name": PROFILE["name"],
        "address": PROFILE["address"],
        "birth_date": "1958-04-12",
        "sex": "2",
        "my_number": "123456789018",
    }
    status = run_cli("status", "--json")
    assert json.loads(status.stdout) == {
        "reader": pcscd.reader,
        "card_present": True,
        "pin_tries_left": 3,
    }


def test_card_read_exit_codes_and_pin_safety(
    pcscd: Pcscd, card: tuple[VpcdCardServer, Path]
) -> None:
    server, path = card
    assert run_cli("read", "--pin-stdin", "--json", stdin="12a4\n").returncode == 2
    assert verifies_with_data(server) == 0  # a malformed PIN is never sent
    wrong = run_cli("read", "--pin-stdin", "--json", stdin="0000\n")
    assert wrong.returncode == 3
    assert "2" in wrong.stderr
    assert json.loads(path.read_text(encoding="utf-8"))["pin_tries_left"] == 2  # exactly one
    run_cli("read", "--pin-stdin", "--json", stdin="0000\n")
    last = run_cli("read", "--pin-stdin", "--json", stdin="1234\n")
    assert last.returncode == 8  # one try left, not confirmed: no PIN sent
    assert verifies_with_data(server) == 2
    ok = run_cli("read", "--pin-stdin", "--json", "--confirm-last-try", stdin="1234\n")
    assert ok.returncode == 0
    assert json.loads(path.read_text(encoding="utf-8"))["pin_tries_left"] == 3


def test_a_locked_card_gets_no_pin(pcscd: Pcscd, tmp_path: Path) -> None:
    server = start_card(pcscd, tmp_path / "locked.json", {**PROFILE, "pin_tries_left": 0})
    try:
        wait_present(PcscCardReader(pcscd.reader))
        result = run_cli("read", "--pin-stdin", "--json", "--confirm-last-try", stdin="1234\n")
        assert result.returncode == 4
        assert verifies_with_data(server) == 0
    finally:
        server.stop()


@pytest.mark.parametrize("index", range(1, 6))
def test_removal_at_every_apdu(pcscd: Pcscd, tmp_path: Path, index: int) -> None:
    server = start_card(pcscd, tmp_path / "p.json", PROFILE, Faults(remove_at_apdu=index))
    reader = PcscCardReader(pcscd.reader)
    try:
        wait_present(reader)
        with pytest.raises(CardError) as info:
            reader.read("1234", include_my_number=True)
        assert isinstance(info.value, (CardRemoved, ReaderError)) or info.value.message_key in (
            "place_card",
            "removed",
        )
        wait_present(reader, False)  # pcscd has seen the card leave (vpcd needs that)
        server.insert()
        wait_present(reader)
        assert reader.read("1234", include_my_number=True).my_number == "123456789018"
    finally:
        server.stop()


def test_pcscd_restart_and_reader_gone_and_back(
    pcscd: Pcscd, card: tuple[VpcdCardServer, Path]
) -> None:
    reader = PcscCardReader(pcscd.reader)
    assert reader.read("1234", include_my_number=False).sex == "2"
    pcscd.restart()  # while idle
    wait_present(reader)
    assert reader.read("1234", include_my_number=False).sex == "2"
    pcscd.restart(with_vpcd=False)  # the reader is unplugged
    assert reader.state().reader_present is False
    with pytest.raises(NoReader):
        reader.pin_tries_left()
    pcscd.restart(with_vpcd=True)  # and plugged back
    wait_present(reader)
    assert reader.read("1234", include_my_number=False).sex == "2"


def test_pcscd_restart_during_a_read(pcscd: Pcscd, tmp_path: Path) -> None:
    server = start_card(pcscd, tmp_path / "slow.json", PROFILE, Faults(delay_s=0.4))
    outcome: list[object] = []

    def read_on_one_thread() -> None:
        reader = PcscCardReader(pcscd.reader)
        try:
            wait_present(reader)
            outcome.append("started")
            outcome.append(reader.read("1234", include_my_number=True))
        except CardError as exc:
            outcome.append(exc)

    try:
        worker = threading.Thread(target=read_on_one_thread)
        worker.start()
        deadline = time.monotonic() + 10
        while "started" not in outcome and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # inside the read
        pcscd.restart()
        worker.join(timeout=30)
        assert isinstance(outcome[-1], CardError)  # a clean error, no partial data
        server.faults.delay_s = 0.0
        reader = PcscCardReader(pcscd.reader)
        wait_present(reader)
        assert reader.read("1234", include_my_number=False).sex == "2"
    finally:
        server.stop()


def test_the_kiosk_reads_the_card_through_pcscd(
    pcscd: Pcscd, card: tuple[VpcdCardServer, Path], qtbot: QtBot, tmp_path: Path
) -> None:
    """The resident flow and windows on the real PC/SC path (demo --card-reader pcsc)."""
    settings = load_settings(tmp_path / "data", card_reader="pcsc")
    devices = Devices(
        card_reader=PcscCardReader(pcscd.reader),
        printer=SimulatedPrinter(settings.print_output_dir),
        payment=SimulatedPaymentProvider(),
    )
    ctx = build_context(settings, devices=devices)
    kiosk = build_kiosk(ctx, route_qt_messages=False)
    qtbot.addWidget(kiosk.resident)
    qtbot.addWidget(kiosk.staff)
    kiosk.resident.resize(1280, 1000)
    kiosk.resident.show()
    try:
        r = kiosk.resident
        for name in ("start", "procedure_0"):
            qtbot.waitUntil(
                lambda n=name: (
                    r.findChild(QPushButton, n) is not None
                    and r.findChild(QPushButton, n).isVisible()
                ),
                timeout=5000,
            )
            qtbot.mouseClick(r.findChild(QPushButton, name), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: kiosk.flow.screen is Screen.PIN, timeout=10000)
        for key in "1234":
            qtbot.mouseClick(r.findChild(QPushButton, f"key_{key}"), Qt.MouseButton.LeftButton)
        qtbot.mouseClick(r.findChild(QPushButton, "key_ok"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: kiosk.flow.screen is Screen.CONFIRM, timeout=10000)
        assert PROFILE["name"] in [row.value for row in kiosk.flow.view().rows]
        card[0].remove()  # the resident takes the card: the session is wiped
        qtbot.waitUntil(lambda: kiosk.flow.screen is Screen.START, timeout=10000)
    finally:
        kiosk.shutdown()
        ctx.close()


def test_the_wrong_pin_that_locks_the_card_exits_as_a_wrong_pin(
    pcscd: Pcscd, tmp_path: Path
) -> None:
    path = tmp_path / "one.json"
    server = start_card(pcscd, path, {**PROFILE, "pin_tries_left": 1})
    try:
        result = run_cli("read", "--pin-stdin", "--json", "--confirm-last-try", stdin="0000\n")
        assert result.returncode == 3  # a PIN was sent; exit 4 is kept for "no PIN sent"
        assert json.loads(path.read_text(encoding="utf-8"))["pin_tries_left"] == 0
        assert verifies_with_data(server) == 1
        again = run_cli("read", "--pin-stdin", "--json", "--confirm-last-try", stdin="1234\n")
        assert again.returncode == 4
        assert verifies_with_data(server) == 1
    finally:
        server.stop()
