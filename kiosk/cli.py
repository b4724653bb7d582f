"""Qt-free command-line tools: database, templates, doctor, cards, payment QR codes."""

from __future__ import annotations

import argparse

from kiosk import card_cli, form_cli, qr_cli
from kiosk.clock import SystemClock
from kiosk.config import Settings
from kiosk.context import open_database
from kiosk.storage.migrate import current_revision


def db_upgrade(settings: Settings) -> int:
    db = open_database(settings, SystemClock())
    try:
        print(f"database at revision {current_revision(db)} ({db.engine.dialect.name})")
    finally:
        db.dispose()
    return 0


def admin_password(settings: Settings, args: argparse.Namespace) -> int:
    import getpass
    import sys

    from kiosk.admin_accounts import AdminAccounts, WeakPassword
    from kiosk.i18n import tr

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("新しい管理者パスワード / new administrator password: ")
        if getpass.getpass("もう一度 / again: ") != password:
            sys.stderr.write("一致しません / the passwords differ\n")
            return 1
    db = open_database(settings, SystemClock())
    try:
        AdminAccounts(db, SystemClock()).set_password(args.name, password, actor="cli")
    except WeakPassword as exc:
        sys.stderr.write(tr(exc.message_key, "ja", **exc.params) + "\n")
        return 1
    finally:
        db.dispose()
    print(f"password set for {args.name}")
    return 0


def payment_key(args: argparse.Namespace) -> int:
    """Store a provider's API key in the OS keyring (never in config.toml)."""
    import getpass
    import sys

    from devices.credentials import store_api_key
    from devices.errors import PaymentCredentialMissing
    from kiosk.i18n import tr

    if args.key_stdin:
        key = sys.stdin.readline().strip()
    else:
        key = getpass.getpass(f"API key for {args.provider}: ").strip()
    if not key:
        sys.stderr.write("no key given\n")
        return 1
    try:
        store_api_key(args.provider, key)
    except PaymentCredentialMissing as exc:
        sys.stderr.write(tr(exc.message_key) + "\n")
        return 1
    print(f"key for {args.provider} stored in the OS keyring")
    return 0


def payment_sim(args: argparse.Namespace) -> int:
    from devices.payment_sim_server import main as serve

    return serve(["--port", str(args.port), "--delay", str(args.delay), "--ttl", str(args.ttl)])


def doctor(settings: Settings) -> int:
    from kiosk.doctor import report, run_checks

    return report(run_checks(settings))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or upgrade the database schema")
    form_cli.add_parsers(sub)
    password = sub.add_parser("admin-password", help="set an administrator's password")
    password.add_argument("--name", default="admin")
    password.add_argument("--password-stdin", action="store_true")
    sub.add_parser("doctor", help="check every dependency and say what to fix")
    key = sub.add_parser("payment-key", help="store a payment provider's API key in the keyring")
    key.add_argument("--provider", default="http")
    key.add_argument("--key-stdin", action="store_true")
    sim = sub.add_parser(
        "payment-sim", help="the simulated payment provider as an HTTP service on 127.0.0.1"
    )
    sim.add_argument("--port", type=int, default=0)
    sim.add_argument("--delay", type=float, default=4.0, help="seconds until paid (-1: never)")
    sim.add_argument("--ttl", type=float, default=300.0)
    card_cli.add_parsers(sub)
    qr_cli.add_parsers(sub)


def run(args: argparse.Namespace, settings: Settings) -> int | None:
    """Run a Qt-free command; None if ``args`` names a Qt command."""
    if args.command == "db":
        return db_upgrade(settings)
    if args.command in ("templates", "form", "fees"):
        return form_cli.run(args, settings)
    if args.command == "doctor":
        return doctor(settings)
    if args.command == "admin-password":
        return admin_password(settings, args)
    if args.command == "card":
        return card_cli.run(args)
    if args.command == "qr":
        return qr_cli.run(args)
    if args.command == "payment-key":
        return payment_key(args)
    if args.command == "payment-sim":
        return payment_sim(args)
    return None
