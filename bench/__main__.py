"""Print JSON benchmark figures.

- startup_to_interactive_s: process start → first interactive resident screen (offscreen),
  for a fresh data folder (creates and migrates the database) and for an existing one.
- full_flow_ms: one application through the whole simulated counter flow (card read, form,
  submit, claim, approve, print to PDF, cashless payment, complete) through the real
  services and the resident state machine, without a screen.
- render_pdf_ms: rendering one completed form to PDF.
- payment_http_service: the simulated provider's loopback HTTP service (bench/payment.py):
  its start-up and one create / status round trip through the HTTP adapter.
- form_logic_us: parsing each shipped template and assessing one application (fields,
  rules, eligibility, computed fields) against it (bench/forms.py).
- card_read_pcscd_vpcd: reading the card through the real pcscd, vpcd and the virtual card
  (bench/card.py), beside the raw APDU replay, with the APDU count.
- form_rendering: each shipped form's first (fresh process) and warm render, pages per
  second and bytes per page, beside the same form on a bare reportlab canvas
  (bench/printing.py).
- payment_qr: EMV/JPQR payload encodes and decodes per second, and PNG QR symbols per
  second with qrcode (ASCII) and segno (ECI 26, Japanese template 64) (bench/qr.py).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _startup(data_dir: Path) -> tuple[float, float]:
    """(in-process figure, wall time of the whole process including interpreter start)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "main.py", "--data-dir", str(data_dir), "demo", "--bench-startup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    wall = time.perf_counter() - began
    figure: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figure["startup_to_interactive_s"], wall


def bench_startup(runs: int) -> dict[str, Any]:
    fresh, warm = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            fresh.append(_startup(Path(tmp) / f"fresh{i}"))
        for _ in range(runs):
            warm.append(_startup(Path(tmp) / "fresh0"))
    return {
        "fresh_data_dir_median_s": round(statistics.median(f for f, _ in fresh), 3),
        "existing_data_dir_median_s": round(statistics.median(f for f, _ in warm), 3),
        "existing_data_dir_process_wall_median_s": round(statistics.median(w for _, w in warm), 3),
        "runs": runs,
    }


def bench_flow(applications: int) -> dict[str, Any]:
    from devices.card_simulated import SimulatedCardReader, demo_card
    from devices.payment_simulated import SimulatedPaymentProvider
    from devices.printer_folder import SimulatedPrinter
    from devices.registry import Devices
    from kiosk.clock import FakeClock
    from kiosk.config import load_settings
    from kiosk.context import build_context
    from kiosk.resident_flow import ResidentFlow, Screen
    from kiosk.runner import ImmediateRunner

    answers = {
        "kind": "part",
        "copies": "2",
        "include_head": "0",
        "include_honseki": "1",
        "include_my_number": "0",
        "include_resident_code": "0",
        "applicant_kana": "たかさき はなこ",
        "relation": "self",
        "purpose": "employment",
    }
    timings = []
    render = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp) / "data")
        clock = FakeClock()
        reader = SimulatedCardReader(demo_card())
        devices = Devices(
            reader,
            SimulatedPrinter(settings.print_output_dir),
            SimulatedPaymentProvider(delay_s=1.0, monotonic=clock.monotonic),
        )
        ctx = build_context(settings, clock=clock, devices=devices)
        flow = ResidentFlow(
            reader=reader,
            templates=ctx.templates,
            applications=ctx.applications,
            runner=ImmediateRunner(),
            clock=clock,
        )
        try:
            for _ in range(applications):
                start = time.perf_counter()
                flow.start("ja")
                flow.choose(flow.view().procedures[0].template_pk)
                for digit in "1234":
                    flow.pin_digit(digit)
                flow.pin_submit()
                flow.confirm()
                while (q := flow.view().question) is not None:
                    flow.answer(answers[q.field_id])
                flow.submit()
                assert flow.screen is Screen.SUBMITTED
                app_id = ctx.applications.queue()[-1].id
                ctx.applications.claim(app_id, "B1")
                ctx.applications.approve(app_id, "B1", identity_confirmed=True)
                job = ctx.printing.print_application(app_id, "B1")
                ctx.printing.confirm_printed(job.job_id, "B1")  # the clerk checked the paper
                ctx.payments.issue(app_id, "B1")
                clock.advance(2)
                ctx.payments.poll(app_id)
                ctx.applications.complete(app_id, "B1")
                flow.finish()
                reader.remove()
                flow.poll_card()
                reader.insert(demo_card())
                timings.append((time.perf_counter() - start) * 1000)
                from printing.render import render_pdf

                doc = ctx.printing.build_document(app_id)
                t0 = time.perf_counter()
                render_pdf(doc)
                render.append((time.perf_counter() - t0) * 1000)
        finally:
            ctx.close()
    timings.sort()
    return {
        "full_flow_ms": {
            "median": round(statistics.median(timings), 1),
            "p95": round(timings[int(0.95 * (len(timings) - 1))], 1),
            "min": round(timings[0], 1),
            "applications": applications,
        },
        "render_pdf_ms_median": round(statistics.median(render), 1),
    }


def main() -> int:
    sys.path.insert(0, str(ROOT))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    figures: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "startup_to_interactive": bench_startup(runs),
    }
    figures.update(bench_flow(int(os.environ.get("BENCH_APPLICATIONS", "30"))))
    from bench.forms import bench_forms

    figures["form_logic_us"] = bench_forms(int(os.environ.get("BENCH_FORM_RUNS", "200")))
    from bench.card import bench_card
    from bench.payment import bench_payment

    figures["payment_http_service"] = bench_payment(int(os.environ.get("BENCH_PAYMENT_RUNS", "50")))

    figures["card_read_pcscd_vpcd"] = bench_card(int(os.environ.get("BENCH_CARD_RUNS", "30")))
    from bench.printing import bench_printing

    figures["form_rendering"] = bench_printing(int(os.environ.get("BENCH_RENDER_RUNS", "20")))
    from bench.qr import bench_qr

    figures["payment_qr"] = bench_qr(int(os.environ.get("BENCH_QR_RUNS", "100")))
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
