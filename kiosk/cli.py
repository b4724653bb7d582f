"""Qt-free command-line tools: database, templates, doctor."""

from __future__ import annotations

import argparse

from kiosk import card_cli, form_cli
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


def doctor(settings: Settings) -> int:
    from kiosk.doctor import report, run_checks

    return report(run_checks(settings))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="create or upgrade the database schema")
    form_cli.add_parsers(sub)
    sub.add_parser("doctor", help="check every dependency and say what to fix")
    card_cli.add_parsers(sub)


def run(args: argparse.Namespace, settings: Settings) -> int | None:
    """Run a Qt-free command; None if ``args`` names a Qt command."""
    if args.command == "db":
        return db_upgrade(settings)
    if args.command in ("templates", "form", "fees"):
        return form_cli.run(args, settings)
    if args.command == "doctor":
        return doctor(settings)
    if args.command == "card":
        return card_cli.run(args)
    return None
