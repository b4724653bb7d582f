"""The clerk's screen: the queue, one application's values with their provenance, and the
actions claim → correct → approve (本人確認) → print → payment → complete, and the print
queue: printer state, jobs waiting or needing a clerk's confirmation, the exact PDF as a
preview (QtPdf), confirm "printed", reprint (再発行) or cancel. No print dialog ever opens.

Dense but legible desk layout (14–16 px). All work runs through the runner's lanes; the
window only shows results. Errors appear in the message line with what to do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from devices.payment import OrderStatus
from devices.printer import KNOWN_REASONS, PrinterState
from forms.display import display_value
from forms.model import FieldKind, FilledBy
from forms.prefill import changed_from_prefill
from forms.visibility import visible_ids
from kiosk.applications import ApplicationDetail, QueueItem
from kiosk.context import AppContext
from kiosk.counter_display import CounterDisplay
from kiosk.errors import message_of
from kiosk.glyph_review import GlyphReport
from kiosk.i18n import tr
from kiosk.payment_service import PaymentView
from kiosk.print_service import Document, JobStatus, PrintOutcome, QueuedJob
from kiosk.resident_flow import ResidentFlow, ResidentView
from kiosk.runner import Runner
from kiosk.status import Status
from printing.document import GlyphPolicy
from printing.glyphs import Reason
from ui.fonts import fallback_ui_family
from ui.staff.persons_editor import PersonsEditor
from ui.widgets import QrWidget

STAFF_QSS = """
QWidget#staff { font-size: 15px; background: #f4f5f7; color: #111; }
QWidget#staff QPushButton { min-height: 34px; padding: 4px 14px; font-size: 15px; }
QWidget#staff QPushButton[role="primary"] { background: #13306b; color: white; font-weight: bold; }
QWidget#staff QPushButton:disabled { color: #8a8a8a; background: #e4e4e4; }
QLabel[role="h1"] { font-size: 20px; font-weight: bold; }
QLabel[role="msg"] { font-size: 15px; font-weight: bold; color: #8a1c00; }
QLabel[role="info"] { font-size: 15px; color: #14451f; font-weight: bold; }
QLabel[role="banner"] { background: #fff1e6; border: 2px solid #8a1c00; color: #8a1c00;
    font-weight: bold; padding: 4px 8px; }
QFrame#panel { background: white; border: 1px solid #c9ccd1; border-radius: 6px; }
"""


def _btn(
    text: str, name: str, on_click: Callable[[], None], *, primary: bool = False, shortcut: str = ""
) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.clicked.connect(lambda _checked=False: on_click())
    if primary:
        b.setProperty("role", "primary")
    if shortcut:
        b.setShortcut(QKeySequence(shortcut))
        b.setToolTip(shortcut)
    return b


def _label(text: str = "", role: str = "") -> QLabel:
    w = QLabel(text)
    w.setTextFormat(Qt.TextFormat.PlainText)
    w.setWordWrap(True)
    if role:
        w.setProperty("role", role)
    return w


class StaffWindow(QWidget):
    def __init__(
        self,
        ctx: AppContext,
        runner: Runner,
        flow: ResidentFlow | None = None,
        *,
        refresh_ms: int = 1500,
        display: CounterDisplay | None = None,
        print_ms: int = 1000,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        #: the resident's screen: shows the QR this clerk issued, then "paid"
        self.display = display or CounterDisplay(ctx.clock)
        self.needs_refund = False
        self.runner = runner
        self.staff_id = ""
        self.current: ApplicationDetail | None = None
        self.payment: PaymentView | None = None
        self.job: PrintOutcome | None = None
        self.glyphs: GlyphReport | None = None
        #: bumped at every sign-in and sign-out: answers for an earlier session are dropped
        self._session_no = 0
        self._polling_payments = False
        # the QR's time left, counted by the core from the order's expiry
        self.countdown_timer = QTimer(self)
        self.countdown_timer.setInterval(1000)
        self.countdown_timer.timeout.connect(self._show_countdown)
        self._polling_prints = False
        self._preview_buffer: QBuffer | None = None
        self.setObjectName("staff")
        self.setWindowTitle(tr("staff_title"))
        self.setStyleSheet(STAFF_QSS)
        root = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(_label(tr("staff_title"), "h1"))
        self.resident_state = _label()
        self.resident_state.setObjectName("resident_state")
        top.addWidget(self.resident_state, 1)
        self.help_banner = _label(tr("staff_help_requested"), "banner")
        self.help_banner.hide()
        top.addWidget(self.help_banner)
        self.who = _label()
        top.addWidget(self.who)
        self.sign_out_button = _btn(tr("staff_sign_out"), "sign_out", self.sign_out)
        top.addWidget(self.sign_out_button)
        root.addLayout(top)
        self.pages = QStackedWidget()
        root.addWidget(self.pages, 1)
        self.pages.addWidget(self._build_sign_in())
        self.pages.addWidget(self._build_main())
        self.sign_out_button.hide()

        self.queue_timer = QTimer(self)
        self.queue_timer.setInterval(refresh_ms)
        self.queue_timer.timeout.connect(self.refresh_queue)
        # every open QR order is polled, not only the one on screen: a payment is recorded
        # even while the clerk serves someone else
        # the core decides which orders are due (back-off); this only asks every second
        self.payment_timer = QTimer(self)
        self.payment_timer.setInterval(1000)
        self.payment_timer.timeout.connect(self.poll_payments)
        # the print queue's rounds (retries when due, following sent jobs) run only while a
        # clerk is signed in: no form with personal data prints at an unattended counter
        self.print_timer = QTimer(self)
        self.print_timer.setInterval(print_ms)
        self.print_timer.timeout.connect(self.poll_print_queue)
        if flow is not None:
            flow.subscribe(self._show_resident_state)
            self._show_resident_state(flow.view())

    # --- layout ------------------------------------------------------------------------
    def _build_sign_in(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.addStretch(1)
        heading = _label(tr("staff_sign_in"), "h1")
        heading.setWordWrap(False)  # centred on one line; wrapped, it was cut in half
        box.addWidget(heading, alignment=Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(_label(tr("staff_id")))
        self.staff_input = QLineEdit()
        self.staff_input.setObjectName("staff_id")
        self.staff_input.setMaxLength(16)
        self.staff_input.returnPressed.connect(self.sign_in)
        row.addWidget(self.staff_input)
        row.addWidget(_btn(tr("staff_sign_in_button"), "sign_in", self.sign_in, primary=True))
        row.addStretch(1)
        box.addLayout(row)
        self.sign_in_message = _label("", "msg")
        box.addWidget(self.sign_in_message, alignment=Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(2)
        return page

    def _build_main(self) -> QWidget:
        split = QSplitter()
        left = QFrame()
        left.setObjectName("panel")
        lbox = QVBoxLayout(left)
        lbox.addWidget(_label(tr("staff_queue"), "h1"))
        self.queue = QListWidget()
        self.queue.setObjectName("queue")
        self.queue.itemSelectionChanged.connect(self._on_select)
        lbox.addWidget(self.queue, 3)
        lbox.addWidget(_label(tr("staff_print_queue"), "h1"))
        self.printer_state = _label()
        self.printer_state.setObjectName("printer_state")
        lbox.addWidget(self.printer_state)
        self.print_queue = QListWidget()
        self.print_queue.setObjectName("print_queue")
        self.print_queue.setWordWrap(True)
        self.print_queue.itemSelectionChanged.connect(self._on_select_job)
        lbox.addWidget(self.print_queue, 2)
        split.addWidget(left)

        right = QFrame()
        right.setObjectName("panel")
        rbox = QVBoxLayout(right)
        self.heading = _label(tr("staff_select"), "h1")
        self.heading.setObjectName("heading")
        rbox.addWidget(self.heading)
        self.status_line = _label()
        self.status_line.setObjectName("status_line")
        rbox.addWidget(self.status_line)
        # who may apply and what to check (委任状, photo ID, mailed to the person), and the
        # template's rules the values break
        self.eligibility_line = _label("", "banner")
        self.eligibility_line.setObjectName("eligibility_line")
        self.eligibility_line.hide()
        rbox.addWidget(self.eligibility_line)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("values")
        self.table.setHorizontalHeaderLabels(["項目", "内容", "出所"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # the values table, or in its place the preview of the exact PDF to be printed
        self.detail_stack = QStackedWidget()
        self.detail_stack.addWidget(self.table)
        self.detail_stack.addWidget(self._build_preview())
        rbox.addWidget(self.detail_stack, 1)
        rbox.addWidget(self._build_glyph_panel())
        self.fee_line = _label()
        self.fee_line.setObjectName("fee_line")
        rbox.addWidget(self.fee_line)
        self.identity = QCheckBox(tr("staff_identity_check"))
        self.identity.setObjectName("identity")
        self.identity.toggled.connect(lambda _on: self._update_approve())
        self._approve_allowed = False
        #: (application, field, stored value) the correction inputs were set up for
        self._correcting: tuple[int, str, str] | None = None
        rbox.addWidget(self.identity)

        # correction: field, new value and a required reason (non-modal, inline)
        self.correct_panel = QWidget()
        cgrid = QGridLayout(self.correct_panel)
        cgrid.setContentsMargins(0, 0, 0, 0)
        self.correct_field = QComboBox()
        self.correct_field.setObjectName("correct_field")
        self.correct_value = QLineEdit()
        self.correct_value.setObjectName("correct_value")
        self.correct_value.setPlaceholderText(tr("staff_new_value"))
        self.correct_reason = QLineEdit()
        self.correct_reason.setObjectName("correct_reason")
        self.correct_reason.setPlaceholderText(tr("staff_correction_reason"))
        # choice fields are corrected by choosing, never by typing an internal code
        self.correct_choice = QComboBox()
        self.correct_choice.setObjectName("correct_choice")
        self.correct_field.currentIndexChanged.connect(self._on_correct_field)
        cgrid.addWidget(self.correct_field, 0, 0)
        cgrid.addWidget(self.correct_value, 0, 1)
        cgrid.addWidget(self.correct_choice, 0, 1)
        cgrid.addWidget(self.correct_reason, 0, 2)
        cgrid.addWidget(_btn("保存", "correct_save", self.save_correction, shortcut="Ctrl+S"), 0, 3)
        self.persons_editor = PersonsEditor()
        self.persons_editor.hide()
        cgrid.addWidget(self.persons_editor, 1, 0, 1, 4)
        rbox.addWidget(self.correct_panel)
        self.reject_reason = QLineEdit()
        self.reject_reason.setObjectName("reject_reason")
        self.reject_reason.setPlaceholderText(tr("staff_reject_reason"))
        rbox.addWidget(self.reject_reason)

        self.message = _label("", "msg")
        self.message.setObjectName("message")
        rbox.addWidget(self.message)
        buttons = QGridLayout()
        self.action_buttons = {
            "claim": _btn(tr("staff_claim"), "claim", self.claim, primary=True, shortcut="Ctrl+T"),
            "take_over": _btn(
                tr("staff_take_over"), "take_over", self.take_over, shortcut="Ctrl+Shift+T"
            ),
            "release": _btn(tr("staff_release"), "release", self.release, shortcut="Ctrl+U"),
            "reject": _btn(tr("staff_reject"), "reject", self.reject, shortcut="Ctrl+B"),
            "approve": _btn(
                tr("staff_approve_print"),
                "approve_print",
                self.approve_and_print,
                primary=True,
                shortcut="Ctrl+P",
            ),
            "retry": _btn(
                tr("staff_retry_print"), "retry_print", self.retry_print, shortcut="Ctrl+Shift+P"
            ),
            "qr": _btn(
                tr("staff_issue_qr"), "issue_qr", self.issue_qr, primary=True, shortcut="Ctrl+Q"
            ),
            "cancel_qr": _btn(
                tr("staff_cancel_qr"), "cancel_qr", self.cancel_qr, shortcut="Ctrl+Shift+Q"
            ),
            "confirm_paid": _btn(
                tr("staff_confirm_paid"), "confirm_paid", self.confirm_paid, shortcut="Ctrl+K"
            ),
            "payment_slip": _btn(
                tr("staff_print_payment_slip"),
                "print_payment_slip",
                lambda: self.print_slip(Document.PAYMENT_SLIP),
            ),
            "cash": _btn(tr("staff_cash"), "cash", self.pay_cash, shortcut="Ctrl+M"),
            "receipt": _btn(
                tr("staff_print_receipt"),
                "print_receipt",
                lambda: self.print_slip(Document.RECEIPT),
            ),
            "refund": _btn(tr("staff_refund"), "refund", self.refund, shortcut="Ctrl+R"),
            "complete": _btn(
                tr("staff_complete"), "complete", self.complete, primary=True, shortcut="Ctrl+D"
            ),
        }
        self.print_buttons = {
            "preview": _btn(tr("staff_preview"), "preview", self.show_preview, shortcut="Ctrl+R"),
            "confirm": _btn(
                tr("staff_confirm_printed"),
                "confirm_printed",
                self.confirm_printed,
                primary=True,
                shortcut="Ctrl+K",
            ),
            "reprint": _btn(tr("staff_reprint"), "reprint", self.reprint, shortcut="Ctrl+Shift+R"),
            "cancel": _btn(tr("staff_cancel_print"), "cancel_print", self.cancel_print),
        }
        # two rows: the review steps, then payment and completion, so the window keeps its
        # width on a 1280-pixel counter screen
        for i, b in enumerate(self.action_buttons.values()):
            buttons.addWidget(b, i // 7, i % 7)
        rbox.addLayout(buttons)
        self.job_line = _label()
        self.job_line.setObjectName("job_line")
        rbox.addWidget(self.job_line)
        print_row = QHBoxLayout()
        print_row.addStretch(1)
        print_row.addWidget(self.action_buttons["retry"])
        for b in self.print_buttons.values():
            print_row.addWidget(b)
        rbox.addLayout(print_row)

        self.qr_panel = QFrame()
        qbox = QHBoxLayout(self.qr_panel)
        self.qr = QrWidget()
        self.qr.setObjectName("payment_qr")
        self.qr.setFixedSize(220, 220)
        qbox.addWidget(self.qr)
        self.qr_text = _label("", "h1")
        self.qr_text.setObjectName("qr_text")
        qbox.addWidget(self.qr_text, 1)
        rbox.addWidget(self.qr_panel)
        split.addWidget(right)
        split.setSizes([320, 900])
        self._show_detail(None)
        return split

    def _build_glyph_panel(self) -> QWidget:
        """外字: what the fonts lack, where, and the clerk's two ways of printing it."""
        self.glyph_panel = QFrame()
        self.glyph_panel.setObjectName("glyph_panel")
        box = QVBoxLayout(self.glyph_panel)
        box.setContentsMargins(0, 4, 0, 4)
        box.addWidget(_label(tr("staff_glyphs_title"), "msg"))
        self.glyph_table = QTableWidget(0, 5)
        self.glyph_table.setObjectName("glyph_table")
        self.glyph_table.setHorizontalHeaderLabels(["項目", "位置", "文字コード", "文字", "理由"])
        self.glyph_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.glyph_table.verticalHeader().hide()
        self.glyph_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        box.addWidget(self.glyph_table)
        row = QHBoxLayout()
        self.glyph_state = _label()
        self.glyph_state.setObjectName("glyph_state")
        row.addWidget(self.glyph_state, 1)
        self.glyph_buttons = {
            GlyphPolicy.FALLBACK: _btn(
                tr("staff_glyph_fallback"),
                "glyph_fallback",
                lambda: self.decide_glyphs(GlyphPolicy.FALLBACK),
            ),
            GlyphPolicy.BLANK: _btn(
                tr("staff_glyph_blank"),
                "glyph_blank",
                lambda: self.decide_glyphs(GlyphPolicy.BLANK),
            ),
        }
        for b in self.glyph_buttons.values():
            row.addWidget(b)
        box.addLayout(row)
        self.glyph_panel.hide()
        return self.glyph_panel

    def _build_preview(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(_label(tr("staff_preview_title"), "h1"), 1)
        head.addWidget(_btn(tr("staff_preview_close"), "preview_close", self.close_preview))
        box.addLayout(head)
        self.pdf_document = QPdfDocument(self)
        self.pdf_view = QPdfView()
        self.pdf_view.setObjectName("pdf_view")
        self.pdf_view.setPageMode(QPdfView.PageMode.MultiPage)
        self.pdf_view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.pdf_view.setDocument(self.pdf_document)
        box.addWidget(self.pdf_view, 1)
        return page

    # --- background helper -------------------------------------------------------------
    def _submit(
        self,
        lane: str,
        fn: Callable[[], Any],
        ok: Callable[[Any], None],
        fail: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Background work whose answer is dropped if the clerk signed out meanwhile."""
        session_no = self._session_no
        on_fail = fail or self._show_error

        def on_ok(result: Any) -> None:
            if session_no == self._session_no:
                ok(result)

        def on_error(exc: BaseException) -> None:
            if session_no == self._session_no:
                on_fail(exc)

        self.runner.submit(lane, fn, on_ok, on_error)

    def _run(self, lane: str, fn: Callable[[], Any], ok: Callable[[Any], None]) -> None:
        self.message.setText("")
        self._submit(lane, fn, ok)

    def _show_error(self, exc: BaseException) -> None:
        key, params = message_of(exc)
        self.message.setProperty("role", "msg")
        self.message.setText(tr(key, **params))
        self.message.style().polish(self.message)
        self.refresh_queue()
        if self.current is not None:
            self.load(self.current.id)

    def _info(self, text: str) -> None:
        self.message.setProperty("role", "info")
        self.message.setText(text)
        self.message.style().polish(self.message)

    # --- sign-in -------------------------------------------------------------------------
    def sign_in(self) -> None:
        staff = self.staff_input.text().strip()
        if not staff.isalnum():
            self.sign_in_message.setText(tr("staff_sign_in"))
            return
        self.staff_id = staff
        self._session_no += 1
        self.staff_input.clear()
        self.who.setText(tr("staff_signed_in", staff=staff))
        self.sign_out_button.show()
        self.pages.setCurrentIndex(1)
        self._submit("db", lambda: self._audit_sign(staff, "staff_sign_in"), lambda _r: None)
        self.refresh_queue()
        self.queue_timer.start()
        self.payment_timer.start()
        self.print_timer.start()
        self.poll_print_queue()

    def sign_out(self) -> None:
        staff = self.staff_id

        def leave() -> None:
            self.ctx.applications.release_claims(staff)  # nothing stays stuck in review
            self._audit_sign(staff, "staff_sign_out")

        self.runner.submit("db", leave, lambda _r: None, lambda exc: None)
        self.staff_id = ""
        self._session_no += 1
        self.stop()
        self.display.clear()  # no code stays payable on the resident's screen
        self._show_detail(None)
        self.queue.clear()
        self.print_queue.clear()
        self.printer_state.setText("")
        self.who.setText("")
        self.sign_out_button.hide()
        self.pages.setCurrentIndex(0)

    def _audit_sign(self, staff: str, action: str) -> None:
        from kiosk import audit

        with self.ctx.db.write() as session:
            audit.record(
                session,
                at=self.ctx.clock.now(),
                actor=staff,
                action=action,
                object_type="staff",
                object_id=staff,
            )

    def _show_resident_state(self, view: ResidentView) -> None:
        self.resident_state.setText(
            tr("staff_resident_screen", screen=tr(f"screen_{view.screen.value}"))
        )
        self.help_banner.setVisible(view.help_requested)

    # --- queue -------------------------------------------------------------------------
    def refresh_queue(self) -> None:
        if self.staff_id:
            self._submit(
                "db",
                self.ctx.applications.queue,
                self._show_queue,
                lambda exc: self.message.setText(tr(message_of(exc)[0])),
            )

    def _show_queue(self, items: list[QueueItem]) -> None:
        selected = self.current.id if self.current else None
        self.queue.blockSignals(True)
        self.queue.clear()
        now = self.ctx.clock.now()
        for item in items:
            minutes = _minutes_since(item.submitted_at, now)
            who = f"  {item.claimed_by}" if item.claimed_by else ""
            text = (
                f"{item.ticket}  {item.template_title}\n"
                f"{tr('status_' + item.status.value)}  "
                f"{tr('staff_minutes_waiting', n=minutes)}{who}"
            )
            entry = QListWidgetItem(text)
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            self.queue.addItem(entry)
            if item.id == selected:
                entry.setSelected(True)
        self.queue.blockSignals(False)

    def _on_select(self) -> None:
        items = self.queue.selectedItems()
        if items:
            self.load(int(items[0].data(Qt.ItemDataRole.UserRole)))

    def select_ticket(self, ticket: str) -> bool:
        for i in range(self.queue.count()):
            if self.queue.item(i).text().startswith(ticket + " "):
                self.queue.setCurrentRow(i)
                return True
        return False

    def load(self, app_id: int) -> None:
        def everything() -> tuple[
            ApplicationDetail, PaymentView | None, PrintOutcome | None, GlyphReport, bool
        ]:
            return (
                self.ctx.applications.detail(app_id),
                self.ctx.payments.current(app_id),
                self.ctx.printing.latest_job(app_id),
                self.ctx.printing.glyphs.report(app_id),
                self.ctx.payments.needs_refund(app_id),
            )

        self._submit("db", everything, lambda r: self._show_detail(*r))

    # --- detail ------------------------------------------------------------------------
    def _show_detail(
        self,
        detail: ApplicationDetail | None,
        payment: PaymentView | None = None,
        job: PrintOutcome | None = None,
        glyphs: GlyphReport | None = None,
        needs_refund: bool = False,
    ) -> None:
        same = detail is not None and self.current is not None and self.current.id == detail.id
        if not same:  # text typed for one application must never land on another
            self._correcting = None
            for field in (self.correct_value, self.correct_reason, self.reject_reason):
                field.clear()
            self.message.setText("")
            self.close_preview()
        self.job = job
        self.glyphs = glyphs
        self.needs_refund = needs_refund
        # a refresh of the same application must not undo the clerk's 本人確認 tick
        keep_identity = same and self.identity.isChecked()
        editing = self.correct_field.currentData() if same else None
        self.current, self.payment = detail, payment
        self.table.setRowCount(0)
        self.correct_field.clear()
        self._approve_allowed = False  # until this application's state says otherwise
        for b in (*self.action_buttons.values(), *self.print_buttons.values()):
            b.setEnabled(False)
        self.job_line.setText("")
        self.correct_panel.hide()
        self.reject_reason.hide()
        self.qr_panel.hide()
        self.glyph_panel.hide()
        self.countdown_timer.stop()
        self.identity.setEnabled(False)
        if detail is None:
            self.heading.setText(tr("staff_select"))
            self.status_line.setText("")
            self.eligibility_line.setText("")
            self.eligibility_line.hide()
            self.fee_line.setText("")
            self.identity.setChecked(False)
            return
        t = detail.template
        self.correct_field.blockSignals(True)
        self.heading.setText(f"{detail.ticket}  {t.title['ja']}")
        claimed = tr("staff_claimed_by", staff=detail.claimed_by) if detail.claimed_by else ""
        self.status_line.setText(
            f"{tr('staff_status')}: {tr('status_' + detail.status.value)}  {claimed}"
        )
        eligibility = eligibility_text(detail)
        self.eligibility_line.setText(eligibility)
        self.eligibility_line.setVisible(bool(eligibility))
        applying = visible_ids(t, {k: v.value for k, v in detail.values.items()})
        for f in t.fields:
            if f.id not in applying:  # e.g. the 委任状 row of an applicant who is no proxy
                continue
            stored = detail.values.get(f.id)
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(f.label["ja"]))
            raw = stored.value if stored else ""
            shown = display_value(f, raw, "ja")
            if f.kind is FieldKind.CHECKBOX:
                shown = tr("yes" if raw == "1" else "no")
            self.table.setItem(row, 1, QTableWidgetItem(shown))
            source = tr("prov_" + stored.provenance.value) if stored else ""
            if stored and changed_from_prefill(f, stored):
                source += tr("prov_changed_suffix")
            self.table.setItem(row, 2, QTableWidgetItem(source))
            correctable = f.filled_by is not FilledBy.SYSTEM or f.source is None
            if correctable and f.kind is not FieldKind.SIGNATURE:
                self.correct_field.addItem(f.label["ja"], f.id)
        self.correct_field.blockSignals(False)
        # keep the field the clerk was correcting selected across refreshes
        index = self.correct_field.findData(editing) if editing is not None else -1
        self.correct_field.setCurrentIndex(max(index, 0))
        self._on_correct_field()
        self.table.resizeColumnToContents(0)
        self.fee_line.setText(f"{tr('staff_fee')}: {detail.fee.total:,}円")
        mine = detail.status is Status.IN_REVIEW and detail.claimed_by == self.staff_id
        self.identity.setEnabled(mine)
        self.identity.setChecked(detail.identity_confirmed or (keep_identity and mine))
        self.correct_panel.setVisible(mine)
        self.reject_reason.setVisible(mine)
        a = self.action_buttons
        a["claim"].setEnabled(detail.status is Status.SUBMITTED)
        a["take_over"].setEnabled(detail.status is Status.IN_REVIEW and not mine)
        for name in ("release", "reject"):
            a[name].setEnabled(mine)
        # 外字 first: nothing prints before the decision; and only after the 本人確認 tick
        self._approve_allowed = mine and (glyphs is None or glyphs.resolved)
        self._update_approve()
        job_idle = job is None or job.status in (
            JobStatus.WAITING,
            JobStatus.CANCELLED,
            JobStatus.REPLACED,
        )
        a["retry"].setEnabled(
            (detail.status is Status.APPROVED and job_idle)
            or (job is not None and job.status is JobStatus.WAITING)
        )
        self._enable_print_buttons(detail, job, mine)
        qr_open = payment is not None and payment.status is OrderStatus.OPEN
        a["qr"].setEnabled(
            detail.fee.total > 0
            and (
                detail.status is Status.PRINTED
                or (detail.status is Status.AWAITING_PAYMENT and not qr_open)
            )
        )
        a["cancel_qr"].setEnabled(qr_open)
        a["confirm_paid"].setEnabled(qr_open and self.ctx.payments.staff_confirms)
        a["cash"].setEnabled(
            detail.status in (Status.PRINTED, Status.AWAITING_PAYMENT) and detail.fee.total > 0
        )
        paid = payment is not None and payment.status is OrderStatus.PAID
        a["refund"].setEnabled(
            needs_refund or (paid and detail.status in (Status.PAID, Status.CANCELLED))
        )
        # the paper QR is on request only: the resident may just scan the screen
        a["payment_slip"].setEnabled(qr_open and bool(payment and payment.qr_content))
        a["receipt"].setEnabled(
            paid and not needs_refund and detail.status in (Status.PAID, Status.COMPLETED)
        )
        a["complete"].setEnabled(
            detail.status is Status.PAID
            or (detail.status is Status.PRINTED and detail.fee.total == 0)
        )
        self._show_job(detail, job)
        self._show_payment(detail, payment)
        self._show_glyphs(detail, glyphs, mine)

    def _show_glyphs(
        self, detail: ApplicationDetail, report: GlyphReport | None, mine: bool
    ) -> None:
        if report is None or not report.problems:
            return
        family = fallback_ui_family()
        self.glyph_table.setRowCount(0)
        for p in report.problems:
            row = self.glyph_table.rowCount()
            self.glyph_table.insertRow(row)
            shown = QTableWidgetItem(p.cluster)
            if family and (p.fallback or p.reason is not Reason.NOT_IN_FONT):
                font = shown.font()
                font.setFamily(family)
                font.setPixelSize(22)
                shown.setFont(font)
            else:
                shown = QTableWidgetItem(tr("staff_glyph_no_font"))
            cells = (
                QTableWidgetItem(p.label),
                QTableWidgetItem(tr("staff_glyph_position", n=p.index + 1)),
                QTableWidgetItem(p.code),
                shown,
                QTableWidgetItem(tr(f"staff_glyph_reason_{p.reason.value}")),
            )
            for column, item in enumerate(cells):
                self.glyph_table.setItem(row, column, item)
        self.glyph_table.resizeColumnsToContents()
        self.glyph_table.resizeRowsToContents()
        rows = sum(self.glyph_table.rowHeight(r) for r in range(min(4, len(report.problems))))
        header = self.glyph_table.horizontalHeader().sizeHint().height()
        self.glyph_table.setFixedHeight(rows + header + 2 * self.glyph_table.frameWidth() + 2)
        if report.decision is None:
            self.glyph_state.setProperty("role", "msg")
            self.glyph_state.setText(tr("staff_glyph_decide"))
        else:
            self.glyph_state.setProperty("role", "info")
            self.glyph_state.setText(
                tr(f"staff_glyph_decided_{report.decision.value}", staff=report.decided_by or "")
            )
        self.glyph_state.style().polish(self.glyph_state)
        may_decide = mine or detail.status is Status.APPROVED
        fallback = self.glyph_buttons[GlyphPolicy.FALLBACK]
        fallback.setEnabled(may_decide and report.fallback_covers_all)
        fallback.setToolTip("" if report.fallback_covers_all else tr("staff_glyph_no_fallback"))
        self.glyph_buttons[GlyphPolicy.BLANK].setEnabled(may_decide)
        self.glyph_panel.show()

    def decide_glyphs(self, decision: GlyphPolicy) -> None:
        app_id, staff = self._app_id(), self.staff_id
        report = self.glyphs
        if report is None:
            return
        seen = report.fingerprint  # the problems on screen, not whatever is stored by now

        def work() -> GlyphReport:
            return self.ctx.printing.glyphs.decide(app_id, staff, decision, seen)

        self._run("db", work, self._reload)

    def _enable_print_buttons(
        self, detail: ApplicationDetail, job: PrintOutcome | None, mine: bool
    ) -> None:
        p = self.print_buttons
        printable = detail.status in (
            Status.APPROVED,
            Status.PRINTED,
            Status.AWAITING_PAYMENT,
            Status.PAID,
        )
        p["preview"].setEnabled(printable or mine)
        status = job.status if job is not None else None
        p["confirm"].setEnabled(status is JobStatus.NEEDS_CONFIRMATION)
        reissue = status is JobStatus.PRINTED and detail.status in (
            Status.PRINTED,
            Status.AWAITING_PAYMENT,
            Status.PAID,
        )
        p["reprint"].setText(tr("staff_reissue" if reissue else "staff_reprint"))
        p["reprint"].setEnabled(status is JobStatus.NEEDS_CONFIRMATION or reissue)
        p["cancel"].setEnabled(
            status
            in (JobStatus.QUEUED, JobStatus.WAITING, JobStatus.SENT, JobStatus.NEEDS_CONFIRMATION)
        )

    def _update_approve(self) -> None:
        self.action_buttons["approve"].setEnabled(
            self._approve_allowed and self.identity.isChecked()
        )

    def _show_job(self, detail: ApplicationDetail, job: PrintOutcome | None) -> None:
        if job is None:
            return
        self.job_line.setText(job_summary(job))
        if (
            detail.status is not Status.APPROVED
            and not job.reissue
            and job.document is Document.FORM
        ):
            return
        if job.status in (JobStatus.SENT, JobStatus.SENDING, JobStatus.QUEUED):
            self._info(tr("staff_print_sent"))
        elif job.status is JobStatus.WAITING:
            self.message.setText(tr("staff_print_waiting", reason=tr(job.error_key or "")))
        elif job.status is JobStatus.NEEDS_CONFIRMATION:
            self.message.setProperty("role", "msg")
            self.message.setText(
                tr("staff_print_check", reason=tr(f"confirm_{job.confirm_reason}"))
            )
            self.message.style().polish(self.message)

    def _show_payment(self, detail: ApplicationDetail, payment: PaymentView | None) -> None:
        if payment is None:
            return
        self.display.show(payment)
        if self.ctx.payments.unreachable and payment.status is OrderStatus.OPEN:
            self.message.setText(tr("staff_payment_unreachable"))
        if payment.status is OrderStatus.OPEN and payment.qr_content:
            self.qr.set_data(payment.qr_content)
            self._show_countdown()
            self.countdown_timer.start()
            self.qr_panel.show()
        elif self.needs_refund or (
            payment.status is OrderStatus.PAID and detail.status is Status.CANCELLED
        ):
            self.message.setText(tr("staff_needs_refund"))
        elif payment.status is OrderStatus.REFUNDED:
            method = tr("refund_method_" + (payment.refund_method or "manual"))
            self._info(tr("staff_refunded", method=method))
        elif payment.status is OrderStatus.CANCELLED and detail.status is Status.AWAITING_PAYMENT:
            self.message.setText(tr("staff_payment_cancelled"))
        elif payment.status is OrderStatus.PAID:
            self._info(tr("staff_payment_paid", method=tr("method_" + payment.method)))
        elif detail.status is Status.AWAITING_PAYMENT and payment.status is OrderStatus.EXPIRED:
            self.message.setText(tr("payment_expired"))

    # --- actions -----------------------------------------------------------------------
    def _app_id(self) -> int:
        assert self.current is not None
        return self.current.id

    def _reload(self, _result: object = None) -> None:
        self.load(self._app_id())
        self.refresh_queue()

    def take_over(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("db", lambda: self.ctx.applications.take_over(app_id, staff), self._reload)

    def claim(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("db", lambda: self.ctx.applications.claim(app_id, staff), self._reload)

    def release(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("db", lambda: self.ctx.applications.release(app_id, staff), self._reload)

    def save_correction(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        field_id = self.correct_field.currentData()
        reason = self.correct_reason.text()
        if not self.persons_editor.isHidden():
            value = self.persons_editor.value()
        elif not self.correct_choice.isHidden():
            value = str(self.correct_choice.currentData())
        else:
            value = self.correct_value.text()

        def done(problem: object) -> None:
            if problem is not None:
                self.message.setText(tr(problem.message_key, **dict(problem.params)))  # type: ignore[attr-defined]
                return
            self.correct_value.clear()
            self.correct_reason.clear()
            self._reload()

        self._run(
            "db",
            lambda: self.ctx.applications.correct(app_id, staff, field_id, value, reason),
            done,
        )

    def _on_correct_field(self) -> None:
        field_id = self.correct_field.currentData()
        if self.current is None or field_id is None:
            return
        f = self.current.template.field(str(field_id))
        stored = self.current.values.get(f.id)
        raw = stored.value if stored else ""
        # The window refreshes every few seconds: while the clerk corrects the same field of
        # the same application, unchanged since, the inputs keep what the clerk entered.
        source = (self.current.id, f.id, raw)
        if source == self._correcting:
            return
        self._correcting = source
        options: list[tuple[str, str]] = []
        if f.kind is FieldKind.CHOICE:
            options = [(c.value, c.label["ja"]) for c in f.choices]
        elif f.kind is FieldKind.CHECKBOX:
            options = [("1", tr("yes")), ("0", tr("no"))]
        self.correct_choice.clear()
        for value, text in options:
            self.correct_choice.addItem(text, value)
        # start from the stored answer: saving without choosing must change nothing
        if stored is not None:
            self.correct_choice.setCurrentIndex(max(self.correct_choice.findData(raw), 0))
        persons = f.kind is FieldKind.PERSONS
        if persons:
            self.persons_editor.set_field(f, raw)
        self.persons_editor.setVisible(persons)
        self.correct_choice.setVisible(bool(options))
        self.correct_value.setVisible(not options and not persons)

    def reject(self) -> None:
        reason = self.reject_reason.text().strip()
        if not reason:
            self.message.setText(tr("staff_reject_reason"))
            return
        app_id, staff = self._app_id(), self.staff_id
        self._run("db", lambda: self.ctx.applications.reject(app_id, staff, reason), self._reload)
        self.reject_reason.clear()

    def approve_and_print(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        confirmed = self.identity.isChecked()

        def work() -> PrintOutcome:
            self.ctx.printing.glyphs.require_resolved(app_id)  # never approved, then stuck
            self.ctx.applications.approve(app_id, staff, identity_confirmed=confirmed)
            return self.ctx.printing.print_application(app_id, staff)

        self._run("printer", work, self._printed)

    def retry_print(self) -> None:
        """Send the waiting job again, or start a new one if none is on its way."""
        app_id, staff = self._app_id(), self.staff_id
        job = self.job
        if job is not None and job.status is JobStatus.WAITING:
            job_id = job.job_id
            self._run("printer", lambda: self.ctx.printing.retry(job_id, staff), self._printed)
        else:
            self._run(
                "printer",
                lambda: self.ctx.printing.print_application(app_id, staff),
                self._printed,
            )

    def _printed(self, outcome: PrintOutcome) -> None:
        self._reload()
        self.poll_print_queue()
        if outcome.status is JobStatus.PRINTED:
            self._info(tr("staff_printed"))
        elif outcome.status is JobStatus.CANCELLED:
            self._info(tr("staff_print_cancelled"))

    def _job_id(self) -> int:
        assert self.job is not None
        return self.job.job_id

    def confirm_printed(self) -> None:
        """「印刷できました」: the clerk holds the paper; the application becomes printed."""
        job_id, staff = self._job_id(), self.staff_id
        self._run(
            "printer", lambda: self.ctx.printing.confirm_printed(job_id, staff), self._printed
        )

    def reprint(self) -> None:
        """「印刷できていない」 (or 再発行 of a printed form): a new job marked with its count."""
        job_id, staff = self._job_id(), self.staff_id
        self._run("printer", lambda: self.ctx.printing.reprint(job_id, staff), self._printed)

    def cancel_print(self) -> None:
        job_id, staff = self._job_id(), self.staff_id
        self._run("printer", lambda: self.ctx.printing.cancel(job_id, staff), self._printed)

    def poll_print_queue(self) -> None:
        """One round of the print queue (due retries, sent jobs followed) and the printer's
        state; never resubmits a job that may have reached the spooler."""
        if self._polling_prints or not self.staff_id:
            return
        self._polling_prints = True
        staff = self.staff_id

        def round_() -> tuple[list[int], list[QueuedJob], PrinterState]:
            changed = self.ctx.printing.run_due(staff)
            return changed, self.ctx.printing.open_jobs(), self.ctx.printing.printer_state()

        def done(result: tuple[list[int], list[QueuedJob], PrinterState]) -> None:
            self._polling_prints = False
            changed, jobs, state = result
            self._show_print_queue(jobs, state)
            if changed:
                self.refresh_queue()
            if self.current is not None and self.current.id in changed:
                self.load(self.current.id)

        def failed(exc: BaseException) -> None:
            self._polling_prints = False
            self._show_error(exc)

        self._submit("printer", round_, done, failed)

    def _show_print_queue(self, jobs: list[QueuedJob], state: PrinterState) -> None:
        if state.ready:
            self.printer_state.setProperty("role", "info")
            self.printer_state.setText(tr("staff_printer_ready"))
        else:
            self.printer_state.setProperty("role", "msg")
            self.printer_state.setText(tr("staff_printer_problem", reasons=reasons_text(state)))
        self.printer_state.style().polish(self.printer_state)
        selected = self.current.id if self.current else None
        self.print_queue.blockSignals(True)
        self.print_queue.clear()
        for line in jobs:
            entry = QListWidgetItem(
                f"{line.ticket}  {line.title}\n{job_summary(line.outcome, short=True)}"
            )
            entry.setData(Qt.ItemDataRole.UserRole, line.outcome.application_id)
            self.print_queue.addItem(entry)
            if line.outcome.application_id == selected:
                entry.setSelected(True)
        if not jobs:
            empty = QListWidgetItem(tr("staff_print_queue_empty"))
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.print_queue.addItem(empty)
        self.print_queue.blockSignals(False)

    def _on_select_job(self) -> None:
        items = self.print_queue.selectedItems()
        if items and items[0].data(Qt.ItemDataRole.UserRole) is not None:
            self.load(int(items[0].data(Qt.ItemDataRole.UserRole)))

    # --- preview ---------------------------------------------------------------------------
    def show_preview(self) -> None:
        """The exact PDF the next job sends, rendered by QtPdf from memory (no file)."""
        app_id = self._app_id()
        self._run("db", lambda: self.ctx.printing.preview_pdf(app_id), self._show_pdf)

    def _show_pdf(self, pdf: bytes) -> None:
        self.close_preview()
        buffer = QBuffer(self)
        buffer.setData(QByteArray(pdf))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._preview_buffer = buffer
        self.pdf_document.load(buffer)
        self.detail_stack.setCurrentIndex(1)

    def close_preview(self) -> None:
        """The form's bytes leave memory with the preview (and on any change of screen)."""
        self.detail_stack.setCurrentIndex(0)
        self.pdf_document.close()
        if self._preview_buffer is not None:
            self._preview_buffer.close()
            self._preview_buffer.setData(QByteArray())
            self._preview_buffer.deleteLater()
            self._preview_buffer = None

    @property
    def preview_pages(self) -> int:
        return self.pdf_document.pageCount() if self.detail_stack.currentIndex() == 1 else 0

    def _show_countdown(self) -> None:
        payment = self.payment
        if payment is None or payment.status is not OrderStatus.OPEN:
            self.countdown_timer.stop()
            return
        left = self.ctx.payments.seconds_left(payment) or 0
        lines = [
            tr("staff_payment_qr"),
            tr("staff_payment_waiting", amount=f"{payment.amount:,}"),
            tr("staff_payment_time_left", time=f"{left // 60}:{left % 60:02d}"),
        ]
        if self.ctx.payments.staff_confirms:
            lines.append(tr("staff_payment_confirm_hint"))
        self.qr_text.setText("\n".join(lines))

    def issue_qr(self) -> None:
        assert self.current is not None
        app_id, staff = self._app_id(), self.staff_id
        shown = self.current.fee.total  # checked against the computed fee, never used
        self._run(
            "payment",
            lambda: self.ctx.payments.issue(app_id, staff, shown_amount=shown),
            self._reload,
        )

    def print_slip(self, document: Document) -> None:
        """The payment slip (QR) or the 利用控え, through the same durable print queue."""
        app_id, staff = self._app_id(), self.staff_id
        self._run(
            "printer", lambda: self.ctx.printing.print_slip(app_id, document, staff), self._printed
        )

    def cancel_qr(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("payment", lambda: self.ctx.payments.cancel_order(app_id, staff), self._reload)

    def confirm_paid(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("payment", lambda: self.ctx.payments.confirm_paid(app_id, staff), self._reload)

    def refund(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("payment", lambda: self.ctx.payments.refund(app_id, staff), self._reload)

    def poll_payments(self) -> None:
        if self._polling_payments or not self.staff_id:
            return  # the previous round is still asking the provider
        self._polling_payments = True

        def done(changed: list[int]) -> None:
            self._polling_payments = False
            if changed:
                self.refresh_queue()
            if self.current is not None and self.current.id in changed:
                self.load(self.current.id)

        def failed(exc: BaseException) -> None:
            self._polling_payments = False
            self._show_error(exc)

        self.runner.submit("payment", self.ctx.payments.poll_due, done, failed)

    def pay_cash(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("payment", lambda: self.ctx.payments.pay_cash(app_id, staff), self._reload)

    def complete(self) -> None:
        app_id, staff = self._app_id(), self.staff_id
        self._run("db", lambda: self.ctx.applications.complete(app_id, staff), self._reload)

    def stop(self) -> None:
        self.queue_timer.stop()
        self.payment_timer.stop()
        self.countdown_timer.stop()
        self.print_timer.stop()
        self._polling_payments = False
        self._polling_prints = False
        self.close_preview()


def reasons_text(state: PrinterState) -> str:
    codes = [r if r in KNOWN_REASONS else "other" for r in state.reasons] or ["other"]
    return "・".join(dict.fromkeys(tr("printer_reason_" + c.replace("-", "_")) for c in codes))


def job_summary(job: PrintOutcome, *, short: bool = False) -> str:
    """One line about a job for the clerk: its state, why, and its reissue count."""
    parts = [tr(f"job_{job.status.value}")]
    if job.document is not Document.FORM:
        parts.insert(0, tr(f"document_{job.document.value}"))
    if job.status is JobStatus.WAITING and job.error_key:
        parts.append(tr(job.error_key))
    if job.status is JobStatus.NEEDS_CONFIRMATION and job.confirm_reason and not short:
        parts.append(tr(f"confirm_{job.confirm_reason}"))
    if job.reissue:
        parts.append(tr("staff_reissue_count", n=job.reissue))
    if job.attempts > 1:
        parts.append(tr("staff_print_attempts", n=job.attempts))
    return " — ".join(parts)


def eligibility_text(detail: ApplicationDetail) -> str:
    """The eligibility outcome, the clerk's checks and broken rules, one per line."""
    outcome, t = detail.eligibility, detail.template
    lines = []
    if outcome is not None and t.eligibility is not None:
        relation_field = t.field(t.eligibility.relation_field)
        relation = relation_field.choice_label(outcome.relation, "ja") or "—"
        if outcome.allowed:
            lines.append(tr("staff_eligibility_allowed", relation=relation))
        else:
            reason = outcome.message.get("ja") or tr(f"refused_{outcome.reason}")
            lines.append(tr("staff_eligibility_refused", relation=relation, reason=reason))
        lines += [f"⚠ {tr('staff_obligation_' + o.value)}" for o in outcome.obligations]
    lines += [tr("staff_rule_failed", message=f.message["ja"]) for f in detail.rule_failures]
    return "\n".join(lines)


def _minutes_since(then: datetime | None, now: datetime) -> int:
    if then is None:
        return 0
    if then.tzinfo is None:  # SQLite returns naive datetimes
        now = now.replace(tzinfo=None)
    return max(0, int((now - then).total_seconds() // 60))
