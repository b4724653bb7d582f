"""The resident's screens. Each page renders a ``ResidentView`` and forwards intents to the
``ResidentFlow``; no page keeps resident data beyond what the current view shows, and
``clear()`` empties every widget that ever showed some."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from forms.model import FieldKind
from kiosk.i18n import LANGUAGES
from kiosk.resident_flow import Message, ResidentFlow, ResidentView, Screen
from ui.widgets import (
    CardPicture,
    KanaKeyboard,
    Keypad,
    NumberStepper,
    PinDots,
    button,
    clear_layout,
    label,
)

Tr = Callable[..., str]
#: kinds typed on the digit keypad, with the most digits each takes
DIGITS = {FieldKind.PHONE: 11, FieldKind.POSTAL_CODE: 7}
CENTER = Qt.AlignmentFlag.AlignHCenter


def message_text(tr: Tr, message: Message | None) -> str:
    return tr(message.key, **message.kwargs) if message else ""


class Page(QWidget):
    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__()
        self.flow = flow
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(48, 12, 48, 12)
        self.box.setSpacing(20)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        raise TypeError(f"{type(self).__name__} must define show_view")

    def clear(self) -> None:
        """Empty every widget that can show resident data."""


class StartPage(Page):
    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.box.addStretch(1)
        self.title = label(role="title", align=CENTER)
        self.subtitle = label(role="subtitle", align=CENTER)
        self.box.addWidget(self.title)
        self.box.addWidget(self.subtitle)
        languages = QHBoxLayout()
        languages.addStretch(1)
        self.language_buttons: dict[str, QPushButton] = {}
        for lang in LANGUAGES:
            b = button(lang.native_name, "small", partial(flow.start, lang.code))
            b.setObjectName(f"lang_{lang.code}")
            self.language_buttons[lang.code] = b
            languages.addWidget(b)
        languages.addStretch(1)
        self.box.addLayout(languages)
        self.start_button = button("", "primary", lambda: flow.start())
        self.start_button.setObjectName("start")
        self.start_button.setMinimumWidth(520)
        self.box.addWidget(self.start_button, alignment=CENTER)
        self.box.addStretch(2)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.title.setText(tr("welcome"))
        self.subtitle.setText(tr("touch_to_start"))
        self.start_button.setText(tr("start"))

    def mouseReleaseEvent(self, event: object) -> None:  # noqa: N802 - touch anywhere starts
        self.flow.start()


class ChoosePage(Page):
    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.title = label(role="title")
        self.box.addWidget(self.title)
        self.grid = QGridLayout()
        self.grid.setSpacing(28)
        self.box.addLayout(self.grid)
        self.box.addStretch(1)
        self._shown: tuple[object, ...] = ()

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.title.setText(tr("choose_title"))
        if view.procedures == self._shown:
            return
        self._shown = view.procedures
        clear_layout(self.grid)
        for i, proc in enumerate(view.procedures):
            text = f"{proc.title}\n{proc.fee_note}"
            tile = button(text, "tile", partial(self.flow.choose, proc.template_pk))
            tile.setObjectName(f"procedure_{i}")
            self.grid.addWidget(tile, i // 2, i % 2)


class PlaceCardPage(Page):
    def __init__(self, flow: ResidentFlow, *, taking: bool = False) -> None:
        super().__init__(flow)
        self.taking = taking
        self.title = label(role="title", align=CENTER)
        self.alert = label(role="alert", align=CENTER)
        self.picture = CardPicture(taking=taking)
        self.hint = label(role="subtitle", align=CENTER)
        self.note = label(role="note", align=CENTER)
        self.ticket = label(role="subtitle", align=CENTER)
        for w in (self.title, self.alert, self.picture, self.hint, self.ticket, self.note):
            self.box.addWidget(w)
        self.box.addStretch(1)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.title.setText(tr("take_card" if self.taking else "place_card"))
        text = message_text(tr, view.message)
        self.alert.setText(text)
        self.alert.setVisible(bool(text))
        self.hint.setText("" if self.taking else tr("place_card_hint"))
        self.note.setText("" if self.taking else tr("no_card_help"))
        self.ticket.setText(f"{tr('ticket_label')}  {view.ticket}" if view.ticket else "")

    def clear(self) -> None:
        self.ticket.clear()
        self.alert.clear()


class BusyPage(Page):
    """Checking the card, reading it, sending the application: what is happening, and a
    progress bar that moves by itself."""

    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.box.addStretch(1)
        self.title = label(role="title", align=CENTER)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.box.addWidget(self.title)
        self.box.addWidget(self.bar)
        self.box.addStretch(2)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        key = {
            Screen.CHECKING_CARD: "checking_card",
            Screen.READING: "reading",
            Screen.SUBMITTING: "submitting",
        }.get(view.screen, "loading")
        self.title.setText(tr(key))


class PinPage(Page):
    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.title = label(role="title", align=CENTER)
        self.alert = label(role="alert", align=CENTER)
        self.dots = PinDots()
        self.keypad = Keypad()
        self.keypad.digit.connect(flow.pin_digit)
        self.keypad.delete.connect(flow.pin_delete)
        self.keypad.accept.connect(flow.pin_submit)
        self.note = label(role="subtitle", align=CENTER)
        for w in (self.title, self.alert, self.dots):
            self.box.addWidget(w)
        self.box.addWidget(self.keypad, alignment=CENTER)
        self.box.addWidget(self.note)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.title.setText(tr("enter_pin"))
        text = message_text(tr, view.message)
        self.alert.setText(text)
        self.alert.setVisible(bool(text))
        self.dots.set_count(view.pin_entered)
        self.keypad.retranslate(tr("key_delete"), tr("key_ok"))
        self.keypad.ok_button.setEnabled(view.pin_entered == 4)
        self.note.setText(tr("staff_never_ask"))

    def clear(self) -> None:
        self.dots.set_count(0)
        self.alert.clear()


class NoticePage(Page):
    """One-decision screens: the last-try warning, the locked card, and errors."""

    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.box.addStretch(1)
        self.title = label(role="title", align=CENTER)
        self.detail = label(role="subtitle", align=CENTER)
        self.box.addWidget(self.title)
        self.box.addWidget(self.detail)
        self.buttons = QHBoxLayout()
        self.box.addLayout(self.buttons)
        self.box.addStretch(2)
        self.primary = button("", "primary")
        self.primary.setObjectName("notice_primary")
        self.secondary = button("", "")
        self.secondary.setObjectName("notice_secondary")
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.secondary)
        self.buttons.addWidget(self.primary)
        self.buttons.addStretch(1)
        self._primary_action: Callable[[], None] = flow.back
        self.primary.clicked.connect(lambda: self._primary_action())
        self.secondary.clicked.connect(flow.request_help)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.secondary.setText(tr("call_staff"))
        if view.screen is Screen.LAST_TRY:
            warning = message_text(tr, view.message)
            self.title.setText(f"{warning}\n{tr('last_try')}" if warning else tr("last_try"))
            self.detail.setText(tr("last_try_detail"))
            self.primary.setText(tr("enter_pin_button"))
            self._primary_action = self.flow.accept_last_try
        elif view.screen is Screen.LOCKED:
            self.title.setText(tr("locked"))
            self.detail.setText(tr("locked_detail"))
            self.primary.setText(tr("back_to_start"))
            self._primary_action = self.flow.cancel
        elif view.retryable:
            self.title.setText(message_text(tr, view.message))
            self.detail.setText("")
            self.primary.setText(tr("retry_card"))
            self._primary_action = self.flow.retry_card
        else:  # the reader is gone or something failed: a clerk must help
            self.title.setText(message_text(tr, view.message))
            self.detail.setText("")
            self.primary.setText(tr("back_to_start"))
            self._primary_action = self.flow.cancel
        if view.help_requested:
            self.detail.setText(tr("staff_coming"))


class RowsPanel(QFrame):
    """Label / value / provenance rows in large type; optional 「修正する」 buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("rowsPanel")
        self.grid = QGridLayout(self)
        self.grid.setHorizontalSpacing(24)
        self.grid.setVerticalSpacing(12)
        self.grid.setColumnStretch(1, 1)

    def show_rows(
        self,
        view: ResidentView,
        tr: Tr,
        on_edit: Callable[[str], None] | None = None,
        editable: frozenset[str] = frozenset(),
    ) -> None:
        clear_layout(self.grid)
        for r, row in enumerate(view.rows):
            self.grid.addWidget(label(row.label, "header", wrap=False), r, 0)
            value = label(row.value, "value")
            value.setObjectName(f"value_{row.field_id}")
            self.grid.addWidget(value, r, 1)
            badge = label(tr(f"prov_{row.provenance.value}"), "badge", wrap=False)
            self.grid.addWidget(badge, r, 2, Qt.AlignmentFlag.AlignVCenter)
            if on_edit is not None and row.field_id in editable:
                edit = button(tr("edit"), "small", partial(on_edit, row.field_id))
                edit.setObjectName(f"edit_{row.field_id}")
                self.grid.addWidget(edit, r, 3)
        # rows keep their natural height; the free space goes below the last one
        for r in range(self.grid.rowCount()):
            self.grid.setRowStretch(r, 0)
        self.grid.setRowStretch(len(view.rows), 1)

    def clear(self) -> None:
        clear_layout(self.grid)


def scrolling(panel: QWidget) -> QScrollArea:
    """Long forms scroll with a wide, tappable scroll bar (no swipe-only gesture)."""
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


class ConfirmPage(Page):
    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.title = label(role="title")
        self.rows = RowsPanel()
        self.note = label(role="note")
        self.ok = button("", "primary", flow.confirm)
        self.ok.setObjectName("confirm_ok")
        self.box.addWidget(self.title)
        self.box.addWidget(scrolling(self.rows), 1)
        self.box.addWidget(self.note)
        self.box.addWidget(self.ok, alignment=Qt.AlignmentFlag.AlignRight)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.title.setText(tr("confirm_title"))
        self.rows.show_rows(view, tr)
        self.note.setText(tr("confirm_note"))
        self.ok.setText(tr("yes_next"))

    def clear(self) -> None:
        self.rows.clear()


class QuestionPage(Page):
    """One question per screen; the input widget depends on the field kind."""

    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.progress = label(role="note")
        self.title = label(role="title")
        self.help = label(role="note")
        self.alert = label(role="alert")
        self.input_area = QVBoxLayout()
        for w in (self.progress, self.title, self.help, self.alert):
            self.box.addWidget(w)
        self.box.addLayout(self.input_area)
        self.box.addStretch(1)
        self.next = button("", "primary", self._submit)
        self.next.setObjectName("question_next")
        self.box.addWidget(self.next, alignment=Qt.AlignmentFlag.AlignRight)
        # the widgets for each kind are created once and reused (no per-session churn)
        self.stepper = NumberStepper()
        self.kana_display = label("", "entry")
        self.kana_display.setObjectName("kana_display")
        self.kana = KanaKeyboard()
        self.kana.text_changed.connect(self.kana_display.setText)
        # the typed text and 「つぎへ」 share one row so the keyboard fits a 1080-line screen
        self.kana_row = QWidget()
        kana_row = QHBoxLayout(self.kana_row)
        kana_row.setContentsMargins(0, 0, 0, 0)
        self.kana_next = button("", "primary", self._submit)
        self.kana_next.setObjectName("kana_next")
        kana_row.addWidget(self.kana_display, 1)
        kana_row.addWidget(self.kana_next)
        # phone numbers and postal codes: digits on a keypad (its 決定 is 「つぎへ」)
        self.digits_display = label("", "entry")
        self.digits_display.setObjectName("digits_display")
        self.digit_pad = Keypad(name_prefix="digit_")
        self.digit_pad.digit.connect(self._type_digit)
        self.digit_pad.delete.connect(self._delete_digit)
        self.digit_pad.accept.connect(self._submit)
        self._digits = ""
        self.choice_box = QWidget()
        self.choice_layout = QGridLayout(self.choice_box)
        self.choice_layout.setSpacing(20)
        self._kind: FieldKind | None = None
        self._field = ""
        self._multi: list[QPushButton] = []

    def _type_digit(self, digit: str) -> None:
        if len(self._digits) < DIGITS.get(self._kind or FieldKind.PHONE, 11):
            self._digits += digit
            self.digits_display.setText(self._digits)

    def _delete_digit(self) -> None:
        self._digits = self._digits[:-1]
        self.digits_display.setText(self._digits)

    def _submit(self) -> None:
        if self._kind in DIGITS:
            self.flow.answer(self._digits)
        elif self._kind is FieldKind.NUMBER:
            self.flow.answer(str(self.stepper.value))
        elif self._kind is FieldKind.KANA:
            self.flow.answer(self.kana.text())
        elif self._kind is FieldKind.MULTI_CHOICE:
            values = [str(b.property("choice_value")) for b in self._multi if b.isChecked()]
            self.flow.answer(",".join(values))

    def _mount(self, widgets: list[QWidget]) -> None:
        while self.input_area.count():
            item = self.input_area.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(self)  # keep the reusable widgets alive
                widget.hide()
        for widget in widgets:
            self.input_area.addWidget(widget)
            widget.show()

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        q = view.question
        if q is None:
            return
        self.progress.setText(tr("question_progress", i=q.index + 1, n=q.count))
        self.title.setText(q.label)
        self.help.setText(q.help)
        self.help.setVisible(bool(q.help))
        problem = message_text(tr, q.problem) or q.problem_text
        self.alert.setText(f"⚠ {problem}" if problem else "")
        self.alert.setVisible(bool(problem))
        self.next.setText(tr("next"))
        self.kana.retranslate(tr("kana_space"), tr("key_delete"), tr("kana_clear"))
        new_question = q.field_id != self._field
        self._field = q.field_id
        self._kind = q.kind
        if q.kind is FieldKind.NUMBER:
            if new_question:
                self.stepper.configure(int(q.value or q.minimum or 1), q.minimum, q.maximum)
            self._mount([self.stepper])
            self.next.show()
        elif q.kind is FieldKind.KANA:
            if new_question:
                self.kana.set_text(q.value)
            self.kana_next.setText(tr("next"))
            self._mount([self.kana_row, self.kana])
            self.next.hide()
        elif q.kind in DIGITS:
            if new_question:
                self._digits = "".join(ch for ch in q.value if ch.isdigit())
            self.digits_display.setText(self._digits)
            self.digit_pad.retranslate(tr("key_delete"), tr("next"))
            self._mount([self.digits_display, self.digit_pad])
            self.next.hide()
        elif q.kind is FieldKind.MULTI_CHOICE:  # toggles, then 「つぎへ」
            clear_layout(self.choice_layout)
            chosen = set(q.value.split(",")) if q.value else set()
            self._multi = []
            columns = 2 if len(q.choices) > 4 else 1
            for i, (value, text) in enumerate(q.choices):
                b = button(text, "choice")
                b.setObjectName(f"choice_{value}")
                b.setCheckable(True)  # the pressed state shows the choice (plus its colour)
                b.setChecked(value in chosen)
                _mark_when_checked(b, text)
                b.setProperty("choice_value", value)
                self._multi.append(b)
                self.choice_layout.addWidget(b, i // columns, i % columns)
            self._mount([self.choice_box])
            self.next.show()
        else:  # choice, checkbox: one big button per answer, the tap is the answer
            clear_layout(self.choice_layout)
            options = (
                q.choices if q.kind is FieldKind.CHOICE else (("1", tr("yes")), ("0", tr("no")))
            )
            columns = 2 if len(options) > 4 else 1  # long lists in two columns, no scrolling
            for i, (value, text) in enumerate(options):
                b = button(text, "choice", partial(self.flow.answer, value))
                b.setObjectName(f"choice_{value}")
                b.setCheckable(True)
                b.setChecked(value == q.value)
                _mark_when_checked(b, text)
                self.choice_layout.addWidget(b, i // columns, i % columns)
            self._mount([self.choice_box])
            self.next.hide()

    def clear(self) -> None:
        self.kana.set_text("")
        self._digits = ""
        self.digits_display.clear()
        self.stepper.set_value(1)
        self._field = ""
        self._kind = None


class ReviewPage(Page):
    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.title = label(role="title")
        self.note = label(role="note")
        self.alert = label(role="alert")
        # why the application cannot be sent (the template's rules, eligibility) and what
        # the resident must bring or know, in plain words
        self.blockers = label(role="alert")
        self.blockers.setObjectName("review_blockers")
        self.notices = label(role="subtitle")
        self.notices.setObjectName("review_notices")
        self.rows = RowsPanel()
        self.submit = button("", "primary", flow.submit)
        self.submit.setObjectName("submit")
        for w in (self.title, self.note, self.alert, self.blockers, self.notices):
            self.box.addWidget(w)
        self.box.addWidget(scrolling(self.rows), 1)
        self.box.addWidget(self.submit, alignment=Qt.AlignmentFlag.AlignRight)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.title.setText(tr("review_title"))
        self.note.setText(tr("review_note"))
        text = message_text(tr, view.message)
        self.alert.setText(text)
        self.alert.setVisible(bool(text))
        blocked = "\n".join(f"⚠ {text}" for text in view.blockers)
        self.blockers.setText(f"{tr('review_blocked')}\n{blocked}" if blocked else "")
        self.blockers.setVisible(bool(blocked))
        notices = "\n".join(f"・{text}" for text in view.notices)
        self.notices.setText(f"{tr('review_notices')}\n{notices}" if notices else "")
        self.notices.setVisible(bool(notices))
        editable = frozenset(r.field_id for r in view.rows if r.provenance.value == "resident")
        self.rows.show_rows(view, tr, self.flow.edit, editable)
        self.submit.setText(tr("submit"))
        self.submit.setEnabled(not view.blockers)

    def clear(self) -> None:
        self.rows.clear()
        self.blockers.clear()
        self.notices.clear()


class SubmittedPage(Page):
    def __init__(self, flow: ResidentFlow) -> None:
        super().__init__(flow)
        self.box.addStretch(1)
        self.caption = label(role="subtitle", align=CENTER)
        self.ticket = label(role="ticket", align=CENTER)
        self.ticket.setObjectName("ticket")
        self.wait = label(role="title", align=CENTER)
        self.fee = label(role="subtitle", align=CENTER)
        self.ok = button("", "primary", flow.finish)
        self.ok.setObjectName("submitted_ok")
        self.ok.setMinimumWidth(400)
        for w in (self.caption, self.ticket, self.wait, self.fee):
            self.box.addWidget(w)
        self.box.addWidget(self.ok, alignment=CENTER)
        self.box.addStretch(1)

    def show_view(self, view: ResidentView, tr: Tr) -> None:
        self.caption.setText(tr("ticket_label"))
        self.ticket.setText(view.ticket)
        self.wait.setText(tr("wait"))
        self.fee.setText(
            tr("fee_due", amount=view.fee_total) if view.fee_total else tr("fee_none_due")
        )
        self.ok.setText(tr("done_button"))

    def clear(self) -> None:
        self.ticket.clear()
        self.fee.clear()


def all_labels(widget: QWidget) -> list[str]:
    """Every text shown by ``widget`` and its children (for the wipe test)."""
    texts = [w.text() for w in widget.findChildren(QLabel)]
    texts += [w.text() for w in widget.findChildren(QPushButton)]
    return texts


def _mark_when_checked(b: QPushButton, text: str) -> None:
    """A chosen answer carries a ✓ as well as its colour: never colour alone (kiosk-ux)."""

    def show(checked: bool) -> None:
        b.setText(f"✓ {text}" if checked else text)

    show(b.isChecked())
    b.toggled.connect(show)
