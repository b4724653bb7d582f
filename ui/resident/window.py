"""The resident kiosk window: header, step bar, one page per screen, footer actions and
the idle overlay. It renders ``ResidentView`` snapshots and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.counter_display import NOTHING, DisplayKind, DisplayState
from kiosk.i18n import tr
from kiosk.resident_flow import ResidentFlow, ResidentView, Screen
from ui.resident.pages import (
    BusyPage,
    ChoosePage,
    ConfirmPage,
    NoticePage,
    Page,
    PinPage,
    PlaceCardPage,
    QuestionPage,
    ReviewPage,
    StartPage,
    SubmittedPage,
)
from ui.resident.payment_page import PaymentPage
from ui.style import resident_stylesheet
from ui.widgets import StepBar, button, label

STEP_KEYS = ("step_procedure", "step_card", "step_pin", "step_confirm", "step_done")
#: screens with a 「もどる」 button, and those with 「やめる」
BACK = {Screen.CHOOSE, Screen.PLACE_CARD, Screen.PIN, Screen.QUESTION, Screen.REVIEW}
CANCEL = {
    Screen.CHOOSE,
    Screen.PLACE_CARD,
    Screen.PIN,
    Screen.LAST_TRY,
    Screen.CONFIRM,
    Screen.QUESTION,
    Screen.REVIEW,
}
#: the notice screens (last try, locked, error) carry their own 「職員をよぶ」
HELP = {Screen.PLACE_CARD, Screen.PIN, Screen.CONFIRM, Screen.QUESTION, Screen.REVIEW}


class IdleOverlay(QFrame):
    def __init__(self, parent: QWidget, on_continue: Callable[[], None]) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        outer = QVBoxLayout(self)
        box = QFrame()
        box.setObjectName("overlayBox")
        inner = QVBoxLayout(box)
        inner.setContentsMargins(48, 48, 48, 48)
        box.setMinimumWidth(900)
        inner.setSpacing(24)
        self.text = label(role="subtitle", align=Qt.AlignmentFlag.AlignHCenter)
        self.countdown = label(role="title", align=Qt.AlignmentFlag.AlignHCenter)
        self.button = button("", "primary", on_continue)
        self.button.setObjectName("idle_continue")
        inner.addWidget(self.text)
        inner.addWidget(self.countdown)
        inner.addWidget(self.button)
        outer.addStretch(1)
        outer.addWidget(box, alignment=Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        self.hide()


class ResidentWindow(QWidget):
    def __init__(self, flow: ResidentFlow, *, municipality: str, department: str) -> None:
        super().__init__()
        self.flow = flow
        self.setObjectName("resident")
        self.setWindowTitle(f"{municipality} {department} — 書かない窓口")
        self.theme, self.scale = "standard", 1.0
        self._generation = flow.view().generation
        root = QVBoxLayout(self)
        root.setContentsMargins(24, 12, 24, 12)
        root.setSpacing(8)
        header = QHBoxLayout()
        header.addWidget(label(f"{municipality}　{department}", "header", wrap=False))
        header.addStretch(1)
        self.larger = button("", "small", self._toggle_scale)
        self.larger.setObjectName("larger_text")
        self.contrast = button("", "small", self._toggle_theme)
        self.contrast.setObjectName("high_contrast")
        header.addWidget(self.larger)
        header.addWidget(self.contrast)
        root.addLayout(header)
        self.steps = StepBar()
        root.addWidget(self.steps)
        self.stack = QStackedWidget()
        root.addWidget(self.stack, 1)
        self.help_banner = label(role="alert", align=Qt.AlignmentFlag.AlignHCenter)
        root.addWidget(self.help_banner)
        footer = QHBoxLayout()
        self.back = button("", "", flow.back)
        self.back.setObjectName("back")
        self.cancel = button("", "", flow.cancel)
        self.cancel.setObjectName("cancel")
        self.help = button("", "", flow.request_help)
        self.help.setObjectName("call_staff")
        footer.addWidget(self.back)
        footer.addStretch(1)
        footer.addWidget(self.help)
        footer.addWidget(self.cancel)
        root.addLayout(footer)

        notice = NoticePage(flow)
        busy = BusyPage(flow)
        self.pages: dict[Screen, Page] = {
            Screen.START: StartPage(flow),
            Screen.CHOOSE: ChoosePage(flow),
            Screen.PLACE_CARD: PlaceCardPage(flow),
            Screen.CHECKING_CARD: busy,
            Screen.PIN: PinPage(flow),
            Screen.LAST_TRY: notice,
            Screen.LOCKED: notice,
            Screen.ERROR: notice,
            Screen.READING: busy,
            Screen.CONFIRM: ConfirmPage(flow),
            Screen.QUESTION: QuestionPage(flow),
            Screen.REVIEW: ReviewPage(flow),
            Screen.SUBMITTING: busy,
            Screen.SUBMITTED: SubmittedPage(flow),
            Screen.TAKE_CARD: PlaceCardPage(flow, taking=True),
        }
        for page in dict.fromkeys(self.pages.values()):
            self.stack.addWidget(page)
        #: the QR code of the payment at the counter, shown while no resident is applying
        self.payment_page = PaymentPage()
        self.payment_state = NOTHING
        self.stack.addWidget(self.payment_page)
        self.overlay = IdleOverlay(self, self._keep_alive)
        self.setStyleSheet(resident_stylesheet())
        flow.subscribe(self.show_view)
        self.show_view(flow.view())

    # --- rendering -----------------------------------------------------------------------
    def show_view(self, view: ResidentView) -> None:
        def t(key: str, **params: object) -> str:
            return tr(key, view.language, **params)

        if view.generation != self._generation:  # a session ended: nothing may remain
            self._generation = view.generation
            self.clear_resident_data()
        if view.screen is Screen.START and self.payment_state.kind is not DisplayKind.NONE:
            self.payment_page.show_state(self.payment_state, t)
            self.stack.setCurrentWidget(self.payment_page)
        else:
            page = self.pages[view.screen]
            page.show_view(view, t)
            self.stack.setCurrentWidget(page)
        self.steps.setVisible(view.step > 0)
        self.steps.set_steps([t(k) for k in STEP_KEYS], view.step)
        self.larger.setText(t("larger_text"))
        self.contrast.setText(t("high_contrast"))
        self.back.setText(t("back"))
        self.cancel.setText(t("cancel"))
        self.help.setText(t("call_staff"))
        self.back.setVisible(view.screen in BACK)
        self.cancel.setVisible(view.screen in CANCEL)
        self.help.setVisible(view.screen in HELP)
        self.help_banner.setText(t("staff_coming"))
        self.help_banner.setVisible(view.help_requested)
        if view.idle_seconds_left is not None:
            self.overlay.text.setText(t("idle"))
            self.overlay.countdown.setText(t("idle_countdown", n=view.idle_seconds_left))
            self.overlay.button.setText(t("continue"))
            self.overlay.setGeometry(self.rect())
            self.overlay.show()
            self.overlay.raise_()
        else:
            self.overlay.hide()

    def show_payment(self, state: DisplayState) -> None:
        self.payment_state = state
        if state.kind is DisplayKind.NONE:
            self.payment_page.clear()
        self.show_view(self.flow.view())

    def clear_resident_data(self) -> None:
        for page in dict.fromkeys(self.pages.values()):
            page.clear()

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.overlay.setGeometry(self.rect())

    # --- actions -------------------------------------------------------------------------
    def _keep_alive(self) -> None:
        self.flow.touch()
        self.show_view(self.flow.view())

    def _toggle_scale(self) -> None:
        self.scale = 1.0 if self.scale > 1.0 else 1.25
        self.setStyleSheet(resident_stylesheet(self.theme, self.scale))

    def _toggle_theme(self) -> None:
        self.theme = "standard" if self.theme == "high_contrast" else "high_contrast"
        self.setStyleSheet(resident_stylesheet(self.theme, self.scale))


class ActivityFilter(QObject):
    """Any touch, click or key inside the resident window counts as activity."""

    KINDS: ClassVar[set[QEvent.Type]] = {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.KeyPress,
    }

    def __init__(self, window: ResidentWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if (
            event.type() in self.KINDS
            and isinstance(watched, QWidget)
            and (watched is self._window or self._window.isAncestorOf(watched))
        ):
            self._window.flow.touch()
        return False
