"""Template parsing, validation, fees and 和暦."""

from __future__ import annotations

import json
from datetime import date

import pytest

from forms.fees import compute_fee
from forms.model import TemplateError, parse_template
from forms.validation import check_field
from forms.wareki import PartialDate, format_wareki
from kiosk.templates_repo import SHIPPED_DIR, shipped_templates


def minimal(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "id": "t",
        "version": 1,
        "title": {"ja": "テスト"},
        "business": "住民基本台帳事務",
        "sections": [
            {
                "id": "s",
                "title": {"ja": "s"},
                "fields": [
                    {
                        "id": "copies",
                        "kind": "number",
                        "label": {"ja": "通数"},
                        "min": 1,
                        "max": 5,
                        "required": True,
                    }
                ],
            }
        ],
        "fees": [{"code": "copy", "label": {"ja": "写し"}, "amount": 300, "per_field": "copies"}],
    }
    raw.update(changes)
    return raw


def test_shipped_templates_parse() -> None:
    ids = [t.id for t in shipped_templates()]
    # the file names order the kiosk's tiles: 住民票 first, the fee-free move last
    assert ids[:2] == ["juminhyo", "inkan"]
    assert ids[-1] == "idou"
    assert len(ids) == len(list(SHIPPED_DIR.glob("*.json")))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"id": "Bad Id"}, "id"),
        ({"version": 0}, "version"),
        ({"title": {"en": "no japanese"}}, "title"),
        ({"business": ""}, "business"),
        ({"sections": []}, "sections"),
        ({"fees": [{"code": "x", "label": {"ja": "x"}, "amount": -1}]}, "fees[0].amount"),
        (
            {"fees": [{"code": "x", "label": {"ja": "x"}, "amount": 1, "per_field": "nope"}]},
            "fees[0]",
        ),
    ],
)
def test_malformed_templates_are_refused_with_the_place_named(
    change: dict[str, object], where: str
) -> None:
    with pytest.raises(TemplateError) as info:
        parse_template(minimal(**change))
    assert info.value.where == where


def test_only_a_my_number_business_may_bind_the_my_number() -> None:
    field = {
        "id": "mn",
        "kind": "text",
        "label": {"ja": "個人番号"},
        "source": "card.my_number",
        "filled_by": "system",
    }
    sections = [{"id": "s", "title": {"ja": "s"}, "fields": [field]}]
    with pytest.raises(TemplateError) as info:
        parse_template(minimal(sections=sections, fees=[]))
    assert info.value.where == "my_number_business"
    assert parse_template(minimal(sections=sections, fees=[], my_number_business=True))


def test_fees_use_the_municipal_table_over_template_defaults() -> None:
    template = parse_template(minimal())
    assert compute_fee(template, {"copies": "3"}).total == 900
    assert compute_fee(template, {"copies": "3"}, {"copy": 200}).total == 600
    assert compute_fee(template, {"copies": "3"}, {"copy": 0}).total == 0


def test_validation_messages_never_echo_the_value() -> None:
    template = parse_template(minimal())
    problem = check_field(template.field("copies"), "123456789012")
    assert problem is not None
    assert problem.message_key == "invalid_max"
    assert "123456789012" not in repr(problem)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19580412", "昭和33年4月12日"),
        ("19890107", "昭和64年1月7日"),
        ("19890108", "平成元年1月8日"),
        ("20190501", "令和元年5月1日"),
        ("19800000", "昭和55年　月　日"),
        ("19801100", "昭和55年11月　日"),
        (date(2026, 11, 24), "令和8年11月24日"),
    ],
)
def test_wareki(value: str | date, expected: str) -> None:
    assert format_wareki(value) == expected


def test_partial_dates_are_kept_and_flagged() -> None:
    assert PartialDate.parse("19800000").is_partial
    with pytest.raises(ValueError, match="month"):
        PartialDate.parse("19801300")
    with pytest.raises(ValueError, match="day"):
        PartialDate.parse("19800010")


def test_shipped_template_files_are_valid_json_with_translations() -> None:
    for path in SHIPPED_DIR.glob("*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert "en" in raw["title"], path.name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明治45年7月29日", date(1912, 7, 29)),
        ("大正元年7月30日", date(1912, 7, 30)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("平成1年1月8日", date(1989, 1, 8)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和８年１１月２４日", date(2026, 11, 24)),
    ],
)
def test_wareki_back_to_western_at_era_boundaries(text: str, expected: date) -> None:
    from forms.wareki import parse_wareki

    assert parse_wareki(text) == expected
    assert parse_wareki(format_wareki(expected)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "昭和64年1月8日",
        "平成31年5月1日",
        "令和0年1月1日",
        "平成2年2月30日",
        "H1.1.8",
        "大正15年12月25日",
    ],
)
def test_wareki_outside_its_era_is_refused(text: str) -> None:
    from forms.wareki import parse_wareki

    with pytest.raises(ValueError):  # noqa: PT011 - the message is for people, not tests
        parse_wareki(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19120729", "明治45年7月29日"),
        ("19120730", "大正元年7月30日"),
        ("19261224", "大正15年12月24日"),
        ("19261225", "昭和元年12月25日"),
        ("20190430", "平成31年4月30日"),
    ],
)
def test_wareki_at_every_era_boundary(value: str, expected: str) -> None:
    assert format_wareki(value) == expected


def test_a_signature_box_is_printed_not_asked() -> None:
    from forms.fees import Fee
    from forms.prefill import resident_questions
    from kiosk.print_service import document_for

    sign = {"id": "sig", "kind": "signature", "filled_by": "resident", "label": {"ja": "署名"}}
    sections = [
        {
            "id": "s",
            "title": {"ja": "s"},
            "fields": [
                {
                    "id": "copies",
                    "kind": "number",
                    "label": {"ja": "通数"},
                    "min": 1,
                    "max": 5,
                    "required": True,
                },
                sign,
            ],
        }
    ]
    template = parse_template(minimal(sections=sections))
    assert resident_questions(template) == ["copies"]
    doc = document_for(
        template,
        {"copies": "1"},
        fee=Fee(()),
        addressee="",
        day=date(2026, 1, 5),
        ticket="",
        reference="r",
    )
    assert [row.kind for row in doc.sections[0].rows] == ["text", "signature"]
    with pytest.raises(TemplateError, match="signature"):
        parse_template(
            minimal(
                sections=[
                    {"id": "s", "title": {"ja": "s"}, "fields": [{**sign, "required": True}]}
                ],
                fees=[],
            )
        )


def test_multi_choice_values_and_display() -> None:
    from forms.display import display_value

    field = {
        "id": "m",
        "kind": "multi_choice",
        "label": {"ja": "m"},
        "required": True,
        "choices": [{"value": "a", "label": {"ja": "甲"}}, {"value": "b", "label": {"ja": "乙"}}],
    }
    template = parse_template(
        minimal(sections=[{"id": "s", "title": {"ja": "s"}, "fields": [field]}], fees=[])
    )
    f = template.field("m")
    assert check_field(f, "a,b") is None
    problem = check_field(f, "")
    assert problem is not None
    assert problem.message_key == "invalid_required"
    for bad in ("a,c", "a,a"):
        problem = check_field(f, bad)
        assert problem is not None
        assert problem.message_key == "invalid_choice"
    assert display_value(f, "a,b") == "甲、乙"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("19580412", "19580412"),
        ("1958-04-12", "19580412"),
        ("1958/4/12", "19580412"),
        ("1958年4月12日", "19580412"),
        ("昭和33年4月12日", "19580412"),
        ("平成元年1月8日", "19890108"),
        ("令和元年５月１日", "20190501"),
        ("昭和64年1月8日", "昭和64年1月8日"),  # outside its era: left for the validator
        ("1958-02-30", "1958-02-30"),
    ],
)
def test_dates_typed_by_a_clerk_are_stored_as_digits(typed: str, stored: str) -> None:
    from forms.wareki import normalize_date_input

    assert normalize_date_input(typed) == stored
