"""Administrators' window, behind a password (argon2id hash): edit a form template's labels,
required flags and fees, preview it filled with sample data, publish it as a new version;
edit the municipality's fee table; browse the published versions and the audit log.

Administration is rare and light, so its database calls run on the UI thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtPdf import QPdfDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
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

from forms.model import TemplateError, parse_template
from kiosk.context import AppContext
from kiosk.errors import UserFacingError, ValidationFailed
from kiosk.i18n import tr
from kiosk.storage.models import AuditEventRow, FormTemplateRow
from kiosk.template_editing import (
    TemplateEdits,
    apply_edits,
    next_version,
    preview_document,
    publish_new_version,
)
from printing.render import render_pdf

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
        self.field_table = QTableWidget(0, 4)
        self.field_table.setObjectName("field_table")
        self.field_table.setHorizontalHeaderLabels(
            ["項目ID", "表示名（日本語）", "表示名（English）", "必須"]
        )
        self.field_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        box.addWidget(self.field_table, 2)
        self.rule_table = QTableWidget(0, 3)
        self.rule_table.setObjectName("rule_table")
        self.rule_table.setHorizontalHeaderLabels(["手数料コード", "名称", "既定額（円）"])
        self.rule_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        box.addWidget(self.rule_table, 1)
        buttons = QHBoxLayout()
        preview = QPushButton(tr("admin_preview"))
        preview.setObjectName("preview")
        preview.clicked.connect(lambda _checked=False: self.preview())
        publish = QPushButton(tr("admin_publish"))
        publish.setObjectName("publish")
        publish.clicked.connect(lambda _checked=False: self.publish())
        buttons.addWidget(preview)
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
        template = self.ctx.templates.get(int(pk))
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
        self.editor_message.setText("")

    def _edited(self) -> dict[str, Any]:
        """The published definition with the edits in the tables, as the next version."""
        pk = int(self.template_choice.currentData())
        template = self.ctx.templates.get(pk)
        edits = TemplateEdits()
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
        version = next_version(self.ctx.templates, template.id)
        return apply_edits(self.ctx.templates.definition(pk), edits, version)

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
        index = self.template_choice.currentIndex()
        self._build_tabs()  # the lists now show the new version
        self.template_choice.setCurrentIndex(index)
        self.editor_message.setText(tr("admin_published", id=template.id, version=template.version))
