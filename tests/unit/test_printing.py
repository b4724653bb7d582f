"""The PDF renderer: real PDFs, inspected with poppler (pdftotext, pdffonts, pdftoppm)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from printing import fonts
from printing.document import FeeSlip, PrintDocument, PrintRow, PrintSection
from printing.qr import draw_qr, qr_matrix
from printing.render import (
    VALUE_STYLE,
    ValueDoesNotFit,
    fit_text,
    render_pdf,
    render_pdf_to_file,
)


@pytest.fixture(autouse=True, scope="module")
def _tools_installed() -> None:
    # `make test` installs both; a missing one is a broken set-up, not a reason to skip
    missing_fonts = [role for role in fonts.ROLES if fonts.find_font_file(role) is None]
    assert not missing_fonts, f"Japanese fonts missing: {fonts.INSTALL_HINT}"
    tools = ("pdftotext", "pdffonts", "pdftoppm")
    assert all(shutil.which(t) for t in tools), "poppler-utils missing: run make test"


NAME = "髙﨑　花子"  # 髙 and 﨑 are outside JIS X 0208: they must survive embedding
ADDRESS = "長崎県松浦市志佐町里免365番地"
MARKUP = '<b>&amp;</b> & <font name="x">'


def make_doc(*extra_rows: PrintRow, **changes: object) -> PrintDocument:
    doc = PrintDocument(
        title="住民票の写し等交付申請書",
        municipality="松浦市長　様",
        application_date="令和8年11月24日",
        ticket="A-001",
        reference="20261124-A-001",
        sections=(
            PrintSection(
                "請求内容",
                (
                    PrintRow("住民票の写し", "", kind="check", checked=True),
                    PrintRow("住民票記載事項証明書", "", kind="check", checked=False),
                    PrintRow("通数", "2通"),
                ),
            ),
            PrintSection(
                "窓口に来た方（請求者）",
                (
                    PrintRow("氏名", NAME),
                    PrintRow("住所", ADDRESS),
                    PrintRow("生年月日", "昭和55年4月1日"),
                    *extra_rows,
                ),
            ),
        ),
        fee=FeeSlip(lines=(("住民票の写し", 300, 2),), total=600),
        footer="書かない窓口で作成",
        metadata_subject="住民票の写し等交付申請",
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def write_pdf(tmp_path: Path, doc: PrintDocument) -> Path:
    return render_pdf_to_file(doc, tmp_path / "form.pdf")


def pdftotext(pdf: Path, *mode: str) -> str:
    done = subprocess.run(
        ["pdftotext", *mode, "-enc", "UTF-8", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    return done.stdout


def squash(text: str) -> str:
    """pdftotext -layout pads columns with runs of spaces; compare with single ones."""
    return re.sub(r"[ \u3000]+", " ", text)


def test_layout_text_has_title_name_address_and_wareki_dates(tmp_path: Path) -> None:
    text = pdftotext(write_pdf(tmp_path, make_doc()), "-layout")
    for expected in (
        "住民票の写し等交付申請書",
        ADDRESS,
        "令和8年11月24日",
        "昭和55年4月1日",
        "松浦市長",
        "20261124-A-001",
        "A-001",
        "書かない窓口で作成",
    ):
        assert expected in text
    assert re.search(r"髙﨑[\s\u3000]+花子", text)


def test_ideographic_space_and_jis_x_0213_chars_survive_exactly() -> None:
    pdf = render_pdf(make_doc())
    text = PdfReader(BytesIO(pdf)).pages[0].extract_text()
    assert NAME in text


def test_only_embedded_subset_fonts_and_no_helvetica(tmp_path: Path) -> None:
    listing = subprocess.run(
        ["pdffonts", str(write_pdf(tmp_path, make_doc(reissue_note="再発行 (2回目)")))],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    header, rows = listing[0], listing[2:]
    emb = header.index("emb")
    assert rows, "the form uses at least one font"
    assert all(row[emb : emb + 3] == "yes" for row in rows), listing
    assert not any("Helvetica" in row for row in rows)
    assert any("IPAexGothic" in row for row in rows)
    assert any("IPAexMincho" in row for row in rows)
    assert all(re.match(r"[A-Z]{6}\+", row) for row in rows), "fonts are subsets"


def test_markup_like_values_print_literally(tmp_path: Path) -> None:
    doc = make_doc(PrintRow("備考", MARKUP), PrintRow("<i>ラベル</i> &lt;", "x"))
    text = squash(pdftotext(write_pdf(tmp_path, doc), "-layout"))
    assert MARKUP in text
    assert "<i>ラベル</i> &lt;" in text


def test_over_long_value_wraps_and_keeps_every_character(tmp_path: Path) -> None:
    long_value = "長崎県松浦市志佐町里免三百六十五番地の一　松浦ハイツ百一号室" * 3
    pdf = write_pdf(tmp_path, make_doc(PrintRow("送付先", long_value)))
    layout_lines = pdftotext(pdf, "-layout").splitlines()
    assert not any(long_value in line for line in layout_lines), "expected several lines"
    raw = re.sub(r"\s", "", pdftotext(pdf, "-raw"))
    assert re.sub(r"\s", "", long_value) in raw


def test_fit_text_shrinks_before_wrapping_and_wraps_before_failing() -> None:
    short = fit_text("髙﨑　花子", 300, VALUE_STYLE)
    assert short is not None
    assert (short.size, short.lines) == (VALUE_STYLE.max_size, ("髙﨑　花子",))
    wrapped = fit_text("あ" * 60, 300, VALUE_STYLE)
    assert wrapped is not None
    assert len(wrapped.lines) > 1
    assert "".join(wrapped.lines) == "あ" * 60
    assert fit_text("あ" * 2000, 300, VALUE_STYLE) is None


def test_wrapped_lines_never_start_with_closing_punctuation() -> None:
    # nine full-width characters fit per line, so "。" would open the second line
    fitted = fit_text(
        "あいうえおかきくけ。こさしすせそ", 9 * VALUE_STYLE.max_size + 0.5, VALUE_STYLE
    )
    assert fitted is not None
    assert fitted.lines == ("あいうえおかきく", "け。こさしすせそ")


def test_impossibly_long_value_raises_value_does_not_fit() -> None:
    with pytest.raises(ValueDoesNotFit, match="住所（続き）") as caught:
        render_pdf(make_doc(PrintRow("住所（続き）", "あ" * 2000)))
    assert caught.value.label == "住所（続き）"


def test_check_and_signature_rows_render(tmp_path: Path) -> None:
    doc = make_doc(
        PrintRow("続柄の記載", "✓", kind="check", checked=True),
        PrintRow("その他", "運転免許証の更新のため", kind="check", checked=True),
        PrintRow("本籍の記載", "", kind="check", checked=False),
        PrintRow("", "ご本人が署名してください", kind="signature"),
    )
    text = pdftotext(write_pdf(tmp_path, doc), "-layout")
    for expected in (
        "続柄の記載",
        "運転免許証の更新のため",
        "本籍の記載",
        "署名",
        "ご本人が署名してください",
    ):
        assert expected in text
    assert "✓" not in text, "the tick is drawn as lines, never as a glyph"


def test_metadata_has_title_and_subject_and_no_author() -> None:
    meta = PdfReader(BytesIO(render_pdf(make_doc()))).metadata
    assert meta is not None
    assert meta.title == "住民票の写し等交付申請書"
    assert meta.subject == "住民票の写し等交付申請"
    assert not meta.author


def test_output_is_deterministic() -> None:
    assert render_pdf(make_doc()) == render_pdf(make_doc())


def test_fee_slip_and_reissue_note_are_printed(tmp_path: Path) -> None:
    doc = make_doc(reissue_note="再発行 (2回目)")
    text = squash(pdftotext(write_pdf(tmp_path, doc), "-layout"))
    assert "再発行 (2回目)" in text
    assert re.search(r"300円 × 2 = 600円", text)
    assert re.search(r"合計 600円", text)


def test_overflowing_content_continues_on_a_new_page(tmp_path: Path) -> None:
    rows = [PrintRow(f"項目{i:02d}", f"値{i:02d}") for i in range(60)]
    pdf = write_pdf(tmp_path, make_doc(*rows))
    assert len(PdfReader(pdf).pages) >= 2
    text = pdftotext(pdf, "-layout")
    assert all(f"項目{i:02d}" in text and f"値{i:02d}" in text for i in range(60))
    assert "住民票の写し等交付申請書（続き）" in text


def test_render_to_png_with_pdftoppm(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path, make_doc())
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    png = tmp_path / "page.png"
    assert png.is_file()
    assert png.read_bytes().startswith(b"\x89PNG")


def test_render_to_file_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "form.pdf"
    target.write_bytes(b"old")
    assert render_pdf_to_file(make_doc(), target) == target
    assert target.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in tmp_path.iterdir()] == ["form.pdf"]


def test_qr_matrix_has_a_valid_version_size_and_is_stable() -> None:
    matrix = qr_matrix("20261124-A-001")
    size = len(matrix)
    assert size >= 21
    assert (size - 21) % 4 == 0
    assert all(len(row) == size for row in matrix)
    assert matrix == qr_matrix("20261124-A-001")
    assert matrix != qr_matrix("20261124-A-002")
    # the top-left finder pattern: a dark 7x7 ring around a light ring
    ring, gap = [True] * 7, [True, False, False, False, False, False, True]
    assert [row[:7] for row in matrix[:2]] == [ring, gap]
    assert matrix[6][:7] == ring
    assert len(qr_matrix("x" * 200, error_correction="H")) > size


def test_qr_matrix_rejects_unknown_error_correction() -> None:
    with pytest.raises(ValueError, match="error_correction"):
        qr_matrix("x", error_correction="Z")


def test_draw_qr_draws_one_rectangle_per_dark_run(tmp_path: Path) -> None:
    matrix = [[True, True, False], [False, True, False], [True, False, True]]
    c = Canvas(str(tmp_path / "qr.pdf"), pageCompression=0)
    draw_qr(c, matrix, 10, 10, 30)
    c.save()
    content = PdfReader(tmp_path / "qr.pdf").pages[0].get_contents()
    assert content is not None
    assert content.get_data().count(b" re") == 4  # runs: [TT], [T], [T], [T]


def test_find_font_file_prefers_kiosk_font_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = fonts.find_font_file(fonts.GOTHIC)
    assert system is not None
    shutil.copyfile(system, tmp_path / "ipaexg.ttf")
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path))
    assert fonts.find_font_file(fonts.GOTHIC) == tmp_path / "ipaexg.ttf"
    assert fonts.find_font_file(fonts.MINCHO) != tmp_path / "ipaexm.ttf"


def test_missing_font_raises_with_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.ttf"
    monkeypatch.setattr(fonts, "candidate_paths", lambda role: [missing])
    monkeypatch.setattr(fonts, "_registered", {})
    with pytest.raises(fonts.FontMissing) as caught:
        fonts.register_fonts()
    message = str(caught.value)
    assert "apt-get install fonts-ipaexfont-gothic fonts-ipaexfont-mincho" in message
    assert str(missing) in message
    assert caught.value.searched == [missing]


def test_register_fonts_is_idempotent_and_font_has_char_reads_the_cmap() -> None:
    first = fonts.register_fonts()
    assert fonts.register_fonts() == first
    assert first[fonts.GOTHIC].family != first[fonts.MINCHO].family
    for role in fonts.ROLES:
        assert fonts.font_has_char(role, "髙")
        assert fonts.font_has_char(role, "﨑")
        assert not fonts.font_has_char(role, "\U000f0001")  # private use plane
    assert fonts.missing_chars(fonts.MINCHO, "髙﨑\U000f0001") == "\U000f0001"
    with pytest.raises(ValueError, match="one character"):
        fonts.font_has_char(fonts.GOTHIC, "ab")
