"""The merchant a payment code is issued for: a small typed config, loadable from TOML or
JSON. The default is a demo merchant that is plainly not payable."""

from __future__ import annotations

import json
import tomllib
import unicodedata
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from devices.emv.rules import is_ans, is_numeric

#: JPQR 統一店舗識別コード levels 01-04 (mercari/go-emv-code mpm/jpqr/id.go)
JPQR_ID_PARTS = (13, 4, 6, 6)
DEMO_MERCHANT_ID = "0000000000000-0000-000000-000000"


class MerchantConfigError(ValueError):
    """A merchant setting that cannot go into a payment code; names the setting."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key
        super().__init__(f"merchant setting {key!r}: {detail}")


@dataclass(frozen=True)
class MerchantConfig:
    #: the JPQR ID written as its four levels, 13-4-6-6 characters joined by "-"
    merchant_id: str = DEMO_MERCHANT_ID
    #: tag 59 and 60: printable ASCII (EMVCo "ans"), at most 25 and 15 characters
    name: str = "DEMO NOT PAYABLE"
    city: str = "MATSUURA"
    #: tag 61: the 7-digit 郵便番号, a hyphen allowed
    postal_code: str = "000-0000"
    #: tag 52: ISO 18245; the acquirer assigns the real one (9399: government services)
    mcc: str = "9399"
    #: template 64 with the Japanese name; off keeps the payload ASCII, so the QR image
    #: needs no ECI header (many readers do not support ECI)
    language_template: bool = False
    name_ja: str = "デモ用・支払不可"

    def __post_init__(self) -> None:
        parts = self.merchant_id.split("-")
        if tuple(len(p) for p in parts) != JPQR_ID_PARTS or not all(map(is_ans, parts)):
            raise MerchantConfigError("merchant_id", "four parts of 13-4-6-6 characters")
        for key, value, limit in (("name", self.name, 25), ("city", self.city, 15)):
            if not 1 <= len(value) <= limit or not is_ans(value):
                raise MerchantConfigError(key, f"1-{limit} printable ASCII characters")
        if not (len(self.postal_digits) == 7 and is_numeric(self.postal_digits)):
            raise MerchantConfigError("postal_code", "7 digits, e.g. 123-4567")
        if not (len(self.mcc) == 4 and is_numeric(self.mcc)):
            raise MerchantConfigError("mcc", "4 digits")
        ja = unicodedata.normalize("NFC", self.name_ja)
        if not 1 <= len(ja) <= 25 or not ja.isprintable():
            raise MerchantConfigError("name_ja", "1-25 printable characters")

    @property
    def jpqr_id_parts(self) -> tuple[str, ...]:
        return tuple(self.merchant_id.split("-"))

    @property
    def postal_digits(self) -> str:
        return self.postal_code.replace("-", "")

    @property
    def is_demo(self) -> bool:
        """The placeholder merchant: its codes can never move money."""
        return self.merchant_id == DEMO_MERCHANT_ID


DEMO_MERCHANT = MerchantConfig()


def load_merchant_config(path: Path) -> MerchantConfig:
    """Read a ``.toml`` or ``.json`` file of the fields above (missing ones keep the
    demo values); raise MerchantConfigError naming the bad setting."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MerchantConfigError("file", f"cannot read {path}: {exc.strerror}") from None
    try:
        raw: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise MerchantConfigError("file", f"{path} does not parse: {exc}") from None
    if not isinstance(raw, dict):
        raise MerchantConfigError("file", "the file holds one table of settings")
    known = {f.name: f for f in fields(MerchantConfig)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise MerchantConfigError(key, f"unknown; the settings are {', '.join(known)}")
        wanted = bool if key == "language_template" else str
        if type(value) is not wanted:
            raise MerchantConfigError(key, f"must be a {wanted.__name__}")
        values[key] = value
    return MerchantConfig(**values)
