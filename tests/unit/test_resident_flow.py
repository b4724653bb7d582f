"""The resident's state machine, without Qt: every screen, every card outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from kiosk.clock import FakeClock
from kiosk.context import AppContext
from kiosk.resident_flow import ResidentFlow, ResidentView, Screen
from kiosk.runner import ImmediateRunner, ManualRunner
from kiosk.status import Status
from kiosk.storage.models import ApplicationRow, FieldValueRow
from kiosk.templates_repo import shipped_templates


def make_flow(ctx: AppContext, clock: FakeClock, runner: object = None) -> ResidentFlow:
    return ResidentFlow(
        reader=ctx.devices.card_reader,
        templates=ctx.templates,
        applications=ctx.applications,
        runner=runner or ImmediateRunner(),
        clock=clock,
        idle_warning_s=60,
        idle_reset_s=90,
    )


def juminhyo_pk(flow: ResidentFlow) -> int:
    return next(p.template_pk for p in flow.view().procedures if p.title == "住民票の写し")


def to_pin(flow: ResidentFlow) -> None:
    flow.start("ja")
    flow.choose(juminhyo_pk(flow))


def to_pin_step_by_step(flow: ResidentFlow, runner: ManualRunner) -> None:
    """Start and choose 住民票, running each background step when the test says so."""
    flow.start()
    runner.run_all()
    flow.choose(juminhyo_pk(flow))
    runner.run_all()  # the reader state
    runner.run_all()  # the remaining tries


def enter_pin(flow: ResidentFlow, pin: str) -> None:
    for digit in pin:
        flow.pin_digit(digit)
    flow.pin_submit()


ANSWERS = {
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


def answer_all(flow: ResidentFlow) -> None:
    while flow.screen is Screen.QUESTION:
        question = flow.view().question
        assert question is not None
        flow.answer(ANSWERS[question.field_id])


def test_happy_path_reaches_ticket_and_ends_when_card_taken(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    views: list[ResidentView] = []
    flow.subscribe(views.append)
    to_pin(flow)
    assert flow.screen is Screen.PIN
    assert flow.view().tries_left == 3
    enter_pin(flow, "1234")
    assert flow.screen is Screen.CONFIRM
    rows = {r.field_id: r.value for r in flow.view().rows}
    assert rows["applicant_name"] == "髙﨑　花子"
    assert rows["applicant_birth_date"] == "昭和33年4月12日"
    flow.confirm()
    answer_all(flow)
    assert flow.screen is Screen.REVIEW
    review = {r.field_id: r.value for r in flow.view().rows}
    assert review["copies"] == "2"
    assert review["purpose"] == "就職・勤務先"
    flow.submit()
    view = flow.view()
    assert view.screen is Screen.SUBMITTED
    assert view.ticket == "A-001"
    assert view.fee_total == 600
    flow.finish()
    assert flow.screen is Screen.TAKE_CARD
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    reader.remove()
    flow.poll_card()
    assert flow.screen is Screen.START
    assert flow.ended == ["completed"]
    # nothing of the resident stays in the flow
    assert flow.view().rows == ()
    assert flow.view().ticket == ""
    # the step bar moved forward monotonically up to 完了
    steps = [v.step for v in views if v.step]
    assert steps == sorted(steps)
    assert max(steps) == 5
    with ctx.db.read() as session:
        app = session.scalars(select(ApplicationRow)).one()
        assert app.status == Status.SUBMITTED
        assert app.fee_amount == 600


def test_pin_digits_are_never_in_the_view_and_cleared_after_submit(
    ctx: AppContext, clock: FakeClock
) -> None:
    runner = ManualRunner()
    flow = make_flow(ctx, clock, runner)
    to_pin_step_by_step(flow, runner)
    assert flow.screen is Screen.PIN
    for digit in "12":
        flow.pin_digit(digit)
    assert flow.view().pin_entered == 2
    assert "12" not in repr(flow.view())
    flow.pin_digit("3")
    flow.pin_digit("4")
    flow.pin_digit("5")  # a fifth digit is ignored
    assert flow.view().pin_entered == 4
    flow.pin_submit()
    assert flow.screen is Screen.READING
    assert flow.view().pin_entered == 0
    runner.run_all()
    assert flow.screen is Screen.CONFIRM


def test_wrong_pin_counts_down_warns_and_locks_without_retrying(
    ctx: AppContext, clock: FakeClock
) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    flow = make_flow(ctx, clock)
    to_pin(flow)
    enter_pin(flow, "0000")
    view = flow.view()
    assert view.screen is Screen.PIN
    assert view.message is not None
    assert (view.message.key, view.message.kwargs) == ("wrong_pin", {"n": 2})
    assert reader.verify_count == 1  # exactly one VERIFY per confirmation
    enter_pin(flow, "9999")
    assert flow.screen is Screen.LAST_TRY
    assert reader.verify_count == 2
    flow.accept_last_try()
    enter_pin(flow, "1111")
    assert flow.screen is Screen.LOCKED
    assert reader.verify_count == 3
    # a locked card sends no PIN at all
    flow.back()
    flow.choose(juminhyo_pk(flow))
    assert flow.screen is Screen.LOCKED
    assert reader.verify_count == 3


def test_one_try_left_warns_before_the_pin_screen(ctx: AppContext, clock: FakeClock) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    assert reader.card is not None
    reader.card.tries_left = 1
    flow = make_flow(ctx, clock)
    to_pin(flow)
    assert flow.screen is Screen.LAST_TRY
    enter_pin(flow, "1234")  # ignored until the resident accepts the warning
    assert reader.verify_count == 0
    flow.accept_last_try()
    enter_pin(flow, "1234")
    assert flow.screen is Screen.CONFIRM


def test_card_removed_during_read_asks_to_place_it_again(ctx: AppContext, clock: FakeClock) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    flow = make_flow(ctx, clock)
    to_pin(flow)
    reader.remove_during_next_read = True
    enter_pin(flow, "1234")
    view = flow.view()
    assert view.screen is Screen.PLACE_CARD
    assert view.message is not None
    assert view.message.key == "removed_try_used"  # the resident learns a try may be gone


def test_no_reader_shows_the_call_staff_error(ctx: AppContext, clock: FakeClock) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    reader.connected = False
    flow = make_flow(ctx, clock)
    to_pin(flow)
    view = flow.view()
    assert view.screen is Screen.ERROR
    assert view.message is not None
    assert view.message.key == "no_reader"


def test_question_validation_keeps_the_resident_on_the_question(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    to_pin(flow)
    enter_pin(flow, "1234")
    flow.confirm()
    while (q := flow.view().question) is not None and q.field_id != "applicant_kana":
        flow.answer(ANSWERS[q.field_id])
    flow.answer("Hanako")
    view = flow.view()
    assert view.question is not None
    assert view.question.field_id == "applicant_kana"
    assert view.question.problem is not None
    assert view.question.problem.key == "invalid_kana"
    flow.answer("たかさき はなこ")
    assert flow.view().question is not None
    assert flow.view().question.field_id == "relation"  # type: ignore[union-attr]


def test_idle_warning_then_wipe_cancels_the_draft(ctx: AppContext, clock: FakeClock) -> None:
    flow = make_flow(ctx, clock)
    to_pin(flow)
    enter_pin(flow, "1234")
    assert flow.screen is Screen.CONFIRM
    clock.advance(59)
    flow.tick()
    assert flow.view().idle_seconds_left is None
    clock.advance(2)
    flow.tick()
    assert flow.view().idle_seconds_left == 29
    flow.touch()  # 「つづける」
    assert flow.view().idle_seconds_left is None
    clock.advance(91)
    flow.tick()
    assert flow.screen is Screen.START
    assert flow.ended == ["timeout"]
    with ctx.db.read() as session:
        app = session.scalars(select(ApplicationRow)).one()
        assert app.status == Status.CANCELLED
        assert session.scalars(select(FieldValueRow)).all() == []


def test_cancel_after_read_asks_for_the_card_and_drops_values(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    to_pin(flow)
    enter_pin(flow, "1234")
    flow.cancel()
    assert flow.screen is Screen.TAKE_CARD
    assert flow.view().rows == ()
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    reader.remove()
    flow.poll_card()
    assert flow.screen is Screen.START
    assert flow.ended == ["cancelled"]


def test_late_answer_from_an_ended_session_is_dropped(ctx: AppContext, clock: FakeClock) -> None:
    runner = ManualRunner()
    flow = make_flow(ctx, clock, runner)
    to_pin_step_by_step(flow, runner)
    enter_pin(flow, "1234")
    assert flow.screen is Screen.READING
    clock.advance(200)
    flow.cancel()  # the resident walks away while the card is read
    assert flow.screen is Screen.TAKE_CARD
    runner.run_all()
    assert flow.view().rows == ()


@pytest.mark.parametrize("language", ["ja", "ja-easy", "en"])
def test_procedures_carry_fee_notes_in_the_chosen_language(
    ctx: AppContext, clock: FakeClock, language: str
) -> None:
    flow = make_flow(ctx, clock)
    flow.start(language)
    notes = [p.fee_note for p in flow.view().procedures]
    assert len(notes) == len(shipped_templates())
    expected = {"ja": "1通 300円", "ja-easy": "1まい 300えん", "en": "300 yen per copy"}[language]
    assert notes[0] == expected


def test_no_reader_offers_no_retry(ctx: AppContext, clock: FakeClock) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    reader.connected = False
    flow = make_flow(ctx, clock)
    to_pin(flow)
    assert flow.screen is Screen.ERROR
    assert not flow.view().retryable


def test_a_hung_device_ends_the_session_with_a_message(ctx: AppContext, clock: FakeClock) -> None:
    runner = ManualRunner()
    flow = make_flow(ctx, clock, runner)
    to_pin_step_by_step(flow, runner)
    enter_pin(flow, "1234")
    assert flow.screen is Screen.READING
    clock.advance(31)  # the read never answers
    flow.tick()
    view = flow.view()
    assert view.screen is Screen.ERROR
    assert view.message is not None
    assert view.message.key == "device_timeout"
    runner.run_all()  # the late answer is dropped
    assert flow.view().rows == ()
    flow.retry_card()  # nothing chosen any more: back to the start
    assert flow.screen is Screen.START


def test_back_after_editing_from_review_reaches_earlier_questions(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    to_pin(flow)
    enter_pin(flow, "1234")
    flow.confirm()
    answer_all(flow)
    flow.edit("purpose")
    flow.back()
    assert flow.screen is Screen.REVIEW
    flow.back()
    flow.back()
    question = flow.view().question
    assert question is not None
    assert question.field_id == "relation"


def test_a_double_tap_on_start_does_not_restart_the_session(
    ctx: AppContext, clock: FakeClock
) -> None:
    runner = ManualRunner()
    flow = make_flow(ctx, clock, runner)
    flow.start()
    flow.start()
    runner.run_all()
    assert flow.screen is Screen.CHOOSE
    flow.choose(juminhyo_pk(flow))
    flow.start()
    runner.run_all()
    assert flow.screen is not Screen.CHOOSE


def test_a_swapped_card_with_one_try_left_is_warned_before_verify(
    ctx: AppContext, clock: FakeClock
) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    flow = make_flow(ctx, clock)
    to_pin(flow)
    assert reader.card is not None
    reader.card.tries_left = 1  # another card (one try left) now lies on the reader
    enter_pin(flow, "1234")
    assert flow.screen is Screen.LAST_TRY
    assert reader.verify_count == 0
    flow.accept_last_try()
    enter_pin(flow, "1234")
    assert flow.screen is Screen.CONFIRM


def test_taking_the_card_away_after_the_read_wipes_the_session(
    ctx: AppContext, clock: FakeClock
) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    flow = make_flow(ctx, clock)
    to_pin(flow)
    enter_pin(flow, "1234")
    flow.confirm()
    assert flow.screen is Screen.QUESTION
    reader.remove()
    flow.poll_card()
    assert flow.screen is Screen.START
    assert flow.ended == ["card_removed"]
    with ctx.db.read() as session:
        assert session.scalars(select(ApplicationRow)).one().status == Status.CANCELLED


def test_closing_the_app_drops_the_draft(ctx: AppContext, clock: FakeClock) -> None:
    flow = make_flow(ctx, clock)
    to_pin(flow)
    enter_pin(flow, "1234")
    flow.close()
    with ctx.db.read() as session:
        assert session.scalars(select(ApplicationRow)).one().status == Status.CANCELLED
        assert session.scalars(select(FieldValueRow)).all() == []


def test_a_last_try_confirmation_does_not_carry_over_to_another_card(
    ctx: AppContext, clock: FakeClock
) -> None:
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    assert reader.card is not None
    reader.card.tries_left = 1
    flow = make_flow(ctx, clock)
    to_pin(flow)
    assert flow.screen is Screen.LAST_TRY
    flow.accept_last_try()
    reader.remove()
    flow.poll_card()
    assert flow.screen is Screen.PLACE_CARD
    reader.insert(demo_card())  # another card with three tries
    flow.poll_card()
    assert flow.screen is Screen.PIN
    swapped = demo_card()
    swapped.tries_left = 1
    reader.insert(swapped)  # swapped for a one-try card between two polls
    enter_pin(flow, "0000")
    assert flow.screen is Screen.LAST_TRY  # warned again; no PIN was sent
    assert swapped.tries_left == 1


# --- questions that apply, rules and eligibility ----------------------------------------
def to_questions(flow: ResidentFlow, template_id: str = "juminhyo") -> None:
    flow.start("ja")
    pk = next(p.pk for p in flow._templates.active() if p.template.id == template_id)
    flow.choose(pk)
    enter_pin(flow, "1234")
    flow.confirm()


def answer_until_review(flow: ResidentFlow, answers: dict[str, str]) -> list[str]:
    """Answer every question (``answers`` first, then ANSWERS); return the ids asked."""
    asked = []
    while flow.screen is Screen.QUESTION:
        question = flow.view().question
        assert question is not None
        asked.append(question.field_id)
        flow.answer({**ANSWERS, **answers}[question.field_id])
        assert flow.view().question is None or flow.view().question.field_id != asked[-1]
    return asked


JUMINHYO_BASE = [
    "kind",
    "copies",
    "include_head",
    "include_honseki",
    "include_my_number",
    "include_resident_code",
    "applicant_kana",
    "relation",
]
ASKED = [
    ({"relation": "self"}, [*JUMINHYO_BASE, "purpose"]),
    ({"relation": "household"}, [*JUMINHYO_BASE, "purpose"]),
    ({"relation": "proxy", "proxy_letter": "1"}, [*JUMINHYO_BASE, "proxy_letter", "purpose"]),
    (
        {"relation": "third_party", "third_party_reason": "other"},
        [*JUMINHYO_BASE, "third_party_reason", "purpose"],
    ),
]


@pytest.mark.parametrize(("answers", "asked"), ASKED)
def test_shown_when_questions_appear_only_when_they_apply(
    ctx: AppContext, clock: FakeClock, answers: dict[str, str], asked: list[str]
) -> None:
    flow = make_flow(ctx, clock)
    to_questions(flow)
    assert answer_until_review(flow, answers) == asked
    assert flow.screen is Screen.REVIEW
    assert flow.view().blockers == ()


def test_the_question_count_follows_the_answers(ctx: AppContext, clock: FakeClock) -> None:
    flow = make_flow(ctx, clock)
    to_questions(flow)
    while (q := flow.view().question) is not None and q.field_id != "relation":
        flow.answer(ANSWERS[q.field_id])
    assert q is not None
    assert q.count == 9  # relation = self (the default): no 委任状 question
    flow.answer("proxy")
    q = flow.view().question
    assert q is not None
    assert (q.field_id, q.index, q.count) == ("proxy_letter", 8, 10)


def test_a_proxy_without_a_letter_is_told_at_the_question(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    to_questions(flow)
    while (q := flow.view().question) is not None and q.field_id != "proxy_letter":
        flow.answer({**ANSWERS, "relation": "proxy"}[q.field_id])
    flow.answer("0")
    q = flow.view().question
    assert q is not None
    assert q.field_id == "proxy_letter"  # kept on the question, with the rule's words
    assert q.problem_text.startswith("代理人の方は、ご本人が書いた委任状が必要です")
    flow.back()  # choose another relation instead
    flow.answer("self")
    assert flow.view().question is not None
    assert flow.view().question.field_id == "purpose"  # type: ignore[union-attr]


def test_a_proxy_asking_for_the_my_number_is_told_it_is_mailed(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    to_questions(flow)
    answer_until_review(flow, {"relation": "proxy", "proxy_letter": "1", "include_my_number": "1"})
    view = flow.view()
    assert view.blockers == ()
    assert any("委任状" in n for n in view.notices)
    assert any("郵便でお送りします" in n for n in view.notices)
    flow.set_language("en")
    assert any("mailed to the person" in n for n in flow.view().notices)
    flow.submit()
    assert flow.screen is Screen.SUBMITTED
    with ctx.db.read() as session:
        app = session.scalars(select(ApplicationRow)).one()
        values = {v.field_id: (v.value, v.source) for v in app.values}
        app_id = app.id
    assert values["delivery"] == ("mail", "system")  # stored with the application
    detail = ctx.applications.detail(app_id)
    assert detail.eligibility is not None
    assert detail.eligibility.mail_to_person


def test_a_refusal_blocks_submission_until_the_answer_is_changed(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    to_questions(flow)
    answer_until_review(
        flow,
        {"relation": "third_party", "third_party_reason": "other", "include_resident_code": "1"},
    )
    view = flow.view()
    assert len(view.blockers) == 1
    assert view.blockers[0].startswith(
        "第三者の方の請求では、個人番号と住民票コードは記載できません"
    )
    flow.submit()
    assert flow.screen is Screen.REVIEW  # nothing was sent
    flow.edit("include_resident_code")
    flow.answer("0")
    assert flow.screen is Screen.REVIEW
    assert flow.view().blockers == ()
    assert any("理由" in n for n in flow.view().notices)
    flow.submit()
    assert flow.screen is Screen.SUBMITTED


def test_an_edit_that_opens_a_question_asks_it_before_the_review(
    ctx: AppContext, clock: FakeClock
) -> None:
    flow = make_flow(ctx, clock)
    to_questions(flow)
    answer_until_review(flow, {})
    flow.edit("relation")
    flow.answer("proxy")
    question = flow.view().question
    assert question is not None
    assert question.field_id == "proxy_letter"
    flow.answer("1")
    assert flow.screen is Screen.REVIEW
    review = {r.field_id for r in flow.view().rows}
    assert "proxy_letter" in review
    # back to 本人: the 委任状 answer no longer applies and is not shown or sent
    flow.edit("relation")
    flow.answer("self")
    assert flow.screen is Screen.REVIEW
    assert "proxy_letter" not in {r.field_id for r in flow.view().rows}
    flow.submit()
    with ctx.db.read() as session:
        app = session.scalars(select(ApplicationRow)).one()
        assert "proxy_letter" not in {v.field_id for v in app.values}


def test_the_tax_year_is_proposed_from_the_session_date(ctx: AppContext, clock: FakeClock) -> None:
    flow = make_flow(ctx, clock)  # the fake clock says 2026-11-24
    to_questions(flow, "zeishomei")
    while (q := flow.view().question) is not None and q.field_id != "fiscal_year":
        flow.answer({"kind": "shotoku"}[q.field_id])
    assert q is not None
    assert q.value == "R8"


def test_the_seal_certificate_needs_the_seal_card(ctx: AppContext, clock: FakeClock) -> None:
    flow = make_flow(ctx, clock)
    to_questions(flow, "inkan")
    answers = {"copies": "1", "applicant_kana": "たかさき", "relation": "proxy", "purpose": "loan"}
    while (q := flow.view().question) is not None and q.field_id != "seal_card":
        flow.answer(answers[q.field_id])
    flow.answer("0")
    assert flow.view().question is not None
    assert "印鑑登録証" in flow.view().question.problem_text  # type: ignore[union-attr]
    flow.answer("1")
    answer_until_review(flow, answers)
    assert flow.view().notices == ("窓口で、印鑑登録証（カード）を職員にお見せください",)
