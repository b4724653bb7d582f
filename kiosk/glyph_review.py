"""The clerk's 外字 decision: which characters of an application the fonts lack, and how
they are printed — in IPAmj明朝 (when it has every one) or as marked blanks that the clerk
writes in by hand. Printing is refused until a decision covers the current problems.

A decision is stored with a hash of the problems it was made for (field, position, code
point), so a correction that changes them leaves the old decision behind: the clerk sees
the new problems and decides again. The characters themselves are never stored or logged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select

from kiosk import audit
from kiosk.clock import Clock
from kiosk.errors import ConcurrentUpdate, NotFound, UserFacingError, ValidationFailed
from kiosk.status import Status
from kiosk.storage.db import Database
from kiosk.storage.models import ApplicationRow, GlyphDecisionRow
from printing.document import GlyphPolicy, PrintDocument
from printing.fonts import FALLBACK
from printing.glyphs import MissingGlyph, coverage, find_missing, fingerprint

#: the decisions a clerk can take (REFUSE is the absence of one)
DECISIONS = (GlyphPolicy.FALLBACK, GlyphPolicy.BLANK)


class MissingGlyphsUnresolved(UserFacingError):
    """Characters the fonts lack and no decision for them yet."""

    message_key = "glyphs_unresolved"


@dataclass(frozen=True)
class GlyphReport:
    problems: tuple[MissingGlyph, ...]
    fingerprint: str
    #: the recorded decision if it was made for exactly these problems
    decision: GlyphPolicy | None
    decided_by: str | None
    #: IPAmj明朝 is installed on this machine
    fallback_installed: bool

    @property
    def resolved(self) -> bool:
        return not self.problems or self.decision is not None

    @property
    def fallback_covers_all(self) -> bool:
        return bool(self.problems) and all(p.fallback for p in self.problems)

    def allowed(self, decision: GlyphPolicy) -> bool:
        return decision is GlyphPolicy.BLANK or (
            decision is GlyphPolicy.FALLBACK and self.fallback_covers_all
        )


class GlyphReview:
    def __init__(
        self, db: Database, clock: Clock, build_document: Callable[[int], PrintDocument]
    ) -> None:
        self._db = db
        self._clock = clock
        #: the document as printed without any decision (PrintService.build_document)
        self._build = build_document

    def report(self, app_id: int) -> GlyphReport:
        return self._report(app_id, self._build(app_id))

    def _report(self, app_id: int, doc: PrintDocument) -> GlyphReport:
        problems = tuple(find_missing(doc))
        key = fingerprint(list(problems))
        decision: GlyphPolicy | None = None
        decided_by: str | None = None
        if problems:
            with self._db.read() as session:
                row = session.scalars(
                    select(GlyphDecisionRow)
                    .where(GlyphDecisionRow.application_id == app_id)
                    .order_by(GlyphDecisionRow.id.desc())
                ).first()
                if row is not None and row.fingerprint == key:
                    decision, decided_by = GlyphPolicy(row.decision), row.decided_by
        return GlyphReport(
            problems, key, decision, decided_by, fallback_installed=bool(problems) and _fallback()
        )

    def decide(
        self, app_id: int, staff: str, decision: GlyphPolicy, seen_fingerprint: str
    ) -> GlyphReport:
        """Record ``decision`` for the problems the clerk saw (``seen_fingerprint``, from
        the report on screen); refused if they changed meanwhile or the decision cannot
        print them (IPAmj明朝 missing or lacking one of them)."""
        if decision not in DECISIONS:
            raise ValueError(f"not a decision: {decision}")
        report = self.report(app_id)
        if not report.problems or report.fingerprint != seen_fingerprint:
            raise ConcurrentUpdate()
        if not report.allowed(decision):
            raise ValidationFailed("glyph_fallback_unavailable")
        now = self._clock.now()
        with self._db.write() as session:
            app = session.get(ApplicationRow, app_id, with_for_update=True)
            if app is None:
                raise NotFound()
            in_review_by_me = app.status == Status.IN_REVIEW.value and app.claimed_by == staff
            if not (in_review_by_me or app.status == Status.APPROVED.value):
                raise ConcurrentUpdate()
            session.add(
                GlyphDecisionRow(
                    application_id=app_id,
                    decision=decision.value,
                    fingerprint=report.fingerprint,
                    problem_count=len(report.problems),
                    decided_by=staff,
                    decided_at=now,
                )
            )
            audit.record(
                session,
                at=now,
                actor=staff,
                action="glyph_decision",
                object_type="application",
                object_id=app_id,
                decision=decision.value,
                problems=len(report.problems),
                fields=",".join(sorted({p.field for p in report.problems}))
                .encode("ascii", "ignore")
                .decode()[:64],
            )
        return replace(report, decision=decision, decided_by=staff)

    def require_resolved(self, app_id: int) -> None:
        """Raise MissingGlyphsUnresolved unless the application prints without a problem."""
        report = self.report(app_id)
        if not report.resolved:
            raise MissingGlyphsUnresolved(count=len(report.problems))

    def apply(self, app_id: int, doc: PrintDocument) -> PrintDocument:
        """``doc`` with the policy the clerk decided for its current problems (unchanged
        when there are none or no matching decision: rendering then refuses)."""
        report = self._report(app_id, doc)
        if report.decision is None:
            return doc
        return replace(doc, glyph_policy=report.decision)


def _fallback() -> bool:
    return coverage(FALLBACK) is not None
