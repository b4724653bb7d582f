"""The payment adapters and the payment service against provider faults.

The simulated provider runs here as its own HTTP service on 127.0.0.1 (a child process
with a free port), reached through the production HTTP adapter whose key comes from an
in-memory keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.credentials import api_key_from_keyring
from devices.emv.jpqr import decode_jpqr
from devices.emv_mpm import crc_ok, parse_top_level
from devices.errors import (
    PaymentCredentialMissing,
    PaymentError,
    PaymentRejected,
    PaymentUnavailable,
)
from devices.payment import OrderStatus
from devices.payment_http import HttpPaymentProvider, check_base_url
from devices.payment_local_jpqr import LocalJpqrProvider
from devices.payment_sim_process import SimServerProcess
from devices.payment_simulated import SimulatedPaymentProvider
from devices.printer_folder import SimulatedPrinter
from devices.registry import Devices
from kiosk.clock import FakeClock
from kiosk.config import Settings
from kiosk.context import AppContext, build_context
from kiosk.payment_service import (
    POLL_FIRST_S,
    POLL_MAX_S,
    AmountMismatch,
    StaffConfirmNotAllowed,
)
from kiosk.status import Status
from kiosk.storage.models import AuditEventRow, PaymentOrderRow
from tests.helpers.applications import printed_application
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.payment_sim import http_provider, keyring_backend, sim_server

__all__ = ["http_provider", "keyring_backend", "sim_server"]  # fixtures used below

ROOT = Path(__file__).resolve().parents[2]


def make_ctx(settings: Settings, clock: FakeClock, payment: object) -> AppContext:
    devices = Devices(
        card_reader=SimulatedCardReader(demo_card()),
        printer=SimulatedPrinter(settings.print_output_dir),
        payment=payment,  # type: ignore[arg-type]
    )
    return build_context(settings, clock=clock, devices=devices)


@pytest.fixture
def http_ctx(
    settings: Settings, clock: FakeClock, http_provider: HttpPaymentProvider
) -> Iterator[AppContext]:
    context = make_ctx(settings, clock, http_provider)
    yield context
    context.close()


def actions(ctx: AppContext) -> list[str]:
    with ctx.db.read() as session:
        return [e.action for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id))]


@dataclass(frozen=True)
class Order:
    status: str
    qr_content: str | None
    create_attempts: int
    recorded_by: str | None
    provider: str


def orders(ctx: AppContext) -> list[Order]:
    with ctx.db.read() as session:
        rows = session.scalars(select(PaymentOrderRow).order_by(PaymentOrderRow.id))
        return [
            Order(r.status, r.qr_content, r.create_attempts, r.recorded_by, r.provider)
            for r in rows
        ]


# --- the HTTP adapter against the service ---------------------------------------------


def test_an_order_goes_open_paid_refunded_over_http(
    http_provider: HttpPaymentProvider, sim_server: SimServerProcess
) -> None:
    order = http_provider.create_order(
        amount_yen=300,
        reference="202611240001P1",
        fee_code="juminhyo_copy",
        idempotency_key="k" * 32,
    )
    assert crc_ok(order.qr_content)
    tags = parse_top_level(order.qr_content)
    assert (tags["54"], tags["53"], tags["01"]) == ("300", "392", "12")
    assert "202611240001P1" in tags["62"]
    assert http_provider.get_status(order.provider_order_id) is OrderStatus.OPEN
    assert sim_server.complete("202611240001P1") == "paid"
    assert http_provider.get_status(order.provider_order_id) is OrderStatus.PAID
    assert http_provider.cancel(order.provider_order_id) is OrderStatus.PAID  # too late
    refunded = http_provider.refund(
        order.provider_order_id, amount_yen=300, idempotency_key="r" * 32
    )
    assert refunded is OrderStatus.REFUNDED
    again = http_provider.refund(order.provider_order_id, amount_yen=300, idempotency_key="r" * 32)
    assert again is OrderStatus.REFUNDED  # the same refund, not a second one
    # the service holds the reference, fee code and amount only (PAY-01, test 52)
    (held,) = sim_server.orders()
    assert set(held) == {"order_id", "reference", "fee_code", "amount", "status"}
    assert (held["fee_code"], held["amount"], held["status"]) == ("juminhyo_copy", 300, "refunded")


def test_a_repeated_key_is_the_same_order_and_a_changed_amount_is_refused(
    http_provider: HttpPaymentProvider, sim_server: SimServerProcess
) -> None:
    args = {"reference": "202611240002P1", "fee_code": "juminhyo_copy", "idempotency_key": "a" * 32}
    first = http_provider.create_order(amount_yen=600, **args)
    assert http_provider.create_order(amount_yen=600, **args) == first
    with pytest.raises(PaymentRejected):
        http_provider.create_order(amount_yen=1, **args)
    assert len(sim_server.orders()) == 1


def test_a_timeout_then_a_retry_with_the_same_key_gives_one_order(
    http_provider: HttpPaymentProvider, sim_server: SimServerProcess
) -> None:
    # the service makes the order but its answer comes after the adapter gave up
    sim_server.fault("create", "timeout", hang_s=1.5)
    order = http_provider.create_order(
        amount_yen=600,
        reference="202611240003P1",
        fee_code="juminhyo_copy",
        idempotency_key="t" * 32,
    )
    stats = sim_server.stats()
    assert stats["calls"]["create"] == 2
    assert stats["orders"] == 1
    assert sim_server.orders()[0]["order_id"] == order.provider_order_id


def test_5xx_is_retried_with_back_off_and_then_reported(
    http_provider: HttpPaymentProvider, sim_server: SimServerProcess
) -> None:
    sim_server.fault("status", "error", count=2)
    order = http_provider.create_order(
        amount_yen=300,
        reference="202611240004P1",
        fee_code="juminhyo_copy",
        idempotency_key="e" * 32,
    )
    assert http_provider.get_status(order.provider_order_id) is OrderStatus.OPEN  # third try
    sim_server.fault("status", "error", count=3)
    with pytest.raises(PaymentUnavailable):
        http_provider.get_status(order.provider_order_id)
    # done, then a 500: the retry with the same key finds the order made the first time
    sim_server.fault("create", "error_after")
    again = http_provider.create_order(
        amount_yen=300,
        reference="202611240005P1",
        fee_code="juminhyo_copy",
        idempotency_key="f" * 32,
    )
    assert [o["order_id"] for o in sim_server.orders()].count(again.provider_order_id) == 1
    assert len(sim_server.orders()) == 2


def test_a_stopped_service_is_unavailable_not_an_internal_error() -> None:
    server = SimServerProcess(delay_s=None).start()
    provider = HttpPaymentProvider(
        server.url, lambda: server.api_key, timeout_s=0.5, backoff_s=0.01
    )
    server.stop()
    with pytest.raises(PaymentUnavailable):
        provider.get_status("SIM00000001")


def test_credentials_come_from_the_keyring_and_fail_closed(
    sim_server: SimServerProcess, keyring_backend: MemoryKeyring
) -> None:
    provider = HttpPaymentProvider(sim_server.url, api_key_from_keyring("http"), backoff_s=0.01)
    with pytest.raises(PaymentCredentialMissing):  # no key stored
        provider.get_status("SIM00000001")
    keyring_backend.set_password("kakanai-kiosk", "payment:http", "not-the-key-at-all")
    with pytest.raises(PaymentError):  # wrong key: refused, not retried
        provider.get_status("SIM00000001")
    assert sim_server.stats()["calls"]["status"] == 0  # refused before reaching the API
    keyring.set_keyring(fail.Keyring())  # a machine without a keyring: no plaintext fallback
    with pytest.raises(PaymentCredentialMissing):
        provider.get_status("SIM00000001")


def test_plain_http_only_to_this_machine() -> None:
    assert check_base_url("https://pay.example.jp/api/") == "https://pay.example.jp/api"
    assert check_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    with pytest.raises(ValueError, match="https"):
        check_base_url("http://pay.example.jp")


# --- the payment service with the HTTP provider ---------------------------------------


def test_issue_survives_timeouts_and_retries_into_one_order(
    http_ctx: AppContext, sim_server: SimServerProcess
) -> None:
    app_id = printed_application(http_ctx)
    sim_server.fault("create", "timeout", count=3, hang_s=1.0)  # every try of the first call
    with pytest.raises(PaymentUnavailable):
        http_ctx.payments.issue(app_id, "S1", shown_amount=600)
    (row,) = orders(http_ctx)
    assert (row.status, row.qr_content, row.create_attempts) == ("open", None, 1)
    view = http_ctx.payments.issue(app_id, "S1", shown_amount=600)  # the clerk presses again
    assert view.qr_content
    (row,) = orders(http_ctx)
    assert row.create_attempts == 2
    assert len(sim_server.orders()) == 1  # three lost answers, one retry: one order
    assert http_ctx.applications.detail(app_id).status is Status.AWAITING_PAYMENT


def test_a_tampered_amount_is_refused_and_audited(
    http_ctx: AppContext, sim_server: SimServerProcess
) -> None:
    app_id = printed_application(http_ctx)
    with pytest.raises(AmountMismatch):
        http_ctx.payments.issue(app_id, "S1", shown_amount=100)
    assert orders(http_ctx) == []
    assert sim_server.orders() == []  # nothing reached the provider at the crafted amount
    with http_ctx.db.read() as session:
        event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "payment_amount_mismatch")
        ).one()
        assert (event.actor, event.detail) == ("S1", {"shown": 100, "computed": 600})
    view = http_ctx.payments.issue(app_id, "S1", shown_amount=600)
    assert view.amount == 600
    assert sim_server.orders()[0]["amount"] == 600


def test_polling_with_back_off_records_the_payment(
    http_ctx: AppContext, sim_server: SimServerProcess, clock: FakeClock
) -> None:
    app_id = printed_application(http_ctx)
    view = http_ctx.payments.issue(app_id, "S1")
    assert http_ctx.payments.poll_due() == []  # not due yet
    assert sim_server.stats()["calls"]["status"] == 0
    clock.advance(POLL_FIRST_S)
    assert http_ctx.payments.poll_due() == []
    assert sim_server.stats()["calls"]["status"] == 1
    clock.advance(POLL_FIRST_S)  # the interval grew: not asked again yet
    http_ctx.payments.poll_due()
    assert sim_server.stats()["calls"]["status"] == 1
    sim_server.complete(view.reference)
    clock.advance(POLL_MAX_S)
    assert http_ctx.payments.poll_due() == [app_id]
    assert http_ctx.applications.detail(app_id).status is Status.PAID
    (row,) = orders(http_ctx)
    assert (row.status, row.recorded_by) == ("paid", "provider:http")


def test_an_unreachable_provider_is_asked_less_often(
    http_ctx: AppContext, sim_server: SimServerProcess, clock: FakeClock
) -> None:
    app_id = printed_application(http_ctx)
    http_ctx.payments.issue(app_id, "S1")
    sim_server.fault("status", "error", count=100)
    asked = []
    for _ in range(12):
        clock.advance(POLL_FIRST_S)
        http_ctx.payments.poll_due()
        asked.append(sim_server.stats()["calls"]["status"])
    # 3 tries per round; rounds at 2, 6 (4 s later) and 14 s (8 s later) in 24 s
    assert asked == [3, 3, 6, 6, 6, 6, 9, 9, 9, 9, 9, 9]
    assert http_ctx.payments.unreachable
    assert http_ctx.applications.detail(app_id).status is Status.AWAITING_PAYMENT


def test_an_expired_code_is_withdrawn_and_reissued_under_a_new_reference(
    http_ctx: AppContext, sim_server: SimServerProcess, clock: FakeClock
) -> None:
    app_id = printed_application(http_ctx)
    first = http_ctx.payments.issue(app_id, "S1")
    sim_server.admin("POST", f"/_sim/orders/{first.reference}/expire")
    assert http_ctx.payments.poll_open_orders() == [app_id]
    assert http_ctx.payments.current(app_id).status is OrderStatus.EXPIRED  # type: ignore[union-attr]
    second = http_ctx.payments.issue(app_id, "S1")
    assert second.reference != first.reference
    assert len(sim_server.orders()) == 2


def test_a_changed_fee_cancels_the_open_order_and_issues_a_new_one(
    http_ctx: AppContext, sim_server: SimServerProcess
) -> None:
    app_id = printed_application(http_ctx)
    first = http_ctx.payments.issue(app_id, "S1")
    assert first.amount == 600
    http_ctx.fees.set("juminhyo_copy", 350, "A1", {"juminhyo_copy"})
    http_ctx.payments.poll_open_orders()
    second = http_ctx.payments.current(app_id)
    assert second is not None
    assert (second.amount, second.status) == (700, OrderStatus.OPEN)
    assert second.reference != first.reference
    states = {o["reference"]: o["status"] for o in sim_server.orders()}
    assert states == {first.reference: "cancelled", second.reference: "open"}
    assert "payment_superseded" in actions(http_ctx)


def test_a_late_payment_after_cash_is_flagged_and_refunded_through_the_provider(
    http_ctx: AppContext, sim_server: SimServerProcess
) -> None:
    app_id = printed_application(http_ctx)
    qr = http_ctx.payments.issue(app_id, "S1")
    http_ctx.payments.pay_cash(app_id, "S1")  # the QR is withdrawn, cash taken
    assert sim_server.complete(qr.reference, late=True) == "paid"  # was already on its way
    assert http_ctx.payments.poll_open_orders() == [app_id]
    assert http_ctx.payments.needs_refund(app_id)
    assert "payment_needs_refund" in actions(http_ctx)
    refunded = http_ctx.payments.refund(app_id, "S2")
    assert (refunded.reference, refunded.refund_method) == (qr.reference, "provider")
    assert {o["reference"]: o["status"] for o in sim_server.orders()} == {qr.reference: "refunded"}
    assert http_ctx.applications.detail(app_id).status is Status.PAID  # the cash stays
    assert not http_ctx.payments.needs_refund(app_id)


def test_a_late_payment_after_expiry_pays_the_application(
    http_ctx: AppContext, sim_server: SimServerProcess
) -> None:
    app_id = printed_application(http_ctx)
    first = http_ctx.payments.issue(app_id, "S1")
    sim_server.admin("POST", f"/_sim/orders/{first.reference}/expire")
    http_ctx.payments.poll_open_orders()
    second = http_ctx.payments.issue(app_id, "S1")  # a new code is on the screen
    sim_server.complete(first.reference, late=True)  # but the old one was paid
    assert app_id in http_ctx.payments.poll_open_orders()
    assert http_ctx.applications.detail(app_id).status is Status.PAID
    states = {o["reference"]: o["status"] for o in sim_server.orders()}
    assert states == {first.reference: "paid", second.reference: "cancelled"}
    assert not http_ctx.payments.needs_refund(app_id)


def test_refunding_a_paid_application_cancels_it(
    http_ctx: AppContext, sim_server: SimServerProcess
) -> None:
    app_id = printed_application(http_ctx)
    view = http_ctx.payments.issue(app_id, "S1")
    sim_server.complete(view.reference)
    http_ctx.payments.poll_open_orders()
    with pytest.raises(Exception, match="payment_refund_first"):
        http_ctx.applications.cancel(app_id, "S1")
    http_ctx.payments.refund(app_id, "S1")
    assert http_ctx.applications.detail(app_id).status is Status.CANCELLED
    assert sim_server.orders()[0]["status"] == "refunded"


def test_the_clerk_cannot_mark_a_queryable_order_paid(http_ctx: AppContext) -> None:
    app_id = printed_application(http_ctx)
    http_ctx.payments.issue(app_id, "S1")
    with pytest.raises(StaffConfirmNotAllowed):
        http_ctx.payments.confirm_paid(app_id, "S1")


def test_the_app_killed_after_showing_the_qr_is_reconciled_as_paid_at_restart(
    settings: Settings, sim_server: SimServerProcess, clock: FakeClock
) -> None:
    env = dict(os.environ)
    env.update(
        KIOSK_TEST_DATA_DIR=str(settings.data_dir),
        KIOSK_TEST_DB_URL=settings.effective_database_url,
        KIOSK_TEST_SIM_URL=sim_server.url,
        KIOSK_TEST_SIM_KEY=sim_server.api_key,
    )
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "helpers" / "counter_process.py")],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None
        shown = json.loads(child.stdout.readline())
    finally:
        child.kill()  # no shutdown, no last poll
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert sim_server.complete(shown["reference"]) == "paid"  # the resident paid meanwhile
    provider = HttpPaymentProvider(sim_server.url, lambda: sim_server.api_key)
    ctx = make_ctx(settings, clock, provider)
    try:
        assert ctx.applications.detail(shown["app_id"]).status is Status.AWAITING_PAYMENT
        assert ctx.payments.reconcile_open_orders() == [shown["app_id"]]
        assert ctx.applications.detail(shown["app_id"]).status is Status.PAID
        assert "payment_reconciled" in actions(ctx)
    finally:
        ctx.close()


# --- a locally built JPQR code: no status, the clerk confirms --------------------------

JPQR = {
    "merchant_id": "0000000000001-0001-000001-000001",
    "merchant_name": "MATSUURA CITY",
    "merchant_city": "MATSUURA",
    "postal_code": "859-4501",
}


def test_a_local_jpqr_code_is_confirmed_by_the_clerk_and_audited(
    settings: Settings, clock: FakeClock
) -> None:
    provider = LocalJpqrProvider(**JPQR, ttl_s=600, now=clock.now)
    ctx = make_ctx(settings, clock, provider)
    try:
        app_id = printed_application(ctx)
        view = ctx.payments.issue(app_id, "S1", shown_amount=600)
        assert view.qr_content is not None
        assert crc_ok(view.qr_content)
        tags = parse_top_level(view.qr_content)
        assert tags["26"].startswith("0019jp.or.paymentsjapan01130000000000001")
        assert tags["54"] == "600"
        decoded = decode_jpqr(view.qr_content)  # the strict JPQR profile accepts it
        assert decoded is not None
        assert tags["61"] == "8594501"
        assert ctx.payments.staff_confirms
        assert ctx.payments.poll_open_orders() == []  # nobody to ask
        ctx.payments.confirm_paid(app_id, "S1")
        assert ctx.applications.detail(app_id).status is Status.PAID
        (row,) = orders(ctx)
        assert (row.status, row.recorded_by, row.provider) == ("paid", "S1", "local_jpqr")
        assert "payment_confirmed_by_staff" in actions(ctx)
        refunded = ctx.payments.refund(app_id, "S1")  # by hand under the city's rule
        assert refunded.refund_method == "manual"
    finally:
        ctx.close()


def test_a_local_jpqr_code_expires_here(settings: Settings, clock: FakeClock) -> None:
    provider = LocalJpqrProvider(**JPQR, ttl_s=600, now=clock.now)
    ctx = make_ctx(settings, clock, provider)
    try:
        app_id = printed_application(ctx)
        view = ctx.payments.issue(app_id, "S1")
        assert ctx.payments.seconds_left(view) == 600
        clock.advance(601)
        assert ctx.payments.seconds_left(view) == 0
        assert ctx.payments.poll_open_orders() == [app_id]
        assert ctx.payments.current(app_id).status is OrderStatus.EXPIRED  # type: ignore[union-attr]
    finally:
        ctx.close()


def test_a_local_jpqr_code_needs_the_municipality_postal_code() -> None:
    with pytest.raises(ValueError, match="postal_code"):
        LocalJpqrProvider(**{**JPQR, "postal_code": ""})


def test_a_bad_merchant_id_is_refused() -> None:
    with pytest.raises(ValueError, match="13-4-6-6"):
        LocalJpqrProvider(merchant_id="123", merchant_name="X", merchant_city="Y")
    with pytest.raises(ValueError, match="ASCII"):
        LocalJpqrProvider(
            merchant_id=JPQR["merchant_id"], merchant_name="松浦市", merchant_city="MATSUURA"
        )


def test_the_in_process_simulation_keeps_the_same_contract(clock: FakeClock) -> None:
    provider = SimulatedPaymentProvider(delay_s=None, monotonic=clock.monotonic)
    order = provider.create_order(
        amount_yen=300, reference="R1", fee_code="juminhyo_copy", idempotency_key="k"
    )
    with pytest.raises(PaymentRejected):
        provider.refund(order.provider_order_id, amount_yen=300, idempotency_key="r")
    provider.complete(order.provider_order_id)
    assert provider.refund(order.provider_order_id, amount_yen=300, idempotency_key="r") == (
        OrderStatus.REFUNDED
    )
