"""The municipality's fee table: amounts by fee code that override the templates'
defaults, so a fee changes without a new template version.

Precedence: template default < `fee_overrides` in config.toml < the table in the database
(edited by administrators; every change audited). Read through a short cache, because
several counters may share one PostgreSQL database.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from sqlalchemy import select

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import ValidationFailed
from kiosk.storage.db import Database
from kiosk.storage.models import FeeOverrideRow

MAX_FEE_YEN = 100_000
CACHE_S = 10.0


class FeeTable:
    def __init__(self, db: Database, clock: Clock, configured: Mapping[str, int]) -> None:
        self._db = db
        self._clock = clock
        self._configured = dict(configured)
        self._lock = threading.Lock()
        self._cached: dict[str, int] | None = None
        self._read_at = 0.0

    def current(self) -> dict[str, int]:
        with self._lock:
            fresh = self._clock.monotonic() - self._read_at < CACHE_S
            if self._cached is not None and fresh:
                return dict(self._cached)
        with self._db.read() as session:
            stored = {row.code: row.amount for row in session.scalars(select(FeeOverrideRow))}
        table = {**self._configured, **stored}
        with self._lock:
            self._cached, self._read_at = table, self._clock.monotonic()
        return dict(table)

    def set(self, code: str, amount: int, actor: str, known_codes: set[str]) -> None:
        """Set one fee code's amount (yen). Refuses unknown codes and absurd amounts."""
        if code not in known_codes:
            raise ValidationFailed("fee_unknown_code")
        if not 0 <= amount <= MAX_FEE_YEN:
            raise ValidationFailed("fee_out_of_range")
        now = self._clock.now()
        with self._db.write() as session:
            row = session.get(FeeOverrideRow, code)
            previous = row.amount if row is not None else None
            if row is None:
                session.add(
                    FeeOverrideRow(code=code, amount=amount, updated_by=actor, updated_at=now)
                )
            else:
                row.amount, row.updated_by, row.updated_at = amount, actor, now
            audit.record(
                session,
                at=now,
                actor=actor,
                action="fee_changed",
                object_type="fee_code",
                object_id=code,
                amount=amount,
                previous=previous,
            )
        with self._lock:
            self._cached = None
