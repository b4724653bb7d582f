"""End to end through the real resident and staff windows: a resident applies with the
card, a clerk approves, prints and takes the payment; every status is reached and checked
in the database, the printed PDF and the payment order."""

from __future__ import annotations

from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from devices.card_simulated import SimulatedCardReader, demo_card
from devices.printer_folder import SimulatedPrinter
from kiosk.clock import FakeClock
from kiosk.print_service import JobStatus
from kiosk.resident_flow import Screen
from kiosk.status import Status
from kiosk.storage.models import ApplicationRow, PaymentOrderRow, PrintJobRow, StatusChangeRow
from ui.app import Kiosk

NAME, ADDRESS = "髙﨑　花子", "長崎県松浦市志佐町里免３６５番地"
ANSWERS = {
    "move_kind": "within",
    "kind": "part",
    "include_head": "0",
    "include_honseki": "1",
    "include_my_number": "0",
    "include_resident_code": "0",
    "notifier_relation": "self",
    "relation": "self",
    "purpose": "employment",
}


def click(qtbot: QtBot, root: QWidget, name: str) -> None:
    button = root.findChild(QPushButton, name)
    assert button is not None, name
    qtbot.waitUntil(lambda: button.isVisible() and button.isEnabled(), timeout=5000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def confirm_paper(qtbot: QtBot, kiosk: Kiosk) -> None:
    """The spooler finished: the clerk checks the paper and says 「印刷できました」."""
    s = kiosk.staff
    qtbot.waitUntil(
        lambda: s.job is not None and s.job.status is JobStatus.NEEDS_CONFIRMATION, timeout=10000
    )
    assert s.current is not None
    assert s.current.status is Status.APPROVED
    click(qtbot, s, "confirm_printed")


def wait_screen(qtbot: QtBot, kiosk: Kiosk, screen: Screen) -> None:
    qtbot.waitUntil(lambda: kiosk.flow.screen is screen, timeout=5000)


def texts(root: QWidget) -> str:
    return "\n".join(
        [w.text() for w in root.findChildren(QLabel)]
        + [w.text() for w in root.findChildren(QPushButton)]
    )


def resident_applies(qtbot: QtBot, kiosk: Kiosk, template_id: str = "juminhyo") -> str:
    """Apply for the procedure of ``template_id`` and take the card."""
    r = kiosk.resident
    reader = kiosk.ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    if reader.card is None:
        reader.insert(demo_card())
    click(qtbot, r, "start")
    wait_screen(qtbot, kiosk, Screen.CHOOSE)
    ids = [p.template.id for p in kiosk.ctx.templates.active()]
    click(qtbot, r, f"procedure_{ids.index(template_id)}")
    wait_screen(qtbot, kiosk, Screen.PIN)
    for key in "1234":
        click(qtbot, r, f"key_{key}")
    assert "1234" not in texts(r)  # digits show as ●
    click(qtbot, r, "key_ok")
    wait_screen(qtbot, kiosk, Screen.CONFIRM)
    assert NAME in texts(r)
    assert "昭和33年4月12日" in texts(r)
    click(qtbot, r, "confirm_ok")
    while kiosk.flow.screen is Screen.QUESTION:
        question = kiosk.flow.view().question
        assert question is not None
        before = question.index
        if question.field_id == "copies":
            click(qtbot, r, "stepper_plus")
            click(qtbot, r, "question_next")
        elif question.field_id == "members":
            click(qtbot, r, "question_next")
        elif question.field_id == "related_procedures":  # several answers, then つぎへ
            click(qtbot, r, "choice_health_insurance")
            click(qtbot, r, "choice_seal")
            click(qtbot, r, "question_next")
        elif question.field_id.endswith("_kana"):
            for ch in "たかさき":
                click(qtbot, r, f"kana_{ch}")
            click(qtbot, r, "kana_next")
        else:
            click(qtbot, r, f"choice_{ANSWERS[question.field_id]}")
        qtbot.waitUntil(
            lambda b=before: (
                kiosk.flow.screen is not Screen.QUESTION
                or (
                    kiosk.flow.view().question is not None and kiosk.flow.view().question.index != b
                )
            ),
            timeout=5000,
        )
    wait_screen(qtbot, kiosk, Screen.REVIEW)
    click(qtbot, r, "submit")
    wait_screen(qtbot, kiosk, Screen.SUBMITTED)
    ticket = kiosk.flow.view().ticket
    assert ticket.startswith("A-")
    assert ticket in texts(r)
    click(qtbot, r, "submitted_ok")
    wait_screen(qtbot, kiosk, Screen.TAKE_CARD)
    reader.remove()
    wait_screen(qtbot, kiosk, Screen.START)
    return ticket


def test_whole_counter_flow_through_every_status(
    qtbot: QtBot, kiosk: Kiosk, clock: FakeClock
) -> None:
    ticket = resident_applies(qtbot, kiosk)
    # the resident's session is over: nothing personal is left in any widget
    leftovers = texts(kiosk.resident)
    for personal in (NAME, ADDRESS, "たかさき", ticket, "昭和33年"):
        assert personal not in leftovers

    s = kiosk.staff
    qtbot.keyClicks(s.staff_input, "S1024")
    click(qtbot, s, "sign_in")
    qtbot.waitUntil(lambda: s.select_ticket(ticket), timeout=5000)
    qtbot.waitUntil(lambda: s.current is not None, timeout=5000)

    def status() -> Status | None:
        return s.current.status if s.current else None

    assert status() is Status.SUBMITTED
    click(qtbot, s, "claim")
    qtbot.waitUntil(lambda: status() is Status.IN_REVIEW, timeout=5000)
    # without the 本人確認 tick nothing can be approved (the service refuses it too)
    assert not s.action_buttons["approve"].isEnabled()
    assert status() is Status.IN_REVIEW
    qtbot.waitUntil(lambda: s.identity.isEnabled(), timeout=5000)
    # click the box itself: the widget is as wide as the panel, its label is not
    qtbot.mouseClick(s.identity, Qt.MouseButton.LeftButton, pos=QPoint(8, s.identity.height() // 2))
    assert s.identity.isChecked()
    click(qtbot, s, "approve_print")
    confirm_paper(qtbot, kiosk)
    qtbot.waitUntil(lambda: status() is Status.PRINTED, timeout=10000)
    click(qtbot, s, "issue_qr")
    qtbot.waitUntil(lambda: status() is Status.AWAITING_PAYMENT, timeout=5000)
    assert s.qr_panel.isVisible()
    assert "600" in s.qr_text.text()
    clock.advance(10)  # the simulated provider completes the payment
    qtbot.waitUntil(lambda: status() is Status.PAID, timeout=8000)
    click(qtbot, s, "complete")
    qtbot.waitUntil(lambda: status() is Status.COMPLETED, timeout=5000)

    db = kiosk.ctx.db
    with db.read() as session:
        app = session.scalars(select(ApplicationRow)).one()
        history = [
            row.to_status
            for row in session.scalars(
                select(StatusChangeRow)
                .where(StatusChangeRow.application_id == app.id)
                .order_by(StatusChangeRow.id)
            )
        ]
        job = session.scalars(select(PrintJobRow)).one()
        order = session.scalars(select(PaymentOrderRow)).one()
        assert (app.approved_by, app.identity_confirmed) == ("S1024", True)
        assert job.status == "printed"
        assert job.requested_by == "S1024"
        assert (order.status, order.method, order.amount) == ("paid", "cashless", 600)
    assert history == [
        "draft",
        "submitted",
        "in_review",
        "approved",
        "printed",
        "awaiting_payment",
        "paid",
        "completed",
    ]
    printer = kiosk.ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    text = "".join(page.extract_text() for page in PdfReader(printer.last_path).pages)
    assert "髙﨑" in text
    assert "長崎県松浦市志佐町里免" in text
    assert ticket in text


def test_idle_timeout_wipes_the_resident_screen(
    qtbot: QtBot, kiosk: Kiosk, clock: FakeClock
) -> None:
    r = kiosk.resident
    click(qtbot, r, "start")
    wait_screen(qtbot, kiosk, Screen.CHOOSE)
    click(qtbot, r, "procedure_0")
    wait_screen(qtbot, kiosk, Screen.PIN)
    for key in "1234":
        click(qtbot, r, f"key_{key}")
    click(qtbot, r, "key_ok")
    wait_screen(qtbot, kiosk, Screen.CONFIRM)
    clock.advance(61)
    qtbot.waitUntil(lambda: kiosk.resident.overlay.isVisible(), timeout=3000)
    click(qtbot, r, "idle_continue")  # 「つづける」 keeps the session
    assert not kiosk.resident.overlay.isVisible()
    assert kiosk.flow.screen is Screen.CONFIRM
    clock.advance(95)
    wait_screen(qtbot, kiosk, Screen.START)
    assert NAME not in texts(r)
    assert ADDRESS not in texts(r)

    def draft_status() -> str:
        with kiosk.ctx.db.read() as session:
            return session.scalars(select(ApplicationRow)).one().status

    qtbot.waitUntil(lambda: draft_status() == "cancelled", timeout=5000)


def test_staff_sees_the_resident_step_and_a_call_for_help(qtbot: QtBot, kiosk: Kiosk) -> None:
    r, s = kiosk.resident, kiosk.staff
    click(qtbot, r, "start")
    wait_screen(qtbot, kiosk, Screen.CHOOSE)
    click(qtbot, r, "procedure_0")
    wait_screen(qtbot, kiosk, Screen.PIN)
    assert "暗証番号" in s.resident_state.text()
    click(qtbot, r, "call_staff")
    qtbot.waitUntil(lambda: s.help_banner.isVisible(), timeout=3000)
    assert r.help_banner.isVisible()


def test_clerk_corrects_values_with_a_reason(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    s = kiosk.staff
    qtbot.keyClicks(s.staff_input, "S7")
    click(qtbot, s, "sign_in")
    qtbot.waitUntil(lambda: s.select_ticket(ticket), timeout=5000)
    qtbot.waitUntil(lambda: s.current is not None, timeout=5000)
    click(qtbot, s, "claim")
    qtbot.waitUntil(lambda: s.correct_panel.isVisible(), timeout=5000)

    def choose_field(field_id: str) -> None:
        s.correct_field.setCurrentIndex(s.correct_field.findData(field_id))

    choose_field("copies")  # a number: typed
    assert s.correct_value.isVisible()
    assert not s.correct_choice.isVisible()
    qtbot.keyClicks(s.correct_value, "3")
    click(qtbot, s, "correct_save")  # no reason: refused with a message
    qtbot.waitUntil(lambda: "理由" in s.message.text(), timeout=5000)
    s.correct_reason.setText("本人の申出")  # QTest cannot type kanji
    click(qtbot, s, "correct_save")
    qtbot.waitUntil(lambda: "900" in s.fee_line.text(), timeout=5000)

    choose_field("purpose")  # a choice: picked from the template's labels
    assert s.correct_choice.isVisible()
    s.correct_choice.setCurrentIndex(s.correct_choice.findData("pension"))
    s.correct_reason.setText("提出先の確認")
    click(qtbot, s, "correct_save")

    def purpose() -> str:
        return s.current.values["purpose"].value if s.current else ""

    qtbot.waitUntil(lambda: purpose() == "pension", timeout=5000)
    assert s.current is not None
    assert s.current.values["purpose"].provenance.value == "staff"


def sign_in_and_claim(qtbot: QtBot, kiosk: Kiosk, ticket: str, staff: str = "S1") -> None:
    s = kiosk.staff
    if not s.staff_id:
        qtbot.keyClicks(s.staff_input, staff)
        click(qtbot, s, "sign_in")
    qtbot.waitUntil(lambda: s.select_ticket(ticket), timeout=5000)
    qtbot.waitUntil(lambda: s.current is not None and s.current.ticket == ticket, timeout=5000)
    click(qtbot, s, "claim")
    qtbot.waitUntil(lambda: s.correct_panel.isVisible(), timeout=5000)


def history(kiosk: Kiosk, ticket: str) -> list[str]:
    with kiosk.ctx.db.read() as session:
        app = session.scalars(select(ApplicationRow).where(ApplicationRow.ticket == ticket)).one()
        return [
            row.to_status
            for row in session.scalars(
                select(StatusChangeRow)
                .where(StatusChangeRow.application_id == app.id)
                .order_by(StatusChangeRow.id)
            )
        ]


def tick_identity(qtbot: QtBot, kiosk: Kiosk) -> None:
    s = kiosk.staff
    qtbot.waitUntil(lambda: s.identity.isEnabled(), timeout=5000)
    qtbot.mouseClick(s.identity, Qt.MouseButton.LeftButton, pos=QPoint(8, s.identity.height() // 2))
    assert s.identity.isChecked()


def test_rejected_application(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    click(qtbot, s, "reject")  # no reason yet: refused
    assert kiosk.staff.current is not None
    assert kiosk.staff.current.status is Status.IN_REVIEW
    s.reject_reason.setText("委任状がありません")
    click(qtbot, s, "reject")
    qtbot.waitUntil(lambda: history(kiosk, ticket)[-1] == "rejected", timeout=5000)
    assert history(kiosk, ticket) == ["draft", "submitted", "in_review", "rejected"]


def test_fee_free_application_completes_after_printing(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk, "idou")
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    for field_id, value in (
        ("new_address", "長崎県松浦市志佐町浦免１番地"),
        ("move_date", "20261120"),
    ):
        s.correct_field.setCurrentIndex(s.correct_field.findData(field_id))
        s.correct_value.setText(value)
        s.correct_reason.setText("窓口で確認")
        click(qtbot, s, "correct_save")
        qtbot.waitUntil(
            lambda f=field_id: s.current is not None and f in s.current.values, timeout=5000
        )
    # the household members who move are entered by the clerk in the persons table
    s.correct_field.setCurrentIndex(s.correct_field.findData("movers"))
    assert s.persons_editor.isVisible()
    assert not s.correct_value.isVisible()
    s.persons_editor.set_cell(0, "name", "髙﨑　花子")
    s.persons_editor.set_cell(0, "birth_date", "19580412")
    s.persons_editor.set_cell(1, "name", "SMITH JOHN")
    s.persons_editor.set_cell(1, "birth_date", "19900105")
    s.persons_editor.set_cell(1, "nationality", "アメリカ合衆国")
    s.correct_reason.setText("窓口で聞き取り")
    click(qtbot, s, "correct_save")
    qtbot.waitUntil(lambda: s.current is not None and "movers" in s.current.values, timeout=5000)
    assert s.current is not None
    assert '"SMITH JOHN"' in s.current.values["movers"].value
    tick_identity(qtbot, kiosk)
    click(qtbot, s, "approve_print")
    confirm_paper(qtbot, kiosk)
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.PRINTED, timeout=10000
    )
    assert not s.action_buttons["qr"].isEnabled()  # nothing to pay
    click(qtbot, s, "complete")
    qtbot.waitUntil(lambda: history(kiosk, ticket)[-1] == "completed", timeout=5000)
    assert history(kiosk, ticket)[-2:] == ["printed", "completed"]
    printer = kiosk.ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    assert printer.last_path is not None
    text = "".join(page.extract_text() for page in PdfReader(printer.last_path).pages)
    assert "1990年1月5日" in text  # a foreign resident's row prints the Western date
    assert "昭和33年4月12日" in text


def test_cash_payment_at_the_counter(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    tick_identity(qtbot, kiosk)
    click(qtbot, s, "approve_print")
    confirm_paper(qtbot, kiosk)
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.PRINTED, timeout=10000
    )
    click(qtbot, s, "cash")
    qtbot.waitUntil(lambda: s.current is not None and s.current.status is Status.PAID, timeout=5000)
    click(qtbot, s, "complete")
    qtbot.waitUntil(lambda: history(kiosk, ticket)[-1] == "completed", timeout=5000)
    with kiosk.ctx.db.read() as session:
        order = session.scalars(select(PaymentOrderRow)).one()
        assert (order.method, order.status, order.recorded_by) == ("cash", "paid", "S1")


def test_sign_out_returns_claims_and_leaves_nothing_on_screen(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    s.reject_reason.setText("下書き")
    click(qtbot, s, "sign_out")
    qtbot.waitUntil(lambda: history(kiosk, ticket)[-1] == "submitted", timeout=5000)
    assert s.table.rowCount() == 0
    assert s.reject_reason.text() == ""
    assert NAME not in texts(s)


def test_several_answers_to_one_question_are_kept(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk, "idou")
    with kiosk.ctx.db.read() as session:
        app = session.scalars(select(ApplicationRow).where(ApplicationRow.ticket == ticket)).one()
        app_id = app.id
    detail = kiosk.ctx.applications.detail(app_id)
    assert detail.values["related_procedures"].value == "health_insurance,seal"
    doc = kiosk.ctx.printing.build_document(app_id)
    texts_on_form = [row.value for section in doc.sections for row in section.rows]
    assert "国民健康保険、印鑑登録" in texts_on_form


def test_a_refresh_keeps_the_person_rows_the_clerk_is_typing(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk, "idou")
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    s.correct_field.setCurrentIndex(s.correct_field.findData("movers"))
    s.persons_editor.set_cell(0, "name", "髙﨑　花子")
    s.refresh_queue()  # the periodic refresh reloads the application being corrected
    assert s.current is not None
    s.load(s.current.id)
    qtbot.wait(300)
    assert '"髙﨑　花子"' in s.persons_editor.value()


def test_a_choice_correction_starts_from_the_stored_answer(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    assert s.current is not None
    stored = s.current.values["kind"].value
    s.correct_field.setCurrentIndex(s.correct_field.findData("kind"))
    assert s.correct_choice.isVisible()
    assert s.correct_choice.currentData() == stored  # 保存 without choosing changes nothing


def test_approve_waits_for_the_identity_tick(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    assert not s.identity.isChecked()
    assert not s.action_buttons["approve"].isEnabled()  # 本人確認 first
    tick_identity(qtbot, kiosk)
    assert s.action_buttons["approve"].isEnabled()
    s.identity.setChecked(False)
    assert not s.action_buttons["approve"].isEnabled()


def test_a_refresh_keeps_the_choice_the_clerk_is_making(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = resident_applies(qtbot, kiosk)
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    s.correct_field.setCurrentIndex(s.correct_field.findData("kind"))
    s.correct_choice.setCurrentIndex(s.correct_choice.findData("all"))
    assert s.current is not None
    s.load(s.current.id)  # what the periodic refresh does
    qtbot.wait(300)
    assert s.correct_choice.currentData() == "all"
