"""The template JSON Schema agrees with parse_template; the shipped templates and their fees."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from forms.fees import compute_fee
from forms.model import FieldKind, FilledBy, Source, Template, TemplateError, parse_template
from kiosk.templates_repo import SHIPPED_DIR

SCHEMA_PATH = SHIPPED_DIR.parent / "template.schema.json"
SHIPPED_FILES = sorted(SHIPPED_DIR.glob("*.json"))
DELETE = object()


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load(SCHEMA_PATH)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def shipped(template_id: str) -> Template:
    for path in SHIPPED_FILES:
        raw = load(path)
        if raw["id"] == template_id:
            return parse_template(raw)
    raise KeyError(template_id)


def koseki_raw() -> dict[str, Any]:
    return load(SHIPPED_DIR / "30-koseki.json")


def schema_errors(validator: jsonschema.Draft202012Validator, raw: object) -> list[str]:
    return [error.message for error in validator.iter_errors(raw)]


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_every_shipped_template_validates_against_the_schema(
    validator: jsonschema.Draft202012Validator, path: Path
) -> None:
    assert schema_errors(validator, load(path)) == []


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_every_shipped_template_parses(path: Path) -> None:
    template = parse_template(load(path))
    assert path.stem.split("-", 1)[1] == template.id


def test_the_new_templates_are_shipped() -> None:
    ids = [load(path)["id"] for path in SHIPPED_FILES]
    assert "koseki" in ids
    assert "zeishomei" in ids


def test_the_schema_enums_match_the_model(validator: jsonschema.Draft202012Validator) -> None:
    field = validator.schema["$defs"]["field"]["properties"]
    assert field["kind"]["enum"] == [k.value for k in FieldKind]
    assert field["filled_by"]["enum"] == [f.value for f in FilledBy]
    assert field["source"]["enum"] == [s.value for s in Source]


@pytest.mark.parametrize(
    ("template_id", "values", "total"),
    [
        ("koseki", {"kind": "joseki", "copies": "2"}, 1500),
        ("koseki", {"kind": "fuhyo", "copies": "1"}, 300),
        ("koseki", {"kind": "zenbu", "copies": "1"}, 450),
        ("koseki", {"kind": "kojin", "copies": "3"}, 1350),
        ("koseki", {"kind": "kaisei", "copies": "1"}, 750),
        ("zeishomei", {"kind": "shotoku", "fiscal_year": "R8", "copies": "3"}, 900),
    ],
)
def test_fees(template_id: str, values: dict[str, str], total: int) -> None:
    fee = compute_fee(shipped(template_id), values)
    assert fee.total == total
    assert len(fee.lines) == 1  # exactly one certificate kind is charged


def test_the_fee_table_overrides_a_koseki_amount() -> None:
    fee = compute_fee(shipped("koseki"), {"kind": "joseki", "copies": "2"}, {"joseki": 700})
    assert fee.total == 1400


def test_the_honseki_is_entered_by_staff_and_the_card_fills_the_applicant() -> None:
    koseki = shipped("koseki")
    assert koseki.field("honseki").filled_by is FilledBy.STAFF
    assert koseki.field("hittousha_name").filled_by is FilledBy.STAFF
    assert koseki.field("honseki_same").filled_by is FilledBy.RESIDENT
    assert koseki.field("applicant_name").source is Source.CARD_NAME
    assert not koseki.needs_my_number
    zeishomei = shipped("zeishomei")
    assert [c.value for c in zeishomei.field("fiscal_year").choices] == [
        "R8",
        "R7",
        "R6",
        "R5",
        "R4",
    ]
    assert not zeishomei.needs_my_number


def edited(raw: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """A deep copy of ``raw`` with the element at ``path`` replaced, removed (DELETE) or, one
    past the end of a list, appended."""
    result = copy.deepcopy(raw)
    parent: Any = result
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    if value is DELETE:
        del parent[key]
    elif isinstance(parent, list) and key == len(parent):
        parent.append(value)
    else:
        parent[key] = value
    return result


MY_NUMBER_FIELD = {
    "id": "my_number",
    "kind": "text",
    "filled_by": "system",
    "source": "card.my_number",
    "label": {"ja": "個人番号"},
}

# koseki: sections[0].fields[0] is the "kind" choice, sections[2].fields[0] the card name.
BROKEN = [
    pytest.param(("id",), "Koseki-1", id="bad-id"),
    pytest.param(("id",), DELETE, id="missing-id"),
    pytest.param(("business",), DELETE, id="missing-business"),
    pytest.param(("business",), "", id="empty-business"),
    pytest.param(("version",), 0, id="version-zero"),
    pytest.param(("title",), {"en": "no Japanese"}, id="title-without-ja"),
    pytest.param(("sections",), [], id="no-sections"),
    pytest.param(("card_fills",), "witness", id="unknown-card-fills"),
    pytest.param(("sections", 0, "fields", 0, "kind"), "dropdown", id="unknown-kind"),
    pytest.param(("sections", 0, "fields", 0, "id"), "Kind", id="bad-field-id"),
    pytest.param(("sections", 2, "fields", 0, "source"), "card.phone", id="unknown-source"),
    pytest.param(("sections", 2, "fields", 0, "filled_by"), "robot", id="unknown-filled-by"),
    pytest.param(("sections", 0, "fields", 0, "choices"), DELETE, id="choice-without-choices"),
    pytest.param(("sections", 0, "fields", 0, "choices"), [], id="choice-with-empty-choices"),
    pytest.param(("sections", 0, "fields", 0, "date_style"), "iso", id="unknown-date-style"),
    pytest.param(("sections", 0, "fields", 1, "min"), "1", id="min-not-an-integer"),
    pytest.param(("sections", 0, "fields", 0, "pattern"), "([a-z]", id="invalid-pattern"),
    pytest.param(("fees", 0, "amount"), -450, id="fee-negative-amount"),
    pytest.param(("fees", 0, "amount"), DELETE, id="fee-without-amount"),
    pytest.param(("fees", 0, "code"), "Koseki Zenbu", id="fee-bad-code"),
    pytest.param(("fees", 0, "label"), {"en": "no Japanese"}, id="fee-label-without-ja"),
    pytest.param(
        ("sections", 2, "fields", 5), MY_NUMBER_FIELD, id="my-number-outside-its-business"
    ),
]


@pytest.mark.parametrize(("path", "value"), BROKEN)
def test_a_broken_template_is_rejected_by_the_schema_and_by_the_parser(
    validator: jsonschema.Draft202012Validator, path: tuple[str | int, ...], value: object
) -> None:
    raw = edited(koseki_raw(), path, value)
    assert schema_errors(validator, raw), "the schema accepted it"
    with pytest.raises(TemplateError):
        parse_template(raw)


def test_the_base_of_the_broken_table_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    raw = koseki_raw()
    assert raw["sections"][0]["fields"][0]["id"] == "kind"
    assert raw["sections"][2]["fields"][0]["source"] == "card.name"
    assert len(raw["sections"][2]["fields"]) == 5
    assert schema_errors(validator, raw) == []
    parse_template(raw)


def test_a_my_number_business_may_bind_the_my_number(
    validator: jsonschema.Draft202012Validator,
) -> None:
    raw = edited(koseki_raw(), ("sections", 2, "fields", 5), MY_NUMBER_FIELD)
    raw["my_number_business"] = True
    raw.pop("layout")  # a new field needs a place on the form: the automatic layout here
    assert schema_errors(validator, raw) == []
    assert parse_template(raw).needs_my_number


def test_optional_keys_may_be_left_out(validator: jsonschema.Draft202012Validator) -> None:
    raw = {
        "id": "t",
        "version": 1,
        "title": {"ja": "テスト"},
        "business": "住民基本台帳事務",
        "sections": [
            {
                "id": "s",
                "title": {"ja": "s"},
                "fields": [{"id": "a", "kind": "text", "label": {"ja": "a"}}],
            }
        ],
    }
    assert schema_errors(validator, raw) == []
    template = parse_template(raw)
    assert template.fees == ()
    assert template.card_fills == "applicant"
