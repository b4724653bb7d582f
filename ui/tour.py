"""`python main.py demo --tour OUTDIR`: drive the real windows through the whole counter
flow offscreen, saving a PNG of every resident and staff screen and the printed PDF."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QTableWidget, QWidget

from devices.card_simulated import SimulatedCard, SimulatedCardReader, demo_card
from devices.printer_folder import SimulatedPrinter
from kiosk.clock import ShiftableClock
from kiosk.config import load_settings
from kiosk.context import AppContext, build_context
from kiosk.counter_display import PAID_SHOWN_S
from kiosk.print_service import JobStatus
from kiosk.resident_flow import Screen
from kiosk.status import Status
from ui.admin.window import AdminWindow
from ui.app import Kiosk, build_kiosk, ensure_qapp

log = logging.getLogger(__name__)

KANA_ANSWER = "たかさき　はなこ"
ANSWERS = {
    "kind": "part",
    "include_head": "0",
    "include_honseki": "1",
    "include_my_number": "0",
    "include_resident_code": "0",
    "relation": "self",
    "purpose": "employment",
}


class TourError(RuntimeError):
    pass


class Tour:
    def __init__(self, kiosk: Kiosk, out: Path) -> None:
        self.k = kiosk
        self.out = out
        self.n = 0
        self.shots: list[Path] = []

    def wait(self, cond: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            QApplication.processEvents()
            if time.monotonic() > deadline:
                raise TourError(
                    f"timed out waiting for {what} (resident: "
                    f"{self.k.flow.screen.value}, {self.k.flow.view().message})"
                )
            time.sleep(0.01)
        QApplication.processEvents()

    def settle(self, seconds: float = 0.15) -> None:
        self.wait(lambda: self.k.runner.pending == 0, "background work")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            QApplication.processEvents()
            time.sleep(0.01)

    def shot(self, widget: QWidget, name: str, *, while_busy: bool = False) -> None:
        """Save a PNG; normally after background work settled, or during it (busy screens)."""
        if while_busy:
            QApplication.processEvents()
        else:
            self.settle()
        self.n += 1
        path = self.out / f"{self.n:02d}-{name}.png"
        widget.grab().save(str(path))
        self.shots.append(path)

    def click(self, root: QWidget, name: str) -> None:
        button = root.findChild(QPushButton, name)
        if button is None or not button.isVisible() or not button.isEnabled():
            raise TourError(f"button {name} is not available")
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        QApplication.processEvents()

    def resident_screen(self, screen: Screen) -> None:
        self.wait(lambda: self.k.flow.screen is screen, f"resident screen {screen.value}")


def _type_kana(tour: Tour, root: QWidget, text: str) -> None:
    for ch in text:
        name = "kana_" + ch
        if ch == "　":
            button = root.findChild(QPushButton, "kana_space")
            widget = [b for b in root.findChildren(QPushButton) if b.text() in ("空白", "Space")]
            QTest.mouseClick(widget[0] if button is None else button, Qt.MouseButton.LeftButton)
            continue
        tour.click(root, name)


def resident_part(t: Tour, reader: SimulatedCardReader, clock: ShiftableClock) -> None:
    r = t.k.resident
    t.shot(r, "resident-start")
    t.click(r, "start")
    t.resident_screen(Screen.CHOOSE)
    t.shot(r, "resident-choose-procedure")
    reader.remove()
    t.click(r, "procedure_0")
    t.resident_screen(Screen.PLACE_CARD)
    t.shot(r, "resident-place-card")
    reader.insert(demo_card())
    t.resident_screen(Screen.PIN)
    for key in "99":
        t.click(r, f"key_{key}")
    t.shot(r, "resident-pin-entry")
    for key in "99":
        t.click(r, f"key_{key}")
    t.click(r, "key_ok")
    t.resident_screen(Screen.PIN)
    t.wait(lambda: t.k.flow.view().message is not None, "wrong PIN message")
    t.shot(r, "resident-wrong-pin")
    for key in "1234":
        t.click(r, f"key_{key}")
    reader.read_delay_s = 1.5  # a slow card, so the reading screen can be photographed
    t.click(r, "key_ok")
    t.resident_screen(Screen.READING)
    t.shot(r, "resident-reading", while_busy=True)
    t.resident_screen(Screen.CONFIRM)
    reader.read_delay_s = 0.0
    t.shot(r, "resident-confirm-card-data")
    t.click(r, "confirm_ok")
    while t.k.flow.screen is Screen.QUESTION:
        q = t.k.flow.view().question
        assert q is not None
        t.shot(r, f"resident-question-{q.field_id}")
        if q.field_id == "copies":
            t.click(r, "stepper_plus")
            t.click(r, "question_next")
        elif q.field_id.endswith("kana"):
            _type_kana(t, r, KANA_ANSWER)
            t.shot(r, "resident-kana-typed")
            t.click(r, "kana_next")
        else:
            t.click(r, f"choice_{ANSWERS[q.field_id]}")
        t.settle(0.05)
    t.resident_screen(Screen.REVIEW)
    t.shot(r, "resident-review")
    t.click(r, "submit")
    t.resident_screen(Screen.SUBMITTED)
    t.shot(r, "resident-ticket")
    t.click(r, "submitted_ok")
    t.resident_screen(Screen.TAKE_CARD)
    t.shot(r, "resident-take-card")
    reader.remove()
    t.resident_screen(Screen.START)
    card_outcomes(t, reader)
    # the idle warning, shown by moving the kiosk's clock forward
    reader.insert(demo_card())
    t.click(r, "start")
    t.resident_screen(Screen.CHOOSE)
    clock.shift(65)
    t.k.flow.tick()
    t.shot(r, "resident-idle-warning")
    t.click(r, "idle_continue")
    t.click(r, "cancel")
    t.resident_screen(Screen.START)


def _to_card_check(t: Tour) -> None:
    r = t.k.resident
    t.click(r, "start")
    t.resident_screen(Screen.CHOOSE)
    t.click(r, "procedure_0")


def card_outcomes(t: Tour, reader: SimulatedCardReader) -> None:
    """The screens a card can lead to besides the happy path."""
    r = t.k.resident
    card = demo_card()
    card.tries_left = 1
    reader.insert(card)
    _to_card_check(t)
    t.resident_screen(Screen.LAST_TRY)
    t.shot(r, "resident-last-try-warning")
    t.click(r, "cancel")
    reader.remove()
    t.resident_screen(Screen.START)
    card = demo_card()
    card.tries_left = 0
    reader.insert(card)
    _to_card_check(t)
    t.resident_screen(Screen.LOCKED)
    t.shot(r, "resident-pin-locked")
    t.click(r, "notice_primary")
    reader.remove()
    t.resident_screen(Screen.START)
    reader.insert(SimulatedCard(demo_card().data, "1234", is_my_number_card=False))
    _to_card_check(t)
    t.resident_screen(Screen.ERROR)
    t.shot(r, "resident-error-not-my-number-card")
    reader.remove()  # the resident takes the wrong card away
    t.click(r, "notice_primary")  # 「カードを置き直す」
    t.resident_screen(Screen.PLACE_CARD)
    reader.fail_next = True
    reader.insert(demo_card())
    t.resident_screen(Screen.ERROR)
    t.shot(r, "resident-error-communication")
    t.click(r, "notice_primary")  # the card is read again
    t.resident_screen(Screen.PIN)
    reader.remove_during_next_read = True
    for key in "1234":
        t.click(r, f"key_{key}")
    t.click(r, "key_ok")
    t.resident_screen(Screen.PLACE_CARD)
    t.shot(r, "resident-card-removed-during-read")
    t.click(r, "cancel")
    t.resident_screen(Screen.START)
    reader.connected = False
    _to_card_check(t)
    t.resident_screen(Screen.ERROR)
    t.shot(r, "resident-error-no-reader")
    t.click(r, "notice_primary")
    t.resident_screen(Screen.START)
    reader.connected = True
    reader.insert(demo_card())


def staff_part(t: Tour, clock: ShiftableClock) -> None:
    s = t.k.staff
    t.shot(s, "staff-sign-in")
    s.staff_input.setText("S1024")
    t.click(s, "sign_in")
    t.wait(lambda: s.queue.count() > 0, "the queue")
    t.shot(s, "staff-queue")
    s.queue.setCurrentRow(0)
    t.wait(lambda: s.current is not None, "application detail")
    t.shot(s, "staff-submitted")
    t.click(s, "claim")
    t.wait(lambda: s.current is not None and s.current.status is Status.IN_REVIEW, "claim")
    s.identity.setChecked(True)
    t.shot(s, "staff-in-review")
    t.click(s, "preview")
    t.wait(lambda: s.preview_pages > 0, "print preview")
    t.shot(s, "staff-print-preview")
    t.click(s, "preview_close")
    printer = t.k.ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    printer.out_of_paper = True  # the job waits in the kiosk's queue, the clerk sees why
    t.click(s, "approve_print")
    t.wait(lambda: s.job is not None and s.job.status is JobStatus.WAITING, "print waiting")
    t.wait(lambda: "用紙切れ" in s.printer_state.text(), "printer state")
    t.shot(s, "staff-print-waiting")
    printer.out_of_paper = False
    t.click(s, "retry_print")
    t.wait(
        lambda: s.job is not None and s.job.status is JobStatus.NEEDS_CONFIRMATION,
        "print needs confirmation",
    )
    t.wait(lambda: "準備完了" in s.printer_state.text(), "printer ready")
    t.shot(s, "staff-print-check")
    t.click(s, "confirm_printed")
    t.wait(lambda: s.current is not None and s.current.status is Status.PRINTED, "printing")
    t.shot(s, "staff-printed")
    clock.reset()  # the payment service stamps its expiry in real time
    t.click(s, "issue_qr")
    t.wait(
        lambda: s.current is not None and s.current.status is Status.AWAITING_PAYMENT, "payment QR"
    )
    t.shot(s, "staff-payment-qr")
    r = t.k.resident
    t.wait(lambda: r.stack.currentWidget() is r.payment_page, "the QR on the resident's screen")
    t.shot(r, "resident-payment-qr")
    # the simulated provider (its own HTTP service) completes the order; nobody types
    t.wait(lambda: s.current is not None and s.current.status is Status.PAID, "payment", timeout=30)
    t.shot(s, "staff-paid")
    t.wait(lambda: r.payment_page.done.text() != "", "paid on the resident's screen")
    t.shot(r, "resident-payment-done")
    clock.shift(PAID_SHOWN_S)  # the notice goes away by itself; no need to wait for it
    t.wait(lambda: r.stack.currentWidget() is not r.payment_page, "the resident's start screen")
    t.click(s, "complete")
    t.wait(lambda: s.current is not None and s.current.status is Status.COMPLETED, "complete")
    t.shot(s, "staff-completed")


def _submit_with_name(ctx: AppContext, name: str) -> str:
    """An application as the resident flow would submit it, for a card holding ``name``."""
    from forms.model import Source
    from forms.prefill import FilledValue, Provenance, prefill

    pk = next(p.pk for p in ctx.templates.active() if p.template.id == "juminhyo")
    values = prefill(
        ctx.templates.get(pk),
        {
            Source.CARD_NAME: name,
            Source.CARD_ADDRESS: "長崎県松浦市志佐町里免３６５番地",
            Source.CARD_BIRTH_DATE: "19580412",
            Source.CARD_SEX: "2",
            Source.SESSION_TODAY: ctx.clock.now().strftime("%Y%m%d"),
        },
    )
    answers = {**ANSWERS, "copies": "1", "applicant_kana": "よしの はなこ"}
    values |= {k: FilledValue(v, Provenance.RESIDENT) for k, v in answers.items()}
    app_id = ctx.applications.create_draft(pk, "ja", values)
    ticket, _n = ctx.applications.submit(app_id, values)
    return ticket


def persons_part(t: Tour, ctx: AppContext) -> None:
    """住民異動届: the clerk enters the people who move, one a foreign resident."""
    from forms.model import Source
    from forms.prefill import FilledValue, Provenance, prefill

    s = t.k.staff
    pk = next(p.pk for p in ctx.templates.active() if p.template.id == "idou")
    card = demo_card().data
    values = prefill(
        ctx.templates.get(pk),
        {
            Source.CARD_NAME: card.name,
            Source.CARD_ADDRESS: card.address,
            Source.CARD_BIRTH_DATE: card.birth_date,
            Source.CARD_SEX: card.sex,
            Source.SESSION_TODAY: ctx.clock.now().strftime("%Y%m%d"),
        },
    )
    answers = {"move_kind": "within", "members": "2", "notifier_kana": "たかさき はなこ"}
    values |= {k: FilledValue(v, Provenance.RESIDENT) for k, v in answers.items()}
    app_id = ctx.applications.create_draft(pk, "ja", values)
    ticket, _n = ctx.applications.submit(app_id, values)
    t.wait(lambda: s.select_ticket(ticket), "the 異動届 in the queue")
    t.wait(lambda: s.current is not None and s.current.ticket == ticket, "its detail")
    t.click(s, "claim")
    t.wait(lambda: s.correct_field.findData("movers") >= 0, "the correction panel")
    s.correct_field.setCurrentIndex(s.correct_field.findData("movers"))
    editor = s.persons_editor
    for row, person in enumerate(
        (
            {
                "name": card.name,
                "kana": "たかさき はなこ",
                "birth_date": "19580412",
                "sex": "2",
                "relation": "世帯主",
            },
            {
                "name": "SMITH JOHN",
                "birth_date": "19900105",
                "sex": "1",
                "relation": "夫",
                "nationality": "アメリカ合衆国",
                "residence_status": "日本人の配偶者等",
                "residence_card": "AB12345678CD",
            },
        )
    ):
        for item, text in person.items():
            editor.set_cell(row, item, text)
    s.correct_reason.setText("窓口で聞き取り")
    t.shot(s, "staff-persons-table")
    t.click(s, "correct_save")
    t.wait(
        lambda: bool(s.message.text()) or (s.current is not None and "movers" in s.current.values),
        "the saved rows",
    )
    if s.current is None or "movers" not in s.current.values:
        raise TourError(f"the rows were not saved: {s.message.text()}")
    t.shot(s, "staff-persons-saved")
    t.click(s, "release")
    t.wait(lambda: s.current is not None and s.current.status is Status.SUBMITTED, "release")


def forms_part(ctx: AppContext, out: Path) -> None:
    """Every published form filled with the sample values, as PDF and page images: what
    the administrators' preview shows and what the printer gets."""
    from kiosk.template_editing import preview_document
    from printing.render import render_pdf

    for published in ctx.templates.active():
        template = published.template
        doc = preview_document(template, ctx.fees.current(), ctx.settings.addressee, ctx.clock)
        pdf = out / f"form-{template.id}.pdf"
        pdf.write_bytes(render_pdf(doc))
        if shutil.which("pdftoppm"):
            subprocess.run(
                ["pdftoppm", "-r", "80", "-png", str(pdf), str(out / f"form-{template.id}")],
                check=True,
            )


def glyph_part(t: Tour, ctx: AppContext) -> None:
    """A name with 𠮷, which the IPAex fonts lack: the clerk sees it and decides."""
    s = t.k.staff
    ticket = _submit_with_name(ctx, "\U00020bb7野　花子")
    t.wait(lambda: s.select_ticket(ticket), "the 外字 application in the queue")
    t.wait(lambda: s.current is not None and s.current.ticket == ticket, "its detail")
    t.click(s, "claim")
    fallback = s.findChild(QPushButton, "glyph_fallback")
    t.wait(lambda: fallback is not None and fallback.isEnabled(), "the 外字 decision buttons")
    t.shot(s, "staff-glyph-problems")
    t.click(s, "glyph_fallback")
    t.wait(lambda: s.glyph_state.text().startswith("判断済み"), "the 外字 decision")
    t.shot(s, "staff-glyph-decided")
    t.click(s, "release")
    t.wait(lambda: s.current is not None and s.current.status is Status.SUBMITTED, "release")


def _answer(t: Tour, answers: dict[str, str], *, until: str = "") -> None:
    """Answer the questions on screen (``answers`` first, then ANSWERS) up to ``until``."""
    r = t.k.resident
    while t.k.flow.screen is Screen.QUESTION:
        q = t.k.flow.view().question
        assert q is not None
        if q.field_id == until:
            return
        value = {**ANSWERS, **answers}.get(q.field_id, "")
        if q.kind.value == "number":
            t.click(r, "question_next")
        elif q.kind.value == "phone":
            for digit in value:
                t.click(r, f"digit_{digit}")
            t.click(r, "digit_ok")
        elif q.kind.value == "kana":
            _type_kana(t, r, KANA_ANSWER)
            t.click(r, "kana_next")
        else:
            t.click(r, f"choice_{value}")
        t.settle(0.05)


def _resident_to_questions(t: Tour, reader: SimulatedCardReader, template_id: str) -> None:
    r = t.k.resident
    reader.insert(demo_card())
    t.click(r, "start")
    t.resident_screen(Screen.CHOOSE)
    ids = [p.template.id for p in t.k.ctx.templates.active()]
    t.click(r, f"procedure_{ids.index(template_id)}")
    t.resident_screen(Screen.PIN)
    for key in "1234":
        t.click(r, f"key_{key}")
    t.click(r, "key_ok")
    t.resident_screen(Screen.CONFIRM)
    t.click(r, "confirm_ok")


def rules_part(t: Tour, reader: SimulatedCardReader) -> None:
    """The template's rules and eligibility: a proxy told at the question that a 委任状 is
    needed, then told the copy with the My Number is mailed; a 広域交付 by proxy refused;
    the clerk sees the outcome and what to check."""
    r, s = t.k.resident, t.k.staff
    _resident_to_questions(t, reader, "juminhyo")
    proxy = {"include_my_number": "1", "relation": "proxy"}
    _answer(t, proxy, until="proxy_letter")
    t.shot(r, "resident-question-proxy_letter")
    t.click(r, "choice_0")  # no 委任状: the rule's words, on this question
    t.shot(r, "resident-rule-needs-power-of-attorney")
    t.click(r, "choice_1")
    _answer(t, proxy)
    t.resident_screen(Screen.REVIEW)
    t.shot(r, "resident-review-proxy-mailed")
    t.click(r, "submit")
    t.resident_screen(Screen.SUBMITTED)
    ticket = t.k.flow.view().ticket
    t.click(r, "submitted_ok")
    reader.remove()
    t.resident_screen(Screen.START)
    _resident_to_questions(t, reader, "koseki")
    koseki = {
        "kind": "zenbu",
        "wide_area": "1",
        "honseki_same": "no",
        "relation": "proxy",
        "proxy_letter": "1",
        "applicant_phone": "0956721111",
        "purpose": "inheritance",
    }
    _answer(t, koseki, until="wide_area")
    t.shot(r, "resident-question-wide_area")
    _answer(t, koseki, until="applicant_phone")
    for digit in "0956":
        t.click(r, f"digit_{digit}")
    t.shot(r, "resident-question-applicant_phone")
    for _ in range(4):
        t.click(r, "digit_delete")
    _answer(t, koseki)
    t.resident_screen(Screen.REVIEW)
    t.shot(r, "resident-review-refused-wide-area-proxy")
    t.click(r, "cancel")
    reader.remove()
    t.resident_screen(Screen.START)
    s.refresh_queue()
    t.wait(lambda: s.select_ticket(ticket), "the proxy's application in the queue")
    t.wait(lambda: s.current is not None and s.current.ticket == ticket, "the detail")
    t.click(s, "claim")
    t.wait(lambda: s.current is not None and s.current.status is Status.IN_REVIEW, "claim")
    t.shot(s, "staff-proxy-eligibility")


ADMIN_PASSWORD = "tour-admin-password"


def _set_cell(table: QTableWidget, row_key: str, column: int, text: str) -> None:
    for r in range(table.rowCount()):
        key, cell = table.item(r, 0), table.item(r, column)
        if key is not None and cell is not None and key.text() == row_key:
            cell.setText(text)
            return
    raise TourError(f"no row {row_key}")


def admin_part(t: Tour, ctx: AppContext) -> None:
    """An administrator changes a fee and a label, previews, publishes; the next resident
    sees the new fee on the procedure tiles."""
    ctx.admins.set_password("admin", ADMIN_PASSWORD, actor="tour")
    admin = AdminWindow(ctx)
    admin.resize(1400, 900)
    admin.show()
    t.shot(admin, "admin-sign-in")
    admin.password_input.setText(ADMIN_PASSWORD)
    t.click(admin, "admin_sign_in")
    _set_cell(admin.field_table, "purpose", 1, "使いみち（提出先）")
    # move the number of copies to the right and print it larger: layout is template data
    admin.select_field("copies")
    admin.field_panel.place_w.setValue(30.0)
    admin.field_panel.place_size.setValue(16.0)
    t.click(admin, "apply_field")
    t.click(admin, "preview")
    t.shot(admin, "admin-editor-preview")
    t.click(admin, "publish")
    t.shot(admin, "admin-published")
    admin.tabs.setCurrentIndex(1)
    _set_cell(admin.fee_table, "juminhyo_copy", 3, "350")
    t.click(admin, "save_fees")
    t.shot(admin, "admin-fee-table")
    admin.close()
    r = t.k.resident
    t.click(r, "start")
    t.resident_screen(Screen.CHOOSE)
    t.shot(r, "resident-choose-after-admin-change")
    t.click(r, "cancel")
    t.resident_screen(Screen.START)


def run_tour(out: Path, *, data_dir: Path | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.png"), *out.glob("form-*.pdf")]:
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix="kiosk-tour-"))
    # paid 6 s after the QR is shown: time to photograph the code and its countdown
    settings = load_settings(data_dir or work / "data", simulated_payment_delay_s=6.0)
    ensure_qapp()
    clock = ShiftableClock()
    ctx = build_context(settings, clock=clock)
    kiosk = build_kiosk(ctx)
    kiosk.resident.resize(1280, 900)
    kiosk.staff.resize(1280, 800)
    kiosk.resident.show()
    kiosk.staff.show()
    reader = ctx.devices.card_reader
    assert isinstance(reader, SimulatedCardReader)
    tour = Tour(kiosk, out)
    try:
        resident_part(tour, reader, clock)
        staff_part(tour, clock)
        glyph_part(tour, ctx)
        persons_part(tour, ctx)
        admin_part(tour, ctx)
        rules_part(tour, reader)
        forms_part(ctx, out)
    finally:
        kiosk.shutdown()
        ctx.close()
    printed = sorted(settings.print_output_dir.glob("*.pdf"))
    if not printed:
        raise TourError("nothing was printed")
    pdf = out / "printed-form.pdf"
    shutil.copyfile(printed[-1], pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf), str(out / "printed-form")],
            check=True,
        )
    shutil.rmtree(work, ignore_errors=True)
    print(f"tour: {len(tour.shots)} screenshots and printed-form.pdf in {out}")
    return 0
