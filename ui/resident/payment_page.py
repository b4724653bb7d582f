"""The resident's payment screen: the QR code large, the amount, the time left; then
「お支払いが完了しました」. It renders ``kiosk.counter_display.DisplayState`` snapshots and
sends nothing: the resident only scans, never types an amount."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from kiosk.counter_display import DisplayKind, DisplayState
from ui.widgets import QrWidget, label

Tr = Callable[..., str]
CENTER = Qt.AlignmentFlag.AlignHCenter


class PaymentPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("payment_page")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 12, 48, 12)
        self.title = label(role="title", align=CENTER)
        outer.addWidget(self.title)
        self.parts = QStackedWidget()
        outer.addWidget(self.parts, 1)

        code = QWidget()
        row = QHBoxLayout(code)
        row.setSpacing(48)
        self.qr = QrWidget()
        self.qr.setObjectName("resident_qr")
        self.qr.setMinimumSize(460, 460)
        row.addWidget(self.qr, 3)
        side = QVBoxLayout()
        side.addStretch(1)
        self.amount = label(role="ticket", align=CENTER)
        self.amount.setObjectName("pay_amount")
        self.no_typing = label(role="subtitle", align=CENTER)
        self.time_left = label(role="title", align=CENTER)
        self.time_left.setObjectName("pay_time_left")
        self.scan = label(role="subtitle", align=CENTER)
        for w in (self.amount, self.no_typing, self.time_left, self.scan):
            side.addWidget(w)
        side.addStretch(1)
        row.addLayout(side, 2)
        self.parts.addWidget(code)

        done = QWidget()
        dbox = QVBoxLayout(done)
        dbox.addStretch(1)
        self.done = label(role="title", align=CENTER)
        self.done.setObjectName("pay_done")
        self.done_sub = label(role="subtitle", align=CENTER)
        dbox.addWidget(self.done)
        dbox.addWidget(self.done_sub)
        dbox.addStretch(1)
        self.parts.addWidget(done)

    def show_state(self, state: DisplayState, tr: Tr) -> None:
        self.title.setText(tr("pay_title"))
        if state.kind is DisplayKind.QR:
            self.qr.set_data(state.qr_content)
            self.amount.setText(tr("pay_amount", amount=f"{state.amount:,}"))
            self.no_typing.setText(tr("pay_no_typing"))
            self.time_left.setText(tr("pay_time_left", time=state.countdown))
            self.scan.setText(tr("pay_scan"))
            self.parts.setCurrentIndex(0)
        else:
            self.qr.set_data(None)
            self.done.setText(tr("pay_done"))
            self.done_sub.setText(tr("pay_done_sub"))
            self.parts.setCurrentIndex(1)

    def clear(self) -> None:
        self.qr.set_data(None)
        for w in (self.amount, self.time_left, self.done):
            w.clear()
