"""Shipped templates on upgrade: a release's new forms reach an existing database, while
a municipality's own published edit is never replaced by the release."""

from __future__ import annotations

import copy
import json
from typing import Any

from forms.model import parse_template
from kiosk.context import AppContext
from kiosk.templates_repo import SHIPPED_DIR, install_shipped, publish


def shipped_raw(template_id: str) -> dict[str, Any]:
    path = next(p for p in SHIPPED_DIR.glob("*.json") if p.stem.endswith(template_id))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def versions(ctx: AppContext, template_id: str) -> list[int]:
    return [p.template.version for p in ctx.templates.all_versions(template_id)]


def publish_as(ctx: AppContext, raw: dict[str, Any], actor: str) -> None:
    with ctx.db.write() as session:
        publish(session, parse_template(raw), raw, ctx.clock, actor=actor)


def older_release(template_id: str, version: int) -> dict[str, Any]:
    """The form as an earlier release shipped it: no print layout yet."""
    raw = copy.deepcopy(shipped_raw(template_id))
    raw.pop("layout")
    raw["version"] = version
    return raw


def test_an_unchanged_release_publishes_nothing(ctx: AppContext) -> None:
    assert versions(ctx, "juminhyo") == [1]
    assert install_shipped(ctx.db, ctx.clock) == 0
    assert versions(ctx, "juminhyo") == [1]


def test_a_changed_form_from_the_release_becomes_the_next_version(ctx: AppContext) -> None:
    publish_as(ctx, older_release("inkan", 2), "system")  # what the last release left
    assert install_shipped(ctx.db, ctx.clock) == 1
    assert versions(ctx, "inkan") == [1, 2, 3]
    latest = next(p for p in ctx.templates.active() if p.template.id == "inkan").template
    assert latest.version == 3
    assert latest.layout is not None  # the release's new layout arrived
    assert install_shipped(ctx.db, ctx.clock) == 0  # and only once


def test_an_administrators_version_is_kept(ctx: AppContext) -> None:
    edited = older_release("koseki", 2)
    edited["title"]["ja"] = "戸籍証明書等交付請求書（松浦市）"
    publish_as(ctx, edited, "admin")
    assert install_shipped(ctx.db, ctx.clock) == 0
    latest = next(p for p in ctx.templates.active() if p.template.id == "koseki").template
    assert latest.title["ja"] == "戸籍証明書等交付請求書（松浦市）"
