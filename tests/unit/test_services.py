"""Application, print and payment services without Qt: every status of an application."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader
from devices.payment import OrderStatus
from devices.payment_simulated import SimulatedPaymentProvider
from devices.printer_folder import SimulatedPrinter
from forms.eligibility import Obligation
from forms.model import Source
from forms.prefill import FilledValue, Provenance, prefill
from kiosk.applications import NotEligible, PaymentOpen, RulesBroken, StoredValue
from kiosk.clock import FakeClock
from kiosk.context import AppContext
from kiosk.errors import ConcurrentUpdate, IllegalTransition, ValidationFailed
from kiosk.print_service import JobStatus, PrintInProgress, PrintOutcome
from kiosk.status import TRANSITIONS, Status, can_transition
from kiosk.storage.models import (
    ApplicationRow,
    AuditEventRow,
    FieldCorrectionRow,
    PaymentOrderRow,
    PrintJobRow,
)
from tests.helpers.applications import ANSWERS, submitted, template_pk


def print_confirmed(ctx: AppContext, app_id: int, staff: str = "S1") -> PrintOutcome:
    """Print, then the clerk confirms the paper (spooler done is not printed, PRN-06)."""
    outcome = ctx.printing.print_application(app_id, staff)
    assert (outcome.status, outcome.confirm_reason) == (
        JobStatus.NEEDS_CONFIRMATION,
        "spooler_completed",
    )
    assert ctx.applications.detail(app_id).status is Status.APPROVED
    return ctx.printing.confirm_printed(outcome.job_id, staff)


def statuses(ctx: AppContext, app_id: int) -> list[str]:
    return [to for _f, to, _a in ctx.applications.detail(app_id).history]


def test_cashless_path_goes_through_every_status(ctx: AppContext, clock: FakeClock) -> None:
    apps = ctx.applications
    app_id = submitted(ctx)
    apps.claim(app_id, "S1")
    apps.approve(app_id, "S1", identity_confirmed=True)
    assert print_confirmed(ctx, app_id).status is JobStatus.PRINTED
    order = ctx.payments.issue(app_id, "S1")
    assert order.amount == 600
    assert order.qr_content
    assert order.qr_content.startswith("000201")
    assert ctx.payments.poll(app_id) is not None
    assert apps.detail(app_id).status is Status.AWAITING_PAYMENT
    clock.advance(3.5)  # the simulated provider completes after 3 s
    ctx.payments.poll(app_id)
    apps.complete(app_id, "S1")
    assert statuses(ctx, app_id) == [
        "draft",
        "submitted",
        "in_review",
        "approved",
        "printed",
        "awaiting_payment",
        "paid",
        "completed",
    ]
    with ctx.db.read() as session:
        payment = session.scalars(select(PaymentOrderRow)).one()
        assert (payment.method, payment.status, payment.amount) == ("cashless", "paid", 600)
        app = session.get(ApplicationRow, app_id)
        assert app is not None
        assert app.approved_by == "S1"
        assert app.identity_confirmed


def test_issuing_twice_creates_one_provider_order(ctx: AppContext) -> None:
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    print_confirmed(ctx, app_id)
    first = ctx.payments.issue(app_id, "S1")
    second = ctx.payments.issue(app_id, "S1")
    assert first.reference == second.reference
    with ctx.db.read() as session:
        assert len(session.scalars(select(PaymentOrderRow)).all()) == 1


def test_cash_payment_records_the_method_and_cancels_the_qr(ctx: AppContext) -> None:
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    print_confirmed(ctx, app_id)
    ctx.payments.issue(app_id, "S1")
    view = ctx.payments.pay_cash(app_id, "S1")
    assert view.method == "cash"
    ctx.applications.complete(app_id, "S1")
    with ctx.db.read() as session:
        orders = {o.method: o.status for o in session.scalars(select(PaymentOrderRow))}
    assert orders == {"cashless": "cancelled", "cash": "paid"}


def test_fee_free_application_goes_from_printed_to_completed(ctx: AppContext) -> None:
    app_id = submitted(ctx, "idou")
    apps = ctx.applications
    apps.claim(app_id, "S2")
    with pytest.raises(ValidationFailed):  # the clerk must enter the new address first
        apps.approve(app_id, "S2", identity_confirmed=True)
    assert (
        apps.correct(app_id, "S2", "new_address", "長崎県松浦市志佐町浦免１番地", "窓口で確認")
        is None
    )
    assert apps.correct(app_id, "S2", "move_date", "20261120", "窓口で確認") is None
    movers = '[{"name":"髙﨑　花子","birth_date":"19580412"}]'
    assert apps.correct(app_id, "S2", "movers", movers, "窓口で聞き取り") is None
    apps.approve(app_id, "S2", identity_confirmed=True)
    print_confirmed(ctx, app_id, "S2")
    with pytest.raises(IllegalTransition):
        ctx.payments.issue(app_id, "S2")
    apps.complete(app_id, "S2")
    assert statuses(ctx, app_id)[-2:] == ["printed", "completed"]


def test_paid_application_cannot_skip_payment(ctx: AppContext) -> None:
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    print_confirmed(ctx, app_id)
    with pytest.raises(IllegalTransition):
        ctx.applications.complete(app_id, "S1")


def test_approval_needs_the_identity_check(ctx: AppContext) -> None:
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    with pytest.raises(ValidationFailed) as info:
        ctx.applications.approve(app_id, "S1", identity_confirmed=False)
    assert info.value.message_key == "identity_not_confirmed"
    assert ctx.applications.detail(app_id).status is Status.IN_REVIEW


def test_a_claimed_application_cannot_be_taken_by_another_clerk(ctx: AppContext) -> None:
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    with pytest.raises(ConcurrentUpdate):
        ctx.applications.claim(app_id, "S2")
    with pytest.raises(ConcurrentUpdate):
        ctx.applications.approve(app_id, "S2", identity_confirmed=True)
    ctx.applications.release(app_id, "S1")
    ctx.applications.claim(app_id, "S2")
    assert ctx.applications.detail(app_id).claimed_by == "S2"


def test_rejection_and_corrections_are_recorded(ctx: AppContext) -> None:
    app_id = submitted(ctx)
    apps = ctx.applications
    apps.claim(app_id, "S1")
    with pytest.raises(ValidationFailed):
        apps.correct(app_id, "S1", "copies", "3", "  ")
    problem = apps.correct(app_id, "S1", "copies", "30", "本人の申出")
    assert problem is not None
    assert problem.message_key == "invalid_max"
    assert apps.correct(app_id, "S1", "copies", "3", "本人の申出") is None
    detail = apps.detail(app_id)
    assert detail.values["copies"].provenance is Provenance.STAFF
    assert detail.fee.total == 900
    apps.reject(app_id, "S1", "委任状がない")
    assert apps.detail(app_id).status is Status.REJECTED
    with ctx.db.read() as session:
        correction = session.scalars(select(FieldCorrectionRow)).one()
        assert (correction.old_value, correction.new_value) == ("2", "3")


def test_printer_offline_keeps_the_job_waiting(ctx: AppContext) -> None:
    printer = ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    printer.offline = True
    outcome = ctx.printing.print_application(app_id, "S1")
    assert (outcome.status, outcome.error_key) == (JobStatus.WAITING, "printer_offline")
    assert ctx.applications.detail(app_id).status is Status.APPROVED
    printer.offline = False
    retried = ctx.printing.retry(outcome.job_id, "S1")
    assert retried.status is JobStatus.NEEDS_CONFIRMATION
    ctx.printing.confirm_printed(outcome.job_id, "S1")
    with ctx.db.read() as session:
        job = session.scalars(select(PrintJobRow)).one()
        assert (job.attempts, job.status) == (2, "printed")
    assert ctx.applications.detail(app_id).status is Status.PRINTED


def test_the_printed_pdf_holds_the_confirmed_values(ctx: AppContext) -> None:
    printer = ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    ctx.printing.print_application(app_id, "S1")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(printer.last_path).pages)
    expected_texts = (
        "住民票の写し等交付申請書",
        "髙﨑",
        "長崎県松浦市志佐町里免",
        "昭和33年4月12日",
        "600",
    )
    for expected in expected_texts:
        assert expected in text


def test_the_transition_table_is_closed() -> None:
    # every status is reachable from draft, and the terminal ones lead nowhere
    reachable = {Status.DRAFT}
    frontier = [Status.DRAFT]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    assert reachable == set(Status)
    assert not can_transition(Status.COMPLETED, Status.DRAFT)
    assert not can_transition(Status.DRAFT, Status.APPROVED)


def test_audit_events_hold_no_personal_values(ctx: AppContext, clock: FakeClock) -> None:
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.correct(app_id, "S1", "applicant_kana", "たかさき はなこ", "読み確認")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    ctx.printing.print_application(app_id, "S1")
    with ctx.db.read() as session:
        dump = repr(
            [
                (e.actor, e.action, e.object_id, e.detail)
                for e in session.scalars(select(AuditEventRow))
            ]
        )
    for personal in ("髙﨑", "花子", "たかさき", "松浦市志佐町", "19580412", "読み確認"):
        assert personal not in dump
    assert "field_corrected" in dump
    assert "identity_confirmed" in dump


def test_the_my_number_is_never_written(ctx: AppContext) -> None:
    from forms.model import parse_template
    from kiosk.applications import persistable

    raw = {
        "id": "mn",
        "version": 1,
        "title": {"ja": "個人番号の届出"},
        "business": "税務事務",
        "my_number_business": True,
        "sections": [
            {
                "id": "s",
                "title": {"ja": "s"},
                "fields": [
                    {
                        "id": "mn",
                        "kind": "text",
                        "label": {"ja": "個人番号"},
                        "filled_by": "system",
                        "source": "card.my_number",
                    },
                    {
                        "id": "name",
                        "kind": "text",
                        "label": {"ja": "氏名"},
                        "filled_by": "system",
                        "source": "card.name",
                    },
                ],
            }
        ],
    }
    template = parse_template(raw)
    kept = persistable(
        template,
        {
            "mn": FilledValue("123456789018", Provenance.CARD),
            "name": FilledValue("髙﨑", Provenance.CARD),
        },
    )
    assert set(kept) == {"name"}
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    assert "123456789018" not in repr(reader.read("1234", include_my_number=True))


def approved(ctx: AppContext) -> int:
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, "S1")
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    return app_id


def test_a_slow_printer_never_gets_a_second_copy(ctx: AppContext) -> None:
    printer = ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    printer.complete_jobs = False
    app_id = approved(ctx)
    first = ctx.printing.print_application(app_id, "S1")
    assert first.status is JobStatus.SENT
    assert ctx.applications.detail(app_id).status is Status.APPROVED
    with pytest.raises(PrintInProgress):
        ctx.printing.print_application(app_id, "S2")
    assert ctx.printing.retry(first.job_id, "S1").status is JobStatus.SENT  # not resent
    assert printer.printed_count == 1
    printer.finish_pending()
    assert ctx.printing.refresh(first.job_id, "S1").status is JobStatus.NEEDS_CONFIRMATION
    assert ctx.printing.retry(first.job_id, "S1").status is JobStatus.NEEDS_CONFIRMATION
    assert ctx.printing.confirm_printed(first.job_id, "S1").status is JobStatus.PRINTED
    assert ctx.printing.retry(first.job_id, "S1").status is JobStatus.PRINTED
    assert printer.printed_count == 1
    assert ctx.applications.detail(app_id).status is Status.PRINTED


def printed_with_fee(ctx: AppContext) -> int:
    app_id = approved(ctx)
    print_confirmed(ctx, app_id)
    return app_id


def test_an_expired_qr_is_reissued_with_a_new_reference(ctx: AppContext, clock: FakeClock) -> None:
    provider = ctx.devices.payment
    assert isinstance(provider, SimulatedPaymentProvider)
    provider.delay_s = 10_000  # nobody pays
    app_id = printed_with_fee(ctx)
    first = ctx.payments.issue(app_id, "S1")
    clock.advance(provider.ttl_s + 1)
    polled = ctx.payments.poll(app_id)
    assert polled is not None
    assert polled.status is OrderStatus.EXPIRED
    second = ctx.payments.issue(app_id, "S1")
    assert second.reference != first.reference
    assert second.status is OrderStatus.OPEN
    assert ctx.applications.detail(app_id).status is Status.AWAITING_PAYMENT


def test_cancel_is_refused_while_a_qr_order_is_open(ctx: AppContext) -> None:
    app_id = printed_with_fee(ctx)
    ctx.payments.issue(app_id, "S1")
    with pytest.raises(PaymentOpen):
        ctx.applications.cancel(app_id, "S1")


def test_money_for_a_cancelled_application_is_flagged_for_refund(
    ctx: AppContext, clock: FakeClock
) -> None:
    app_id = printed_with_fee(ctx)
    ctx.payments.issue(app_id, "S1")
    with ctx.db.write() as session:  # cancelled by another path while the QR was out
        app = session.get(ApplicationRow, app_id)
        assert app is not None
        app.status = Status.CANCELLED.value
    clock.advance(5)
    assert ctx.payments.poll_open_orders() == [app_id]
    with ctx.db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEventRow))]
    assert "payment_needs_refund" in actions


def test_tickets_stay_unique_when_counters_submit_at_once(ctx: AppContext) -> None:
    pk = template_pk(ctx, "juminhyo")
    values = prefill(
        ctx.templates.get(pk),
        {
            Source.CARD_NAME: "髙﨑　花子",
            Source.CARD_ADDRESS: "長崎県松浦市",
            Source.CARD_BIRTH_DATE: "19580412",
            Source.SESSION_TODAY: "20261124",
        },
    )
    values |= {k: FilledValue(v, Provenance.RESIDENT) for k, v in ANSWERS.items()}
    drafts = [ctx.applications.create_draft(pk, "ja", values) for _ in range(6)]
    barrier = threading.Barrier(len(drafts))
    tickets: list[str] = []
    errors: list[BaseException] = []

    def submit(draft: int) -> None:
        barrier.wait()
        try:
            tickets.append(ctx.applications.submit(draft, values)[0])
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(d,)) for d in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(tickets) == [f"A-{n:03d}" for n in range(1, 7)]


def test_stale_drafts_are_dropped_at_start_up(ctx: AppContext, clock: FakeClock) -> None:
    pk = template_pk(ctx, "juminhyo")
    draft = ctx.applications.create_draft(
        pk, "ja", {"applicant_name": FilledValue("髙﨑　花子", Provenance.CARD)}
    )
    assert ctx.applications.abandon_stale_drafts(1800) == 0
    clock.advance(1801)
    assert ctx.applications.abandon_stale_drafts(1800) == 1
    detail = ctx.applications.detail(draft)
    assert detail.status is Status.CANCELLED
    assert detail.values == {}


def test_claims_are_released_at_sign_out_and_can_be_taken_over(ctx: AppContext) -> None:
    first, second = submitted(ctx), submitted(ctx)
    ctx.applications.claim(first, "S1")
    ctx.applications.claim(second, "S1")
    ctx.applications.take_over(second, "S2")
    assert ctx.applications.detail(second).claimed_by == "S2"
    assert ctx.applications.release_claims("S1") == 1
    assert ctx.applications.detail(first).status is Status.SUBMITTED
    with ctx.db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEventRow))]
    assert "claim_taken_over" in actions


def test_the_fee_table_changes_fees_without_a_new_template_version(
    ctx: AppContext, clock: FakeClock
) -> None:
    known = {r.code for p in ctx.templates.active() for r in p.template.fees}
    ctx.fees.set("juminhyo_copy", 350, "A1", known)
    clock.advance(11)  # past the shared cache
    app_id = submitted(ctx)  # 2 copies
    assert ctx.applications.detail(app_id).fee.total == 700
    with pytest.raises(ValidationFailed):
        ctx.fees.set("no_such_code", 100, "A1", known)
    with pytest.raises(ValidationFailed):
        ctx.fees.set("juminhyo_copy", -1, "A1", known)
    with ctx.db.read() as session:
        changes = [
            e.detail for e in session.scalars(select(AuditEventRow)) if e.action == "fee_changed"
        ]
    assert changes == [{"amount": 350, "previous": None}]


# --- rules and eligibility at submission, approval and correction ------------------------
def juminhyo_draft(ctx: AppContext, answers: dict[str, str]) -> tuple[int, dict[str, FilledValue]]:
    pk = template_pk(ctx, "juminhyo")
    values = prefill(
        ctx.templates.get(pk),
        {
            Source.CARD_NAME: "髙﨑　花子",
            Source.CARD_ADDRESS: "長崎県松浦市志佐町里免３６５番地",
            Source.CARD_BIRTH_DATE: "19580412",
            Source.CARD_SEX: "2",
        },
    )
    values |= {k: FilledValue(v, Provenance.RESIDENT) for k, v in {**ANSWERS, **answers}.items()}
    return ctx.applications.create_draft(pk, "ja", values), values


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ({"relation": "proxy", "proxy_letter": "0"}, RulesBroken),
        ({"relation": "third_party"}, RulesBroken),  # no reason given
        (
            {"relation": "third_party", "third_party_reason": "other", "include_my_number": "1"},
            NotEligible,
        ),
        ({"relation": "cousin"}, ValidationFailed),  # not even a choice
    ],
)
def test_submission_enforces_the_rules_and_eligibility(
    ctx: AppContext, answers: dict[str, str], error: type[Exception]
) -> None:
    app_id, values = juminhyo_draft(ctx, answers)
    with pytest.raises(error):
        ctx.applications.submit(app_id, values)
    assert ctx.applications.detail(app_id).status is Status.DRAFT


def test_a_correction_settles_the_values_and_approval_needs_the_staff_fields(
    ctx: AppContext,
) -> None:
    apps = ctx.applications
    app_id, values = juminhyo_draft(ctx, {"relation": "proxy", "proxy_letter": "1"})
    apps.submit(app_id, values)
    detail = apps.detail(app_id)
    assert detail.values["delivery"].value == "counter"
    assert detail.eligibility is not None
    assert detail.eligibility.obligations == (Obligation.POWER_OF_ATTORNEY,)
    apps.claim(app_id, "S1")
    # the proxy's principal must be entered by the clerk before approval
    with pytest.raises(ValidationFailed):
        apps.approve(app_id, "S1", identity_confirmed=True)
    assert apps.correct(app_id, "S1", "include_my_number", "1", "本人確認の上") is None
    detail = apps.detail(app_id)
    assert detail.values["delivery"] == StoredValue("mail", Provenance.SYSTEM)
    assert detail.eligibility is not None
    assert detail.eligibility.mail_to_person
    for field_id, value in (("subject_name", "松浦　一郎"), ("subject_address", "長崎県松浦市")):
        assert apps.correct(app_id, "S1", field_id, value, "委任状より") is None
    apps.approve(app_id, "S1", identity_confirmed=True)
    assert apps.detail(app_id).status is Status.APPROVED


def test_a_correction_to_a_relation_drops_what_no_longer_applies(ctx: AppContext) -> None:
    apps = ctx.applications
    app_id, values = juminhyo_draft(ctx, {"relation": "proxy", "proxy_letter": "1"})
    apps.submit(app_id, values)
    apps.claim(app_id, "S1")
    assert apps.correct(app_id, "S1", "relation", "self", "本人の申請でした") is None
    detail = apps.detail(app_id)
    assert "proxy_letter" not in detail.values
    assert detail.eligibility is not None
    assert detail.eligibility.obligations == ()
