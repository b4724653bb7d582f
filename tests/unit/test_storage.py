"""SQLite set-up, migrations, first-use installation and template immutability."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from kiosk.clock import FakeClock
from kiosk.config import load_settings
from kiosk.context import AppContext, open_database
from kiosk.storage.db import Database
from kiosk.storage.migrate import current_revision, head_revision
from kiosk.storage.models import FormTemplateRow
from kiosk.templates_repo import PublishedTemplateImmutable, shipped_templates

SHIPPED = len(shipped_templates())


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = open_database(load_settings(tmp_path / "sqlite"), FakeClock())
    yield db
    db.dispose()


def test_sqlite_connections_have_the_required_pragmas(sqlite_db: Database) -> None:
    with sqlite_db.read() as session:
        got = {
            name: session.execute(text(f"PRAGMA {name}")).scalar()
            for name in (
                "journal_mode",
                "synchronous",
                "busy_timeout",
                "foreign_keys",
                "secure_delete",
            )
        }
    assert got == {
        "journal_mode": "wal",
        "synchronous": 2,
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "secure_delete": 1,
    }


def test_write_transactions_begin_immediate_and_reads_do_not(sqlite_db: Database) -> None:
    statements: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("BEGIN"):
            statements.append(statement)

    event.listen(sqlite_db.engine, "before_cursor_execute", capture)
    try:
        with sqlite_db.write() as session:
            session.execute(text("SELECT 1"))
        with sqlite_db.read() as session:
            session.execute(text("SELECT 1"))
    finally:
        event.remove(sqlite_db.engine, "before_cursor_execute", capture)
    assert statements == ["BEGIN IMMEDIATE", "BEGIN"]


def test_a_fresh_data_folder_is_created_upgraded_and_seeded(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "fresh")
    db = open_database(settings, FakeClock())
    try:
        assert current_revision(db) == head_revision(db) == "0008"
        with db.read() as session:
            ids = sorted(r.template_id for r in session.scalars(select(FormTemplateRow)))
        assert ids == sorted(t.id for t in shipped_templates())
    finally:
        db.dispose()
    # a second start installs nothing twice
    db = open_database(settings, FakeClock())
    try:
        with db.read() as session:
            assert len(session.scalars(select(FormTemplateRow)).all()) == SHIPPED
    finally:
        db.dispose()


def test_published_templates_are_immutable(ctx: AppContext) -> None:
    def rename() -> None:
        with ctx.db.write() as session:
            row = session.scalars(select(FormTemplateRow)).first()
            assert row is not None
            row.title = "changed"

    with pytest.raises(PublishedTemplateImmutable):
        rename()
    with ctx.db.write() as session:  # retiring a version is allowed
        row = session.scalars(select(FormTemplateRow)).first()
        assert row is not None
        row.active = False


def test_the_schema_is_at_head_on_every_backend(ctx: AppContext) -> None:
    assert current_revision(ctx.db) == head_revision(ctx.db)
    with ctx.db.read() as session:
        assert len(session.scalars(select(FormTemplateRow)).all()) == SHIPPED
