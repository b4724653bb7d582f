"""Qt-free command-line tools: database, templates, doctor."""

from __future__ import annotations

import argparse

from kiosk import card_cli
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


def templates_list(settings: Settings) -> int:
    from kiosk.templates_repo import TemplateRepository

    db = open_database(settings, SystemClock())
    try:
        for published in TemplateRepository(db).active():
            t = published.template
            fees = (
                ", ".join(
                    f"{r.code}={settings.fee_overrides.get(r.code, r.amount)}" for r in t.fees
                )
                or "no fee"
            )
            print(f"{t.id:<12} v{t.version}  {t.title['ja']}  [{fees}]")
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
    templates = sub.add_parser("templates", help="form templates")
    t_sub = templates.add_subparsers(dest="templates_command", required=True)
    t_sub.add_parser("list", help="list the active form templates")
    sub.add_parser("doctor", help="check every dependency and say what to fix")
    card_cli.add_parsers(sub)


def run(args: argparse.Namespace, settings: Settings) -> int | None:
    """Run a Qt-free command; None if ``args`` names a Qt command."""
    if args.command == "db":
        return db_upgrade(settings)
    if args.command == "templates":
        return templates_list(settings)
    if args.command == "doctor":
        return doctor(settings)
    if args.command == "card":
        return card_cli.run(args)
    return None
