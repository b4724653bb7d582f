"""Administrators' window, behind a password (argon2id hash): edit a form template's labels,
required flags and fees, preview it filled with sample data, publish it as a new version;
edit the municipality's fee table; browse the published versions and the audit log.

Administration is rare and light, so its database calls run on the UI thread."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from forms.layout_builder import format_template_json
from forms.model import TemplateError, parse_template
from kiosk.context import AppContext
from kiosk.errors import UserFacingError, ValidationFailed
from kiosk.i18n import tr
from kiosk.storage.models import AuditEventRow, FormTemplateRow
from kiosk.template_editing import (
    TemplateEdits,
    add_field,
    apply_edits,
    duplicate_definition,
    field_placement,
    import_definition,
    new_definition,
    next_version,
    parse_choices,
    preview_document,
    publish_new_version,
    remove_field,
    with_auto_layout,
)
from printing.render import render_pdf
from ui.admin.field_panel import FieldPanel

READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
EDITABLE = READ_ONLY | Qt.ItemFlag.ItemIsEditable


def _item(text: str, editable: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(EDITABLE if editable else READ_ONLY)
    return item


def _cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    item = table.item(row, column)
    assert item is not None, (row, column)
    return item


def _table(headers: list[str], rows: list[list[str]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, _item(text))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class AdminWindow(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.admin = ""
        self.setWindowTitle(tr("admin_title"))
        self.setStyleSheet(
            "QWidget { font-size: 15px; } QLabel[role='msg'] { color: #8a1c00; font-weight: bold; }"
            "QLabel[role='h1'] { font-size: 20px; font-weight: bold; }"
        )
        self.pages = QStackedWidget()
        QVBoxLayout(self).addWidget(self.pages)
        self.pages.addWidget(self._build_sign_in())
        self.tabs = QTabWidget()
        self.pages.addWidget(self.tabs)

    # --- sign-in -------------------------------------------------------------------------
    def _build_sign_in(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.addStretch(1)
        title = QLabel(tr("admin_title"))
        title.setProperty("role", "h1")
        box.addWidget(title, alignment=Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        row.addStretch(1)
        self.name_input = QLineEdit("admin")
        self.name_input.setObjectName("admin_name")
        self.password_input = QLineEdit()
        self.password_input.setObjectName("admin_password")
        self.password_input.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_input.returnPressed.connect(self.sign_in)
        sign_in = QPushButton(tr("admin_sign_in"))
        sign_in.setObjectName("admin_sign_in")
        sign_in.clicked.connect(lambda _checked=False: self.sign_in())
        for widget in (
            QLabel(tr("admin_name")),
            self.name_input,
            QLabel(tr("admin_password")),
            self.password_input,
            sign_in,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        box.addLayout(row)
        self.sign_in_message = QLabel("")
        self.sign_in_message.setProperty("role", "msg")
        self.sign_in_message.setObjectName("admin_sign_in_message")
        box.addWidget(self.sign_in_message, alignment=Qt.AlignmentFlag.AlignHCenter)
        box.addStretch(2)
        if not self.ctx.admins.exists():
            self.sign_in_message.setText(tr("admin_no_account"))
            sign_in.setEnabled(False)
        return page

    def sign_in(self) -> None:
        name, password = self.name_input.text().strip(), self.password_input.text()
        self.password_input.clear()
        try:
            self.ctx.admins.sign_in(name, password)
        except UserFacingError as exc:
            self.sign_in_message.setText(tr(exc.message_key, **exc.params))
            return
        self.admin = name
        self.sign_in_message.setText("")
        self._build_tabs()
        self.pages.setCurrentIndex(1)

    # --- tabs ----------------------------------------------------------------------------
    def _build_tabs(self) -> None:
        old = [self.tabs.widget(i) for i in range(self.tabs.count())]
        self.tabs.clear()
        for widget in old:
            if widget is None:
                continue
            widget.setParent(None)  # out of the tree at once; freed by the event loop
            widget.deleteLater()
        self.tabs.addTab(self._build_editor(), tr("admin_editor"))
        self.tabs.addTab(self._build_fees(), tr("admin_fees"))
        self.tabs.addTab(self._build_versions(), tr("admin_templates"))
        self.tabs.addTab(self._build_audit(), tr("admin_audit"))

    def _build_versions(self) -> QWidget:
        with self.ctx.db.read() as session:
            rows = [
                [
                    t.template_id,
                    str(t.version),
                    t.title,
                    t.published_at.strftime("%Y-%m-%d %H:%M"),
                    "有効" if t.active else "廃止",
                ]
                for t in session.scalars(select(FormTemplateRow).order_by(FormTemplateRow.id))
            ]
        return _table(["様式ID", "版", "名称", "公開日時", "状態"], rows)

    def _build_audit(self) -> QWidget:
        with self.ctx.db.read() as session:
            events = session.scalars(
                select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(500)
            ).all()
            rows = [
                [
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.action,
                    f"{e.object_type}:{e.object_id or ''}",
                    " ".join(f"{k}={v}" for k, v in sorted(e.detail.items())),
                ]
                for e in events
            ]
        return _table(["日時", "実行者", "操作", "対象", "詳細"], rows)

    # --- fee table -----------------------------------------------------------------------
    def _build_fees(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        table = self.ctx.fees.current()
        rules = {r.code: r for p in self.ctx.templates.active() for r in p.template.fees}
        self.fee_table = QTableWidget(len(rules), 4)
        self.fee_table.setObjectName("fee_table")
        self.fee_table.setHorizontalHeaderLabels(
            ["手数料コード", "名称", "様式の既定額", "市の金額（円）"]
        )
        for r, (code, rule) in enumerate(rules.items()):
            self.fee_table.setItem(r, 0, _item(code))
            self.fee_table.setItem(r, 1, _item(rule.label["ja"]))
            self.fee_table.setItem(r, 2, _item(str(rule.amount)))
            self.fee_table.setItem(r, 3, _item(str(table.get(code, rule.amount)), editable=True))
        self.fee_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        box.addWidget(self.fee_table)
        save = QPushButton(tr("admin_save_fees"))
        save.setObjectName("save_fees")
        save.clicked.connect(lambda _checked=False: self.save_fees())
        self.fee_message = QLabel("")
        self.fee_message.setObjectName("fee_message")
        box.addWidget(save, alignment=Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.fee_message)
        return page

    def save_fees(self) -> None:
        current = self.ctx.fees.current()
        known = {_cell(self.fee_table, r, 0).text() for r in range(self.fee_table.rowCount())}
        try:
            for r in range(self.fee_table.rowCount()):
                code = _cell(self.fee_table, r, 0).text()
                default = int(_cell(self.fee_table, r, 2).text())
                text = _cell(self.fee_table, r, 3).text().strip().replace(",", "")
                if not text.isdigit():
                    raise ValidationFailed("fee_out_of_range")
                amount = int(text)
                if amount != current.get(code, default):
                    self.ctx.fees.set(code, amount, self.admin, known)
        except UserFacingError as exc:
            self.fee_message.setText(tr(exc.message_key, **exc.params))
            return
        self.fee_message.setText(tr("admin_fees_saved"))

    # --- template editor -----------------------------------------------------------------
    def _build_editor(self) -> QWidget:
        page = QSplitter()
        left = QWidget()
        box = QVBoxLayout(left)
        self.template_choice = QComboBox()
        self.template_choice.setObjectName("template_choice")
        for published in self.ctx.templates.active():
            t = published.template
            self.template_choice.addItem(f"{t.title['ja']}（第{t.version}版）", published.pk)
        self.template_choice.currentIndexChanged.connect(lambda _i: self._load_template())
        box.addWidget(self.template_choice)
        tools = QHBoxLayout()
        self.new_id = QLineEdit()
        self.new_id.setObjectName("new_template_id")
        self.new_id.setPlaceholderText(tr("admin_new_id"))
        self.new_title = QLineEdit()
        self.new_title.setObjectName("new_template_title")
        self.new_title.setPlaceholderText(tr("admin_new_title"))
        self.new_business = QLineEdit()
        self.new_business.setObjectName("new_template_business")
        self.new_business.setPlaceholderText(tr("admin_new_business"))
        tools.addWidget(self.new_id)
        tools.addWidget(self.new_title)
        tools.addWidget(self.new_business)
        for name, key, handler in (
            ("create_template", "admin_create", self.create_template),
            ("duplicate_template", "admin_duplicate", self.duplicate_template),
            ("import_template", "admin_import", self.import_template),
            ("export_template", "admin_export", self.export_template),
        ):
            button = QPushButton(tr(key))
            button.setObjectName(name)
            button.clicked.connect(lambda _checked=False, h=handler: h())
            tools.addWidget(button)
        box.addLayout(tools)
        self.field_table = QTableWidget(0, 4)
        self.field_table.setObjectName("field_table")
        self.field_table.setHorizontalHeaderLabels(
            ["項目ID", "表示名（日本語）", "表示名（English）", "必須"]
        )
        self.field_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.field_table.itemSelectionChanged.connect(self._on_field_selected)
        fields_row = QHBoxLayout()
        fields_row.addWidget(self.field_table, 3)
        box.addLayout(fields_row, 3)
        adding = QHBoxLayout()
        self.add_section = QComboBox()
        self.add_section.setObjectName("add_field_section")
        self.add_id = QLineEdit()
        self.add_id.setObjectName("add_field_id")
        self.add_id.setPlaceholderText(tr("admin_field_id"))
        self.add_kind = QComboBox()
        self.add_kind.setObjectName("add_field_kind")
        for kind in (
            "text",
            "kana",
            "choice",
            "multi_choice",
            "checkbox",
            "number",
            "date",
            "phone",
            "postal_code",
            "address",
        ):
            self.add_kind.addItem(tr(f"admin_kind_{kind}"), kind)
        self.add_label = QLineEdit()
        self.add_label.setObjectName("add_field_label")
        self.add_label.setPlaceholderText(tr("admin_field_label"))
        self.add_choices = QLineEdit()
        self.add_choices.setObjectName("add_field_choices")
        self.add_choices.setPlaceholderText(tr("admin_field_choices"))
        for widget in (
            self.add_section,
            self.add_id,
            self.add_kind,
            self.add_label,
            self.add_choices,
        ):
            adding.addWidget(widget)
        for name, key, handler in (
            ("add_field", "admin_add_field", self.add_field),
            ("remove_field", "admin_remove_field", self.remove_field),
        ):
            button = QPushButton(tr(key))
            button.setObjectName(name)
            button.clicked.connect(lambda _checked=False, h=handler: h())
            adding.addWidget(button)
        box.addLayout(adding)
        self.field_panel = FieldPanel()
        self.field_panel.apply_button.clicked.connect(lambda _checked=False: self.apply_field())
        panel_scroll = QScrollArea()
        panel_scroll.setWidget(self.field_panel)
        panel_scroll.setWidgetResizable(True)
        panel_scroll.setMinimumWidth(360)
        fields_row.addWidget(panel_scroll, 2)
        self.rule_table = QTableWidget(0, 3)
        self.rule_table.setObjectName("rule_table")
        self.rule_table.setHorizontalHeaderLabels(["手数料コード", "名称", "既定額（円）"])
        self.rule_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        lower = QTabWidget()
        lower.addTab(self.rule_table, tr("admin_fee_rules"))
        logic = QWidget()
        logic_box = QVBoxLayout(logic)
        logic_box.setContentsMargins(0, 0, 0, 0)
        logic_box.addWidget(QLabel(tr("admin_logic_help")))
        self.logic_text = QPlainTextEdit()
        self.logic_text.setObjectName("logic_text")
        logic_box.addWidget(self.logic_text, 1)
        apply_logic = QPushButton(tr("admin_apply_logic"))
        apply_logic.setObjectName("apply_logic")
        apply_logic.clicked.connect(lambda _checked=False: self.apply_logic())
        logic_box.addWidget(apply_logic, alignment=Qt.AlignmentFlag.AlignLeft)
        lower.addTab(logic, tr("admin_logic"))
        box.addWidget(lower, 1)
        buttons = QHBoxLayout()
        preview = QPushButton(tr("admin_preview"))
        preview.setObjectName("preview")
        preview.clicked.connect(lambda _checked=False: self.preview())
        publish = QPushButton(tr("admin_publish"))
        publish.setObjectName("publish")
        publish.clicked.connect(lambda _checked=False: self.publish())
        relayout = QPushButton(tr("admin_relayout"))
        relayout.setObjectName("relayout")
        relayout.clicked.connect(lambda _checked=False: self.relayout())
        buttons.addWidget(preview)
        buttons.addWidget(relayout)
        buttons.addWidget(publish)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.editor_message = QLabel("")
        self.editor_message.setObjectName("editor_message")
        self.editor_message.setWordWrap(True)
        box.addWidget(self.editor_message)
        page.addWidget(left)
        self.preview_label = QLabel()
        self.preview_label.setObjectName("preview_image")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidget(self.preview_label)
        scroll.setWidgetResizable(True)
        page.addWidget(scroll)
        page.setSizes([640, 520])
        self._pdf = QPdfDocument(self)
        self._pdf_buffer: QBuffer | None = None
        self._load_template()
        return page

    def _load_template(self) -> None:
        pk = self.template_choice.currentData()
        if pk is None:
            return
        self._start_working(dict(self.ctx.templates.definition(int(pk))))

    def _start_working(self, raw: dict[str, Any]) -> None:
        """Edit ``raw`` from now on: a published definition, a new, copied or imported one."""
        self._working = raw
        self._pending = TemplateEdits()
        template = parse_template(raw)
        self.add_section.clear()
        for section in template.sections:
            self.add_section.addItem(section.title["ja"], section.id)
        self.field_table.setRowCount(0)
        for f in template.fields:
            r = self.field_table.rowCount()
            self.field_table.insertRow(r)
            self.field_table.setItem(r, 0, _item(f.id))
            self.field_table.setItem(r, 1, _item(f.label["ja"], editable=True))
            self.field_table.setItem(r, 2, _item(f.label.get("en", ""), editable=True))
            required = _item("")
            required.setFlags(READ_ONLY | Qt.ItemFlag.ItemIsUserCheckable)
            required.setCheckState(Qt.CheckState.Checked if f.required else Qt.CheckState.Unchecked)
            self.field_table.setItem(r, 3, required)
        self.rule_table.setRowCount(0)
        for rule in template.fees:
            r = self.rule_table.rowCount()
            self.rule_table.insertRow(r)
            self.rule_table.setItem(r, 0, _item(rule.code))
            self.rule_table.setItem(r, 1, _item(rule.label["ja"], editable=True))
            self.rule_table.setItem(r, 2, _item(str(rule.amount), editable=True))
        self.field_panel.setEnabled(False)
        self.logic_text.setPlainText(
            json.dumps(
                {key: raw[key] for key in ("rules", "eligibility") if key in raw},
                ensure_ascii=False,
                indent=2,
            )
        )
        self.editor_message.setText("")

    def _raw_field(self, field_id: str) -> dict[str, Any]:
        for section in self._working.get("sections", []):
            for f in section.get("fields", []):
                if f.get("id") == field_id:
                    return dict(f)
        raise KeyError(field_id)

    def _on_field_selected(self) -> None:
        rows = {i.row() for i in self.field_table.selectedIndexes()}
        if len(rows) != 1:
            return
        fid = _cell(self.field_table, rows.pop(), 0).text()
        current = apply_edits(self._working, self._pending, int(self._working["version"]))
        placement = field_placement(current, fid)
        if placement is not None and placement.get("type") == "rows":
            placement = None  # a person table is arranged with the whole layout
        f = next(x for s in current["sections"] for x in s.get("fields", []) if x.get("id") == fid)
        self.field_panel.show_field(f, placement)

    def select_field(self, field_id: str) -> None:
        for r in range(self.field_table.rowCount()):
            if _cell(self.field_table, r, 0).text() == field_id:
                self.field_table.selectRow(r)
                return
        raise KeyError(field_id)

    def apply_field(self) -> None:
        problem = self.field_panel.apply_to(self._pending)
        if problem is not None:
            self.editor_message.setText(tr(problem))
            return
        try:
            parse_template(self._edited())
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        self.editor_message.setText(tr("admin_field_applied", id=self.field_panel.field_id))

    def add_field(self) -> None:
        try:
            raw = add_field(
                self._edited(),
                str(self.add_section.currentData()),
                self.add_id.text().strip(),
                str(self.add_kind.currentData()),
                self.add_label.text().strip(),
                parse_choices(self.add_choices.text()),
            )
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        added = self.add_id.text().strip()
        for widget in (self.add_id, self.add_label, self.add_choices):
            widget.clear()
        self._start_working(raw)
        self.editor_message.setText(tr("admin_field_added", id=added))

    def remove_field(self) -> None:
        rows = {i.row() for i in self.field_table.selectedIndexes()}
        if len(rows) != 1:
            self.editor_message.setText(tr("admin_select_field"))
            return
        fid = _cell(self.field_table, rows.pop(), 0).text()
        try:
            raw = remove_field(self._edited(), fid)
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        self._start_working(raw)
        self.editor_message.setText(tr("admin_field_removed", id=fid))

    def apply_logic(self) -> None:
        """Take the rules and eligibility typed as JSON; errors name the place."""
        try:
            logic = json.loads(self.logic_text.toPlainText() or "{}")
        except ValueError as exc:
            self.editor_message.setText(tr("admin_logic_not_json", problem=str(exc)))
            return
        if not isinstance(logic, dict) or set(logic) - {"rules", "eligibility"}:
            self.editor_message.setText(tr("admin_logic_keys"))
            return
        previous = self._pending.logic
        self._pending.logic = logic
        try:
            parse_template(self._edited())
        except TemplateError as exc:
            self._pending.logic = previous
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        self.editor_message.setText(tr("admin_logic_applied"))

    def _new_id_and_title(self) -> tuple[str, str] | None:
        new_id, title = self.new_id.text().strip(), self.new_title.text().strip()
        if not new_id or not title:
            self.editor_message.setText(tr("admin_need_id_and_title"))
            return None
        if self.ctx.templates.all_versions(new_id):
            self.editor_message.setText(tr("admin_id_taken", id=new_id))
            return None
        return new_id, title

    def create_template(self) -> None:
        named = self._new_id_and_title()
        if named is None:
            return
        try:
            business = self.new_business.text().strip()
            if not business:
                self.editor_message.setText(tr("admin_need_business"))
                return
            raw = new_definition(named[0], named[1], business)
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        self._start_working(raw)
        self.editor_message.setText(tr("admin_created", id=named[0]))

    def duplicate_template(self) -> None:
        named = self._new_id_and_title()
        if named is None:
            return
        self._start_working(duplicate_definition(self._edited(), *named))
        self.editor_message.setText(tr("admin_duplicated", id=named[0]))

    def import_template(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, tr("admin_import"), "", "JSON (*.json)")
            if not path:
                return
        try:
            with open(path, encoding="utf-8") as fh:
                raw = json.load(fh)
            if not isinstance(raw, dict):
                raise TemplateError("template", "must be an object")
            self._start_working(import_definition(self.ctx.templates, raw))
        except (OSError, ValueError) as exc:
            where = f"{exc.where}: {exc.problem}" if isinstance(exc, TemplateError) else str(exc)
            self.editor_message.setText(tr("admin_import_failed", problem=where))
            return
        self.editor_message.setText(tr("admin_imported", id=self._working["id"]))

    def export_template(self, path: str | None = None) -> None:
        if path is None:
            suggested = f"{self._working['id']}.json"
            path, _ = QFileDialog.getSaveFileName(
                self, tr("admin_export"), suggested, "JSON (*.json)"
            )
            if not path:
                return
        try:
            raw = self._edited()
            parse_template(raw)
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(format_template_json(raw))
        self.editor_message.setText(tr("admin_exported", path=path))

    def relayout(self) -> None:
        try:
            raw = with_auto_layout(self._edited())
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        self._start_working(raw)
        self.preview()

    def _edited(self) -> dict[str, Any]:
        """The working definition with the edits in the tables, as the next version."""
        edits = self._pending
        for r in range(self.field_table.rowCount()):
            fid = _cell(self.field_table, r, 0).text()
            edits.labels_ja[fid] = _cell(self.field_table, r, 1).text().strip()
            if _cell(self.field_table, r, 2).text().strip():
                edits.labels_en[fid] = _cell(self.field_table, r, 2).text().strip()
            edits.required[fid] = (
                _cell(self.field_table, r, 3).checkState() == Qt.CheckState.Checked
            )
        for r in range(self.rule_table.rowCount()):
            code = _cell(self.rule_table, r, 0).text()
            edits.fee_labels_ja[code] = _cell(self.rule_table, r, 1).text().strip()
            amount = _cell(self.rule_table, r, 2).text().strip().replace(",", "")
            edits.fee_amounts[code] = int(amount) if amount.isdigit() else -1
        version = max(
            int(self._working.get("version", 1)),
            next_version(self.ctx.templates, str(self._working["id"])),
        )
        return apply_edits(self._working, edits, version)

    def preview(self) -> None:
        try:
            template = parse_template(self._edited())
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        pdf = render_pdf(
            preview_document(
                template, self.ctx.fees.current(), self.ctx.settings.addressee, self.ctx.clock
            )
        )
        self._pdf.close()
        self._pdf_buffer = QBuffer(self)
        self._pdf_buffer.setData(QByteArray(pdf))
        self._pdf_buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self._pdf.load(self._pdf_buffer)
        image = self._pdf.render(0, QSize(500, 707))
        self.preview_label.setPixmap(QPixmap.fromImage(image))
        self.editor_message.setText("")

    def _pk_of(self, template_id: str) -> int | None:
        for published in self.ctx.templates.active():
            if published.template.id == template_id:
                return published.pk
        return None

    def publish(self) -> None:
        try:
            template = publish_new_version(
                self.ctx.db, self.ctx.templates, self.ctx.clock, self._edited(), actor=self.admin
            )
        except TemplateError as exc:
            self.editor_message.setText(f"{exc.where}: {exc.problem}")
            return
        except ValueError as exc:
            self.editor_message.setText(str(exc))
            return
        self._build_tabs()  # the lists now show the new version
        self.template_choice.setCurrentIndex(
            max(self.template_choice.findData(self._pk_of(template.id)), 0)
        )
        self.editor_message.setText(tr("admin_published", id=template.id, version=template.version))
