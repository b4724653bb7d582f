"""Finding and registering the Japanese fonts every printed form uses.

Two roles: GOTHIC for labels and headings, MINCHO for the values a resident supplied.
``find_font_file`` only looks at the file system, so the Qt UI can hand the same file
to ``QFontDatabase.addApplicationFont``; ``register_fonts`` loads them into reportlab.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOTHIC = "gothic"
MINCHO = "mincho"
ROLES = (GOTHIC, MINCHO)

#: reportlab font names; stable so the renderer can refer to them without a lookup
FAMILIES = {GOTHIC: "KioskGothic", MINCHO: "KioskMincho"}

FONT_DIR_ENV = "KIOSK_FONT_DIR"
REPO_FONT_DIR = Path(__file__).resolve().parent.parent / "resources" / "fonts"

# File names looked for in KIOSK_FONT_DIR and resources/fonts, best first.
_FOLDER_NAMES = {
    GOTHIC: ("ipaexg.ttf", "BIZUDGothic-Regular.ttf", "BIZ-UDGothicR.ttc", "ipag.ttf"),
    MINCHO: ("ipaexm.ttf", "BIZUDMincho-Regular.ttf", "BIZ-UDMinchoM.ttc", "ipam.ttf"),
}
_DEBIAN = {
    GOTHIC: (
        "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
        "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    ),
    MINCHO: (
        "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        "/usr/share/fonts/truetype/ipaexfont-mincho/ipaexm.ttf",
        "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
    ),
}
_WINDOWS_NAMES = {
    GOTHIC: ("BIZ-UDGothicR.ttc", "msgothic.ttc"),
    MINCHO: ("BIZ-UDMinchoM.ttc", "msmincho.ttc"),
}
# Hiragino ships CFF outlines on many macOS versions, which reportlab cannot embed;
# register_fonts skips such files and keeps looking.
_MACOS = {
    GOTHIC: ("/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",),
    MINCHO: ("/System/Library/Fonts/ヒラギノ明朝 ProN.ttc",),
}

INSTALL_HINT = (
    "install them with `apt-get install fonts-ipaexfont-gothic fonts-ipaexfont-mincho`, "
    f"or copy ipaexg.ttf and ipaexm.ttf into {REPO_FONT_DIR} (or the folder named by "
    f"${FONT_DIR_ENV})"
)


class FontMissing(RuntimeError):
    """No usable font file exists for ``role``; ``searched`` lists every path tried."""

    def __init__(self, role: str, searched: list[Path]) -> None:
        self.role = role
        self.searched = list(searched)
        tried = "\n  ".join(str(p) for p in self.searched) or "(no candidate paths)"
        super().__init__(
            f"No usable {role} Japanese font (IPAex{'Gothic' if role == GOTHIC else 'Mincho'}) "
            f"found; {INSTALL_HINT}.\nSearched:\n  {tried}"
        )


@dataclass(frozen=True)
class FontInfo:
    role: str
    #: the name registered with reportlab (``canvas.setFont(info.family, size)``)
    family: str
    path: Path


def _windows_font_dirs() -> Iterator[Path]:
    yield Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    local = os.environ.get("LOCALAPPDATA")
    if local:
        yield Path(local) / "Microsoft" / "Windows" / "Fonts"


def candidate_paths(role: str) -> list[Path]:
    """Every path ``role`` may be loaded from, in search order (existing or not)."""
    if role not in ROLES:
        raise ValueError(f"unknown font role {role!r}; expected one of {ROLES}")
    folders: list[Path] = []
    env_dir = os.environ.get(FONT_DIR_ENV)
    if env_dir:
        folders.append(Path(env_dir))
    folders.append(REPO_FONT_DIR)
    paths = [folder / name for folder in folders for name in _FOLDER_NAMES[role]]
    paths += [Path(p) for p in _DEBIAN[role]]
    paths += [d / name for d in _windows_font_dirs() for name in _WINDOWS_NAMES[role]]
    paths += [Path(p) for p in _MACOS[role]]
    return paths


def find_font_file(role: str) -> Path | None:
    """The first existing font file for ``role``, without touching reportlab."""
    return next((p for p in candidate_paths(role) if p.is_file()), None)


_lock = threading.Lock()
_registered: dict[str, FontInfo] = {}


def _load_ttfont(family: str, path: Path) -> Any:
    from reportlab.pdfbase.ttfonts import TTFont

    # .ttc collections hold several faces; index 0 is the fixed-pitch regular one
    # (MS Gothic, BIZ UDGothic), which is what a form wants.
    return TTFont(family, str(path), subfontIndex=0)


def _register(role: str) -> FontInfo:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError

    family = FAMILIES[role]
    tried: list[Path] = []
    for path in candidate_paths(role):
        tried.append(path)
        if not path.is_file():
            continue
        try:
            font = _load_ttfont(family, path)
        except (TTFError, OSError):
            continue  # e.g. CFF-flavoured OpenType: try the next candidate
        pdfmetrics.registerFont(font)
        return FontInfo(role=role, family=family, path=path)
    raise FontMissing(role, tried)


def register_fonts() -> dict[str, FontInfo]:
    """Register both roles with reportlab once per process; later calls hit the cache."""
    with _lock:
        for role in ROLES:
            if role not in _registered:
                _registered[role] = _register(role)
        return dict(_registered)


def _char_map(role: str) -> dict[int, int]:
    from reportlab.pdfbase import pdfmetrics

    info = register_fonts()[role]
    char_to_glyph: dict[int, int] = pdfmetrics.getFont(info.family).face.charToGlyph
    return char_to_glyph


def font_has_char(role: str, ch: str) -> bool:
    """True if the ``role`` font has a glyph for the single character ``ch``."""
    if len(ch) != 1:
        raise ValueError(f"expected one character, got {ch!r}")
    return ord(ch) in _char_map(role)


def missing_chars(role: str, text: str) -> str:
    """The distinct characters of ``text`` the ``role`` font would print as blank boxes."""
    cmap = _char_map(role)
    seen: dict[str, None] = {}
    for ch in text:
        if ord(ch) not in cmap and not ch.isspace():
            seen.setdefault(ch)
    return "".join(seen)
