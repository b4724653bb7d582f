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
#: IPAmj明朝 (the 戸籍 character set): drawn only for characters the two roles lack, and
#: only after a clerk decided so; optional, so it is not one of ROLES
FALLBACK = "fallback"

#: reportlab font names; stable so the renderer can refer to them without a lookup
FAMILIES = {GOTHIC: "KioskGothic", MINCHO: "KioskMincho", FALLBACK: "KioskFallbackMincho"}

FONT_DIR_ENV = "KIOSK_FONT_DIR"
REPO_FONT_DIR = Path(__file__).resolve().parent.parent / "resources" / "fonts"

# File names looked for in KIOSK_FONT_DIR and resources/fonts, best first.
_FOLDER_NAMES = {
    GOTHIC: ("ipaexg.ttf", "BIZUDGothic-Regular.ttf", "BIZ-UDGothicR.ttc", "ipag.ttf"),
    MINCHO: ("ipaexm.ttf", "BIZUDMincho-Regular.ttf", "BIZ-UDMinchoM.ttc", "ipam.ttf"),
    FALLBACK: ("ipamjm.ttf",),
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
    FALLBACK: ("/usr/share/fonts/truetype/ipamj/ipamjm.ttf",),  # Debian fonts-ipamj-mincho
}
_WINDOWS_NAMES = {
    GOTHIC: ("BIZ-UDGothicR.ttc", "msgothic.ttc"),
    MINCHO: ("BIZ-UDMinchoM.ttc", "msmincho.ttc"),
    FALLBACK: ("ipamjm.ttf",),  # installed "for all users" from the IPA download
}
# Hiragino ships CFF outlines on many macOS versions, which reportlab cannot embed;
# register_fonts skips such files and keeps looking.
_MACOS = {
    GOTHIC: ("/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",),
    MINCHO: ("/System/Library/Fonts/ヒラギノ明朝 ProN.ttc",),
    FALLBACK: (),
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
    if role not in (*ROLES, FALLBACK):
        raise ValueError(f"unknown font role {role!r}; expected one of {(*ROLES, FALLBACK)}")
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
        _fix_astral_to_unicode()
        for role in ROLES:
            if role not in _registered:
                _registered[role] = _register(role)
        return {role: _registered[role] for role in ROLES}


_fallback_tried = False


def register_fallback() -> FontInfo | None:
    """Register IPAmj明朝 on first use (it is 46 MB); None when it is not installed."""
    global _fallback_tried
    with _lock:
        if not _fallback_tried:
            _fallback_tried = True
            _fix_astral_to_unicode()
            try:
                _registered[FALLBACK] = _register(FALLBACK)
            except FontMissing:
                pass
        return _registered.get(FALLBACK)


def font_info(role: str) -> FontInfo | None:
    """The registered font of ``role`` (the fallback only if installed)."""
    return register_fallback() if role == FALLBACK else register_fonts()[role]


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """A ToUnicode CMap whose targets are UTF-16BE, as the PDF format requires: reportlab
    writes a code point above U+FFFF as five hex digits, which text extraction rejects, so
    a printed 𠮷 (U+20BB7) would not read back as itself."""

    def utf16(code: int) -> str:
        return chr(code).encode("utf-16-be", "surrogatepass").hex().upper()

    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            f"/CIDSystemInfo << /Registry ({fontname}) /Ordering ({fontname}) /Supplement 0 >> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *(f"<{i:02X}> <{utf16(code)}>" for i, code in enumerate(subset)),
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def _fix_astral_to_unicode() -> None:
    """Swap in ``_to_unicode_cmap`` while reportlab's own one mis-encodes astral characters
    (checked on a probe, so a fixed reportlab keeps its own)."""
    from reportlab.pdfbase import ttfonts

    current = ttfonts.makeToUnicodeCMap
    if current is not _to_unicode_cmap and "<20BB7>" in current("probe", [0x20BB7]):
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap


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
