"""The EMV MPM codec: CRC, character-counted lengths, every strict rule by name, the
tolerant mode's line between fatal and warning, and the encoder."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devices.emv import (
    EmvError,
    LanguageTemplate,
    MpmFields,
    PrimitiveAccount,
    TemplateAccount,
    decode,
    encode,
    format_amount_yen,
)
from devices.emv.crc import crc16_ccitt_false, crc_text, with_crc
from devices.emv.tlv import parse_objects, serialize
from devices.emv_mpm import build_dynamic_payload, crc_ok, parse_top_level
from tests.helpers.emv_vectors import EMVCO_EXAMPLE

BASE = (
    "000201010212"
    "26390020jp.kakanai.simulated0111SIM00000001"
    "52049399530339254033005802JP5913MATSUURA CITY6008MATSUURA62120508R06-0001"
)


def payload(body: str) -> str:
    return with_crc(body)


def strict_rule(body: str) -> tuple[str | None, str]:
    with pytest.raises(EmvError) as caught:
        decode(payload(body))
    return caught.value.tag, caught.value.rule


def test_crc_is_ccitt_false_over_utf8_bytes() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc_text(EMVCO_EXAMPLE[:-4]) == "A13A"
    assert EMVCO_EXAMPLE.endswith("6304A13A")


def test_crc_keeps_leading_zeros() -> None:
    # the DuitNow code whose CRC starts with two zeros (V73 in the shared vectors)
    code = (
        "00020201021126580014A000000615000101065887340212MBBQR166698703100000000000"
        "5204581253034585802MY5908TAKOYAKI6006PAHANG630400D7"
    )
    assert crc_text(code[:-4]) == "00D7"
    assert decode(code, tolerant=True).get("63") == "00D7"


def test_lengths_count_characters_not_bytes() -> None:
    decoded = decode(EMVCO_EXAMPLE)
    assert decoded.get("64", "01") == "最佳运输"  # "0104": 4 characters, 12 UTF-8 bytes
    assert decoded.get("64", "02") == "北京"
    assert decoded.get("62", "09") == "ME"
    assert serialize("01", "最佳运输") == "0104最佳运输"


def test_the_encoders_own_output_reproduces_the_previous_helper() -> None:
    """``build_dynamic_payload`` (used by the payment adapters) keeps its exact output."""
    assert (
        build_dynamic_payload(
            merchant_account=(("00", "jp.kakanai.simulated"), ("01", "SIM00000001")),
            amount_yen=300,
            reference="R06-0001",
            merchant_name="MATSUURA CITY",
            merchant_city="MATSUURA",
        )
        == payload(BASE)
        == BASE + "63049447"
    )
    assert parse_top_level(BASE)["54"] == "300"
    assert crc_ok(BASE + "63049447")
    assert crc_ok(BASE + "63049447".lower())
    assert not crc_ok(BASE + "63049448")
    with pytest.raises(ValueError, match="positive"):
        build_dynamic_payload(
            merchant_account=(("00", "x"),), amount_yen=0, reference="R",
            merchant_name="N", merchant_city="C",
        )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # each body is BASE with one rule broken; the CRC is recomputed
        (BASE.replace("000201", "000202"), ("00", "pfi.value")),
        (BASE.replace("010212", "010213"), ("01", "poi.value")),
        (BASE.replace("52049399", ""), ("52", "mandatory.missing")),
        (BASE.replace("5303392", ""), ("53", "mandatory.missing")),
        (BASE.replace("5802JP", ""), ("58", "mandatory.missing")),
        (BASE.replace("5913MATSUURA CITY", ""), ("59", "mandatory.missing")),
        (BASE.replace("6008MATSUURA", ""), ("60", "mandatory.missing")),
        (BASE.replace("26390020jp.kakanai.simulated0111SIM00000001", ""), (None, "mai.missing")),
        (BASE.replace("5403300", "540500.00"), ("54", "amount.zero")),
        (BASE.replace("5403300", "54053,000"), ("54", "amount.format")),
        (BASE.replace("5403300", "5405300.."), ("54", "amount.format")),
        (BASE.replace("5403300", "5417" + "1" * 17), ("54", "length.max")),
        (BASE.replace("5204", "5203").replace("9399", "939"), ("52", "length.exact")),
        (BASE.replace("52049399", "520493A9"), ("52", "charset.numeric")),
        (BASE.replace("5802JP", "5802jp"), ("58", "country.format")),
        (BASE.replace("5913MATSUURA CITY", "5905松浦市役所"), ("59", "charset.ans")),
        (BASE.replace("6008MATSUURA", "6016MATSUURA CITY HA"), ("60", "length.max")),
        (BASE + "6111" + "1" * 11, ("61", "length.max")),
        (BASE + "6502AB", ("65", "tag.rfu")),
        (BASE + "5802JP", ("58", "tag.duplicate")),
        (BASE + "5300", ("53", "tag.duplicate")),
        (
            BASE.replace("0020jp.kakanai.simulated", "0220jp.kakanai.simulated"),
            ("26", "guid.missing"),
        ),
        (BASE.replace("26390020", "26390040"), ("26", "template.parse")),
        (BASE + "6406" + "0002JA", ("64.01", "mandatory.missing")),
        (BASE + "6412" + "0002JA0102AB" + "", None),  # valid: 64 with 00 and 01
        (BASE + "6418" + "0002JA0102AB0302CD", ("64.03", "tag.rfu")),
        (BASE + "64130003JPN0102AB", ("64.00", "length.exact")),
        (BASE + "64110002JA0102Å", ("64", "template.parse")),  # 01 claims 2, holds 1
        (BASE + "64120002JA0102A\u030a", ("64.01", "charset.nfc")),  # decomposed Å
        (BASE.replace("62120508R06-0001", "62070903MAA"), ("62.09", "additional.consumer-data")),
        (BASE.replace("62120508R06-0001", "62070903MXE"), ("62.09", "additional.consumer-data")),
        (BASE.replace("62120508R06-0001", "62300526" + "R" * 26), ("62.05", "length.max")),
        (BASE.replace("62120508R06-0001", "62080004ABCD"), ("62.00", "tag.rfu")),
        (BASE.replace("62120508R06-0001", "62085004ABCD"), ("62.50", "template.parse")),
        (BASE + "55011", ("55", "length.exact")),
        (BASE + "550204", ("55", "tip.value")),
        (BASE + "550202", ("56", "tip.fixed")),
        (BASE + "550203", ("57", "tip.percentage")),
        (BASE + "550201560250", ("56", "tip.fixed")),
        (BASE + "5502035705100.0", ("57", "tip.percentage")),
        (BASE + "5502035705000.0", ("57", "tip.percentage")),
        (BASE + "550203570503.25", None),
        (BASE + "550202560250", None),
        (BASE + "550201", None),
        (BASE + "6100", ("61", "length.zero")),
        (BASE + "8104ABCD", ("81", "template.parse")),
        (BASE + "81080004ABCD", None),
        (BASE + "0212" + "4" * 12, None),  # a primitive Visa account
        (
            BASE + "".join(f"{t}99" + "9" * 99 for t in ("02", "13", "14", "15")),
            (None, "payload.length"),
        ),
    ],
)
def test_each_strict_rule_is_named(body: str, expected: tuple[str | None, str] | None) -> None:
    if expected is None:
        decode(payload(body))
        return
    assert strict_rule(body) == expected
    # tolerant mode reads it all the same, with the rule as a warning
    warnings = decode(payload(body), tolerant=True).warnings
    assert expected in {(w.tag, w.rule) for w in warnings}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (None, "payload.empty")),
        ("0002", ("00", "tlv.truncated")),
        (BASE + "63", (None, "tlv.header")),
        (BASE + "6304ABC", ("63", "tlv.truncated")),
        (BASE + "6303ABC", ("63", "crc.format")),
        (BASE + "6304XYZW", ("63", "crc.format")),
        (BASE + "63040000", ("63", "crc.mismatch")),
        (BASE + "63049447".lower() + "0", (None, "tlv.header")),
        (BASE[6:] + "000201" + "63041234", ("01", "order.first")),
        (BASE + "63049447" + "6502AB", ("65", "order.last")),
        ("00٠2" + BASE[6:], (None, "tlv.header")),  # an Arabic-Indic digit in a length
        ("\ud800" + BASE, (None, "payload.encoding")),
    ],
)
def test_structure_crc_and_order_are_fatal_in_both_modes(
    text: str, expected: tuple[str | None, str]
) -> None:
    for tolerant in (False, True):
        with pytest.raises(EmvError) as caught:
            decode(text, tolerant=tolerant)
        assert (caught.value.tag, caught.value.rule) == expected, str(caught.value)


def test_non_ascii_digits_in_a_numeric_value_break_a_rule_not_the_structure() -> None:
    text = with_crc("0002٠١" + BASE[6:])
    with pytest.raises(EmvError) as caught:
        decode(text)
    assert (caught.value.tag, caught.value.rule) == ("00", "charset.numeric")
    assert ("00", "charset.numeric") in {
        (w.tag, w.rule) for w in decode(text, tolerant=True).warnings
    }


def test_bytes_are_read_as_utf8() -> None:
    assert decode(EMVCO_EXAMPLE.encode("utf-8")).get("59") == "BEST TRANSPORT"
    with pytest.raises(EmvError) as caught:
        decode(EMVCO_EXAMPLE.encode("shift_jis", errors="replace")[:-8] + b"\xff\xfe")
    assert caught.value.rule == "payload.encoding"


def test_lower_case_crc_is_strictly_refused_and_tolerantly_read() -> None:
    example_lower = EMVCO_EXAMPLE[:-4] + "a13a"
    with pytest.raises(EmvError) as caught:
        decode(example_lower)
    assert (caught.value.tag, caught.value.rule) == ("63", "crc.case")
    assert {w.rule for w in decode(example_lower, tolerant=True).warnings} == {"crc.case"}


def test_error_message_names_tag_and_rule() -> None:
    with pytest.raises(EmvError) as caught:
        decode(payload(BASE.replace("5403300", "540500.00")))
    message = str(caught.value)
    assert message.startswith("tag 54:")
    assert "[amount.zero]" in message
    assert isinstance(caught.value, ValueError)


def test_tags_json_shape() -> None:
    tags = decode(EMVCO_EXAMPLE).tags()
    assert tags["29"] == {"00": "D15600000000", "05": "A93FO3230Q"}
    assert tags["62"]["06"] == "***"
    assert tags["91"]["00"] == "A011223344998877"
    order = list(tags)
    assert order[0] == "00"
    assert order[-1] == "63"
    doubled = decode(payload(BASE + "5802JP"), tolerant=True).tags()
    assert doubled["58"] == ["JP", "JP"]


def test_parse_objects_rejects_non_ascii_digit_headers() -> None:
    with pytest.raises(EmvError):
        parse_objects("0²01")


FIELDS = MpmFields(
    merchant_accounts=(
        TemplateAccount("26", (("00", "jp.or.paymentsjapan"), ("01", "0" * 13))),
        PrimitiveAccount("13", "1234567890"),
    ),
    merchant_category_code="9399",
    currency="392",
    country="JP",
    merchant_name="MATSUURA CITY",
    merchant_city="MATSUURA",
    point_of_initiation="12",
    amount="300",
    postal_code="8594501",
    additional_data=(("05", "R06-0001"), ("07", "MADOGUCHI01")),
    language=LanguageTemplate("JA", "松浦市役所 市民課"),
)


def test_encode_orders_00_first_63_last_and_round_trips() -> None:
    code = encode(FIELDS)
    top = [obj.tag for obj in decode(code).objects]
    assert top == [
        "00",
        "01",
        "26",
        "13",
        "52",
        "53",
        "54",
        "58",
        "59",
        "60",
        "61",
        "62",
        "64",
        "63",
    ]
    assert MpmFields.from_decoded(decode(code)) == FIELDS
    assert code.endswith("6304" + crc_text(code[:-4]))
    assert code[-4:] == code[-4:].upper()


def test_encode_normalises_to_nfc_before_counting() -> None:
    decomposed = LanguageTemplate("JA", "カ\u3099")  # カ + combining voiced sound mark
    code = encode(replace(FIELDS, language=decomposed))
    assert decode(code).get("64", "01") == "ガ"
    assert "64110002JA0101ガ" in code


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"merchant_name": "松浦市"}, ("59", "charset.ans")),
        ({"merchant_name": "X" * 26}, ("59", "length.max")),
        ({"merchant_city": ""}, ("60", "length.zero")),
        ({"amount": "0"}, ("54", "amount.zero")),
        ({"additional_data": (("05", "R" * 100),)}, ("62.05", "length.max")),
        (
            {"additional_data": tuple((f"0{n}", "R" * 25) for n in range(1, 5))},
            ("62", "length.max"),
        ),
        ({"merchant_accounts": ()}, (None, "mai.missing")),
        ({"merchant_accounts": (TemplateAccount("26", (("01", "x"),)),)}, ("26", "guid.missing")),
        ({"language": LanguageTemplate("JA", "あ" * 26)}, ("64.01", "length.max")),
        ({"tip_indicator": "02"}, ("56", "tip.fixed")),
    ],
)
def test_encode_refuses_what_breaks_a_rule(
    change: dict[str, object], expected: tuple[str | None, str]
) -> None:
    fields = replace(FIELDS, **change)
    with pytest.raises(EmvError) as caught:
        encode(fields)
    assert (caught.value.tag, caught.value.rule) == expected


def test_format_amount_yen() -> None:
    assert format_amount_yen(300) == "300"
    assert format_amount_yen(10**12) == "1000000000000"
    for bad, rule in (
        (0, "amount.zero"),
        (-5, "amount.zero"),
        (True, "amount.format"),
        (10**13, "length.max"),
    ):
        with pytest.raises(EmvError) as caught:
            format_amount_yen(bad)
        assert caught.value.rule == rule
