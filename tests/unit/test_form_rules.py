"""Conditions, rules, eligibility and computed fields, as tables of cases over the shipped
templates: (template, values) → outcome."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from forms.assessment import assess, settle
from forms.computed import age_on, computed_defaults, computed_values, tax_year_on
from forms.conditions import holds, parse_condition
from forms.eligibility import Obligation, Verdict, evaluate
from forms.model import Template, parse_template
from forms.prefill import FilledValue, Provenance
from forms.rules import check_rules
from forms.visibility import effective_values, visible_ids
from forms.wareki import PartialDate
from kiosk.templates_repo import SHIPPED_DIR

POA, SEAL, PHOTO, REVIEW, MAIL = (
    Obligation.POWER_OF_ATTORNEY,
    Obligation.SEAL_CARD,
    Obligation.PHOTO_ID,
    Obligation.REASON_REVIEW,
    Obligation.MAIL_TO_PERSON,
)


def shipped(template_id: str) -> Template:
    for path in SHIPPED_DIR.glob("*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw["id"] == template_id:
            return parse_template(raw)
    raise KeyError(template_id)


# --- conditions -------------------------------------------------------------------------
CONDITIONS = [
    ({"field": "relation", "equals": "proxy"}, {"relation": "proxy"}, True),
    ({"field": "relation", "equals": "proxy"}, {"relation": "self"}, False),
    ({"field": "relation", "equals": "proxy"}, {}, False),
    ({"field": "relation", "in": ["self", "household"]}, {"relation": "household"}, True),
    ({"field": "relation", "in": ["self", "household"]}, {"relation": "proxy"}, False),
    ({"field": "include_my_number", "equals": "1"}, {"include_my_number": "1"}, True),
    ({"field": "include_my_number", "filled": True}, {"include_my_number": "0"}, False),
    ({"field": "include_my_number", "filled": True}, {"include_my_number": "1"}, True),
    ({"field": "include_my_number", "filled": False}, {}, True),
    ({"field": "applicant_kana", "filled": True}, {"applicant_kana": "  "}, False),
    ({"field": "applicant_kana", "filled": True}, {"applicant_kana": "たかさき"}, True),
    ({"field": "copies", "at_least": 2}, {"copies": "2"}, True),
    ({"field": "copies", "at_least": 2}, {"copies": "1"}, False),
    ({"field": "copies", "at_most": 2}, {"copies": "3"}, False),
    ({"field": "copies", "at_most": 2}, {"copies": ""}, False),
    ({"not": {"field": "relation", "equals": "self"}}, {"relation": "proxy"}, True),
    (
        {"all": [{"field": "relation", "equals": "proxy"}, {"field": "copies", "at_least": 2}]},
        {"relation": "proxy", "copies": "1"},
        False,
    ),
    (
        {"any": [{"field": "relation", "equals": "proxy"}, {"field": "copies", "at_least": 2}]},
        {"relation": "self", "copies": "3"},
        True,
    ),
]


@pytest.mark.parametrize(("raw", "values", "expected"), CONDITIONS)
def test_conditions(raw: dict[str, Any], values: dict[str, str], expected: bool) -> None:
    fields = {f.id: f for f in shipped("juminhyo").fields}
    assert holds(parse_condition(raw, "test", fields), values) is expected


def test_multi_choice_equals_means_among_the_chosen() -> None:
    fields = {f.id: f for f in shipped("idou").fields}
    seal = parse_condition({"field": "related_procedures", "equals": "seal"}, "t", fields)
    assert holds(seal, {"related_procedures": "health_insurance,seal"})
    assert not holds(seal, {"related_procedures": "health_insurance"})
    either = parse_condition(
        {"field": "related_procedures", "in": ["seal", "child_allowance"]}, "t", fields
    )
    assert holds(either, {"related_procedures": "child_allowance"})


# --- shown_when -------------------------------------------------------------------------
SHOWN = [
    (
        "juminhyo",
        {"relation": "self"},
        set(),
        {"proxy_letter", "third_party_reason", "subject_name", "reason_detail", "submit_to"},
    ),
    (
        "juminhyo",
        {"relation": "proxy"},
        {"proxy_letter", "subject_name", "subject_address"},
        {"third_party_reason", "reason_detail"},
    ),
    (
        "juminhyo",
        {"relation": "third_party", "third_party_reason": "submit_to_office"},
        {"third_party_reason", "reason_detail", "submit_to", "subject_name"},
        {"proxy_letter"},
    ),
    # submit_to depends on a field that is itself hidden: it goes too
    (
        "juminhyo",
        {"relation": "self", "third_party_reason": "submit_to_office"},
        set(),
        {"third_party_reason", "submit_to"},
    ),
    ("koseki", {"relation": "spouse"}, {"subject_name"}, {"proxy_letter", "third_party_reason"}),
    (
        "koseki",
        {"relation": "third_party", "third_party_reason": "right_duty"},
        {"reason_right_duty", "reason_detail"},
        {"reason_submit_to"},
    ),
    ("zeishomei", {"relation": "household"}, {"subject_name"}, {"proxy_letter", "subject_address"}),
    ("inkan", {"relation": "proxy"}, {"registrant_name", "seal_card"}, set()),
    ("idou", {"notifier_relation": "proxy"}, {"proxy_letter"}, set()),
    ("idou", {"notifier_relation": "head"}, set(), {"proxy_letter"}),
]


@pytest.mark.parametrize(("template_id", "values", "shown", "hidden"), SHOWN)
def test_shown_when(
    template_id: str, values: dict[str, str], shown: set[str], hidden: set[str]
) -> None:
    visible = visible_ids(shipped(template_id), values)
    assert shown <= visible
    assert not hidden & visible


def test_a_hidden_answer_is_not_kept() -> None:
    juminhyo = shipped("juminhyo")
    values = {"relation": "self", "proxy_letter": "1", "purpose": "bank"}
    assert effective_values(juminhyo, values) == {"relation": "self", "purpose": "bank"}


# --- rules ------------------------------------------------------------------------------
RULES = [
    ("juminhyo", {"relation": "proxy", "proxy_letter": "0"}, ["代理人の方は"]),
    ("juminhyo", {"relation": "proxy", "proxy_letter": "1"}, []),
    ("juminhyo", {"relation": "self", "proxy_letter": "0"}, []),
    ("juminhyo", {"relation": "third_party"}, ["第三者の方は"]),
    ("juminhyo", {"relation": "third_party", "third_party_reason": "other"}, []),
    ("koseki", {"relation": "proxy"}, ["代理人の方は"]),
    ("zeishomei", {"relation": "proxy", "proxy_letter": "1"}, []),
    ("inkan", {"relation": "self", "seal_card": "0"}, ["印鑑登録証"]),
    ("inkan", {"relation": "proxy", "seal_card": "1"}, []),
    ("idou", {"notifier_relation": "proxy", "proxy_letter": "0"}, ["代理人の方は"]),
    ("idou", {"notifier_relation": "head"}, []),
]


@pytest.mark.parametrize(("template_id", "values", "messages"), RULES)
def test_rules(template_id: str, values: dict[str, str], messages: list[str]) -> None:
    failures = check_rules(shipped(template_id), values)
    assert len(failures) == len(messages)
    for failure, start in zip(failures, messages, strict=True):
        assert failure.message["ja"].startswith(start)
        assert {"ja", "en", "ja-easy"} <= set(failure.message)


# --- eligibility ------------------------------------------------------------------------
ALLOWED, REFUSED = Verdict.ALLOWED, Verdict.REFUSED
ELIGIBILITY = [
    # 住民票: self / household / proxy (委任状) / third party (reason reviewed)
    ("juminhyo", {"relation": "self"}, ALLOWED, "", ()),
    ("juminhyo", {"relation": "household", "include_my_number": "1"}, ALLOWED, "", ()),
    ("juminhyo", {"relation": "proxy"}, ALLOWED, "", (POA,)),
    # copies with the My Number or 住民票コード asked for by a proxy go by post to the person
    ("juminhyo", {"relation": "proxy", "include_my_number": "1"}, ALLOWED, "", (POA, MAIL)),
    ("juminhyo", {"relation": "proxy", "include_resident_code": "1"}, ALLOWED, "", (POA, MAIL)),
    ("juminhyo", {"relation": "self", "include_my_number": "1"}, ALLOWED, "", ()),
    ("juminhyo", {"relation": "third_party"}, ALLOWED, "", (REVIEW,)),
    (
        "juminhyo",
        {"relation": "third_party", "include_my_number": "1"},
        REFUSED,
        "third_party_no_my_number",
        (),
    ),
    ("juminhyo", {"relation": "cousin"}, REFUSED, "relation_not_allowed", ()),
    ("juminhyo", {}, REFUSED, "relation_not_allowed", ()),
    # 印鑑: the 印鑑登録証 for everyone; no 委任状 as shipped
    ("inkan", {"relation": "self"}, ALLOWED, "", (SEAL,)),
    ("inkan", {"relation": "proxy"}, ALLOWED, "", (SEAL,)),
    # 戸籍: self / spouse / lineal; proxy with 委任状; third party with a reason
    ("koseki", {"relation": "lineal", "kind": "zenbu"}, ALLOWED, "", ()),
    ("koseki", {"relation": "proxy", "kind": "zenbu"}, ALLOWED, "", (POA,)),
    ("koseki", {"relation": "third_party", "kind": "kojin"}, ALLOWED, "", (REVIEW,)),
    # 広域交付: self/spouse/lineal only, photo ID, full copies only
    ("koseki", {"relation": "self", "kind": "zenbu", "wide_area": "1"}, ALLOWED, "", (PHOTO,)),
    ("koseki", {"relation": "spouse", "kind": "joseki", "wide_area": "1"}, ALLOWED, "", (PHOTO,)),
    (
        "koseki",
        {"relation": "proxy", "kind": "zenbu", "wide_area": "1"},
        REFUSED,
        "wide_area_relation",
        (),
    ),
    (
        "koseki",
        {"relation": "third_party", "kind": "zenbu", "wide_area": "1"},
        REFUSED,
        "wide_area_relation",
        (),
    ),
    (
        "koseki",
        {"relation": "self", "kind": "kojin", "wide_area": "1"},
        REFUSED,
        "wide_area_kind",
        (),
    ),
    (
        "koseki",
        {"relation": "self", "kind": "fuhyo", "wide_area": "1"},
        REFUSED,
        "wide_area_kind",
        (),
    ),
    ("koseki", {"relation": "self", "kind": "fuhyo", "wide_area": "0"}, ALLOWED, "", ()),
    # 税証明: same household may apply; proxy with 委任状; no third party
    ("zeishomei", {"relation": "household"}, ALLOWED, "", ()),
    ("zeishomei", {"relation": "proxy"}, ALLOWED, "", (POA,)),
    ("zeishomei", {"relation": "third_party"}, REFUSED, "relation_not_allowed", ()),
    # 住民異動届: 本人 / 世帯主 / 代理人 + 委任状
    ("idou", {"notifier_relation": "self"}, ALLOWED, "", ()),
    ("idou", {"notifier_relation": "head"}, ALLOWED, "", ()),
    ("idou", {"notifier_relation": "proxy"}, ALLOWED, "", (POA,)),
]


@pytest.mark.parametrize(("template_id", "values", "verdict", "reason", "obligations"), ELIGIBILITY)
def test_eligibility(
    template_id: str,
    values: dict[str, str],
    verdict: Verdict,
    reason: str,
    obligations: tuple[Obligation, ...],
) -> None:
    outcome = evaluate(shipped(template_id), values)
    assert (outcome.verdict, outcome.reason, outcome.obligations) == (verdict, reason, obligations)
    if reason and reason != "relation_not_allowed":  # the template's own words
        assert {"ja", "en", "ja-easy"} <= set(outcome.message)


def test_a_template_without_eligibility_allows_everyone() -> None:
    raw = json.loads((SHIPPED_DIR / "20-inkan.json").read_text(encoding="utf-8"))
    del raw["eligibility"]
    outcome = evaluate(parse_template(raw), {})
    assert outcome.allowed
    assert outcome.obligations == ()


def test_a_town_that_wants_a_power_of_attorney_for_the_seal_certificate_says_so() -> None:
    raw = json.loads((SHIPPED_DIR / "20-inkan.json").read_text(encoding="utf-8"))
    raw["eligibility"]["relations"]["proxy"].append("power_of_attorney")
    outcome = evaluate(parse_template(raw), {"relation": "proxy"})
    assert outcome.obligations == (SEAL, POA)


# --- computed fields --------------------------------------------------------------------
AGES = [
    ("19580412", date(2026, 4, 11), 67),
    ("19580412", date(2026, 4, 12), 68),
    ("20000229", date(2025, 2, 28), 24),  # born on 29 February: a year older on 1 March
    ("20000229", date(2025, 3, 1), 25),
    ("20000229", date(2024, 2, 29), 24),
    ("20261201", date(2026, 12, 1), 0),
]


@pytest.mark.parametrize(("birth", "day", "age"), AGES)
def test_age(birth: str, day: date, age: int) -> None:
    assert age_on(PartialDate.parse(birth), day) == age


def test_no_age_from_a_partial_birth_date() -> None:
    idou = shipped("idou")
    assert computed_values(idou, {"notifier_birth_date": "19580000"}, date(2026, 1, 1)) == {
        "notifier_age": ""
    }


TAX_YEARS = [
    (date(2026, 12, 1), (6, 1), 2026),
    (date(2026, 6, 1), (6, 1), 2026),
    (date(2026, 5, 31), (6, 1), 2025),  # the 令和8年度 certificate is not out before June
    (date(2026, 1, 5), (6, 1), 2025),
    (date(2026, 6, 10), (6, 15), 2025),  # a town that issues from 15 June
]


@pytest.mark.parametrize(("day", "switch", "fiscal_year"), TAX_YEARS)
def test_tax_year(day: date, switch: tuple[int, int], fiscal_year: int) -> None:
    assert tax_year_on(day, switch) == fiscal_year


def test_the_tax_year_default_is_a_choice_of_the_template() -> None:
    zeishomei = shipped("zeishomei")
    assert computed_defaults(zeishomei, date(2026, 12, 1)) == {"fiscal_year": "R8"}
    assert computed_defaults(zeishomei, date(2026, 5, 31)) == {"fiscal_year": "R7"}
    # a year the shipped choices do not offer yet: the resident chooses
    assert computed_defaults(zeishomei, date(2027, 6, 1)) == {}


def test_today_is_computed() -> None:
    raw = json.loads((SHIPPED_DIR / "90-idou.json").read_text(encoding="utf-8"))
    filed_on = next(
        f for section in raw["sections"] for f in section["fields"] if f["id"] == "filed_on"
    )
    filed_on["source"] = "computed"
    filed_on["compute"] = "today"
    idou = parse_template(raw)
    assert computed_values(idou, {}, date(2026, 12, 1))["filed_on"] == "20261201"


DELIVERY = [
    ({"relation": "self", "include_my_number": "1"}, "counter"),
    ({"relation": "proxy", "include_my_number": "0"}, "counter"),
    ({"relation": "proxy", "include_my_number": "1"}, "mail"),
    ({"relation": "proxy", "include_resident_code": "1"}, "mail"),
]


@pytest.mark.parametrize(("values", "delivery"), DELIVERY)
def test_delivery_follows_the_eligibility_outcome(values: dict[str, str], delivery: str) -> None:
    assert computed_values(shipped("juminhyo"), values, date(2026, 12, 1)) == {"delivery": delivery}


def test_settle_drops_hidden_answers_and_recomputes() -> None:
    juminhyo = shipped("juminhyo")
    resident = Provenance.RESIDENT
    values = {
        "relation": FilledValue("self", resident),
        "proxy_letter": FilledValue("1", resident),  # answered while relation was proxy
        "include_my_number": FilledValue("1", resident),
        "delivery": FilledValue("mail", Provenance.SYSTEM),
    }
    settled = settle(juminhyo, values, date(2026, 12, 1))
    assert "proxy_letter" not in settled
    assert settled["delivery"] == FilledValue("counter", Provenance.SYSTEM)


def test_assess_collects_problems_rules_and_eligibility() -> None:
    values = {"relation": "proxy", "proxy_letter": "0", "kind": "zenbu", "wide_area": "1"}
    result = assess(shipped("koseki"), values)
    assert not result.ok
    assert {p.field_id for p in result.problems} >= {"copies", "applicant_kana"}
    assert [f.index for f in result.failures] == [0]
    assert result.outcome.reason == "wide_area_relation"
    # staff-only fields are checked at approval: the proxy's subject name
    staff = assess(shipped("koseki"), values, include_staff=True)
    assert "subject_name" in {p.field_id for p in staff.problems}


def test_every_obligation_and_built_in_refusal_has_its_texts() -> None:
    from forms.eligibility import RELATION_NOT_ALLOWED
    from kiosk.i18n import load_catalog

    for code in ("ja", "en"):
        catalog = load_catalog(code)
        for o in Obligation:
            assert f"obligation_{o.value}" in catalog
            assert f"staff_obligation_{o.value}" in catalog
        assert f"refused_{RELATION_NOT_ALLOWED}" in catalog
    easy = load_catalog("ja-easy")
    assert {f"obligation_{o.value}" for o in Obligation} <= set(easy)
