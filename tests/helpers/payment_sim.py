"""Fixtures for the simulated provider running as its own HTTP service on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.credentials import store_api_key
from devices.payment_http import HttpPaymentProvider
from devices.payment_sim_process import SimServerProcess
from tests.helpers.memory_keyring import MemoryKeyring, memory_keyring


@pytest.fixture
def sim_server() -> Iterator[SimServerProcess]:
    """A fresh service per test (its own port and orders); nobody pays unless told."""
    server = SimServerProcess(delay_s=None, ttl_s=300.0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def keyring_backend() -> Iterator[MemoryKeyring]:
    with memory_keyring() as backend:
        yield backend


@pytest.fixture
def http_provider(
    sim_server: SimServerProcess, keyring_backend: MemoryKeyring
) -> HttpPaymentProvider:
    """The production HTTP adapter, its key read from the (in-memory) keyring; short
    timeouts and back-off so fault tests stay quick."""
    from devices.credentials import api_key_from_keyring

    store_api_key("http", sim_server.api_key)
    return HttpPaymentProvider(
        sim_server.url,
        api_key_from_keyring("http"),
        name="http",
        timeout_s=0.5,
        attempts=3,
        backoff_s=0.05,
    )
