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
from forms.model import Field, FieldKind, Source, Template, TemplateError, parse_template
from forms.prefill import FilledValue, Provenance, prefill
from forms.rules import check_rules
from forms.validation import encode_person_rows
from kiosk.clock import Clock, today
from kiosk.storage.db import Database
from kiosk.templates_repo import TemplateRepository, publish
from printing.document import PrintDocument

#: field properties an administrator may set in the field panel (None removes one)
FIELD_PROPS = ("filled_by", "source", "pattern", "max_length", "min", "max", "date_style")
#: the template-level logic an administrator edits as JSON (forms/rules.py, eligibility.py)
LOGIC_KEYS = ("rules", "eligibility")
#: a field's print placement: position and size in mm, font size and fit rule
PLACEMENT_PROPS = ("page", "x", "y", "w", "h", "size", "min_size", "fit")


@dataclass
class TemplateEdits:
    """Changes an administrator made; anything not mentioned stays as published."""

    labels_ja: dict[str, str] = field(default_factory=dict)
    labels_en: dict[str, str] = field(default_factory=dict)
    labels_easy: dict[str, str] = field(default_factory=dict)
    help_ja: dict[str, str] = field(default_factory=dict)
    required: dict[str, bool] = field(default_factory=dict)
    fee_amounts: dict[str, int] = field(default_factory=dict)
    fee_labels_ja: dict[str, str] = field(default_factory=dict)
    #: field id → {property: value or None}; see FIELD_PROPS
    field_props: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: field id → {placement property: value}; moves the field's box on the printed form
    placements: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the template's "rules" and "eligibility" blocks as a whole (None: unchanged)
    logic: dict[str, Any] | None = None


def _set_text(f: dict[str, Any], key: str, language: str, text: str) -> None:
    if text:
        f[key] = {**f.get(key, {}), language: text}
    elif key in f and language in f[key] and language != "ja":
        f[key] = {k: v for k, v in f[key].items() if k != language}


def field_placement(raw: Mapping[str, Any], field_id: str) -> dict[str, Any] | None:
    """The layout element that prints ``field_id`` (its first one, for a split address)."""
    for element in (raw.get("layout") or {}).get("elements", []):
        if element.get("type") in ("field", "rows") and element.get("field") == field_id:
            return dict(element)
    return None


def _apply_placement(new: dict[str, Any], field_id: str, props: Mapping[str, Any]) -> None:
    for element in (new.get("layout") or {}).get("elements", []):
        if element.get("type") in ("field", "rows") and element.get("field") == field_id:
            for key, value in props.items():
                if key not in PLACEMENT_PROPS:
                    raise ValueError(f"not a placement property: {key}")
                element[key] = value
            return


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
            if fid in edits.labels_easy:
                _set_text(f, "label", "ja-easy", edits.labels_easy[fid])
            if fid in edits.help_ja:
                _set_text(f, "help", "ja", edits.help_ja[fid])
                if f.get("help") == {} or (f.get("help") and "ja" not in f["help"]):
                    f.pop("help", None)
            if fid in edits.required:
                f["required"] = edits.required[fid]
            for key, value in edits.field_props.get(fid, {}).items():
                if key not in FIELD_PROPS:
                    raise ValueError(f"not an editable field property: {key}")
                if value is None or value == "":
                    f.pop(key, None)
                else:
                    f[key] = value
    if edits.logic is not None:
        for key in LOGIC_KEYS:
            if edits.logic.get(key) in (None, [], {}):
                new.pop(key, None)
            else:
                new[key] = copy.deepcopy(edits.logic[key])
    for fid, props in edits.placements.items():
        _apply_placement(new, fid, props)
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
        # signed on paper: blank; computed values come from the engine, not samples
        if f.id in values or f.kind is FieldKind.SIGNATURE or f.source is Source.COMPUTED:
            continue
        if f.kind is FieldKind.PERSONS:
            row = {i.id: values_for_item(i, card) for i in f.items}
            values[f.id] = encode_person_rows([row])
        elif f.kind is FieldKind.CHOICE and f.choices:
            values[f.id] = f.choices[0].value
        elif f.kind is FieldKind.MULTI_CHOICE:
            values[f.id] = ",".join(c.value for c in f.choices[:2])
        elif f.kind is FieldKind.NUMBER:
            values[f.id] = str(f.minimum or 1)
        elif f.kind is FieldKind.KANA:
            values[f.id] = "たかさき　はなこ"
        elif f.kind is FieldKind.DATE:
            values[f.id] = day
        elif f.kind is FieldKind.CHECKBOX:
            values[f.id] = "1"
        elif f.kind is FieldKind.PHONE:
            values[f.id] = "0956-72-1111"
        elif f.kind is FieldKind.POSTAL_CODE:
            values[f.id] = "859-4501"
        elif f.kind is FieldKind.ADDRESS:
            values[f.id] = card.address
        else:
            values[f.id] = _sample_text(f.label["ja"], card.name, card.address)
    # a checkbox a rule asks for (e.g. the 印鑑登録証 at hand) is ticked, the others not
    for failure in check_rules(template, values):
        for fid in failure.fields:
            if template.field(fid).kind is FieldKind.CHECKBOX:
                values[fid] = "1"
    # the sample as a resident would submit it: what does not apply dropped, computed fresh
    sample = {k: FilledValue(v, Provenance.RESIDENT) for k, v in values.items()}
    return {k: v.value for k, v in settle(template, sample, parse_day(day)).items()}


def _sample_text(label: str, name: str, address: str) -> str:
    """A text that reads right in its box: a name where a name goes, an address for 本籍."""
    if any(word in label for word in ("氏名", "世帯主", "筆頭者")):
        return name
    if any(word in label for word in ("本籍", "住所")):
        return address
    return "（記入例）"


def parse_day(day: str) -> date:
    return date(int(day[:4]), int(day[4:6]), int(day[6:]))


def values_for_item(item: Field, card: Any) -> str:
    """A plausible entry for one item of a sample person row: the demo resident herself,
    a Japanese national (the foreign residents' items stay empty)."""
    if item.kind is FieldKind.DATE:
        return str(card.birth_date)
    if item.kind is FieldKind.KANA:
        return "たかさき　はなこ"
    if item.id == "sex" and any(c.value == card.sex for c in item.choices):
        return str(card.sex)
    if item.id in ("nationality", "residence_status", "residence_card"):
        return ""
    if item.id == "relation":
        return "世帯主"
    if item.kind is FieldKind.CHOICE and item.choices:
        return item.choices[0].value
    return str(card.name)


def preview_document(
    template: Template, fee_table: Mapping[str, int], addressee: str, clock: Clock
) -> PrintDocument:
    return sample_document(template, fee_table, addressee, today(clock))


def sample_document(
    template: Template,
    fee_table: Mapping[str, int],
    addressee: str,
    day: date,
    *,
    ticket: str = "SAMPLE",
) -> PrintDocument:
    """``template`` filled with the sample values on ``day``: the admin preview, the
    reviewed page images and the rendering benchmark all print this."""
    from kiosk.print_service import document_for

    values = sample_values(template, day.strftime("%Y%m%d"))
    return document_for(
        template,
        values,
        fee=compute_fee(template, values, fee_table),
        addressee=addressee,
        day=day,
        ticket=ticket,
        reference=f"{day:%Y%m%d}-{ticket}",
    )


def new_definition(template_id: str, title_ja: str, business: str) -> dict[str, Any]:
    """A minimal template to start from: the applicant's name and address from the card,
    the furigana, a signature box, and the automatic layout."""
    raw: dict[str, Any] = {
        "id": template_id,
        "version": 1,
        "title": {"ja": title_ja},
        "business": business,
        "my_number_business": False,
        "card_fills": "applicant",
        "sections": [
            {
                "id": "applicant",
                "title": {"ja": "申請者", "en": "Applicant"},
                "fields": [
                    {
                        "id": "applicant_name",
                        "kind": "text",
                        "filled_by": "system",
                        "required": True,
                        "source": "card.name",
                        "label": {"ja": "氏名", "en": "Name", "ja-easy": "なまえ"},
                    },
                    {
                        "id": "applicant_kana",
                        "kind": "kana",
                        "filled_by": "resident",
                        "required": True,
                        "max_length": 40,
                        "label": {"ja": "ふりがな", "en": "Furigana", "ja-easy": "よみかた"},
                    },
                    {
                        "id": "applicant_address",
                        "kind": "address",
                        "filled_by": "system",
                        "required": True,
                        "source": "card.address",
                        "label": {"ja": "住所", "en": "Address", "ja-easy": "じゅうしょ"},
                    },
                    {
                        "id": "applicant_signature",
                        "kind": "signature",
                        "filled_by": "resident",
                        "label": {"ja": "署名", "en": "Signature"},
                    },
                ],
            }
        ],
        "fees": [],
    }
    return with_auto_layout(raw)


def duplicate_definition(raw: Mapping[str, Any], template_id: str, title_ja: str) -> dict[str, Any]:
    """A copy under a new id, at version 1, e.g. to make a municipality's variant."""
    new: dict[str, Any] = copy.deepcopy(dict(raw))
    new["id"] = template_id
    new["version"] = 1
    new["title"] = {**new.get("title", {}), "ja": title_ja}
    new["short_title"] = {**new.get("short_title", new["title"]), "ja": title_ja}
    return new


def with_auto_layout(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``raw`` with its print layout arranged anew (e.g. after fields were added).
    Split address boxes are kept split."""
    from forms.layout_builder import auto_layout

    new: dict[str, Any] = copy.deepcopy(dict(raw))
    old = new.pop("layout", None) or {}
    split = [
        e["field"]
        for e in old.get("elements", [])
        if e.get("type") == "field" and e.get("part") == "prefecture"
    ]
    template = parse_template(new)
    new["layout"] = auto_layout(template, split_addresses=split)
    return new


def add_field(
    raw: Mapping[str, Any],
    section_id: str,
    field_id: str,
    kind: str,
    label_ja: str,
    choices: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """``raw`` with a new resident question at the end of a section, placed on the form by
    the automatic layout; ``parse_template`` names anything wrong with it."""
    new: dict[str, Any] = copy.deepcopy(dict(raw))
    section = next((s for s in new["sections"] if s.get("id") == section_id), None)
    if section is None:
        raise TemplateError("sections", f"no section {section_id!r}")
    entry: dict[str, Any] = {
        "id": field_id,
        "kind": kind,
        "filled_by": "resident",
        "label": {"ja": label_ja},
    }
    if choices:
        entry["choices"] = [{"value": v, "label": {"ja": t}} for v, t in choices]
    section.setdefault("fields", []).append(entry)
    return with_auto_layout(new)


def remove_field(raw: Mapping[str, Any], field_id: str) -> dict[str, Any]:
    """``raw`` without the field, re-arranged; fee rules that use it make this an error."""
    new: dict[str, Any] = copy.deepcopy(dict(raw))
    for section in new["sections"]:
        section["fields"] = [f for f in section.get("fields", []) if f.get("id") != field_id]
    return with_auto_layout(new)


def parse_choices(text: str) -> list[tuple[str, str]]:
    """``"a=住民票, b=戸籍"`` → ``[("a", "住民票"), ("b", "戸籍")]`` for the add-field row."""
    out = []
    for part in text.replace("、", ",").split(","):
        if part.strip():
            value, _, label = part.partition("=")
            out.append((value.strip(), (label or value).strip()))
    return out


def import_definition(templates: TemplateRepository, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A file's definition, checked, numbered as the next version of its template."""
    parse_template(raw)  # refuse a broken file before anything else
    new: dict[str, Any] = copy.deepcopy(dict(raw))
    new["version"] = max(int(new.get("version", 1)), next_version(templates, str(new["id"])))
    return new


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
