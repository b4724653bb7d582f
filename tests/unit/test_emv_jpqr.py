"""The JPQR profile, the merchant configuration, the payment QR images and the `qr`
command line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from devices.emv import EmvError, decode
from devices.emv.crc import with_crc
from devices.emv.jpqr import build_jpqr_payload, decode_jpqr, jpqr_issues
from devices.emv.merchant import (
    DEMO_MERCHANT,
    MerchantConfig,
    MerchantConfigError,
    load_merchant_config,
)
from devices.emv.qr_image import make_payment_qr
from tests.helpers.emv_vectors import EMVCO_EXAMPLE

ROOT = Path(__file__).resolve().parents[2]

#: mercari/go-emv-code's JPQR sample (V10 in the shared vectors): order 00,60,01,29,…
MERCARI_JPQR = (
    "0002016003xxx01021129300012D156000000000510A93FO3230Q31280012D15600000001030812345678"
    "26680019jp.or.paymentsjapan01130000000000001020400010306000001040600000153033925903xxx"
    "64180002JA0108メルペイ カフェ520441115802JP610710661436304DEE9"
)
CITY = MerchantConfig(
    merchant_id="1234567890123-0001-000001-000002",
    name="MATSUURA CITY",
    city="MATSUURA",
    postal_code="123-4567",
    mcc="9399",
    language_template=True,
    name_ja="松浦市役所 市民課",
)


def read_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return results[0].text


def test_the_public_jpqr_sample_passes_the_profile() -> None:
    decoded = decode_jpqr(MERCARI_JPQR)
    assert decoded.get("26", "01") == "0000000000001"
    assert decoded.get("64", "01") == "メルペイ カフェ"


def test_a_non_jpqr_code_breaks_the_profile_rules_by_name() -> None:
    rules = {(i.tag, i.rule) for i in jpqr_issues(decode(EMVCO_EXAMPLE))}
    assert rules == {
        ("26", "jpqr.id"),
        ("53", "jpqr.currency"),
        ("58", "jpqr.country"),
        ("61", "jpqr.postal-code"),
        ("54", "jpqr.amount"),
        ("64.00", "jpqr.language"),
        ("64.02", "jpqr.language"),
    }
    with pytest.raises(EmvError) as caught:
        decode_jpqr(EMVCO_EXAMPLE)
    assert caught.value.rule.startswith("jpqr.")


def test_jpqr_id_levels_have_fixed_lengths() -> None:
    short = MERCARI_JPQR.replace("0406000001", "040500001").replace("2668", "2667")
    with pytest.raises(EmvError) as caught:
        decode_jpqr(with_crc(short[:-8]))
    assert (caught.value.tag, caught.value.rule) == ("26.04", "jpqr.id")


def test_dynamic_payload_for_the_demo_merchant() -> None:
    payload = build_jpqr_payload(DEMO_MERCHANT, amount_yen=300, reference="R06-0001")
    decoded = decode_jpqr(payload)
    assert payload.isascii()
    assert decoded.get("01") == "12"
    assert decoded.get("54") == "300"
    assert decoded.get("53") == "392"
    assert decoded.get("58") == "JP"
    assert decoded.get("59") == "DEMO NOT PAYABLE"
    assert decoded.get("62", "05") == "R06-0001"
    assert decoded.get("26", "00") == "jp.or.paymentsjapan"
    assert decoded.object("64") is None
    assert DEMO_MERCHANT.is_demo


def test_static_payload_has_no_amount() -> None:
    decoded = decode_jpqr(build_jpqr_payload(CITY, amount_yen=None))
    assert decoded.get("01") == "11"
    assert decoded.get("54") is None
    assert decoded.object("62") is None


def test_language_template_carries_the_japanese_name() -> None:
    payload = build_jpqr_payload(
        CITY, amount_yen=1450, reference="A-001", terminal_label="MADOGUCHI01"
    )
    decoded = decode_jpqr(payload)
    assert decoded.get("64", "00") == "JA"
    assert decoded.get("64", "01") == "松浦市役所 市民課"
    assert decoded.get("61") == "1234567"
    assert decoded.get("62", "07") == "MADOGUCHI01"
    assert not CITY.is_demo


@pytest.mark.parametrize(
    ("amount", "reference", "rule"),
    [
        (0, "R", "amount.zero"),
        (300, "R" * 26, "length.max"),
        (300, "参照", "charset.ans"),
    ],
)
def test_bad_payment_input_is_refused(amount: int, reference: str, rule: str) -> None:
    with pytest.raises(EmvError) as caught:
        build_jpqr_payload(DEMO_MERCHANT, amount_yen=amount, reference=reference)
    assert caught.value.rule == rule


def test_ascii_payload_image_is_made_with_qrcode_and_reads_back() -> None:
    payload = build_jpqr_payload(DEMO_MERCHANT, amount_yen=300, reference="R")
    symbol = make_payment_qr(payload, error_correction="Q")
    assert symbol.library == "qrcode"
    assert not symbol.eci_utf8
    assert symbol.error_correction == "Q"
    assert read_qr(symbol.png) == payload


def test_japanese_payload_image_is_made_with_segno_with_eci() -> None:
    payload = build_jpqr_payload(CITY, amount_yen=300, reference="R")
    symbol = make_payment_qr(payload)
    assert symbol.library == "segno"
    assert symbol.eci_utf8
    assert symbol.error_correction == "M"
    assert read_qr(symbol.png) == payload
    assert read_qr(make_payment_qr(EMVCO_EXAMPLE).png) == EMVCO_EXAMPLE


def test_error_correction_below_m_is_refused() -> None:
    with pytest.raises(ValueError, match="M, Q or H"):
        make_payment_qr("x", error_correction="L")  # type: ignore[arg-type]


def test_merchant_config_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "merchant.toml"
    toml.write_text(
        'merchant_id = "1234567890123-0001-000001-000002"\n'
        'name = "MATSUURA CITY"\ncity = "MATSUURA"\npostal_code = "123-4567"\n'
        'language_template = true\nname_ja = "松浦市役所 市民課"\n',
        encoding="utf-8",
    )
    assert load_merchant_config(toml) == CITY
    js = tmp_path / "merchant.json"
    js.write_text(json.dumps({"name": "X CITY", "mcc": "9311"}), encoding="utf-8")
    loaded = load_merchant_config(js)
    assert loaded == replace(DEMO_MERCHANT, name="X CITY", mcc="9311")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('name = "松浦市"', "name"),
        ('name = "' + "X" * 26 + '"', "name"),
        ('city = ""', "city"),
        ('merchant_id = "123"', "merchant_id"),
        ('postal_code = "12345"', "postal_code"),
        ('mcc = "93"', "mcc"),
        ("mcc = 9399", "mcc"),
        ('language_template = "yes"', "language_template"),
        ('colour = "red"', "colour"),
        ("name = ", "file"),
    ],
)
def test_merchant_config_errors_name_the_setting(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "merchant.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(MerchantConfigError) as caught:
        load_merchant_config(path)
    assert caught.value.key == key
    assert repr(key) in str(caught.value)


# --- the command line -----------------------------------------------------------------


def qr(*args: str, data: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", "--data-dir", str(data), "qr", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_cli_encode_png_reads_back_as_a_valid_jpqr_payload(tmp_path: Path) -> None:
    png = tmp_path / "x.png"
    result = qr("encode", "--amount", "300", "--reference", "R", "--png", str(png), data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "NOT payable" in result.stderr
    payload = result.stdout.strip()
    scanned = read_qr(png.read_bytes())
    assert scanned == payload
    decoded = decode(scanned)  # strict, so the CRC is valid and upper case
    assert decoded.get("54") == "300"
    assert decoded.get("53") == "392"
    assert decoded.get("58") == "JP"
    assert decoded.get("62", "05") == "R"
    assert not (tmp_path / "kiosk.sqlite3").exists()  # no database needed


def test_cli_encode_with_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "merchant.json"
    config.write_text(
        json.dumps({"merchant_id": CITY.merchant_id, "name": "MATSUURA CITY",
                    "language_template": True, "name_ja": "松浦市"}),
        encoding="utf-8",
    )  # fmt: skip
    result = qr("encode", "--amount", "450", "--reference", "A-7", "--config", str(config),
                data=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "NOT payable" not in result.stderr
    assert decode_jpqr(result.stdout.strip()).get("64", "01") == "松浦市"
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "松浦市"\n', encoding="utf-8")
    result = qr("encode", "--amount", "450", "--reference", "A", "--config", str(bad),
                data=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert "'name'" in result.stderr


def test_cli_decode_json(tmp_path: Path) -> None:
    result = qr("decode", EMVCO_EXAMPLE, "--json", data=tmp_path)
    assert result.returncode == 0, result.stderr
    tags = json.loads(result.stdout)
    assert tags["64"] == {"00": "ZH", "01": "最佳运输", "02": "北京"}
    assert tags["54"] == "23.72"
    assert "warnings" not in tags


def test_cli_decode_tolerant_reports_warnings_and_strict_refuses(tmp_path: Path) -> None:
    duitnow = (
        "00020201021126520014A000000615000101068900530220MDN16221766626210430"
        "5204866153034585802MY5915MASJIDALGHUFRAN6011KUALALUMPUR6304AC7A"
    )
    tolerant = qr("decode", duitnow, "--tolerant", "--json", data=tmp_path)
    assert tolerant.returncode == 0, tolerant.stderr
    out = json.loads(tolerant.stdout)
    assert out["00"] == "02"
    assert out["warnings"] == [
        {"tag": "00", "rule": "pfi.value", "message": "'02': the payload format indicator is 01"}
    ]
    strict = qr("decode", duitnow, "--json", data=tmp_path)
    assert strict.returncode == 1
    assert json.loads(strict.stdout)["error"]["rule"] == "pfi.value"
    assert "pfi.value" in strict.stderr


def test_cli_decode_rejects_a_bad_crc_even_when_tolerant(tmp_path: Path) -> None:
    result = qr("decode", "-", "--tolerant", data=tmp_path, stdin=EMVCO_EXAMPLE[:-4] + "0000\n")
    assert result.returncode == 1
    assert "crc.mismatch" in result.stderr


def test_cli_decode_jpqr_profile(tmp_path: Path) -> None:
    assert qr("decode", MERCARI_JPQR, "--jpqr", data=tmp_path).returncode == 0
    result = qr("decode", EMVCO_EXAMPLE, "--jpqr", data=tmp_path)
    assert result.returncode == 1
    assert "jpqr.id" in result.stderr
