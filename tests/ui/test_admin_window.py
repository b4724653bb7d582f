"""The administrators' window: sign in, edit a label and a fee, preview, publish; the next
resident sees the change."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QTableWidget
from pytestqt.qtbot import QtBot

from kiosk.context import AppContext
from kiosk.resident_flow import ResidentFlow
from kiosk.runner import ImmediateRunner
from ui.admin.window import AdminWindow

PASSWORD = "correct-horse-battery"


def set_cell(table: QTableWidget, key: str, column: int, text: str) -> None:
    for r in range(table.rowCount()):
        first = table.item(r, 0)
        cell = table.item(r, column)
        if first is not None and cell is not None and first.text() == key:
            cell.setText(text)
            return
    raise AssertionError(key)


def press(qtbot: QtBot, window: AdminWindow, name: str) -> None:
    button = window.findChild(QPushButton, name)
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_admin_changes_a_label_and_a_fee_and_the_next_resident_sees_them(
    qtbot: QtBot, ctx: AppContext
) -> None:
    ctx.admins.set_password("admin", PASSWORD, "test")
    window = AdminWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.password_input.setText("wrong-password")
    press(qtbot, window, "admin_sign_in")
    assert "ちがいます" in window.sign_in_message.text()
    assert window.pages.currentIndex() == 0
    window.password_input.setText(PASSWORD)
    press(qtbot, window, "admin_sign_in")
    assert window.pages.currentIndex() == 1

    set_cell(window.field_table, "purpose", 1, "使いみち（提出先）")
    press(qtbot, window, "preview")
    pixmap = window.preview_label.pixmap()
    assert pixmap is not None
    assert not pixmap.isNull()
    press(qtbot, window, "publish")
    assert "第2版" in window.editor_message.text()

    window.tabs.setCurrentIndex(1)
    set_cell(window.fee_table, "juminhyo_copy", 3, "350")
    press(qtbot, window, "save_fees")
    assert window.fee_message.text() == "手数料を保存しました"
    set_cell(window.fee_table, "juminhyo_copy", 3, "abc")
    press(qtbot, window, "save_fees")
    assert "100,000" in window.fee_message.text()

    flow = ResidentFlow(
        reader=ctx.devices.card_reader,
        templates=ctx.templates,
        applications=ctx.applications,
        runner=ImmediateRunner(),
        clock=ctx.clock,
    )
    flow.start("ja")
    tile = next(p for p in flow.view().procedures if p.title == "住民票の写し")
    assert tile.fee_note == "1通 350円"
    published = next(p for p in ctx.templates.active() if p.template.id == "juminhyo")
    assert published.template.version == 2
    assert published.template.field("purpose").label["ja"] == "使いみち（提出先）"
