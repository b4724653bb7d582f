"""Administrators' window: the published form templates, the effective fee table and the
audit log. Read-only for now; the template editor builds on it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from kiosk.context import AppContext
from kiosk.i18n import tr
from kiosk.storage.models import AuditEventRow, FormTemplateRow


def _table(headers: list[str], rows: list[list[str]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class AdminWindow(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.setWindowTitle(tr("admin_title"))
        self.setStyleSheet("QWidget { font-size: 15px; }")
        self.tabs = QTabWidget()
        QVBoxLayout(self).addWidget(self.tabs)
        with ctx.db.read() as session:
            templates = session.scalars(select(FormTemplateRow).order_by(FormTemplateRow.id)).all()
            events = session.scalars(
                select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(500)
            ).all()
            template_rows = [
                [
                    t.template_id,
                    str(t.version),
                    t.title,
                    t.published_at.strftime("%Y-%m-%d %H:%M"),
                    "有効" if t.active else "廃止",
                ]
                for t in templates
            ]
            audit_rows = [
                [
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.action,
                    f"{e.object_type}:{e.object_id or ''}",
                    " ".join(f"{k}={v}" for k, v in sorted(e.detail.items())),
                ]
                for e in events
            ]
        fee_rows = []
        table = ctx.fees.current()
        for published in ctx.templates.active():
            for rule in published.template.fees:
                amount = table.get(rule.code, rule.amount)
                per = "1通ごと" if rule.per_field else "1件"
                fee_rows.append(
                    [
                        published.template.short_title["ja"],
                        rule.code,
                        f"{amount:,}円",
                        per,
                        "市の手数料表" if rule.code in table else "様式の既定値",
                    ]
                )
        self.tabs.addTab(
            _table(["様式ID", "版", "名称", "公開日時", "状態"], template_rows),
            tr("admin_templates"),
        )
        self.tabs.addTab(
            _table(["様式", "手数料コード", "金額", "単位", "根拠"], fee_rows), tr("admin_fees")
        )
        self.tabs.addTab(
            _table(["日時", "実行者", "操作", "対象", "詳細"], audit_rows), tr("admin_audit")
        )
