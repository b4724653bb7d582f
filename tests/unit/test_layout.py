"""The print layout as template data: parsing, checks naming the element, the automatic
arrangement, the address split, person rows, and what the fixed renderer prints."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from forms.address import split_address
from forms.fees import compute_fee
from forms.layout import Fit, TextStyleSpec
from forms.layout_builder import auto_layout, format_template_json
from forms.model import FieldKind, Template, TemplateError, parse_template
from forms.validation import check_field, encode_person_rows
from kiosk.print_service import document_for
from printing.document import PrintDocument
from printing.fixed import fit_in_box
from printing.fonts import FAMILIES, MINCHO, register_fonts
from printing.render import ValueDoesNotFit, render_pdf

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "forms" / "templates").glob("*.json"))


def raw_of(name: str) -> dict[str, Any]:
    path = next(p for p in TEMPLATES if p.stem.endswith(name))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def render(raw: dict[str, Any], values: dict[str, str]) -> bytes:
    return render_pdf(document(parse_template(raw), values))


def document(template: Template, values: dict[str, str]) -> PrintDocument:
    return document_for(
        template,
        values,
        fee=compute_fee(template, values, {}),
        addressee="松浦市長　様",
        day=date(2026, 12, 1),
        ticket="A-007",
        reference="20261201-A-007",
    )


# ---------------------------------------------------------------------------- shipped layouts


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_shipped_template_has_a_layout_placing_every_field(path: Path) -> None:
    template = parse_template(json.loads(path.read_text(encoding="utf-8")))
    assert template.layout is not None
    assert template.layout.placed_fields() == {f.id for f in template.fields}
    assert template.layout.paper == "A4"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_the_shipped_layout_is_what_the_layout_command_writes(path: Path) -> None:
    """The files carry the automatic arrangement; re-arranging changes nothing until an
    administrator moves a box, so the command is safe to run."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    template = parse_template({k: v for k, v in raw.items() if k != "layout"})
    split = [
        e["field"]
        for e in raw["layout"]["elements"]
        if e.get("type") == "field" and e.get("part") == "prefecture"
    ]
    assert auto_layout(template, split_addresses=split) == raw["layout"]


def test_the_layout_command_rewrites_only_the_layout(tmp_path: Path) -> None:
    original = (ROOT / "forms" / "templates" / "20-inkan.json").read_text(encoding="utf-8")
    raw = json.loads(original)
    raw["layout"]["elements"][0]["x"] = 99.0  # an administrator moved a box
    target = tmp_path / "inkan.json"
    target.write_text(format_template_json(raw, original), encoding="utf-8")
    assert target.read_text(encoding="utf-8") != original
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "templates", "layout", str(target), "--write"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8") == original


def test_format_keeps_each_element_on_one_line() -> None:
    raw = raw_of("juminhyo")
    text = format_template_json(raw)
    assert json.loads(text) == raw
    element_lines = [line for line in text.splitlines() if line.startswith('      {"type"')]
    assert len(element_lines) == len(raw["layout"]["elements"])


# ---------------------------------------------------------------------------- refusals


def _with(raw: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out["layout"]["elements"][index].update(changes)
    return out


def _field_index(raw: dict[str, Any], field_id: str) -> int:
    return next(
        i
        for i, e in enumerate(raw["layout"]["elements"])
        if e.get("type") == "field" and e.get("field") == field_id
    )


@pytest.mark.parametrize(
    ("change", "where", "problem"),
    [
        (lambda r: _with(r, _field_index(r, "copies"), x=200.0), "copies", "off the page"),
        (lambda r: _with(r, _field_index(r, "copies"), field="nope"), "nope", "unknown field"),
        (lambda r: _with(r, _field_index(r, "copies"), fit="squash"), "copies", "fit rule"),
        (lambda r: _with(r, _field_index(r, "copies"), font="comic"), "copies", "font"),
        (lambda r: _with(r, _field_index(r, "copies"), size=3), "copies", "min_size"),
        (lambda r: _with(r, _field_index(r, "copies"), page=2), "copies", "page from 1 to 1"),
        (lambda r: _with(r, _field_index(r, "copies"), show="check"), "copies", "tick box"),
        (
            lambda r: _with(r, _field_index(r, "copies"), part="prefecture"),
            "copies",
            "address",
        ),
        (lambda r: _with(r, 0, type="circle"), "elements[0]", "unknown element"),
        (lambda r: _with(r, 1, slot="logo"), "elements[1]", "unknown slot"),
        (
            lambda r: {
                **r,
                "layout": {
                    **r["layout"],
                    "elements": [
                        e for e in r["layout"]["elements"] if e.get("field") != "applicant_kana"
                    ],
                },
            },
            "layout",
            "'applicant_kana' has no place",
        ),
        (
            lambda r: {**r, "layout": {**r["layout"], "page": {"size": "A5"}}},
            "layout.page.size",
            "must be one of",
        ),
    ],
    ids=[
        "off-page",
        "unknown-field",
        "fit",
        "font",
        "size",
        "page",
        "check-on-number",
        "part-on-number",
        "element-type",
        "slot",
        "unplaced-field",
        "paper",
    ],
)
def test_broken_layouts_are_refused_naming_the_element(
    change: Any, where: str, problem: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(change(raw_of("juminhyo")))
    assert where in str(caught.value)
    assert problem in str(caught.value)


def test_a_mark_for_an_unknown_choice_is_refused() -> None:
    raw = raw_of("juminhyo")
    i = _field_index(raw, "kind")
    raw["layout"]["elements"][i]["marks"][0]["value"] = "nothing"
    with pytest.raises(TemplateError, match=r"kind.*no choice 'nothing'"):
        parse_template(raw)


# ---------------------------------------------------------------------------- address split


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("長崎県松浦市志佐町里免３６５番地", ("長崎県", "松浦市", "志佐町里免３６５番地")),
        ("東京都千代田区市谷本村町1-1", ("東京都", "千代田区", "市谷本村町1-1")),
        ("北海道札幌市中央区北1条西2丁目", ("北海道", "札幌市中央区", "北1条西2丁目")),
        ("北海道余市郡余市町黒川町1", ("北海道", "余市郡余市町", "黒川町1")),
        ("三重県四日市市諏訪町1-5", ("三重県", "四日市市", "諏訪町1-5")),
        ("福島県郡山市朝日1丁目", ("福島県", "郡山市", "朝日1丁目")),
        ("千葉県市川市八幡1", ("千葉県", "市川市", "八幡1")),
        ("東京都町田市森野2", ("東京都", "町田市", "森野2")),
        ("大阪府大阪市北区梅田1", ("大阪府", "大阪市北区", "梅田1")),
        ("京都府京都市左京区", ("京都府", "京都市左京区", "")),
        ("沖縄県島尻郡南大東村字南", ("沖縄県", "島尻郡南大東村", "字南")),
        ("東京都八王子市元本郷町3", ("東京都", "八王子市", "元本郷町3")),
        ("123 Main Street", ("", "", "123 Main Street")),
    ],
)
def test_addresses_split_into_prefecture_municipality_and_rest(
    address: str, parts: tuple[str, str, str]
) -> None:
    split = split_address(address)
    assert (split.prefecture, split.municipality, split.rest) == parts
    assert split.joined() == address  # nothing is ever dropped


# ---------------------------------------------------------------------------- person rows


def test_person_rows_are_validated_item_by_item() -> None:
    idou = parse_template(raw_of("idou"))
    movers = idou.field("movers")
    assert movers.kind is FieldKind.PERSONS
    ok = encode_person_rows([{"name": "髙﨑　花子", "birth_date": "19580412", "kana": ""}])
    assert check_field(movers, ok) is None
    assert check_field(movers, "").message_key == "invalid_required"  # type: ignore[union-attr]
    bad_card = encode_person_rows(
        [
            {"name": "A", "birth_date": "19900105"},
            {"name": "B", "birth_date": "19900105", "residence_card": "12345"},
        ]
    )
    problem = check_field(movers, bad_card)
    assert problem is not None
    assert problem.message_key == "invalid_format"
    assert dict(problem.params) == {"row": 2, "item": "residence_card"}
    too_many = encode_person_rows([{"name": "A", "birth_date": "19900105"}] * 5)
    assert check_field(movers, too_many).message_key == "invalid_too_many_rows"  # type: ignore[union-attr]
    assert check_field(movers, "not json").message_key == "invalid_format"  # type: ignore[union-attr]
    assert check_field(movers, '[{"surprise": "x"}]').message_key == "invalid_format"  # type: ignore[union-attr]


def test_a_persons_field_needs_items_of_row_kinds() -> None:
    raw = raw_of("idou")
    raw.pop("layout")
    movers = raw["sections"][1]["fields"][0]
    movers["items"].append({"id": "sig", "kind": "signature", "label": {"ja": "署名"}})
    with pytest.raises(TemplateError, match=r"movers.*cannot hold a signature item"):
        parse_template(raw)
    movers["items"] = []
    with pytest.raises(TemplateError, match=r"movers.*items"):
        parse_template(raw)


# ---------------------------------------------------------------------------- rendering


def test_fixed_layout_prints_values_parts_rows_and_marks(tmp_path: Path) -> None:
    values = {
        "move_kind": "tenkyo",
        "members": "2",
        "new_address": "北海道札幌市中央区北１条西２丁目",
        "move_date": "20261120",
        "movers": encode_person_rows(
            [
                {"name": "髙﨑　花子", "birth_date": "19580412", "relation": "世帯主"},
                {
                    "name": "SMITH JOHN",
                    "birth_date": "19900105",
                    "nationality": "アメリカ合衆国",
                    "residence_card": "AB12345678CD",
                },
            ]
        ),
        "notifier_name": "髙﨑　花子",
        "notifier_address": "長崎県松浦市志佐町里免３６５番地",
        "notifier_birth_date": "19580412",
    }
    text = pdf_text(render(raw_of("idou"), values), tmp_path)
    for expected in (
        "住民異動届",
        "北海道",
        "札幌市中央区",
        "北１条西２丁目",
        "髙﨑　花子",
        "長崎県松浦市志佐町里免３６５番地",
        "昭和33年4月12日",  # a Japanese national's row: 和暦
        "1990年1月5日",  # a foreign resident's row: Western calendar
        "AB12345678CD",
        "整理券 A-007",
        "受付番号 20261201-A-007",
    ):
        assert expected in text, expected


def test_too_many_people_for_the_rows_is_an_error_naming_the_field() -> None:
    raw = raw_of("idou")
    raw["sections"][1]["fields"][0]["max_rows"] = 9  # the form still has 4 rows
    many = encode_person_rows([{"name": f"人{i}", "birth_date": "19900105"} for i in range(6)])
    with pytest.raises(ValueDoesNotFit, match="異動する人"):
        render(raw, {"movers": many})


def test_a_value_too_long_for_its_box_is_an_error_never_clipped() -> None:
    # copies has a one-row box: 400 digits cannot fit at any legible size
    with pytest.raises(ValueDoesNotFit, match="必要な通数"):
        render(raw_of("juminhyo"), {"copies": "1" * 400})


@pytest.mark.parametrize(
    ("fit", "text", "lines"),
    [
        (Fit.SHRINK, "松浦市志佐町里免３６５番地", 1),
        (Fit.SHRINK_WRAP, "長崎県松浦市志佐町里免３６５番地" * 3, 2),
        (Fit.WRAP, "長崎県松浦市志佐町里免３６５番地" * 2, 2),
    ],
)
def test_fit_rules(fit: Fit, text: str, lines: int) -> None:
    register_fonts()
    style = TextStyleSpec(font="mincho", size=11, min_size=6, fit=fit)
    fitted = fit_in_box(text, 300, 30, style, FAMILIES[MINCHO])
    assert len(fitted.lines) == lines
    assert "".join(fitted.lines) == text
    with pytest.raises(ValueError, match=r"do not fit|too short"):
        fit_in_box(text * 20, 300, 30, style, FAMILIES[MINCHO])


def test_missing_glyphs_are_found_in_fixed_layout_values_parts_and_rows() -> None:
    from printing.glyphs import find_missing

    values = {
        "new_address": "𠮷野県松浦市志佐町",
        "movers": encode_person_rows([{"name": "𠮷田　一", "birth_date": "19900105"}]),
    }
    doc = document(parse_template(raw_of("idou")), values)
    problems = find_missing(doc)
    assert {(p.field, p.code) for p in problems} == {
        ("new_address", "U+20BB7"),
        ("movers", "U+20BB7"),
    }
    with pytest.raises(ValueError, match="missing glyph"):
        render_pdf(doc)


def test_a_date_may_print_as_era_boxes(tmp_path: Path) -> None:
    raw = raw_of("juminhyo")
    i = _field_index(raw, "applicant_birth_date")
    raw["layout"]["elements"][i]["show"] = "era"
    text = pdf_text(render(raw, {"applicant_birth_date": "19580412"}), tmp_path)
    for era in ("明治", "大正", "昭和", "平成", "令和"):
        assert era in text
    assert "33年4月12日" in text
    raw["layout"]["elements"][_field_index(raw, "copies")]["show"] = "era"
    with pytest.raises(TemplateError, match=r"copies.*era boxes print a date"):
        parse_template(raw)
