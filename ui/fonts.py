"""Register the project's Japanese fonts with Qt, so the UI renders on machines without
Japanese system fonts."""

from __future__ import annotations

import logging

from PySide6.QtGui import QFont, QFontDatabase

from printing.fonts import FALLBACK, find_font_file

log = logging.getLogger(__name__)


def register_ui_fonts() -> str:
    """Add the Gothic (UI) and Mincho fonts; return the Gothic family name for the UI."""
    family = ""
    for role in ("gothic", "mincho"):
        path = find_font_file(role)
        if path is None:
            log.warning("no %s font found", role)
            continue
        font_id = QFontDatabase.addApplicationFont(str(path))
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if role == "gothic" and families:
            family = families[0]
    return family


_fallback_family: str | None = None


def fallback_ui_family() -> str:
    """IPAmj明朝's family for showing 外字 to staff, registered on first use (46 MB); ""
    when it is not installed."""
    global _fallback_family
    if _fallback_family is None:
        _fallback_family = ""
        path = find_font_file(FALLBACK)
        font_id = QFontDatabase.addApplicationFont(str(path)) if path is not None else -1
        families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if families:
            _fallback_family = families[0]
    return _fallback_family


def ui_font(family: str, pixel_size: int = 24) -> QFont:
    font = QFont(family) if family else QFont()
    font.setPixelSize(pixel_size)
    return font
