"""Fixtures for tests that drive the real windows (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from kiosk.context import AppContext
from ui.app import Kiosk, build_kiosk, ensure_qapp


@pytest.fixture
def kiosk(qtbot: QtBot, ctx: AppContext) -> Iterator[Kiosk]:
    ensure_qapp()
    built = build_kiosk(ctx, route_qt_messages=False)
    qtbot.addWidget(built.resident)
    qtbot.addWidget(built.staff)
    built.resident.resize(1280, 1000)
    built.staff.resize(1280, 800)
    built.resident.show()
    built.staff.show()
    yield built
    built.shutdown()
