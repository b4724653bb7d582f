"""Alembic environment: uses the caller's connection when given (the app's own engine,
with its SQLite pragmas), otherwise the configured database URL."""

from __future__ import annotations

from alembic import context
from kiosk.config import load_settings
from kiosk.storage.db import Database
from kiosk.storage.models import Base

target_metadata = Base.metadata


def run_migrations(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things in place
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or (
        load_settings().effective_database_url
    )
    db = Database(url)
    with db.engine.begin() as conn:
        run_migrations(conn)
    db.dispose()
