"""外字 detection and the three ways a form treats characters its fonts lack; literal text.

Real fonts (IPAex, IPAmj明朝 from fonts-ipamj-mincho) and real PDFs read back with
poppler's pdftotext/pdffonts and pypdf.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from printing import fonts
from printing.document import GlyphPolicy, PrintDocument, PrintRow, PrintSection
from printing.glyphs import (
    MissingGlyphs,
    Reason,
    clusters,
    code_label,
    coverage,
    find_missing,
    fingerprint,
)
from printing.render import ValueDoesNotFit, render_pdf, wrap_text

YOSHI = "\U00020bb7"  # 𠮷 (つちよし): not in IPAex, in IPAmj明朝
PUA = "\ue000"  # a private-use 外字: in no public font
KUZU = "葛"
#: 葛 + VS18 is a default variant of IPAexMincho (its own glyph); + VS17 is not drawable
KUZU_DEFAULT, KUZU_OTHER = KUZU + "\U000e0101", KUZU + "\U000e0100"

ADVERSARIAL = (
    "A&B",
    "<para>",
    "1 < 2 > 0",
    '"quoted"',
    "&amp;",
    "'single'",
    '<font color="red">',
    "０１２３４５６７８９",
    "0123456789",
)
ADDRESS_200 = "長崎県松浦市志佐町里免" + "三百六十五番地の一" * 21
assert len(ADDRESS_200) == 200


@pytest.fixture(autouse=True, scope="module")
def _fonts_installed() -> None:
    # `make test` installs fonts-ipamj-mincho: a missing one is a broken set-up, not a skip
    assert fonts.find_font_file(fonts.FALLBACK) is not None, "run make test (fonts-ipamj-mincho)"


def doc_with(*rows: PrintRow, **changes: object) -> PrintDocument:
    doc = PrintDocument(
        title="住民票の写し等交付申請書",
        municipality="松浦市長　様",
        application_date="令和8年11月24日",
        ticket="A-001",
        reference="20261124-A-001",
        sections=(PrintSection("窓口に来た方（請求者）", rows),),
        footer="書かない窓口で作成",
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def name_row(value: str) -> PrintRow:
    return PrintRow("氏名", value, field_id="applicant_name")


def pdftotext_raw(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
        encoding="utf-8",
    ).stdout


def pypdf_lines(pdf: bytes) -> list[str]:
    """pypdf keeps U+3000 (pdftotext turns it into a plain space)."""
    return PdfReader(BytesIO(pdf)).pages[0].extract_text().splitlines()


def ends_a_line(lines: list[str], text: str) -> bool:
    """pypdf may join the section band's title to the first row's line."""
    return any(line.endswith(text) for line in lines)


def pdffonts(pdf: bytes, tmp_path: Path) -> list[dict[str, str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    lines = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    header = lines[0]
    columns = ("type", "encoding", "emb", "sub", "uni")
    starts = {c: header.index(c) for c in columns}
    return [
        {"name": row[: starts["type"]].strip(), "emb": row[starts["emb"] : starts["emb"] + 3]}
        for row in lines[2:]
    ]


# ---------------------------------------------------------------------------- the checker


def test_code_points_are_upper_case_hex_with_at_least_four_digits() -> None:
    assert code_label(0x41) == "U+0041"
    assert code_label(0xE000) == "U+E000"
    assert code_label(0x20BB7) == "U+20BB7"


def test_an_astral_kanji_is_reported_with_field_label_position_and_fallback() -> None:
    [problem] = find_missing(doc_with(name_row(f"{YOSHI}野　花子")))
    assert (problem.field, problem.label, problem.index) == ("applicant_name", "氏名", 0)
    assert (problem.code_point, problem.code, problem.cluster) == (0x20BB7, "U+20BB7", YOSHI)
    assert problem.reason is Reason.NOT_IN_FONT
    assert problem.role == fonts.MINCHO
    assert problem.fallback, "IPAmj明朝 has 𠮷"
    assert problem.cli_line() == "missing glyph U+20BB7 in field applicant_name"


def test_private_use_is_missing_everywhere_and_positions_count_code_points() -> None:
    [problem] = find_missing(doc_with(name_row(f"髙﨑{PUA}子")))
    assert (problem.index, problem.code, problem.fallback) == (2, "U+E000", False)
    # an astral character before it counts as one position, not two UTF-16 units
    problems = find_missing(doc_with(name_row(f"{YOSHI}{PUA}")))
    assert [(p.index, p.code) for p in problems] == [(0, "U+20BB7"), (1, "U+E000")]


def test_variation_sequences_default_variants_pass_others_are_missing() -> None:
    mincho = coverage(fonts.MINCHO)
    assert mincho is not None
    assert (ord(KUZU), 0xE0101) in mincho.default_variants
    assert (ord(KUZU), 0xE0100) not in mincho.default_variants
    assert find_missing(doc_with(name_row(f"{KUZU_DEFAULT}飾　花子"))) == []
    [problem] = find_missing(doc_with(name_row(f"{KUZU_OTHER}飾　花子")))
    assert (problem.index, problem.code, problem.reason) == (1, "U+E0100", Reason.VARIANT)
    assert problem.cluster == KUZU_OTHER
    # IPAmj明朝 has 葛 + VS17 only as a non-default glyph, which reportlab cannot select
    assert not problem.fallback


def test_a_lone_selector_and_a_missing_base_with_selector_are_each_one_problem() -> None:
    [lone] = find_missing(doc_with(name_row("\ufe00花子")))
    assert (lone.index, lone.code, lone.reason) == (0, "U+FE00", Reason.NOT_IN_FONT)
    [base] = find_missing(doc_with(name_row(f"{YOSHI}\U000e0100")))
    assert (base.index, base.code, base.cluster) == (0, "U+20BB7", f"{YOSHI}\U000e0100")


def test_combining_marks_need_a_zero_width_glyph() -> None:
    # IPAex has U+3099 with a full advance: か + U+3099 would print as か゛, not が
    [problem] = find_missing(doc_with(name_row("たか\u3099き")))
    assert (problem.index, problem.code, problem.reason) == (2, "U+3099", Reason.COMBINING)
    assert find_missing(doc_with(name_row("t\u0361s"))) == []  # zero-width in IPAex
    assert [c for _i, c in clusters("たか\u3099き")] == ["た", "か\u3099", "き"]


def test_labels_titles_and_fixed_texts_are_checked_in_their_fonts() -> None:
    doc = doc_with(PrintRow(f"旧姓{PUA}", "なし", field_id="old_name"), title=f"申請書{PUA}")
    assert {(p.field, p.role) for p in find_missing(doc)} == {
        ("old_name.label", fonts.GOTHIC),
        ("title", fonts.GOTHIC),
    }


def test_tabs_and_newlines_are_layout_every_other_character_counts() -> None:
    assert find_missing(doc_with(name_row("髙﨑\t花子\r\n"))) == []
    assert [p.code for p in find_missing(doc_with(name_row("a\u200bb")))] == ["U+200B"]


def test_fingerprint_changes_with_the_problems() -> None:
    one = find_missing(doc_with(name_row(f"{YOSHI}野")))
    again = find_missing(doc_with(name_row(f"{YOSHI}野")))
    moved = find_missing(doc_with(name_row(f"野{YOSHI}")))
    assert fingerprint(one) == fingerprint(again) != fingerprint(moved)


# ---------------------------------------------------------------------------- rendering


def test_rendering_refuses_missing_glyphs_without_naming_the_characters() -> None:
    with pytest.raises(MissingGlyphs) as caught:
        render_pdf(doc_with(name_row(f"{YOSHI}野　花子")))
    assert [p.code for p in caught.value.problems] == ["U+20BB7"]
    assert "applicant_name" in str(caught.value)
    assert YOSHI not in str(caught.value)
    assert "花子" not in str(caught.value)


def test_fallback_prints_the_character_in_ipamj_and_reads_back_exactly(tmp_path: Path) -> None:
    doc = doc_with(name_row(f"{YOSHI}野　花子"), glyph_policy=GlyphPolicy.FALLBACK)
    pdf = render_pdf(doc)
    assert f"氏名 {YOSHI}野 花子" in pdftotext_raw(pdf, tmp_path).splitlines()
    assert ends_a_line(pypdf_lines(pdf), f"氏名 {YOSHI}野　花子")
    listed = pdffonts(pdf, tmp_path)
    assert any("IPAmjMincho" in f["name"] for f in listed)
    assert all(f["emb"] == "yes" for f in listed), listed


def test_blank_leaves_a_marked_box_and_no_glyph(tmp_path: Path) -> None:
    plain = render_pdf(doc_with(name_row("野　花子")))
    doc = doc_with(name_row(f"{YOSHI}野　花子"), glyph_policy=GlyphPolicy.BLANK)
    pdf = render_pdf(doc)
    assert ends_a_line(pypdf_lines(pdf), "氏名 　野　花子")
    assert not any("IPAmj" in f["name"] for f in pdffonts(pdf, tmp_path))
    contents = PdfReader(BytesIO(pdf)).pages[0].get_contents()
    plain_contents = PdfReader(BytesIO(plain)).pages[0].get_contents()
    assert contents is not None
    assert plain_contents is not None
    # the box and its filled corner: one rectangle and one path more than without it
    assert contents.get_data().count(b" re") == plain_contents.get_data().count(b" re") + 1


def test_a_default_variant_prints_as_its_base_glyph(tmp_path: Path) -> None:
    pdf = render_pdf(doc_with(name_row(f"{KUZU_DEFAULT}飾　花子")))
    assert ends_a_line(pypdf_lines(pdf), f"氏名 {KUZU}飾　花子")


def test_wrapping_never_separates_a_character_from_its_selector() -> None:
    mincho = fonts.FAMILIES[fonts.MINCHO]
    lines = wrap_text(KUZU_DEFAULT * 40, mincho, 11.5, 100)
    assert len(lines) > 1
    assert all(line.startswith(KUZU) and line.endswith("\U000e0101") for line in lines)


def test_every_font_is_an_embedded_subset_with_or_without_the_fallback(tmp_path: Path) -> None:
    for policy in GlyphPolicy:
        value = "髙﨑　花子" if policy is GlyphPolicy.REFUSE else f"{YOSHI}野"
        pdf = render_pdf(doc_with(name_row(value), glyph_policy=policy, reissue_note="再発行"))
        listed = pdffonts(pdf, tmp_path)
        assert listed
        assert all(f["emb"] == "yes" for f in listed), listed
        assert all("+" in f["name"] for f in listed), "subset fonts have a tag prefix"
        assert not any("Helvetica" in f["name"] for f in listed)


# ---------------------------------------------------------------------------- literal text


def test_adversarial_values_and_labels_read_back_exactly(tmp_path: Path) -> None:
    values = [PrintRow(f"備考{i}", v, field_id=f"note{i}") for i, v in enumerate(ADVERSARIAL)]
    labels = [PrintRow(v, "x", field_id=f"label{i}") for i, v in enumerate(ADVERSARIAL)]
    address = PrintRow("住所", ADDRESS_200, field_id="address")
    pdf = render_pdf(doc_with(*values, address, *labels))
    lines = pdftotext_raw(pdf, tmp_path).splitlines()
    for i, v in enumerate(ADVERSARIAL):
        assert f"備考{i} {v}" in lines, v
        assert f"{v} x" in lines, v
    exact = pypdf_lines(pdf)
    assert all(f"備考{i} {v}" in exact and f"{v} x" in exact for i, v in enumerate(ADVERSARIAL))
    # the 200 characters wrap over several lines (the value column is narrow) and lose none
    start, end = lines.index("住所"), lines.index(f"{ADVERSARIAL[0]} x")
    assert end - start > 3
    assert "".join(lines[start + 1 : end]) == ADDRESS_200


def test_markup_that_once_ran_code_in_reportlab_prints_as_text(tmp_path: Path) -> None:
    # CVE-2023-33733 went through Paragraph's <font color>; drawn text never parses it
    attack = "<font color=\"[[[getattr(pow, Word('x'))]]]\">&#x41;"
    pdf = render_pdf(doc_with(PrintRow("備考", attack, field_id="note")))
    assert f"備考 {attack}" in pdftotext_raw(pdf, tmp_path).splitlines()


def test_adversarial_texts_in_title_section_and_addressee_read_back(tmp_path: Path) -> None:
    doc = doc_with(
        title="A&B <para>",
        municipality="&amp; 様",
        sections=(PrintSection('"quoted"', (name_row("1 < 2 > 0"),)),),
    )
    text = pdftotext_raw(render_pdf(doc), tmp_path)
    for expected in ("A&B <para>", "&amp; 様", '"quoted"', "氏名 1 < 2 > 0"):
        assert expected in text


def test_a_label_too_long_for_its_box_is_an_error_never_clipped() -> None:
    with pytest.raises(ValueDoesNotFit) as caught:
        render_pdf(doc_with(PrintRow(ADDRESS_200, "x", field_id="address")))
    assert caught.value.label == ADDRESS_200
