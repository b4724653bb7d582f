"""A counter process for the crash test: it issues a payment QR through the HTTP provider,
reports the reference on stdout and then waits to be killed (no clean shutdown)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.payment_http import HttpPaymentProvider
from devices.printer_folder import SimulatedPrinter
from devices.registry import Devices
from kiosk.config import load_settings
from kiosk.context import build_context
from tests.helpers.applications import printed_application


def main() -> None:
    settings = load_settings(
        Path(os.environ["KIOSK_TEST_DATA_DIR"]), database_url=os.environ["KIOSK_TEST_DB_URL"]
    )
    key = os.environ["KIOSK_TEST_SIM_KEY"]
    devices = Devices(
        card_reader=SimulatedCardReader(demo_card()),
        printer=SimulatedPrinter(settings.print_output_dir),
        payment=HttpPaymentProvider(os.environ["KIOSK_TEST_SIM_URL"], lambda: key),
    )
    ctx = build_context(settings, devices=devices)
    app_id = printed_application(ctx)
    view = ctx.payments.issue(app_id, "S1")
    sys.stdout.write(json.dumps({"app_id": app_id, "reference": view.reference}) + "\n")
    sys.stdout.flush()
    while True:  # the QR is on the screen; the test kills this process now
        time.sleep(1)


if __name__ == "__main__":
    main()
