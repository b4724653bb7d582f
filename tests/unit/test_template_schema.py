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

# koseki: sections[0].fields[0] is the "kind" choice, fields[2] the copies; sections[2].fields[0]
# the card name and fields[4] the relation choice.
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
    pytest.param(("sections", 0, "fields", 2, "min"), "1", id="min-not-an-integer"),
    pytest.param(("sections", 0, "fields", 0, "pattern"), "([a-z]", id="invalid-pattern"),
    pytest.param(("fees", 0, "amount"), -450, id="fee-negative-amount"),
    pytest.param(("fees", 0, "amount"), DELETE, id="fee-without-amount"),
    pytest.param(("fees", 0, "code"), "Koseki Zenbu", id="fee-bad-code"),
    pytest.param(("fees", 0, "label"), {"en": "no Japanese"}, id="fee-label-without-ja"),
    pytest.param(
        ("sections", 2, "fields", 8), MY_NUMBER_FIELD, id="my-number-outside-its-business"
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
    assert raw["sections"][0]["fields"][2]["id"] == "copies"
    assert raw["sections"][2]["fields"][4]["id"] == "relation"
    assert len(raw["sections"][2]["fields"]) == 8
    assert schema_errors(validator, raw) == []
    parse_template(raw)


def test_a_my_number_business_may_bind_the_my_number(
    validator: jsonschema.Draft202012Validator,
) -> None:
    raw = edited(koseki_raw(), ("sections", 2, "fields", 8), MY_NUMBER_FIELD)
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


# --- the template logic: conditions, rules, eligibility, computations -------------------
# koseki: sections[2].fields[5] is proxy_letter (shown_when relation = proxy); rules[0] is
# proxy ⇒ 委任状; eligibility.refuse[0] is 広域交付 without proxies.
AGE = {
    "id": "age",
    "kind": "number",
    "filled_by": "system",
    "source": "computed",
    "compute": "age",
    "label": {"ja": "年齢"},
}
PROXY_SHOWN = ("sections", 2, "fields", 5, "shown_when")
NEW_FIELD = ("sections", 2, "fields", 8)
BROKEN_LOGIC = [
    # (path, value, where the parser points, words its message must name, schema catches it)
    pytest.param(
        PROXY_SHOWN,
        {"field": "relashon", "equals": "proxy"},
        "sections[2].fields[5] (proxy_letter).shown_when",
        "relashon",
        False,
        id="condition-unknown-field",
    ),
    pytest.param(
        PROXY_SHOWN,
        {"field": "relation", "equals": "agent"},
        "(proxy_letter).shown_when.equals",
        "agent",
        False,
        id="condition-unknown-choice-value",
    ),
    pytest.param(
        PROXY_SHOWN,
        {"field": "relation", "in": ["proxy", "cousin"]},
        "(proxy_letter).shown_when.in[1]",
        "cousin",
        False,
        id="condition-in-unknown-value",
    ),
    pytest.param(
        PROXY_SHOWN,
        {"field": "relation", "equals": "proxy", "in": ["self"]},
        "(proxy_letter).shown_when",
        "exactly one",
        True,
        id="condition-two-operators",
    ),
    pytest.param(
        PROXY_SHOWN,
        {"either": [{"field": "relation", "equals": "proxy"}]},
        "(proxy_letter).shown_when",
        "either",
        True,
        id="condition-unknown-combinator",
    ),
    pytest.param(
        PROXY_SHOWN,
        {"all": []},
        "(proxy_letter).shown_when.all",
        "non-empty",
        True,
        id="condition-empty-all",
    ),
    pytest.param(
        PROXY_SHOWN,
        {"field": "relation", "at_least": 1},
        "(proxy_letter).shown_when",
        "relation",
        False,
        id="condition-number-test-on-a-choice",
    ),
    pytest.param(
        PROXY_SHOWN,
        {"field": "proxy_letter", "equals": "1"},
        "(proxy_letter).shown_when",
        "itself",
        False,
        id="condition-on-itself",
    ),
    pytest.param(
        ("rules", 0, "require"),
        {"field": "proxy_letter", "equals": "yes"},
        "rules[0].require.equals",
        "yes",
        False,
        id="rule-checkbox-value-not-0-or-1",
    ),
    pytest.param(
        ("rules", 0, "require"), DELETE, "rules[0]", "require", True, id="rule-without-require"
    ),
    pytest.param(
        ("rules", 0, "message"),
        {"en": "no Japanese"},
        "rules[0].message",
        "ja",
        True,
        id="rule-message-without-ja",
    ),
    pytest.param(("rules",), {"when": {}}, "rules", "list", True, id="rules-not-a-list"),
    pytest.param(
        ("eligibility", "relation_field"),
        "relashon",
        "eligibility.relation_field",
        "relashon",
        False,
        id="eligibility-unknown-relation-field",
    ),
    pytest.param(
        ("eligibility", "relation_field"),
        "applicant_kana",
        "eligibility.relation_field",
        "applicant_kana",
        False,
        id="eligibility-relation-field-not-a-choice",
    ),
    pytest.param(
        ("eligibility", "relations", "cousin"),
        [],
        "eligibility.relations.cousin",
        "cousin",
        False,
        id="eligibility-relation-not-a-choice",
    ),
    pytest.param(
        ("eligibility", "relations", "proxy"),
        ["stamp"],
        "eligibility.relations.proxy[0]",
        "stamp",
        True,
        id="eligibility-unknown-obligation",
    ),
    pytest.param(
        ("eligibility", "refuse", 0, "message"),
        DELETE,
        "eligibility.refuse[0].message",
        "ja",
        True,
        id="refusal-without-message",
    ),
    pytest.param(
        ("eligibility", "refuse", 0, "reason"),
        "Wide Area",
        "eligibility.refuse[0].reason",
        "lower-case",
        True,
        id="refusal-bad-reason-key",
    ),
    pytest.param(
        ("eligibility", "refuse", 0, "when"),
        {"field": "wide_area", "equals": "yes"},
        "eligibility.refuse[0].when.equals",
        "wide_area",
        False,
        id="refusal-condition-bad-value",
    ),
    pytest.param(
        NEW_FIELD,
        {**AGE, "compute": "years"},
        "(age).compute",
        "years",
        True,
        id="unknown-computation",
    ),
    pytest.param(
        NEW_FIELD,
        {k: v for k, v in AGE.items() if k != "compute"},
        "(age)",
        "compute",
        True,
        id="computed-without-compute",
    ),
    pytest.param(
        NEW_FIELD, {**AGE, "kind": "text"}, "(age)", "number", False, id="age-on-a-text-field"
    ),
    pytest.param(
        NEW_FIELD,
        {**AGE, "filled_by": "resident"},
        "(age)",
        "system",
        True,
        id="computed-filled-by-the-resident",
    ),
    pytest.param(
        NEW_FIELD,
        {**AGE, "from": "applicant_kana"},
        "(age).from",
        "applicant_kana",
        False,
        id="age-from-a-field-that-is-no-date",
    ),
    pytest.param(
        NEW_FIELD,
        {
            **AGE,
            "kind": "choice",
            "compute": "delivery",
            "choices": [{"value": "hand", "label": {"ja": "窓口"}}],
        },
        "(age)",
        "mail",
        False,
        id="delivery-without-its-choices",
    ),
    pytest.param(
        ("sections", 0, "fields", 2, "compute"),
        "age",
        "(copies)",
        "computed",
        True,
        id="compute-without-a-computed-source",
    ),
    pytest.param(
        ("sections", 0, "fields", 0, "default"),
        {"compute": "tax_year", "available_from": "13-01"},
        "(kind).default.available_from",
        "MM-DD",
        True,
        id="tax-year-bad-issue-date",
    ),
]


@pytest.mark.parametrize(("path", "value", "where", "named", "schema_catches"), BROKEN_LOGIC)
def test_broken_template_logic_is_refused_naming_the_place(
    validator: jsonschema.Draft202012Validator,
    path: tuple[str | int, ...],
    value: object,
    where: str,
    named: str,
    schema_catches: bool,
) -> None:
    raw = edited(koseki_raw(), path, value)
    with pytest.raises(TemplateError) as caught:
        parse_template(raw)
    assert where in caught.value.where
    assert named in str(caught.value)
    # what JSON Schema can see, it refuses too; references to fields only the parser knows
    assert bool(schema_errors(validator, raw)) is schema_catches


def test_a_shown_when_cycle_is_refused() -> None:
    raw = edited(koseki_raw(), PROXY_SHOWN, {"field": "subject_name", "filled": True})
    raw = edited(
        raw, ("sections", 2, "fields", 6, "shown_when"), {"field": "proxy_letter", "equals": "1"}
    )
    with pytest.raises(TemplateError, match="depends back"):
        parse_template(raw)


def test_eligibility_may_not_read_what_it_decides() -> None:
    raw = load(SHIPPED_DIR / "10-juminhyo.json")
    raw["eligibility"]["obligations"][0]["when"] = {"field": "delivery", "equals": "mail"}
    with pytest.raises(TemplateError, match="decides itself") as caught:
        parse_template(raw)
    assert caught.value.where == "eligibility.obligations[0].when"


def test_the_base_of_the_logic_table_is_as_described() -> None:
    raw = koseki_raw()
    assert raw["sections"][2]["fields"][5]["id"] == "proxy_letter"
    assert raw["sections"][2]["fields"][6]["id"] == "subject_name"
    assert raw["rules"][0]["when"] == {"field": "relation", "equals": "proxy"}
    assert raw["eligibility"]["refuse"][0]["reason"] == "wide_area_relation"


def juminhyo_with_extra_sheet_surcharge() -> dict[str, Any]:
    """A town charging 300円 a copy plus 50円 for every copy after the first."""
    raw = json.loads((SHIPPED_DIR / "10-juminhyo.json").read_text(encoding="utf-8"))
    raw["fees"].append(
        {
            "code": "juminhyo_extra",
            "label": {"ja": "2通目からの加算"},
            "amount": 50,
            "per_field": "copies",
            "free_units": 1,
        }
    )
    return raw


@pytest.mark.parametrize(
    ("copies", "total", "lines"),
    [("1", 300, 1), ("2", 650, 2), ("4", 1350, 2)],
)
def test_a_surcharge_counts_only_the_units_after_the_free_ones(
    copies: str, total: int, lines: int
) -> None:
    template = parse_template(juminhyo_with_extra_sheet_surcharge())
    fee = compute_fee(template, {"copies": copies})
    assert (fee.total, len(fee.lines)) == (total, lines)


def test_a_surcharge_without_the_field_it_counts_is_refused(
    validator: jsonschema.Draft202012Validator,
) -> None:
    raw = juminhyo_with_extra_sheet_surcharge()
    assert schema_errors(validator, raw) == []
    del raw["fees"][-1]["per_field"]
    with pytest.raises(TemplateError, match=r"fees\[1\]\.free_units.*per_field"):
        parse_template(raw)
