"""The clerk sees the characters the fonts lack (外字) and decides how they print, in the
real staff window; approving and printing waits for that decision."""

from __future__ import annotations

from pypdf import PdfReader
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from devices.printer_folder import SimulatedPrinter
from kiosk.status import Status
from printing.document import GlyphPolicy
from tests.ui.test_counter_flow import click, confirm_paper, sign_in_and_claim, tick_identity
from tests.unit.test_glyph_review import PUA, YOSHI, submitted_with_name
from ui.app import Kiosk
from ui.fonts import fallback_ui_family


def waiting_ticket(kiosk: Kiosk, name: str) -> str:
    app_id = submitted_with_name(kiosk.ctx, name)
    kiosk.ctx.applications.release(app_id, "S1")  # back in the queue for the window
    ticket = kiosk.ctx.applications.detail(app_id).ticket
    assert ticket is not None
    return ticket


def cell(kiosk: Kiosk, row: int, column: int) -> str:
    item = kiosk.staff.glyph_table.item(row, column)
    assert item is not None
    return item.text()


def approve_and_print(qtbot: QtBot, kiosk: Kiosk) -> str:
    s = kiosk.staff
    tick_identity(qtbot, kiosk)
    click(qtbot, s, "approve_print")
    confirm_paper(qtbot, kiosk)
    qtbot.waitUntil(
        lambda: s.current is not None and s.current.status is Status.PRINTED, timeout=10000
    )
    printer = kiosk.ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    return "".join(page.extract_text() for page in PdfReader(printer.last_path).pages)


def test_clerk_prints_a_missing_kanji_in_ipamj(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = waiting_ticket(kiosk, f"{YOSHI}野　花子")
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    qtbot.waitUntil(lambda: s.glyph_panel.isVisible(), timeout=5000)
    assert [cell(kiosk, 0, c) for c in range(5)] == [
        "氏名",
        "1文字目",
        "U+20BB7",
        YOSHI,
        "フォントにない文字",
    ]
    shown = s.glyph_table.item(0, 3)
    assert shown is not None
    assert shown.font().family() == fallback_ui_family() != ""  # drawn in IPAmj明朝
    assert s.glyph_state.text() == "印刷の前に、印刷のしかたを選んでください"
    approve = s.findChild(QPushButton, "approve_print")
    assert approve is not None
    assert not approve.isEnabled()
    click(qtbot, s, "glyph_fallback")
    qtbot.waitUntil(lambda: s.glyph_state.text() == "判断済み: IPAmj明朝で印刷（S1）", timeout=5000)
    assert f"{YOSHI}野　花子" in approve_and_print(qtbot, kiosk)


def test_clerk_prints_a_blank_when_no_font_has_it(qtbot: QtBot, kiosk: Kiosk) -> None:
    ticket = waiting_ticket(kiosk, f"{PUA}田　花子")
    sign_in_and_claim(qtbot, kiosk, ticket)
    s = kiosk.staff
    qtbot.waitUntil(lambda: s.glyph_panel.isVisible(), timeout=5000)
    assert (cell(kiosk, 0, 2), cell(kiosk, 0, 3)) == ("U+E000", "（表示できるフォントなし）")
    fallback = s.glyph_buttons[GlyphPolicy.FALLBACK]
    assert not fallback.isEnabled()
    assert fallback.toolTip() == "IPAmj明朝がないか、IPAmj明朝にもない文字があります"
    click(qtbot, s, "glyph_blank")
    qtbot.waitUntil(lambda: s.glyph_state.text().startswith("判断済み: 空欄"), timeout=5000)
    text = approve_and_print(qtbot, kiosk)
    assert "田　花子" in text
    assert PUA not in text
