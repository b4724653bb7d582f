"""Property tests: encode → decode round trips for random valid field sets; anything fed
to the decoder ends in a result or an EmvError, never another exception; every generated
QR image reads back (zxing-cpp) as its payload."""

from __future__ import annotations

import io

import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from devices.emv import EmvError, MpmFields, decode, encode
from devices.emv.crc import crc_text, with_crc
from devices.emv.qr_image import make_payment_qr, needs_eci
from tests.helpers.emv_vectors import EMVCO_EXAMPLE, mpm_fields

ECI_UTF8_PREFIX = "5D 51 32 5C 30 30 30 30 32 36"  # "]Q2\000026": ECI 26 in the symbol


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mpm_fields())
def test_encode_decode_round_trip(fields: MpmFields) -> None:
    payload = encode(fields)
    decoded = decode(payload)
    assert MpmFields.from_decoded(decoded) == fields
    assert decoded.objects[0].tag == "00"
    assert decoded.objects[-1].tag == "63"
    assert payload[-4:] == crc_text(payload[:-4])
    assert decode(payload, tolerant=True).warnings == ()


def _decode_or_own_error(data: str | bytes, tolerant: bool) -> None:
    error: EmvError | None = None
    try:
        decode(data, tolerant=tolerant)
    except EmvError as exc:
        error = exc
    if error is not None:
        assert error.rule in str(error)  # the message names the rule


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.binary()), st.booleans())
def test_random_input_raises_only_the_decoders_error(data: str | bytes, tolerant: bool) -> None:
    _decode_or_own_error(data, tolerant)


TLV_ALPHABET = st.sampled_from("0123456789ABCDEFaf.* 最\u030a")


@settings(max_examples=400, deadline=None)
@given(st.text(TLV_ALPHABET, max_size=200), st.booleans())
def test_random_bodies_with_a_valid_crc_reach_every_rule_safely(body: str, tolerant: bool) -> None:
    # with "000201" in front and a matching CRC behind, the rule checks run on noise
    _decode_or_own_error(with_crc("000201" + body), tolerant)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_payloads_raise_only_the_decoders_error(data: st.DataObject) -> None:
    payload = data.draw(st.sampled_from([EMVCO_EXAMPLE, encode(data.draw(mpm_fields()))]))
    i = data.draw(st.integers(0, len(payload) - 1))
    kind = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    char = data.draw(st.characters(codec="utf-8"))
    mutated = {
        "replace": payload[:i] + char + payload[i + 1 :],
        "insert": payload[:i] + char + payload[i:],
        "delete": payload[:i] + payload[i + 1 :],
    }[kind]
    for tolerant in (False, True):
        _decode_or_own_error(mutated, tolerant)
        _decode_or_own_error(with_crc(mutated[:-8]), tolerant)


def read_qr(png: bytes) -> zxingcpp.Barcode:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return results[0]


@settings(max_examples=40, deadline=None)
@given(mpm_fields())
def test_every_generated_qr_image_reads_back_as_its_payload(fields: MpmFields) -> None:
    payload = encode(fields)
    symbol = make_payment_qr(payload)
    barcode = read_qr(symbol.png)
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.text == payload
    assert barcode.ec_level in ("M", "Q", "H")
    hex_eci = zxingcpp.read_barcode(
        Image.open(io.BytesIO(symbol.png)), text_mode=zxingcpp.TextMode.HexECI
    )
    assert hex_eci is not None
    assert hex_eci.text.startswith(ECI_UTF8_PREFIX) == needs_eci(payload) == symbol.eci_utf8
    assert symbol.library == ("segno" if needs_eci(payload) else "qrcode")
