"""Message catalogs shared by the UI, printing and the command line.

Catalogs are JSON files in ``resources/i18n`` keyed by message id. Japanese (``ja``) is
the reference catalog: every other catalog may omit keys (they fall back to Japanese)
but must not add keys or change ``{placeholders}`` (tests/unit/test_i18n.py checks).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from forms.localized import pick

__all__ = ["LANGUAGES", "pick", "tr"]

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
CATALOG_DIR = RESOURCES / "i18n"
REFERENCE_LANGUAGE = "ja"


@dataclass(frozen=True)
class Language:
    code: str
    native_name: str


# Order is the order of the buttons on the start screen.
LANGUAGES: tuple[Language, ...] = (
    Language("ja", "日本語"),
    Language("ja-easy", "やさしい日本語"),
    Language("en", "English"),
)


@cache
def load_catalog(code: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{code}.json"
    with path.open(encoding="utf-8") as fh:
        data: dict[str, str] = json.load(fh)
    return data


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def tr(key: str, language: str = REFERENCE_LANGUAGE, **params: Any) -> str:
    """Translate ``key`` into ``language``; fall back to Japanese, then to the key."""
    text = load_catalog(language).get(key) if language in available_codes() else None
    if text is None:
        text = load_catalog(REFERENCE_LANGUAGE).get(key, key)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        # A broken translation must not crash a resident's session.
        return load_catalog(REFERENCE_LANGUAGE).get(key, key).format(**params)


def available_codes() -> tuple[str, ...]:
    return tuple(lang.code for lang in LANGUAGES)
