"""Reusable touch widgets: step bar, PIN dots and keypad, kana keyboard, number stepper,
QR code. Buttons are plain QPushButtons: they activate on release, as older users expect."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from printing.qr import qr_matrix


def set_role(widget: QWidget, role: str) -> None:
    widget.setProperty("role", role)


def label(
    text: str = "",
    role: str = "",
    *,
    wrap: bool = True,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
) -> QLabel:
    widget = QLabel(text)
    widget.setWordWrap(wrap)
    widget.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    widget.setTextFormat(Qt.TextFormat.PlainText)  # resident data is never markup
    if role:
        set_role(widget, role)
    return widget


def button(text: str, role: str = "", on_click: Callable[[], None] | None = None) -> QPushButton:
    widget = QPushButton(text)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if role:
        set_role(widget, role)
    if on_click is not None:
        # clicked(bool) would otherwise land in the lambdas' default arguments
        widget.clicked.connect(lambda _checked=False: on_click())
    return widget


def clear_layout(layout: QGridLayout | QVBoxLayout | QHBoxLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()


class StepBar(QFrame):
    """① 手続き ② カード ③ 暗証番号 ④ 確認 ⑤ 完了 — the current step is marked by colour,
    weight and the ▶ sign, never by colour alone."""

    MARKS = "①②③④⑤"

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("stepbar")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._labels = [QLabel() for _ in self.MARKS]
        for widget in self._labels:
            layout.addWidget(widget)
        layout.addStretch(1)

    def set_steps(self, names: Sequence[str], current: int) -> None:
        for i, (widget, name) in enumerate(zip(self._labels, names, strict=True), start=1):
            prefix = "▶" if i == current else ""
            widget.setText(f"{prefix}{self.MARKS[i - 1]} {name}")
            widget.setProperty("current", "true" if i == current else "false")
            widget.setProperty("done", "true" if i < current else "false")
            widget.style().unpolish(widget)
            widget.style().polish(widget)


class PinDots(QWidget):
    """Four boxes; entered digits show as ●, never as numbers."""

    def __init__(self, length: int = 4) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.addStretch(1)
        self._boxes = []
        for _ in range(length):
            box = label("", "pin", wrap=False, align=Qt.AlignmentFlag.AlignHCenter)
            self._boxes.append(box)
            layout.addWidget(box)
        layout.addStretch(1)

    def set_count(self, count: int) -> None:
        for i, box in enumerate(self._boxes):
            box.setText("●" if i < count else "")


class Keypad(QWidget):
    """3×4 keypad: 1–9, 訂正, 0, 決定."""

    digit = Signal(str)
    delete = Signal()
    accept = Signal()

    def __init__(self, name_prefix: str = "key_") -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setSpacing(18)  # ≥ 8 mm between targets at the counter's screen density
        for n in range(1, 10):
            key = button(str(n), "key", partial(self.digit.emit, str(n)))
            key.setObjectName(f"{name_prefix}{n}")
            grid.addWidget(key, (n - 1) // 3, (n - 1) % 3)
        self.delete_button = button("", "key", self.delete.emit)
        self.delete_button.setObjectName(f"{name_prefix}delete")
        zero = button("0", "key", lambda: self.digit.emit("0"))
        zero.setObjectName(f"{name_prefix}0")
        self.ok_button = button("", "key", self.accept.emit)
        self.ok_button.setObjectName(f"{name_prefix}ok")
        set_role(self.ok_button, "primary")
        grid.addWidget(self.delete_button, 3, 0)
        grid.addWidget(zero, 3, 1)
        grid.addWidget(self.ok_button, 3, 2)

    def retranslate(self, delete_text: str, ok_text: str) -> None:
        self.delete_button.setText(delete_text)
        self.ok_button.setText(ok_text)


KANA_ROWS = (
    "あいうえお",
    "かきくけこ",
    "さしすせそ",
    "たちつてと",
    "なにぬねの",
    "はひふへほ",
    "まみむめも",
    "や゛ゆ゜よ",
    "らりるれろ",
    "わをんーっ",
)
SMALL = str.maketrans("あいうえおつやゆよわ", "ぁぃぅぇぉっゃゅょゎ")
VOICED = {"゛": 0x3099, "゜": 0x309A}


class KanaKeyboard(QWidget):
    """A 50-音 hiragana keyboard in the order of the Japanese syllabary chart, with
    dakuten/handakuten and small kana keys applied to the last character."""

    text_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._text = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        grid = QGridLayout()
        grid.setSpacing(8)
        for col, row_chars in enumerate(reversed(KANA_ROWS)):  # right to left, as printed
            for row, ch in enumerate(row_chars):
                key = button(ch, "kana", partial(self._press, ch))
                key.setObjectName(f"kana_{ch}")
                grid.addWidget(key, row, col)
        outer.addLayout(grid)
        tools = QHBoxLayout()
        self.small_button = button("小", "kana", self._make_small)
        self.space_button = button("", "small", lambda: self._press("　"))
        self.space_button.setObjectName("kana_space")
        self.delete_button = button("", "small", self._delete)
        self.clear_button = button("", "small", lambda: self.set_text(""))
        for widget in (self.small_button, self.space_button, self.delete_button, self.clear_button):
            tools.addWidget(widget)
        outer.addLayout(tools)

    def retranslate(self, space: str, delete: str, clear: str) -> None:
        self.space_button.setText(space)
        self.delete_button.setText(delete)
        self.clear_button.setText(clear)

    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.text_changed.emit(text)

    def _press(self, ch: str) -> None:
        if ch in VOICED:
            if self._text:
                import unicodedata

                combined = unicodedata.normalize("NFC", self._text[-1] + chr(VOICED[ch]))
                if len(combined) == 1:
                    self.set_text(self._text[:-1] + combined)
            return
        self.set_text(self._text + ch)

    def _make_small(self) -> None:
        if self._text:
            self.set_text(self._text[:-1] + self._text[-1].translate(SMALL))

    def _delete(self) -> None:
        self.set_text(self._text[:-1])


class NumberStepper(QWidget):
    """− value + with large buttons (no keyboard needed for 通数)."""

    def __init__(self) -> None:
        super().__init__()
        self.minimum, self.maximum, self.value = 1, 10, 1
        layout = QHBoxLayout(self)
        layout.addStretch(1)
        self.minus = button("−", "key", lambda: self.set_value(self.value - 1))
        self.minus.setObjectName("stepper_minus")
        self.display = label("1", "ticket", wrap=False, align=Qt.AlignmentFlag.AlignHCenter)
        self.display.setMinimumWidth(220)
        self.plus = button("+", "key", lambda: self.set_value(self.value + 1))
        self.plus.setObjectName("stepper_plus")
        for widget in (self.minus, self.display, self.plus):
            layout.addWidget(widget)
        layout.addStretch(1)

    def configure(self, value: int, minimum: int | None, maximum: int | None) -> None:
        self.minimum = minimum if minimum is not None else 0
        self.maximum = maximum if maximum is not None else 99
        self.set_value(value)

    def set_value(self, value: int) -> None:
        self.value = max(self.minimum, min(self.maximum, value))
        self.display.setText(str(self.value))
        self.minus.setEnabled(self.value > self.minimum)
        self.plus.setEnabled(self.value < self.maximum)


class QrWidget(QWidget):
    """Paints a QR code matrix made by ``printing.qr`` (the same code the slip prints)."""

    def __init__(self) -> None:
        super().__init__()
        self._matrix: list[list[bool]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 240)

    def set_data(self, data: str | None) -> None:
        self._matrix = qr_matrix(data) if data else []
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if not self._matrix:
            painter.end()
            return
        modules = len(self._matrix) + 8  # 4-module quiet zone on each side
        side = min(self.width(), self.height())
        cell = side / modules
        x0 = (self.width() - side) / 2 + 4 * cell
        y0 = (self.height() - side) / 2 + 4 * cell
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("black"))
        for r, row in enumerate(self._matrix):
            for c, dark in enumerate(row):
                if dark:
                    painter.drawRect(QRectF(x0 + c * cell, y0 + r * cell, cell + 0.5, cell + 0.5))
        painter.end()


class CardPicture(QWidget):
    """A drawn My Number card above a reader, so the resident sees where the card goes."""

    def __init__(self, *, taking: bool = False) -> None:
        super().__init__()
        self._taking = taking
        self.setMinimumSize(360, 240)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        reader = QRectF(w / 2 - 170, h - 90, 340, 70)
        p.setBrush(QColor("#3a3a3a"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(reader, 14, 14)
        lift = 60 if self._taking else 0
        card = QRectF(w / 2 - 130, h - 200 - lift, 260, 160)
        p.setBrush(QColor("#f4d9e6"))
        p.setPen(QColor("#141414"))
        p.drawRoundedRect(card, 12, 12)
        p.setBrush(QColor("#c7a9b8"))
        p.drawRect(QRectF(card.right() - 80, card.top() + 30, 60, 75))  # the face photo
        p.setPen(QColor("#141414"))
        for i in range(3):
            y = card.top() + 40 + i * 25
            p.drawLine(int(card.left() + 20), int(y), int(card.right() - 100), int(y))
        p.end()
