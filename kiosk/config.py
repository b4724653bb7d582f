"""Typed settings: defaults < config file (TOML) < environment (``KIOSK_*``) < command line."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "kakanai-kiosk"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    #: SQLAlchemy URL; empty means the embedded SQLite file in ``data_dir``
    database_url: str = ""
    municipality: str = "松浦市役所"
    department: str = "市民課"
    #: the addressee printed on forms (申請先)
    addressee: str = "松浦市長　様"
    #: device adapters by registry name (devices/registry.py)
    card_reader: str = "simulated"
    printer: str = "simulated"
    payment: str = "simulated"
    #: the CUPS queue (printer = "cups") or Qt printer (printer = "qt"); empty = default
    printer_queue: str = ""
    #: CUPS server as "host:port"; empty = libcups' default (CUPS_SERVER, client.conf)
    cups_server: str = ""
    #: seconds without a touch before the warning, and before the session is wiped
    idle_warning_s: float = 60.0
    idle_reset_s: float = 90.0
    #: simulated payment completes this many seconds after the QR is shown (negative: never)
    simulated_payment_delay_s: float = 4.0
    #: how long a payment QR stays valid
    payment_qr_ttl_s: float = 300.0
    #: payment = "http": the provider's API (https://…); its key is in the OS keyring
    payment_url: str = ""
    payment_timeout_s: float = 3.0
    #: payment = "local_jpqr": the municipality's own JPQR merchant ID (13-4-6-6 digits) and
    #: the ASCII merchant name and city printed into the code
    jpqr_merchant_id: str = ""
    jpqr_merchant_name: str = ""
    jpqr_merchant_city: str = ""
    #: tag 61 of a JPQR code: the municipality's 郵便番号
    jpqr_postal_code: str = ""
    #: municipality fee table: fee code -> amount in yen (overrides template defaults)
    fee_overrides: dict[str, int] = field(default_factory=dict)
    ticket_prefix: str = "A"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "kiosk.sqlite3"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @property
    def print_output_dir(self) -> Path:
        return self.data_dir / "printed"

    @property
    def config_file(self) -> Path:
        return self.data_dir / "config.toml"


_ENV_PREFIX = "KIOSK_"


def _coerce(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds[name])
    if name == "data_dir":
        return Path(raw).expanduser()
    if "float" in kind:
        return float(raw)
    if name == "fee_overrides":
        if isinstance(raw, dict):
            return {str(k): int(v) for k, v in raw.items()}
        # env form: "code=amount,code=amount"
        pairs = (item.split("=", 1) for item in str(raw).split(",") if item.strip())
        return {k.strip(): int(v) for k, v in pairs}
    return str(raw)


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, ``config.toml`` in the data dir, env and overrides."""
    env_dir = os.environ.get(_ENV_PREFIX + "DATA_DIR")
    base_dir = data_dir or (Path(env_dir).expanduser() if env_dir else default_data_dir())
    values: dict[str, Any] = {"data_dir": base_dir}
    config_file = base_dir / "config.toml"
    known = {f.name for f in fields(Settings)}
    if config_file.exists():
        with config_file.open("rb") as fh:
            for key, raw in tomllib.load(fh).items():
                if key in known and key != "data_dir":
                    values[key] = _coerce(key, raw)
    for name in known - {"data_dir"}:
        env = os.environ.get(_ENV_PREFIX + name.upper())
        if env is not None:
            values[name] = _coerce(name, env)
    for key, raw in overrides.items():
        if raw is not None:
            values[key] = _coerce(key, raw)
    settings = Settings(**values)
    if settings.idle_reset_s <= settings.idle_warning_s:
        settings = replace(settings, idle_reset_s=settings.idle_warning_s + 30)
    return settings
