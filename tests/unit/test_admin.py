"""Administrator accounts and template editing without a screen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forms.model import TemplateError
from kiosk.admin_accounts import SignInFailed, SignInLocked, WeakPassword
from kiosk.clock import FakeClock
from kiosk.context import AppContext
from kiosk.storage.models import AdminAccountRow, AuditEventRow
from kiosk.template_editing import (
    TemplateEdits,
    apply_edits,
    next_version,
    preview_document,
    publish_new_version,
)
from printing.render import render_pdf

PASSWORD = "correct-horse-battery"


def test_passwords_are_stored_as_argon2id_hashes_only(ctx: AppContext) -> None:
    with pytest.raises(WeakPassword):
        ctx.admins.set_password("admin", "short", "cli")
    ctx.admins.set_password("admin", PASSWORD, "cli")
    with ctx.db.read() as session:
        stored = session.scalars(select(AdminAccountRow)).one().password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    ctx.admins.sign_in("admin", PASSWORD)
    with pytest.raises(SignInFailed):
        ctx.admins.sign_in("admin", "wrong-password")
    with pytest.raises(SignInFailed):
        ctx.admins.sign_in("nobody", PASSWORD)


def test_repeated_failures_lock_signing_in(ctx: AppContext, clock: FakeClock) -> None:
    ctx.admins.set_password("admin", PASSWORD, "cli")
    for _ in range(5):
        with pytest.raises(SignInFailed):
            ctx.admins.sign_in("admin", "guess-guess-guess")
    with pytest.raises(SignInLocked):
        ctx.admins.sign_in("admin", PASSWORD)  # even the right one, for a while
    clock.advance(301)
    ctx.admins.sign_in("admin", PASSWORD)
    with ctx.db.read() as session:
        actions = [e.action for e in session.scalars(select(AuditEventRow))]
    assert actions.count("admin_sign_in_failed") == 5
    assert "admin_sign_in" in actions


def test_edit_preview_publish_makes_a_new_version(ctx: AppContext) -> None:
    published = next(p for p in ctx.templates.active() if p.template.id == "juminhyo")
    edits = TemplateEdits(
        labels_ja={"purpose": "使いみち（提出先）"}, fee_amounts={"juminhyo_copy": 250}
    )
    version = next_version(ctx.templates, "juminhyo")
    raw = apply_edits(ctx.templates.definition(published.pk), edits, version)
    template = publish_new_version(ctx.db, ctx.templates, ctx.clock, raw, actor="admin")
    assert template.version == published.template.version + 1
    assert template.field("purpose").label["ja"] == "使いみち（提出先）"
    newest = next(p for p in ctx.templates.active() if p.template.id == "juminhyo")
    assert newest.template.version == template.version
    pdf = render_pdf(preview_document(newest.template, {}, "松浦市長　様", ctx.clock))
    assert pdf.startswith(b"%PDF")
    with pytest.raises(ValueError, match="never replaced"):
        publish_new_version(ctx.db, ctx.templates, ctx.clock, raw, actor="admin")


def test_an_invalid_edit_names_the_field(ctx: AppContext) -> None:
    published = next(p for p in ctx.templates.active() if p.template.id == "inkan")
    raw = apply_edits(
        ctx.templates.definition(published.pk),
        TemplateEdits(fee_amounts={"inkan_certificate": -1}),
        2,
    )
    with pytest.raises(TemplateError) as info:
        publish_new_version(ctx.db, ctx.templates, ctx.clock, raw, actor="admin")
    assert info.value.where == "fees[0].amount"
