"""Start the interactive demo and the admin window."""

from __future__ import annotations

import json
import logging
import sys
import time

from PySide6.QtCore import QTimer

from kiosk.config import Settings
from kiosk.context import build_context
from ui.admin.window import AdminWindow
from ui.app import build_kiosk, ensure_qapp, place_windows
from ui.printer_qt import register as register_qt_printer

log = logging.getLogger(__name__)


def run_demo(
    settings: Settings, *, fullscreen: bool = False, bench_started: float | None = None
) -> int:
    app = ensure_qapp()
    register_qt_printer()  # printer = "qt" needs the QApplication made just above
    ctx = build_context(settings)
    kiosk = build_kiosk(ctx)
    place_windows(kiosk, fullscreen=fullscreen)
    log.info(
        "demo running: data in %s; printed PDFs in %s", settings.data_dir, settings.print_output_dir
    )
    if bench_started is not None:

        def ready() -> None:
            figure = {"startup_to_interactive_s": round(time.perf_counter() - bench_started, 3)}
            sys.stdout.write(json.dumps(figure) + "\n")
            sys.stdout.flush()
            app.quit()

        QTimer.singleShot(0, ready)
    try:
        return app.exec()
    finally:
        kiosk.shutdown()
        ctx.close()


def run_admin(settings: Settings) -> int:
    app = ensure_qapp()
    ctx = build_context(settings)
    window = AdminWindow(ctx)
    window.resize(1100, 700)
    window.show()
    try:
        return app.exec()
    finally:
        ctx.close()
