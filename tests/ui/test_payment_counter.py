"""Cashless payment at the counter through the real windows and the simulated provider
running as its own HTTP service: the resident's screen shows the QR with the amount and
the time left, the provider completes the order, the staff screen shows it paid — nobody
types an amount."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.payment_http import HttpPaymentProvider
from devices.payment_sim_process import SimServerProcess
from devices.printer_folder import SimulatedPrinter
from devices.registry import Devices
from forms.fees import Fee, FeeLine
from kiosk.clock import JST, FakeClock
from kiosk.config import Settings
from kiosk.context import build_context
from kiosk.counter_display import PAID_SHOWN_S
from kiosk.payment_service import POLL_MAX_S
from kiosk.resident_flow import Screen
from kiosk.status import Status
from kiosk.storage.models import AuditEventRow, PaymentOrderRow
from tests.ui.test_counter_flow import click, confirm_paper, resident_applies, tick_identity
from ui.app import Kiosk, build_kiosk, ensure_qapp


@pytest.fixture
def sim() -> Iterator[SimServerProcess]:
    server = SimServerProcess(delay_s=None).start()
    yield server
    server.stop()


@pytest.fixture
def http_kiosk(
    qtbot: QtBot, settings: Settings, clock: FakeClock, sim: SimServerProcess
) -> Iterator[Kiosk]:
    devices = Devices(
        card_reader=SimulatedCardReader(demo_card()),
        printer=SimulatedPrinter(settings.print_output_dir),
        payment=HttpPaymentProvider(sim.url, lambda: sim.api_key, name="simulated"),
    )
    ctx = build_context(settings, clock=clock, devices=devices)
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
    ctx.close()


def to_printed(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    s = kiosk.staff
    qtbot.keyClicks(s.staff_input, "S1024")
    click(qtbot, s, "sign_in")
    qtbot.waitUntil(lambda: s.select_ticket(ticket), timeout=5000)
    qtbot.waitUntil(lambda: s.current is not None and s.current.ticket == ticket, timeout=5000)
    click(qtbot, s, "claim")
    tick_identity(qtbot, kiosk)
    click(qtbot, s, "approve_print")
    confirm_paper(qtbot, kiosk)
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.PRINTED, timeout=10000
    )


def test_the_qr_is_shown_to_the_resident_and_paid_without_typing(
    qtbot: QtBot, http_kiosk: Kiosk, sim: SimServerProcess, clock: FakeClock
) -> None:
    k = http_kiosk
    to_printed(qtbot, k)
    s, r = k.staff, k.resident
    # the service stamps its expiry in real time: bring the test clock to it first
    clock.advance((datetime.now(JST) - clock.now()).total_seconds())
    click(qtbot, s, "issue_qr")
    qtbot.waitUntil(lambda: r.stack.currentWidget() is r.payment_page, timeout=5000)
    page = r.payment_page
    assert page.amount.text() == "600円"
    assert page.time_left.text() in ("のこり 5:00", "のこり 4:59")
    assert page.qr.isVisible()
    assert "有効期限まで " in s.qr_text.text()
    clock.advance(30)  # the countdown comes from the order's expiry
    qtbot.waitUntil(lambda: page.time_left.text() in ("のこり 4:30", "のこり 4:29"), timeout=3000)
    (order,) = sim.orders()
    assert (order["amount"], order["status"]) == (600, "open")
    sim.complete(order["reference"])  # the resident pays with the phone
    clock.advance(POLL_MAX_S)  # the next poll is due
    qtbot.waitUntil(lambda: s.current is not None and s.current.status is Status.PAID, timeout=8000)
    assert "支払い済み" in s.message.text()
    qtbot.waitUntil(lambda: page.done.text() == "お支払いが完了しました", timeout=3000)
    clock.advance(PAID_SHOWN_S)
    qtbot.waitUntil(lambda: r.stack.currentWidget() is not r.payment_page, timeout=3000)
    assert k.flow.screen is Screen.START
    assert page.amount.text() == ""
    with k.ctx.db.read() as session:
        row = session.scalars(select(PaymentOrderRow)).one()
        assert (row.status, row.recorded_by, row.amount) == ("paid", "provider:simulated", 600)


def test_a_tampered_amount_on_the_staff_screen_issues_no_qr(
    qtbot: QtBot, http_kiosk: Kiosk, sim: SimServerProcess
) -> None:
    k = http_kiosk
    to_printed(qtbot, k)
    s = k.staff
    assert s.current is not None
    s.current = dataclasses.replace(s.current, fee=Fee((FeeLine("juminhyo_copy", 1, 1),)))
    click(qtbot, s, "issue_qr")
    qtbot.waitUntil(lambda: "QRコードは発行していません" in s.message.text(), timeout=5000)
    assert sim.orders() == []
    with k.ctx.db.read() as session:
        assert session.scalars(select(PaymentOrderRow)).all() == []
        event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "payment_amount_mismatch")
        ).one()
        assert event.detail == {"shown": 1, "computed": 600}
    assert k.resident.stack.currentWidget() is not k.resident.payment_page


def test_the_clerk_cancels_the_qr_and_the_resident_screen_clears(
    qtbot: QtBot, http_kiosk: Kiosk, sim: SimServerProcess
) -> None:
    k = http_kiosk
    to_printed(qtbot, k)
    s, r = k.staff, k.resident
    click(qtbot, s, "issue_qr")
    qtbot.waitUntil(lambda: r.stack.currentWidget() is r.payment_page, timeout=5000)
    click(qtbot, s, "cancel_qr")
    qtbot.waitUntil(lambda: "取り消しました" in s.message.text(), timeout=5000)
    assert r.stack.currentWidget() is not r.payment_page
    assert sim.orders()[0]["status"] == "cancelled"
    assert s.action_buttons["qr"].isEnabled()  # a new code, or cash
    click(qtbot, s, "cash")
    qtbot.waitUntil(lambda: s.current is not None and s.current.status is Status.PAID, timeout=5000)
    click(qtbot, s, "refund")  # the resident changed their mind: cash back, audited
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.CANCELLED, timeout=5000
    )
    with k.ctx.db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEventRow))]
    assert {"payment_cancelled", "payment_cash", "payment_refunded"} <= set(actions)
