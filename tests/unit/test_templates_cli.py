"""Templates and form rendering from the command line; versions stay with applications."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from forms.prefill import FilledValue, Provenance
from kiosk.context import AppContext
from kiosk.templates_repo import SHIPPED_DIR, publish

ROOT = Path(__file__).resolve().parents[2]
CARD = {
    "name": "髙﨑　花子",
    "address": "長崎県松浦市志佐町里免３６５番地",
    "birth_date": "1958-04-12",
    "sex": "2",
}


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "--data-dir", str(data), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def shipped(template_id: str) -> dict[str, object]:
    path = next(p for p in SHIPPED_DIR.glob("*.json") if p.stem.endswith(template_id))
    raw: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return raw


def test_list_json_holds_every_published_template(tmp_path: Path) -> None:
    result = run(tmp_path / "d", "templates", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {row["id"] for row in rows} == {
        json.loads(p.read_text(encoding="utf-8"))["id"] for p in SHIPPED_DIR.glob("*.json")
    }
    assert all({"id", "version", "title"} <= set(row) for row in rows)


def test_validate_names_the_broken_field(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(shipped("juminhyo"), ensure_ascii=False), encoding="utf-8")
    assert run(tmp_path / "d", "templates", "validate", str(good)).returncode == 0
    broken = shipped("juminhyo")
    broken["sections"][0]["fields"][1]["kind"] = "slider"  # type: ignore[index]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    result = run(tmp_path / "d", "templates", "validate", str(bad))
    assert result.returncode == 1
    assert "(copies).kind" in result.stderr


def test_import_publishes_a_new_version_and_export_returns_it(tmp_path: Path) -> None:
    raw = shipped("inkan")
    raw["version"] = 2
    raw["title"] = {**raw["title"], "ja": "印鑑登録証明書交付申請書（改）"}  # type: ignore[dict-item]
    path = tmp_path / "inkan-v2.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    data = tmp_path / "d"
    assert run(data, "templates", "import", str(path)).returncode == 0
    again = run(data, "templates", "import", str(path))
    assert again.returncode == 1  # a published version is never replaced
    exported = json.loads(run(data, "templates", "export", "inkan").stdout)
    assert exported["version"] == 2
    rows = json.loads(run(data, "templates", "list", "--json").stdout)
    assert next(r for r in rows if r["id"] == "inkan")["version"] == 2


def test_form_render_draft_from_a_card_file(tmp_path: Path) -> None:
    card = tmp_path / "card.json"
    card.write_text(json.dumps(CARD, ensure_ascii=False), encoding="utf-8")
    data = tmp_path / "d"
    rows = json.loads(run(data, "templates", "list", "--json").stdout)
    for row in rows:
        out = tmp_path / f"{row['id']}.pdf"
        result = run(
            data, "form", "render", row["id"], "--card", str(card), "--draft", "--out", str(out)
        )
        assert result.returncode == 0, result.stderr
        text = subprocess.run(
            ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "髙﨑" in text
        assert "長崎県松浦市志佐町里免３６５番地" in text
        assert "昭和33年4月12日" in text
    missing = run(
        data, "form", "render", "juminhyo", "--card", str(card), "--out", str(tmp_path / "x.pdf")
    )
    assert missing.returncode == 1
    assert "applicant_kana" in missing.stderr


def render_card(
    tmp_path: Path, card: dict[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "form.pdf"
    args = ("form", "render", "juminhyo", "--card", str(path), "--draft", "--out", str(out))
    return run(tmp_path / "d", *args, *extra)


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_form_render_exits_3_on_a_character_the_fonts_lack(tmp_path: Path) -> None:
    card = {**CARD, "name": "\U00020bb7野　花子"}  # 𠮷: not in IPAex
    refused = render_card(tmp_path, card)
    assert refused.returncode == 3
    assert refused.stderr.splitlines() == ["missing glyph U+20BB7 in field applicant_name"]
    assert not (tmp_path / "form.pdf").exists()
    allowed = render_card(tmp_path, card, "--allow-missing-glyphs")
    assert allowed.returncode == 0, allowed.stderr
    assert "missing glyph U+20BB7 in field applicant_name" in allowed.stderr
    assert "\U00020bb7野" in pdf_text(tmp_path / "form.pdf")  # drawn in IPAmj明朝


def test_form_render_names_every_missing_glyph_and_its_field(tmp_path: Path) -> None:
    card = {**CARD, "name": "\ue000田　花子", "address": "長崎県松浦市葛\U000e0100町"}
    refused = render_card(tmp_path, card)
    assert refused.returncode == 3
    assert refused.stderr.splitlines() == [
        "missing glyph U+E000 in field applicant_name",
        "missing glyph U+E0100 in field applicant_address",
    ]
    allowed = render_card(tmp_path, card, "--allow-missing-glyphs")
    assert allowed.returncode == 0  # as marked blanks: IPAmj明朝 cannot draw these either
    text = pdf_text(tmp_path / "form.pdf")
    assert "田 花子" in text
    assert "\ue000" not in text


def test_form_render_exits_4_naming_the_field_that_does_not_fit(tmp_path: Path) -> None:
    result = render_card(tmp_path, {**CARD, "address": "長崎県松浦市" * 200})
    assert result.returncode == 4
    assert "value does not fit: field applicant_address" in result.stderr
    assert not (tmp_path / "form.pdf").exists()


def test_an_application_keeps_the_version_it_was_made_with(ctx: AppContext) -> None:
    old_pk = next(p.pk for p in ctx.templates.active() if p.template.id == "inkan")
    values = {"applicant_name": FilledValue("髙﨑　花子", Provenance.CARD)}
    old_app = ctx.applications.create_draft(old_pk, "ja", values)
    raw = shipped("inkan")
    raw["version"] = 2
    raw["title"] = {**raw["title"], "ja": "印鑑登録証明書交付申請書（第2版）"}  # type: ignore[dict-item]
    from forms.model import parse_template

    with ctx.db.write() as session:
        publish(session, parse_template(raw), raw, ctx.clock, actor="admin")
    new_pk = next(p.pk for p in ctx.templates.active() if p.template.id == "inkan")
    assert new_pk != old_pk
    new_app = ctx.applications.create_draft(new_pk, "ja", values)
    assert ctx.printing.build_document(old_app).title == "印鑑登録証明書交付申請書"
    assert ctx.printing.build_document(new_app).title == "印鑑登録証明書交付申請書（第2版）"


def test_fees_set_is_seen_by_templates_list(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert run(data, "fees", "set", "inkan_certificate", "200").returncode == 0
    assert run(data, "fees", "set", "nothing", "200").returncode == 1
    rows = json.loads(run(data, "templates", "list", "--json").stdout)
    assert next(r for r in rows if r["id"] == "inkan")["fees"] == {"inkan_certificate": 200}
    listed = json.loads(run(data, "fees", "list", "--json").stdout)
    assert {
        "code": "inkan_certificate",
        "label": "印鑑登録証明書",
        "default": 300,
        "amount": 200,
    } in listed
