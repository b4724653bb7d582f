"""Assemble the Qt application: fonts, runner, resident flow, windows and timers."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication

from kiosk.context import AppContext
from kiosk.counter_display import CounterDisplay
from kiosk.resident_flow import ResidentFlow
from ui.bridge import QtRunner
from ui.fonts import register_ui_fonts
from ui.resident.window import ActivityFilter, ResidentWindow
from ui.staff.window import StaffWindow

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


#: harmless notices of the offscreen platform used by the tour and the tests
_IGNORED_QT = ("This plugin does not support propagateSizeHints()",)


def _qt_message(mode: QtMsgType, _context: Any, message: str) -> None:
    if message in _IGNORED_QT:
        return
    qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s", message)


def ensure_qapp(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or sys.argv[:1])
    assert isinstance(app, QApplication)
    family = register_ui_fonts()
    if family:
        font = QFont(family)
        font.setPixelSize(15)
        app.setFont(font)
    return app


@dataclass
class Kiosk:
    ctx: AppContext
    runner: QtRunner
    flow: ResidentFlow
    resident: ResidentWindow
    staff: StaffWindow
    display: CounterDisplay
    timers: list[QTimer]

    def shutdown(self) -> None:
        for timer in self.timers:
            timer.stop()
        self.flow.close()  # drop the resident's draft before the workers stop
        self.staff.stop()
        self.runner.shutdown()
        self.resident.close()
        self.staff.close()


def build_kiosk(ctx: AppContext, *, route_qt_messages: bool = True) -> Kiosk:
    if route_qt_messages:
        qInstallMessageHandler(_qt_message)
    runner = QtRunner()
    flow = ResidentFlow(
        reader=ctx.devices.card_reader,
        templates=ctx.templates,
        applications=ctx.applications,
        runner=runner,
        clock=ctx.clock,
        idle_warning_s=ctx.settings.idle_warning_s,
        idle_reset_s=ctx.settings.idle_reset_s,
    )
    resident = ResidentWindow(
        flow, municipality=ctx.settings.municipality, department=ctx.settings.department
    )
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(ActivityFilter(resident))
    display = CounterDisplay(ctx.clock)
    display.subscribe(resident.show_payment)
    staff = StaffWindow(ctx, runner, flow, display=display)
    tick = _timer(resident, 1000, flow.tick)
    poll = _timer(resident, 400, lambda: flow.poll_card() if flow.watching_card else None)
    countdown = _timer(resident, 1000, display.tick)
    # orders left open by a crash or power cut are settled from the provider (REC-01)
    runner.submit(
        "payment",
        ctx.payments.reconcile_open_orders,
        lambda changed: staff.refresh_queue() if changed else None,
        lambda exc: log.warning("start-up payment reconciliation failed: %s", exc),
    )
    return Kiosk(ctx, runner, flow, resident, staff, display, [tick, poll, countdown])


def _timer(parent: Any, ms: int, fn: Callable[[], Any]) -> QTimer:
    timer = QTimer(parent)
    timer.setInterval(ms)
    timer.timeout.connect(fn)
    timer.start()
    return timer


def place_windows(kiosk: Kiosk, *, fullscreen: bool) -> None:
    """Resident window on the primary screen; staff window on the second screen if there
    is one, otherwise side by side."""
    screens = QGuiApplication.screens()
    primary = QGuiApplication.primaryScreen()
    others = [s for s in screens if s is not primary]
    if others:
        kiosk.resident.setGeometry(primary.availableGeometry())
        kiosk.staff.setGeometry(others[0].availableGeometry())
        if fullscreen:
            kiosk.resident.showFullScreen()
        else:
            kiosk.resident.show()
        kiosk.staff.show()
        return
    area = primary.availableGeometry()
    half = area.width() // 2
    kiosk.resident.setGeometry(area.x(), area.y(), max(half, 900), area.height())
    kiosk.staff.setGeometry(area.x() + half, area.y(), max(area.width() - half, 700), area.height())
    kiosk.resident.show()
    kiosk.staff.show()
