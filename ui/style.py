"""Build the resident stylesheet from resources/styles/kiosk.qss for a theme and text scale."""

from __future__ import annotations

import re
from functools import cache

from kiosk.i18n import RESOURCES

THEMES: dict[str, dict[str, str]] = {
    "standard": {
        "BG": "#fbfaf6",
        "FG": "#141414",
        "MUTED": "#4a4a4a",
        "PANEL": "#ffffff",
        "PRESSED": "#d9d9d9",
        "PRIMARY": "#13306b",
        "PRIMARY_FG": "#ffffff",
        "ALERT": "#8a1c00",
        "ALERT_BG": "#fff1e6",
        "OVERLAY": "rgba(0, 0, 0, 150)",
    },
    "high_contrast": {
        "BG": "#000000",
        "FG": "#ffffff",
        "MUTED": "#e0e0e0",
        "PANEL": "#000000",
        "PRESSED": "#404040",
        "PRIMARY": "#ffe600",
        "PRIMARY_FG": "#000000",
        "ALERT": "#ffe600",
        "ALERT_BG": "#000000",
        "OVERLAY": "rgba(0, 0, 0, 200)",
    },
}


@cache
def _template() -> str:
    return (RESOURCES / "styles" / "kiosk.qss").read_text(encoding="utf-8")


def resident_stylesheet(theme: str = "standard", scale: float = 1.0) -> str:
    colours = THEMES[theme]
    text = re.sub(r"@S\((\d+)\)@", lambda m: str(round(int(m.group(1)) * scale)), _template())
    return re.sub(r"@([A-Z_]+)@", lambda m: colours[m.group(1)], text)
