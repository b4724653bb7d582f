"""The administrators' panel for one field: translations, help, who fills it, where a
pre-filled value comes from, its checks, and where it is printed on the form."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from forms.layout import Fit
from forms.model import FilledBy, Source
from kiosk.i18n import tr
from kiosk.template_editing import TemplateEdits

_NO_SOURCE = ""


def _spin(low: float, high: float, step: float = 0.5) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(1)
    return box


class FieldPanel(QWidget):
    """Shows the selected field of the working definition; ``apply_to`` records the
    administrator's changes into the pending edits."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("field_panel")
        self.field_id: str | None = None
        self._has_placement = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)

        about = QGroupBox(tr("admin_field_details"))
        form = QFormLayout(about)
        self.label_easy = QLineEdit()
        self.label_easy.setObjectName("field_label_easy")
        self.help_ja = QLineEdit()
        self.help_ja.setObjectName("field_help_ja")
        self.filled_by = QComboBox()
        self.filled_by.setObjectName("field_filled_by")
        for who in FilledBy:
            self.filled_by.addItem(tr(f"admin_filled_by_{who.value}"), who.value)
        self.source = QComboBox()
        self.source.setObjectName("field_source")
        self.source.addItem(tr("admin_no_source"), _NO_SOURCE)
        for src in Source:
            self.source.addItem(src.value, src.value)
        self.pattern = QLineEdit()
        self.pattern.setObjectName("field_pattern")
        self.max_length = QLineEdit()
        self.max_length.setObjectName("field_max_length")
        self.minimum = QLineEdit()
        self.minimum.setObjectName("field_min")
        self.maximum = QLineEdit()
        self.maximum.setObjectName("field_max")
        form.addRow(tr("admin_label_easy"), self.label_easy)
        form.addRow(tr("admin_help"), self.help_ja)
        form.addRow(tr("admin_filled_by"), self.filled_by)
        form.addRow(tr("admin_source"), self.source)
        form.addRow(tr("admin_pattern"), self.pattern)
        form.addRow(tr("admin_max_length"), self.max_length)
        range_row = QHBoxLayout()
        range_row.addWidget(self.minimum)
        range_row.addWidget(self.maximum)
        form.addRow(tr("admin_range"), range_row)
        outer.addWidget(about)

        self.place_box = QGroupBox(tr("admin_placement"))
        place = QFormLayout(self.place_box)
        self.place_page = QSpinBox()
        self.place_page.setRange(1, 20)
        self.place_page.setObjectName("place_page")
        self.place_x, self.place_y = _spin(0, 420), _spin(0, 420)
        self.place_w, self.place_h = _spin(1, 420), _spin(1, 420)
        self.place_size, self.place_min_size = _spin(4, 72), _spin(4, 72)
        for name, box in (
            ("x", self.place_x),
            ("y", self.place_y),
            ("w", self.place_w),
            ("h", self.place_h),
        ):
            box.setObjectName(f"place_{name}")
        self.place_size.setObjectName("place_size")
        self.place_min_size.setObjectName("place_min_size")
        self.place_fit = QComboBox()
        self.place_fit.setObjectName("place_fit")
        for rule in Fit:
            self.place_fit.addItem(tr(f"admin_fit_{rule.value}"), rule.value)
        xy = QHBoxLayout()
        xy.addWidget(self.place_x)
        xy.addWidget(self.place_y)
        wh = QHBoxLayout()
        wh.addWidget(self.place_w)
        wh.addWidget(self.place_h)
        sizes = QHBoxLayout()
        sizes.addWidget(self.place_size)
        sizes.addWidget(self.place_min_size)
        place.addRow(tr("admin_place_page"), self.place_page)
        place.addRow(tr("admin_place_xy"), xy)
        place.addRow(tr("admin_place_wh"), wh)
        place.addRow(tr("admin_place_size"), sizes)
        place.addRow(tr("admin_place_fit"), self.place_fit)
        outer.addWidget(self.place_box)
        self.apply_button = QPushButton(tr("admin_apply_field"))
        self.apply_button.setObjectName("apply_field")
        outer.addWidget(self.apply_button)
        self.setEnabled(False)

    def show_field(self, raw_field: dict[str, Any], placement: dict[str, Any] | None) -> None:
        self.field_id = str(raw_field["id"])
        self.setEnabled(True)
        self.label_easy.setText(raw_field.get("label", {}).get("ja-easy", ""))
        self.help_ja.setText(raw_field.get("help", {}).get("ja", ""))
        self.filled_by.setCurrentIndex(
            max(self.filled_by.findData(raw_field.get("filled_by", "resident")), 0)
        )
        self.source.setCurrentIndex(max(self.source.findData(raw_field.get("source", "")), 0))
        self.pattern.setText(raw_field.get("pattern", "") or "")
        for box, key in (
            (self.max_length, "max_length"),
            (self.minimum, "min"),
            (self.maximum, "max"),
        ):
            value = raw_field.get(key)
            box.setText("" if value is None else str(value))
        self._has_placement = placement is not None
        self.place_box.setVisible(placement is not None)
        if placement is not None:
            self.place_page.setValue(int(placement.get("page", 1)))
            for spin, key in (
                (self.place_x, "x"),
                (self.place_y, "y"),
                (self.place_w, "w"),
                (self.place_h, "h"),
            ):
                spin.setValue(float(placement.get(key, 1.0)))
            self.place_size.setValue(float(placement.get("size", 11.0)))
            self.place_min_size.setValue(
                float(placement.get("min_size", min(7.0, self.place_size.value())))
            )
            self.place_fit.setCurrentIndex(
                max(self.place_fit.findData(placement.get("fit", "shrink_wrap")), 0)
            )

    def apply_to(self, edits: TemplateEdits) -> str | None:
        """Record the panel into ``edits``; returns a problem key when a number is not one."""
        fid = self.field_id
        if fid is None:
            return None
        numbers: dict[str, int | None] = {}
        for box, key in (
            (self.max_length, "max_length"),
            (self.minimum, "min"),
            (self.maximum, "max"),
        ):
            text = box.text().strip()
            if text and not text.lstrip("-").isdigit():
                return "admin_not_a_number"
            numbers[key] = int(text) if text else None
        edits.labels_easy[fid] = self.label_easy.text().strip()
        edits.help_ja[fid] = self.help_ja.text().strip()
        edits.field_props[fid] = {
            "filled_by": self.filled_by.currentData(),
            "source": self.source.currentData() or None,
            "pattern": self.pattern.text().strip() or None,
            **numbers,
        }
        if self._has_placement:
            edits.placements[fid] = {
                "page": self.place_page.value(),
                "x": self.place_x.value(),
                "y": self.place_y.value(),
                "w": self.place_w.value(),
                "h": self.place_h.value(),
                "size": self.place_size.value(),
                "min_size": self.place_min_size.value(),
                "fit": self.place_fit.currentData(),
            }
        return None
