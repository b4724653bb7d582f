"""The clerk's 外字 decision: reported, recorded and audited; printing waits for it."""

from __future__ import annotations

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from devices.printer_folder import SimulatedPrinter
from forms.model import Source
from forms.prefill import FilledValue, Provenance, prefill
from kiosk.context import AppContext
from kiosk.errors import ConcurrentUpdate, ValidationFailed
from kiosk.glyph_review import MissingGlyphsUnresolved
from kiosk.print_service import JobStatus
from kiosk.status import Status
from kiosk.storage.models import AuditEventRow, GlyphDecisionRow, PrintJobRow
from printing.document import GlyphPolicy
from printing.glyphs import Reason

YOSHI = "\U00020bb7"  # 𠮷: in IPAmj明朝 only
PUA = "\ue000"  # in no font


def submitted_with_name(ctx: AppContext, name: str) -> int:
    pk = next(p.pk for p in ctx.templates.active() if p.template.id == "juminhyo")
    values = prefill(
        ctx.templates.get(pk),
        {
            Source.CARD_NAME: name,
            Source.CARD_ADDRESS: "長崎県松浦市志佐町里免３６５番地",
            Source.CARD_BIRTH_DATE: "19580412",
            Source.CARD_SEX: "2",
            Source.SESSION_TODAY: "20261124",
        },
    )
    answers = {
        "kind": "part",
        "copies": "1",
        "include_head": "0",
        "include_honseki": "0",
        "applicant_kana": "よしの はなこ",
        "relation": "self",
        "purpose": "employment",
    }
    values |= {k: FilledValue(v, Provenance.RESIDENT) for k, v in answers.items()}
    app_id = ctx.applications.create_draft(pk, "ja", values)
    ctx.applications.submit(app_id, values)
    ctx.applications.claim(app_id, "S1")
    return app_id


def printed_text(ctx: AppContext) -> str:
    printer = ctx.devices.printer
    assert isinstance(printer, SimulatedPrinter)
    return "".join(page.extract_text() for page in PdfReader(printer.last_path).pages)


def test_printing_waits_for_a_decision_then_uses_ipamj(ctx: AppContext) -> None:
    app_id = submitted_with_name(ctx, f"{YOSHI}野　花子")
    glyphs = ctx.printing.glyphs
    report = glyphs.report(app_id)
    [problem] = report.problems
    assert (problem.field, problem.label, problem.index, problem.code) == (
        "applicant_name",
        "氏名",
        0,
        "U+20BB7",
    )
    assert (problem.reason, problem.fallback) == (Reason.NOT_IN_FONT, True)
    assert not report.resolved
    assert report.fallback_covers_all
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    with pytest.raises(MissingGlyphsUnresolved) as refused:
        ctx.printing.print_application(app_id, "S1")
    assert refused.value.params == {"count": 1}
    with ctx.db.read() as session:
        assert session.scalars(select(PrintJobRow)).all() == []  # nothing queued

    decided = glyphs.decide(app_id, "S1", GlyphPolicy.FALLBACK, report.fingerprint)
    assert (decided.decision, decided.decided_by, decided.resolved) == (
        GlyphPolicy.FALLBACK,
        "S1",
        True,
    )
    assert glyphs.report(app_id).decision is GlyphPolicy.FALLBACK
    outcome = ctx.printing.print_application(app_id, "S1")
    assert outcome.status is JobStatus.NEEDS_CONFIRMATION  # the clerk checks the paper
    assert ctx.printing.confirm_printed(outcome.job_id, "S1").status is JobStatus.PRINTED
    assert f"{YOSHI}野　花子" in printed_text(ctx)
    assert ctx.applications.detail(app_id).status is Status.PRINTED
    with ctx.db.read() as session:
        event = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "glyph_decision")
        ).one()
        assert (event.actor, event.object_id) == ("S1", str(app_id))
        assert event.detail == {
            "decision": "fallback",
            "problems": 1,
            "fields": "applicant_name",
        }
        row = session.scalars(select(GlyphDecisionRow)).one()
        assert (row.decision, row.problem_count, row.fingerprint) == (
            "fallback",
            1,
            report.fingerprint,
        )


def test_a_blank_decision_prints_without_the_character(ctx: AppContext) -> None:
    app_id = submitted_with_name(ctx, f"{PUA}田　花子")
    glyphs = ctx.printing.glyphs
    report = glyphs.report(app_id)
    assert [p.code for p in report.problems] == ["U+E000"]
    assert not report.fallback_covers_all
    with pytest.raises(ValidationFailed) as caught:
        glyphs.decide(app_id, "S1", GlyphPolicy.FALLBACK, report.fingerprint)
    assert caught.value.message_key == "glyph_fallback_unavailable"
    glyphs.decide(app_id, "S1", GlyphPolicy.BLANK, report.fingerprint)
    ctx.applications.approve(app_id, "S1", identity_confirmed=True)
    outcome = ctx.printing.print_application(app_id, "S1")
    assert ctx.printing.confirm_printed(outcome.job_id, "S1").status is JobStatus.PRINTED
    text = printed_text(ctx)
    assert "田　花子" in text
    assert PUA not in text


def test_a_correction_leaves_the_old_decision_behind(ctx: AppContext) -> None:
    app_id = submitted_with_name(ctx, f"{YOSHI}野　花子")
    glyphs = ctx.printing.glyphs
    seen = glyphs.report(app_id).fingerprint
    glyphs.decide(app_id, "S1", GlyphPolicy.BLANK, seen)
    ctx.applications.correct(app_id, "S1", "applicant_name", f"吉野　{PUA}子", "戸籍のとおり")
    after = glyphs.report(app_id)
    assert [p.index for p in after.problems] == [3]
    assert after.decision is None
    with pytest.raises(ConcurrentUpdate):  # decided on what the clerk no longer sees
        glyphs.decide(app_id, "S1", GlyphPolicy.BLANK, seen)
    glyphs.decide(app_id, "S1", GlyphPolicy.BLANK, after.fingerprint)
    assert glyphs.report(app_id).resolved
    ctx.applications.correct(app_id, "S1", "applicant_name", "吉野　花子", "戸籍のとおり")
    clean = glyphs.report(app_id)
    assert (clean.problems, clean.resolved) == ((), True)


def test_only_the_clerk_reviewing_it_may_decide(ctx: AppContext) -> None:
    app_id = submitted_with_name(ctx, f"{YOSHI}野　花子")
    report = ctx.printing.glyphs.report(app_id)
    with pytest.raises(ConcurrentUpdate):
        ctx.printing.glyphs.decide(app_id, "S2", GlyphPolicy.BLANK, report.fingerprint)
    ctx.applications.release(app_id, "S1")
    with pytest.raises(ConcurrentUpdate):
        ctx.printing.glyphs.decide(app_id, "S1", GlyphPolicy.BLANK, report.fingerprint)
