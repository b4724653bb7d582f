"""Shared fixtures. Qt runs offscreen; every test gets a fresh data folder and database;
no test may leave a thread running."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_QPA_FONTDIR", "")
os.environ.pop("KIOSK_DATA_DIR", None)
os.environ.pop("KIOSK_DATABASE_URL", None)

import pytest

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.payment_simulated import SimulatedPaymentProvider
from devices.printer_folder import SimulatedPrinter
from devices.registry import Devices
from kiosk.clock import FakeClock
from kiosk.config import Settings, load_settings
from kiosk.context import AppContext, build_context
from tests.helpers.postgres import PostgresServer

if os.environ.get("QT_QPA_FONTDIR") == "":
    del os.environ["QT_QPA_FONTDIR"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole run, on loopback, stopped at the end."""
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test that uses the database runs against SQLite and PostgreSQL, since their
    locking and transaction behaviour differ (CONC-05)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'kiosk.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def devices(settings: Settings, clock: FakeClock) -> Devices:
    return Devices(
        card_reader=SimulatedCardReader(demo_card()),
        printer=SimulatedPrinter(settings.print_output_dir),
        payment=SimulatedPaymentProvider(delay_s=3.0, monotonic=clock.monotonic),
    )


@pytest.fixture
def ctx(settings: Settings, clock: FakeClock, devices: Devices) -> Iterator[AppContext]:
    context = build_context(settings, clock=clock, devices=devices)
    yield context
    context.close()


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"threads left running: {still}"
