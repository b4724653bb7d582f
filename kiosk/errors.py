"""Error types the UI knows how to present.

A ``UserFacingError`` carries a message *key* and parameters, never resident data, so
that it can be translated and logged safely. Anything that is not a ``UserFacingError``
is an internal fault: the UI shows a generic message and the log keeps the traceback.
"""

from __future__ import annotations

from typing import Any

from devices.errors import DeviceError


class UserFacingError(Exception):
    """An error whose message key may be shown to a resident or a clerk."""

    #: key into the message catalogs (resources/i18n/*.json)
    message_key: str = "error_generic"

    def __init__(self, message_key: str | None = None, **params: Any) -> None:
        if message_key is not None:
            self.message_key = message_key
        self.params = params
        super().__init__(self.message_key)

    def __str__(self) -> str:  # never leak parameters into logs by accident
        return f"{type(self).__name__}({self.message_key})"


class Cancelled(Exception):
    """The user cancelled; show nothing."""


class IllegalTransition(UserFacingError):
    message_key = "error_illegal_transition"


class NotFound(UserFacingError):
    message_key = "error_not_found"


class ConcurrentUpdate(UserFacingError):
    """Another station changed or claimed the same application."""

    message_key = "error_concurrent_update"


class ValidationFailed(UserFacingError):
    message_key = "error_validation"


#: exceptions whose ``message_key`` and ``params`` may be shown to users
USER_FACING: tuple[type[Exception], ...] = (UserFacingError, DeviceError)


def message_of(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """Catalog key and parameters for an exception; internal faults get a generic text."""
    if isinstance(exc, USER_FACING):
        return exc.message_key, dict(exc.params)  # type: ignore[attr-defined]
    return "error_generic", {}
