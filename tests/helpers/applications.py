"""Applications made the way the resident flow makes them, for service tests."""

from __future__ import annotations

from forms.model import Source
from forms.prefill import FilledValue, Provenance, prefill
from kiosk.context import AppContext

ANSWERS = {
    "kind": "part",
    "copies": "2",
    "include_head": "0",
    "include_honseki": "1",
    "include_my_number": "0",
    "include_resident_code": "0",
    "applicant_kana": "たかさき はなこ",
    "relation": "self",
    "purpose": "employment",
}


def template_pk(ctx: AppContext, template_id: str) -> int:
    return next(p.pk for p in ctx.templates.active() if p.template.id == template_id)


def submitted(ctx: AppContext, template_id: str = "juminhyo") -> int:
    """A submitted application, filled the way the resident flow fills it."""
    pk = template_pk(ctx, template_id)
    values = prefill(
        ctx.templates.get(pk),
        {
            Source.CARD_NAME: "髙﨑　花子",
            Source.CARD_ADDRESS: "長崎県松浦市志佐町里免３６５番地",
            Source.CARD_BIRTH_DATE: "19580412",
            Source.CARD_SEX: "2",
            Source.SESSION_TODAY: "20261124",
        },
    )
    answers = (
        ANSWERS
        if template_id == "juminhyo"
        else {"move_kind": "within", "members": "1", "notifier_kana": "たかさき はなこ"}
    )
    values |= {k: FilledValue(v, Provenance.RESIDENT) for k, v in answers.items()}
    app_id = ctx.applications.create_draft(pk, "ja", values)
    ctx.applications.submit(app_id, values)
    return app_id


def printed_application(ctx: AppContext, staff: str = "S1") -> int:
    """A 住民票 application (2 copies, 600 yen) claimed, approved and printed."""
    app_id = submitted(ctx)
    ctx.applications.claim(app_id, staff)
    ctx.applications.approve(app_id, staff, identity_confirmed=True)
    outcome = ctx.printing.print_application(app_id, staff)
    ctx.printing.confirm_printed(outcome.job_id, staff)  # the clerk checked the paper
    return app_id
