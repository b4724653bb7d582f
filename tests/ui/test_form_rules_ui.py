"""The template's rules and eligibility through the real windows: a proxy told at the
question that a 委任状 is needed and at the review that the copy is mailed, the clerk
seeing it and the printed form saying so; a refusal that keeps 「申請する」 disabled."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from kiosk.resident_flow import Screen
from kiosk.status import Status
from kiosk.storage.models import ApplicationRow
from tests.ui.test_counter_flow import (
    click,
    confirm_paper,
    sign_in_and_claim,
    tick_identity,
    wait_screen,
)
from ui.app import Kiosk


def to_questions(qtbot: QtBot, kiosk: Kiosk, template_id: str) -> None:
    r = kiosk.resident
    reader = kiosk.ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    reader.insert(demo_card())
    click(qtbot, r, "start")
    wait_screen(qtbot, kiosk, Screen.CHOOSE)
    ids = [p.template.id for p in kiosk.ctx.templates.active()]
    click(qtbot, r, f"procedure_{ids.index(template_id)}")
    wait_screen(qtbot, kiosk, Screen.PIN)
    for key in "1234":
        click(qtbot, r, f"key_{key}")
    click(qtbot, r, "key_ok")
    wait_screen(qtbot, kiosk, Screen.CONFIRM)
    click(qtbot, r, "confirm_ok")


def answer(qtbot: QtBot, kiosk: Kiosk, answers: dict[str, str], until: str = "") -> None:
    """Tap through the questions: numbers keep their default, kana gets a name."""
    r = kiosk.resident
    while kiosk.flow.screen is Screen.QUESTION:
        question = kiosk.flow.view().question
        assert question is not None
        if question.field_id == until:
            return
        if question.kind.value == "number":
            click(qtbot, r, "question_next")
        elif question.kind.value == "phone":  # digits on the keypad, whose 決定 is つぎへ
            for digit in answers[question.field_id]:
                click(qtbot, r, f"digit_{digit}")
            click(qtbot, r, "digit_ok")
        elif question.kind.value == "kana":
            for ch in "たかさき":
                click(qtbot, r, f"kana_{ch}")
            click(qtbot, r, "kana_next")
        else:
            click(qtbot, r, f"choice_{answers[question.field_id]}")
        qtbot.waitUntil(
            lambda f=question.field_id: (
                kiosk.flow.screen is not Screen.QUESTION or kiosk.flow.view().question.field_id != f  # type: ignore[union-attr]
            ),
            timeout=5000,
        )


JUMINHYO_PROXY = {
    "kind": "part",
    "include_head": "0",
    "include_honseki": "0",
    "include_my_number": "1",
    "include_resident_code": "0",
    "relation": "proxy",
    "proxy_letter": "1",
    "purpose": "bank",
}


def test_a_proxy_path_through_both_windows(qtbot: QtBot, kiosk: Kiosk) -> None:
    r, s = kiosk.resident, kiosk.staff
    to_questions(qtbot, kiosk, "juminhyo")
    answer(qtbot, kiosk, JUMINHYO_PROXY, until="proxy_letter")
    click(qtbot, r, "choice_0")  # no 委任状

    def rule_shown() -> bool:
        return any(
            w.isVisible() and w.text().startswith("⚠ 代理人の方は、ご本人が書いた委任状が必要です")
            for w in r.findChildren(QLabel)
        )

    qtbot.waitUntil(rule_shown, timeout=5000)
    assert kiosk.flow.view().question is not None
    assert kiosk.flow.view().question.field_id == "proxy_letter"  # type: ignore[union-attr]
    answer(qtbot, kiosk, JUMINHYO_PROXY)
    wait_screen(qtbot, kiosk, Screen.REVIEW)
    notices = r.findChild(QLabel, "review_notices")
    assert notices is not None
    qtbot.waitUntil(notices.isVisible, timeout=5000)
    assert "委任状" in notices.text()
    assert "ご本人の住所へ郵便でお送りします" in notices.text()
    click(qtbot, r, "submit")
    wait_screen(qtbot, kiosk, Screen.SUBMITTED)
    ticket = kiosk.flow.view().ticket
    click(qtbot, r, "submitted_ok")
    reader = kiosk.ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    reader.remove()
    wait_screen(qtbot, kiosk, Screen.START)

    sign_in_and_claim(qtbot, kiosk, ticket)
    line = s.eligibility_line
    assert line.isVisible()
    assert "代理人" in line.text()
    assert "委任状を確認" in line.text()
    assert "本人あて郵送" in line.text()
    for field_id, value in (("subject_name", "松浦　一郎"), ("subject_address", "長崎県松浦市")):
        s.correct_field.setCurrentIndex(s.correct_field.findData(field_id))
        s.correct_value.setText(value)
        s.correct_reason.setText("委任状より")
        click(qtbot, s, "correct_save")
        qtbot.waitUntil(
            lambda f=field_id: s.current is not None and f in s.current.values, timeout=5000
        )
    tick_identity(qtbot, kiosk)
    click(qtbot, s, "approve_print")
    confirm_paper(qtbot, kiosk)
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.PRINTED, timeout=10000
    )
    with kiosk.ctx.db.read() as session:
        app_id = session.scalars(
            select(ApplicationRow.id).where(ApplicationRow.ticket == ticket)
        ).one()
    rows = {
        row.label: row.value
        for section in kiosk.ctx.printing.build_document(app_id).sections
        for row in section.rows
    }
    assert rows["交付方法"].startswith("本人あて郵送")


KOSEKI_WIDE_AREA_PROXY = {
    "kind": "zenbu",
    "wide_area": "1",
    "honseki_same": "no",
    "relation": "proxy",
    "proxy_letter": "1",
    "applicant_phone": "0956721111",
    "purpose": "inheritance",
}


def test_a_refusal_keeps_submission_disabled_until_changed(qtbot: QtBot, kiosk: Kiosk) -> None:
    r = kiosk.resident
    to_questions(qtbot, kiosk, "koseki")
    answer(qtbot, kiosk, KOSEKI_WIDE_AREA_PROXY)
    wait_screen(qtbot, kiosk, Screen.REVIEW)
    blockers = r.findChild(QLabel, "review_blockers")
    submit = r.findChild(QPushButton, "submit")
    assert blockers is not None
    assert submit is not None
    qtbot.waitUntil(blockers.isVisible, timeout=5000)
    assert "このままでは申請できません" in blockers.text()
    assert "広域交付は、本人・配偶者・直系の親族" in blockers.text()
    assert not submit.isEnabled()
    click(qtbot, r, "edit_relation")
    click(qtbot, r, "choice_self")
    wait_screen(qtbot, kiosk, Screen.REVIEW)
    qtbot.waitUntil(lambda: not blockers.isVisible(), timeout=5000)
    assert submit.isEnabled()
    notices = r.findChild(QLabel, "review_notices")
    assert notices is not None
    assert "顔写真つき" in notices.text()
    click(qtbot, r, "submit")
    wait_screen(qtbot, kiosk, Screen.SUBMITTED)


def test_a_phone_number_is_typed_on_a_keypad_and_checked_in_plain_words(
    qtbot: QtBot, kiosk: Kiosk
) -> None:
    r = kiosk.resident
    to_questions(qtbot, kiosk, "koseki")
    answer(qtbot, kiosk, KOSEKI_WIDE_AREA_PROXY, until="applicant_phone")
    for digit in "123":
        click(qtbot, r, f"digit_{digit}")
    display = r.findChild(QLabel, "digits_display")
    assert display is not None
    assert display.text() == "123"
    click(qtbot, r, "digit_ok")
    question = kiosk.flow.view().question
    assert question is not None
    assert question.field_id == "applicant_phone"
    assert question.problem is not None
    assert question.problem.key == "invalid_phone"
    assert any(
        w.isVisible() and w.text() == "⚠ 電話番号が正しくありません" for w in r.findChildren(QLabel)
    )
    click(qtbot, r, "digit_delete")
    for digit in "0956721111":
        click(qtbot, r, f"digit_{digit}")
    assert display.text() == "12095672111"  # "12" and 9 more: the keypad stops at 11 digits
    for _ in range(11):
        click(qtbot, r, "digit_delete")
    for digit in "0956721111":
        click(qtbot, r, f"digit_{digit}")
    click(qtbot, r, "digit_ok")
    qtbot.waitUntil(
        lambda: (
            kiosk.flow.view().question is not None
            and kiosk.flow.view().question.field_id == "purpose"
        ),  # type: ignore[union-attr]
        timeout=5000,
    )
    assert kiosk.flow._s.values["applicant_phone"].value == "0956721111"
