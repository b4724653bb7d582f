"""What the administrators' editor does, without Qt: apply edits to a published
definition, check it, preview it with sample data, publish it as a new version."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from devices.card_simulated import demo_card
from forms.assessment import settle
from forms.fees import compute_fee
from forms.model import FieldKind, Source, Template, parse_template
from forms.prefill import FilledValue, Provenance, prefill
from kiosk.clock import Clock, today
from kiosk.storage.db import Database
from kiosk.templates_repo import TemplateRepository, publish
from printing.document import PrintDocument


@dataclass
class TemplateEdits:
    """Changes an administrator made; anything not mentioned stays as published."""

    labels_ja: dict[str, str] = field(default_factory=dict)
    labels_en: dict[str, str] = field(default_factory=dict)
    required: dict[str, bool] = field(default_factory=dict)
    fee_amounts: dict[str, int] = field(default_factory=dict)
    fee_labels_ja: dict[str, str] = field(default_factory=dict)


def apply_edits(raw: Mapping[str, Any], edits: TemplateEdits, version: int) -> dict[str, Any]:
    """A new definition (a deep copy) with the edits and the given version number."""
    new: dict[str, Any] = copy.deepcopy(dict(raw))
    new["version"] = version
    for section in new.get("sections", []):
        for f in section.get("fields", []):
            fid = f.get("id")
            if fid in edits.labels_ja:
                f["label"] = {**f.get("label", {}), "ja": edits.labels_ja[fid]}
            if fid in edits.labels_en:
                f["label"] = {**f.get("label", {}), "en": edits.labels_en[fid]}
            if fid in edits.required:
                f["required"] = edits.required[fid]
    for rule in new.get("fees", []):
        code = rule.get("code")
        if code in edits.fee_amounts:
            rule["amount"] = edits.fee_amounts[code]
        if code in edits.fee_labels_ja:
            rule["label"] = {**rule.get("label", {}), "ja": edits.fee_labels_ja[code]}
    return new


def sample_values(template: Template, day: str) -> dict[str, str]:
    """The demo resident's card plus a plausible answer to every question, for previews."""
    card = demo_card().data
    values = {
        k: v.value
        for k, v in prefill(
            template,
            {
                Source.CARD_NAME: card.name,
                Source.CARD_ADDRESS: card.address,
                Source.CARD_BIRTH_DATE: card.birth_date,
                Source.CARD_SEX: card.sex,
                Source.SESSION_TODAY: day,
            },
        ).items()
    }
    for f in template.fields:
        if f.id in values or f.source is Source.COMPUTED:
            continue
        if f.kind is FieldKind.CHOICE and f.choices:
            values[f.id] = f.choices[0].value
        elif f.kind is FieldKind.NUMBER:
            values[f.id] = str(f.minimum or 1)
        elif f.kind is FieldKind.KANA:
            values[f.id] = "たかさき　はなこ"
        elif f.kind is FieldKind.DATE:
            values[f.id] = day
        elif f.kind is FieldKind.CHECKBOX:
            values[f.id] = "1"
        else:
            values[f.id] = "（記入例）"
    # the sample as a resident would submit it: what does not apply dropped, computed fresh
    sample = {k: FilledValue(v, Provenance.RESIDENT) for k, v in values.items()}
    return {k: v.value for k, v in settle(template, sample, parse_day(day)).items()}


def parse_day(day: str) -> date:
    return date(int(day[:4]), int(day[4:6]), int(day[6:]))


def preview_document(
    template: Template, fee_table: Mapping[str, int], addressee: str, clock: Clock
) -> PrintDocument:
    from kiosk.print_service import document_for

    day = today(clock)
    values = sample_values(template, day.strftime("%Y%m%d"))
    return document_for(
        template,
        values,
        fee=compute_fee(template, values, fee_table),
        addressee=addressee,
        day=day,
        ticket="SAMPLE",
        reference=f"{day:%Y%m%d}-SAMPLE",
    )


def next_version(templates: TemplateRepository, template_id: str) -> int:
    versions = [p.template.version for p in templates.all_versions(template_id)]
    return max(versions, default=0) + 1


def publish_new_version(
    db: Database, templates: TemplateRepository, clock: Clock, raw: dict[str, Any], actor: str
) -> Template:
    """Check and publish; raises TemplateError naming the field when the edit is invalid."""
    template = parse_template(raw)
    if template.version < next_version(templates, template.id):
        raise ValueError("a published version is never replaced")
    with db.write() as session:
        publish(session, template, raw, clock, actor=actor)
    return template
