"""Administrator accounts: argon2id password hashes, a lockout after repeated failures,
and an audit entry for every sign-in attempt (LEG-07/08)."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import UserFacingError
from kiosk.storage.db import Database
from kiosk.storage.models import AdminAccountRow

MIN_PASSWORD_LENGTH = 10
MAX_FAILURES = 5
LOCKOUT_S = 300.0


class SignInFailed(UserFacingError):
    message_key = "admin_sign_in_failed"


class SignInLocked(UserFacingError):
    message_key = "admin_locked"


class WeakPassword(UserFacingError):
    message_key = "admin_weak_password"


class AdminAccounts:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._hasher = PasswordHasher()  # argon2id with the library's current parameters
        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

    def exists(self) -> bool:
        with self._db.read() as session:
            return session.query(AdminAccountRow).first() is not None

    def set_password(self, name: str, password: str, actor: str) -> None:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise WeakPassword(n=MIN_PASSWORD_LENGTH)
        digest = self._hasher.hash(password)
        now = self._clock.now()
        with self._db.write() as session:
            row = session.get(AdminAccountRow, name)
            if row is None:
                session.add(AdminAccountRow(name=name, password_hash=digest, updated_at=now))
            else:
                row.password_hash, row.updated_at = digest, now
            audit.record(
                session,
                at=now,
                actor=actor,
                action="admin_password_set",
                object_type="admin",
                object_id=name,
            )

    def sign_in(self, name: str, password: str) -> None:
        """Raises SignInFailed (unknown name or wrong password, indistinguishably) or
        SignInLocked after too many failures in a row."""
        now = self._clock.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if now - t < LOCKOUT_S]
            self._failures[name] = recent
            if len(recent) >= MAX_FAILURES:
                raise SignInLocked()
        with self._db.read() as session:
            row = session.get(AdminAccountRow, name)
            digest = row.password_hash if row is not None else None
        ok = False
        if digest is not None:
            try:
                ok = self._hasher.verify(digest, password)
            except (VerificationError, InvalidHashError):
                ok = False
        with self._db.write() as session:
            audit.record(
                session,
                at=self._clock.now(),
                actor=name,
                action="admin_sign_in" if ok else "admin_sign_in_failed",
                object_type="admin",
                object_id=name,
            )
        if not ok:
            with self._lock:
                self._failures.setdefault(name, []).append(now)
            raise SignInFailed()
        with self._lock:
            self._failures.pop(name, None)
