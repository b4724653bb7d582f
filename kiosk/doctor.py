"""`python main.py doctor`: is each dependency usable, and what to do if not."""

from __future__ import annotations

import importlib
import importlib.metadata
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.config import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    blocking: bool = True


def _package(module: str, pip_name: str, blocking: bool = True) -> Check:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - any import failure means "not usable"
        return Check(
            f"python: {pip_name}",
            False,
            type(exc).__name__,
            f"make setup-run (or: .venv/bin/pip install {pip_name})",
            blocking,
        )
    del mod
    try:
        version = importlib.metadata.version(pip_name)
    except importlib.metadata.PackageNotFoundError:
        version = "(version unknown)"
    return Check(f"python: {pip_name}", True, version)


def check_packages() -> list[Check]:
    return [
        _package("PySide6", "PySide6"),
        _package("smartcard", "pyscard", blocking=False),
        _package("qrcode", "qrcode"),
        _package("segno", "segno"),
        _package("reportlab", "reportlab"),
        _package("sqlalchemy", "SQLAlchemy"),
        _package("alembic", "alembic"),
        _package("keyring", "keyring", blocking=False),
        _package("platformdirs", "platformdirs"),
    ]


def check_fonts() -> list[Check]:
    from printing.fonts import INSTALL_HINT, FontMissing, register_fonts

    try:
        fonts = register_fonts()
    except FontMissing as exc:
        return [Check("fonts", False, str(exc).splitlines()[0], INSTALL_HINT)]
    sample = "髙﨑"
    from printing.fonts import missing_chars

    checks = []
    for role, info in fonts.items():
        lacking = missing_chars(role, sample)
        checks.append(
            Check(
                f"font: {role}",
                not lacking,
                f"{info.path}",
                "install IPAex fonts (JIS X 0213 name kanji)" if lacking else "",
            )
        )
    return checks


def check_pcsc(settings: Settings) -> list[Check]:
    blocking = settings.card_reader == "pcsc"
    try:
        from smartcard.System import readers
    except Exception as exc:  # noqa: BLE001
        return [
            Check(
                "pc/sc",
                False,
                type(exc).__name__,
                "apt-get install pcscd libpcsclite-dev swig; make setup-run",
                blocking,
            )
        ]
    try:
        found = readers()
    except Exception as exc:  # noqa: BLE001 - pcscd not running raises several types
        return [
            Check(
                "pc/sc service",
                False,
                type(exc).__name__,
                "start pcscd (systemctl start pcscd.socket)",
                blocking,
            )
        ]
    names = ", ".join(str(r) for r in found) or "no readers"
    return [
        Check(
            "pc/sc service",
            True,
            names,
            "" if found else "connect a PC/SC card reader",
            blocking and not found,
        )
    ]


def check_printer(settings: Settings) -> list[Check]:
    if settings.printer in ("simulated", "folder"):
        folder = settings.print_output_dir
        return [Check("printer", True, f"{settings.printer}: PDFs go to {folder}")]
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return [Check("printer", False, "CUPS not installed", "apt-get install cups")]
    result = subprocess.run([lpstat, "-p"], capture_output=True, text=True, timeout=10, check=False)
    return [
        Check(
            "printer",
            result.returncode == 0,
            result.stdout.strip()[:120] or result.stderr.strip()[:120],
            "check the CUPS printer",
        )
    ]


def check_database(settings: Settings) -> list[Check]:
    from kiosk.clock import SystemClock
    from kiosk.context import open_database
    from kiosk.storage.migrate import current_revision, head_revision

    try:
        db = open_database(settings, SystemClock())
    except Exception as exc:  # noqa: BLE001
        return [
            Check(
                "database",
                False,
                type(exc).__name__,
                "check KIOSK_DATABASE_URL / the data folder permissions",
            )
        ]
    try:
        current, head = current_revision(db), head_revision(db)
        backend = db.engine.dialect.name
    finally:
        db.dispose()
    return [
        Check(
            "database",
            current == head,
            f"{backend} at revision {current}",
            "python main.py db upgrade",
        )
    ]


def check_keyring() -> list[Check]:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001
        return [Check("keyring", False, type(exc).__name__, "", blocking=False)]
    name = type(backend).__name__
    usable = "fail" not in type(backend).__module__
    return [
        Check(
            "keyring",
            usable,
            name,
            ""
            if usable
            else "install a keyring backend (only needed for a payment provider with credentials)",
            blocking=False,
        )
    ]


def run_checks(settings: Settings) -> list[Check]:
    groups: list[Callable[[], list[Check]]] = [
        check_packages,
        check_fonts,
        lambda: check_pcsc(settings),
        lambda: check_printer(settings),
        lambda: check_database(settings),
        check_keyring,
    ]
    checks: list[Check] = []
    for group in groups:
        checks.extend(group())
    return checks


def report(checks: list[Check]) -> int:
    for check in checks:
        mark = "ok " if check.ok else ("ERR" if check.blocking else "warn")
        print(f"[{mark:>4}] {check.name:<22} {check.detail}")
        if not check.ok and check.fix:
            print(f"        → {check.fix}")
    failing = [c for c in checks if not c.ok and c.blocking]
    print(
        "doctor: all blocking checks passed"
        if not failing
        else f"doctor: {len(failing)} blocking problem(s)"
    )
    return 1 if failing else 0
