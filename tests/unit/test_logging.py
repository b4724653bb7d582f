"""Logs never carry resident data, even through exception texts and tracebacks (LOG-01/02)."""

from __future__ import annotations

import io
import logging

from sqlalchemy import text

from kiosk.context import AppContext
from kiosk.logging_setup import RedactingFilter


def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("kiosk.test.redaction")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_exception_texts_and_tracebacks_are_redacted() -> None:
    logger, stream = capture()
    try:
        int("123456789018")
    except ValueError:
        logger.exception("parsing failed")
    try:
        raise RuntimeError("name 髙﨑　花子 born 19580412")
    except RuntimeError:
        logger.exception("flow failed")
    logger.info("resident %s at %s", "髙﨑　花子", "長崎県松浦市")
    out = stream.getvalue()
    for personal in ("123456789018", "髙﨑", "花子", "19580412", "長崎県"):
        assert personal not in out
    assert "Traceback" in out  # the stack stays useful


def test_database_errors_do_not_carry_sql_parameters(ctx: AppContext) -> None:
    logger, stream = capture()
    try:
        with ctx.db.write() as session:
            session.execute(
                text(
                    "INSERT INTO field_values (application_id, field_id, value, source) "
                    "VALUES (:a, :f, :v, :s)"
                ),
                {"a": 999_999, "f": "applicant_name", "v": "SECRET-NAME-VALUE", "s": "card"},
            )
    except Exception:
        logger.exception("insert failed")
    out = stream.getvalue()
    assert "insert failed" in out
    assert "SECRET-NAME-VALUE" not in out
