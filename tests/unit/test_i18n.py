"""Message catalogs: Japanese is complete; translations add no keys and keep placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.i18n import LANGUAGES, load_catalog, placeholders, tr

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_catalog_keys_and_placeholders_match_japanese(code: str) -> None:
    reference = load_catalog("ja")
    catalog = load_catalog(code)
    assert set(catalog) <= set(reference)
    for key, text in catalog.items():
        assert placeholders(text) == placeholders(reference[key]), key


def test_english_is_complete_for_the_resident_screens() -> None:
    assert set(load_catalog("en")) == set(load_catalog("ja"))


def test_every_key_used_in_code_exists() -> None:
    used: set[str] = set()
    pattern = re.compile(r"""\btr\(\s*["']([a-z_]+)["']\s*[,)]""")
    key_attr = re.compile(r"""message_key = ["']([a-z_]+)["']|Message\(["']([a-z_]+)["']""")
    for folder in ("kiosk", "ui", "devices", "forms"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            used |= set(pattern.findall(source))
            used |= {a or b for a, b in key_attr.findall(source)}
    missing = used - set(load_catalog("ja"))
    assert not missing


def test_fallbacks() -> None:
    assert tr("wrong_pin", "en", n=2) == "Wrong PIN. 2 tries left"
    assert tr("kana_space", "ja-easy") == "空白"  # falls back to Japanese
    assert tr("no_such_key") == "no_such_key"


def test_keys_built_from_enums_exist() -> None:
    from forms.prefill import Provenance
    from kiosk.resident_flow import Screen
    from kiosk.status import Status

    keys = set(load_catalog("ja"))
    built = {f"status_{s.value}" for s in Status} | {f"screen_{s.value}" for s in Screen}
    built |= {f"prov_{p.value}" for p in Provenance} | {"method_cash", "method_cashless"}
    assert built <= keys
