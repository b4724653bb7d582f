"""The administrators' window: sign in, edit a label and a fee, preview, publish; the next
resident sees the change."""

from __future__ import annotations

import json
from pathlib import Path

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


def signed_in(qtbot: QtBot, ctx: AppContext) -> AdminWindow:
    ctx.admins.set_password("admin", PASSWORD, "test")
    window = AdminWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.password_input.setText(PASSWORD)
    press(qtbot, window, "admin_sign_in")
    return window


def test_admin_moves_a_field_on_the_form_and_the_new_version_prints_it_there(
    qtbot: QtBot, ctx: AppContext
) -> None:
    window = signed_in(qtbot, ctx)
    window.select_field("copies")
    panel = window.field_panel
    assert panel.isEnabled()
    assert panel.place_box.isVisibleTo(window)
    panel.place_x.setValue(150.0)
    panel.place_w.setValue(40.0)
    panel.place_size.setValue(14.0)
    panel.max_length.setText("2")
    panel.help_ja.setText("1通から10通まで")
    press(qtbot, window, "apply_field")
    assert "copies" in window.editor_message.text()
    press(qtbot, window, "publish")
    assert "第2版" in window.editor_message.text()
    published = next(p for p in ctx.templates.active() if p.template.id == "juminhyo")
    layout = published.template.layout
    assert layout is not None
    placed = next(e for e in layout.elements if getattr(e, "field", None) == "copies")
    assert (placed.rect.x, placed.rect.w, placed.style.size) == (150.0, 40.0, 14.0)  # type: ignore[union-attr]
    assert published.template.field("copies").max_length == 2
    assert published.template.field("copies").help["ja"] == "1通から10通まで"


def test_a_field_pushed_off_the_paper_is_refused_naming_it(qtbot: QtBot, ctx: AppContext) -> None:
    window = signed_in(qtbot, ctx)
    window.select_field("purpose")
    window.field_panel.place_x.setValue(190.0)
    press(qtbot, window, "apply_field")
    message = window.editor_message.text()
    assert "purpose" in message
    assert "off the page" in message
    press(qtbot, window, "publish")
    assert "purpose" in window.editor_message.text()
    versions = [p.template.version for p in ctx.templates.all_versions("juminhyo")]
    assert versions == [1]  # nothing was published


def test_admin_creates_a_template_adds_a_question_and_publishes_it(
    qtbot: QtBot, ctx: AppContext
) -> None:
    window = signed_in(qtbot, ctx)
    window.new_id.setText("jidou_teate")
    window.new_title.setText("児童手当 認定請求書")
    press(qtbot, window, "create_template")
    assert "事務" in window.editor_message.text()  # the business is required
    window.new_business.setText("児童手当事務")
    press(qtbot, window, "create_template")
    assert "jidou_teate" in window.editor_message.text()
    window.add_id.setText("bank")
    window.add_kind.setCurrentIndex(window.add_kind.findData("choice"))
    window.add_label.setText("振込先")
    window.add_choices.setText("yucho=ゆうちょ銀行, other=その他の銀行")
    press(qtbot, window, "add_field")
    assert "bank" in window.editor_message.text()
    press(qtbot, window, "preview")
    assert window.preview_label.pixmap() is not None
    press(qtbot, window, "publish")
    assert "jidou_teate 第1版" in window.editor_message.text()
    published = next(p for p in ctx.templates.active() if p.template.id == "jidou_teate")
    assert [c.label["ja"] for c in published.template.field("bank").choices] == [
        "ゆうちょ銀行",
        "その他の銀行",
    ]
    assert published.template.layout is not None
    assert "bank" in published.template.layout.placed_fields()


def test_admin_duplicates_exports_and_imports(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path
) -> None:
    window = signed_in(qtbot, ctx)
    window.new_id.setText("juminhyo_kouiki")
    window.new_title.setText("住民票の写し（広域交付）")
    press(qtbot, window, "duplicate_template")
    press(qtbot, window, "publish")
    assert "juminhyo_kouiki 第1版" in window.editor_message.text()
    out = tmp_path / "exported.json"
    window.export_template(str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["id"] == "juminhyo_kouiki"
    exported["title"]["ja"] = "住民票の写し（広域）"
    out.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    window.import_template(str(out))
    assert "juminhyo_kouiki" in window.editor_message.text()
    press(qtbot, window, "publish")
    versions = [p.template.version for p in ctx.templates.all_versions("juminhyo_kouiki")]
    assert versions == [1, 2]
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x", "version": 1, "sections": []}', encoding="utf-8")
    window.import_template(str(broken))
    assert "読み込めませんでした" in window.editor_message.text()


def test_admin_edits_the_eligibility_and_a_broken_rule_is_named(
    qtbot: QtBot, ctx: AppContext
) -> None:
    window = signed_in(qtbot, ctx)
    logic = json.loads(window.logic_text.toPlainText())
    assert "proxy" in logic["eligibility"]["relations"]
    # this town no longer accepts proxies for 住民票 at the kiosk
    del logic["eligibility"]["relations"]["proxy"]
    broken = {
        **logic,
        "rules": [{"require": {"field": "nope", "equals": "1"}, "message": {"ja": "x"}}],
    }
    window.logic_text.setPlainText(json.dumps(broken, ensure_ascii=False))
    press(qtbot, window, "apply_logic")
    assert "nope" in window.editor_message.text()
    window.logic_text.setPlainText(json.dumps(logic, ensure_ascii=False))
    press(qtbot, window, "apply_logic")
    assert "反映しました" in window.editor_message.text()
    press(qtbot, window, "publish")
    assert "第2版" in window.editor_message.text()
    published = next(p for p in ctx.templates.active() if p.template.id == "juminhyo")
    assert published.template.eligibility is not None
    assert "proxy" not in published.template.eligibility.relations
