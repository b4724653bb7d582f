"""The clerk's table for a persons field (e.g. the household members who move): one row
per person, one column per item; blank rows are ignored when saved."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from forms.display import display_item
from forms.model import Field, FieldKind
from forms.validation import encode_person_rows, person_rows
from forms.wareki import normalize_date_input
from kiosk.i18n import tr


class PersonsEditor(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("persons_editor")
        self.field: Field | None = None
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("persons_table")
        self.table.verticalHeader().setVisible(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.add_button = QPushButton(tr("staff_add_person"))
        self.add_button.setObjectName("persons_add")
        self.add_button.clicked.connect(self.add_row)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addStretch(1)
        box.addLayout(row)

    def set_field(self, f: Field, raw: str) -> None:
        self.field = f
        try:
            rows = person_rows(raw)
        except ValueError:
            rows = []
        self.table.clear()
        self.table.setColumnCount(len(f.items))
        self.table.setHorizontalHeaderLabels([i.label["ja"] for i in f.items])
        self.table.setRowCount(0)
        for person in rows:
            self.add_row(person)
        if not rows:
            self.add_row()

    def add_row(self, person: dict[str, str] | None = None) -> None:
        if self.field is None:
            return
        if self.field.max_rows is not None and self.table.rowCount() >= self.field.max_rows:
            self.add_button.setEnabled(False)
            return
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, item in enumerate(self.field.items):
            text = (person or {}).get(item.id, "")
            if item.kind is FieldKind.DATE and text:
                # shown as on the form (和暦, Western for a foreign resident), read back by
                # normalize_date_input
                text = display_item(item, person or {}, "ja")
            if item.kind is FieldKind.CHOICE:
                # a choice is picked from its labels, never typed as an internal code
                combo = QComboBox()
                combo.addItem("", "")
                for choice in item.choices:
                    combo.addItem(choice.label["ja"], choice.value)
                combo.setCurrentIndex(max(combo.findData(text), 0))
                self.table.setCellWidget(r, c, combo)
            else:
                self.table.setItem(r, c, QTableWidgetItem(text))
        limit = self.field.max_rows
        self.add_button.setEnabled(limit is None or self.table.rowCount() < limit)

    def set_cell(self, row: int, item_id: str, text: str) -> None:
        """Type into a cell (tests and the tour use this the way a clerk types)."""
        assert self.field is not None
        while self.table.rowCount() <= row:
            self.add_row()
        column = [i.id for i in self.field.items].index(item_id)
        combo = self.table.cellWidget(row, column)
        if isinstance(combo, QComboBox):
            combo.setCurrentIndex(max(combo.findData(text), 0))
        else:
            self.table.setItem(row, column, QTableWidgetItem(text))

    def value(self) -> str:
        if self.field is None:
            return ""
        rows = []
        for r in range(self.table.rowCount()):
            person = {}
            for c, item in enumerate(self.field.items):
                combo = self.table.cellWidget(r, c)
                cell = self.table.item(r, c)
                if isinstance(combo, QComboBox):
                    person[item.id] = str(combo.currentData() or "")
                else:
                    text = cell.text().strip() if cell is not None else ""
                    if item.kind is FieldKind.DATE and text:
                        text = normalize_date_input(text)  # 昭和33年4月12日 → 19580412
                    person[item.id] = text
            rows.append(person)
        return encode_person_rows(rows)
