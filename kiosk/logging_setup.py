"""Logging with a redacting safety net (LOG-01): the primary control is that no code logs
resident data; this filter additionally masks digit runs that look like a My Number or a
birth date, in case a message slips through."""

from __future__ import annotations

import faulthandler
import logging
import re
import sys
from pathlib import Path

_PATTERNS = (
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "<12 digits>"),
    (re.compile(r"(?<!\d)(19|20)\d{6}(?!\d)"), "<date>"),
    # the code logs in English: Japanese text in a record is resident data (names,
    # addresses) that slipped in through an exception message
    (re.compile(r"[^\x00-\x7f]+"), "<text>"),
)
_FORMATTER = logging.Formatter()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # formatted here once, redacted; handlers reuse exc_text instead of re-formatting
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return True


def setup_logging(log_dir: Path | None, *, verbose: bool = False) -> None:
    """INFO and up to the rotating log file; the console shows warnings (all with verbose)."""
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    handlers: list[logging.Handler] = [console]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        from logging.handlers import RotatingFileHandler

        handlers.append(
            RotatingFileHandler(
                log_dir / "kiosk.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
            )
        )
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, handlers=handlers, force=True
    )
    if not faulthandler.is_enabled() and sys.stderr is not None:
        faulthandler.enable()
