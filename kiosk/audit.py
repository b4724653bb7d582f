"""Audit events: who, what, when, which object. Details are codes and ids only;
the caller must never pass a personal value (names, addresses, numbers, free text)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kiosk.storage.models import AuditEventRow

_SAFE_DETAIL_TYPES = (int, bool, type(None))


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: object = None,
    **detail: str | int | bool | None,
) -> None:
    for key, value in detail.items():
        # Strings are allowed only as short codes (status names, field ids, fee codes).
        if not isinstance(value, _SAFE_DETAIL_TYPES) and not (
            isinstance(value, str) and value.isascii() and len(value) <= 64
        ):
            raise ValueError(f"audit detail {key!r} must be a short ASCII code")
    session.add(
        AuditEventRow(
            at=at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            detail=dict(detail),
        )
    )
