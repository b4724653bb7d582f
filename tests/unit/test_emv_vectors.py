"""The 52 public payloads of shared/testdata: the tolerant decoder reads exactly those
whose CRC checks out; the strict decoder accepts the conforming ones and names the first
rule each of the others breaks."""

from __future__ import annotations

from typing import Any

import pytest

from devices.emv import EmvError, decode
from devices.emv.crc import with_crc
from devices.emv.tlv import serialize_all
from tests.helpers.emv_vectors import VECTORS_FILE, load_vectors

pytestmark = pytest.mark.skipif(
    not VECTORS_FILE.exists(), reason=f"shared test data not beside the repository: {VECTORS_FILE}"
)

VECTORS: list[dict[str, Any]] = load_vectors() if VECTORS_FILE.exists() else []
IDS = [v["id"] for v in VECTORS]

#: the first rule the strict decoder reports; vectors not listed here are valid
STRICT_REJECTS = {
    "V03": ("62.50", "template.parse"),  # 62/50 "ijkl" has no GUID template inside
    "V09": ("80.00", "length.max"),  # a 36-character GUID, at most 32
    "V13": ("60", "length.max"),  # a 16-character city, at most 15
    "V15": ("54", "amount.zero"),  # Pix "0.00"
    **{  # PromptPay and VietQR leave out MCC, merchant name and city
        v: ("52", "mandatory.missing")
        for v in (
            "V33 V35 V37 V39 V41 V43 V45 V47 V49 V51 V53 V55 V57 V59 V61 V63 V65 "
            "V75 V77 V79 V81 V83"
        ).split()
    },
    "V69": ("00", "pfi.value"),  # DuitNow payload format "02"
    "V71": ("82", "template.parse"),  # DuitNow 82 carries raw hex
    "V73": ("00", "pfi.value"),
    "V85": ("59", "charset.ans"),  # "đĐ" in the merchant name
    "N01": (None, "tlv.header"),
    "N02": ("63", "crc.mismatch"),
    "N03": ("63", "crc.mismatch"),
    "N04": ("63", "crc.mismatch"),
    "N05": ("63", "crc.mismatch"),
}


def test_the_file_holds_the_52_vectors() -> None:
    assert len(VECTORS) == 52
    assert sum(v["crc_valid"] for v in VECTORS) == 47


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_tolerant_decoder_reads_exactly_the_vectors_whose_crc_checks_out(
    vector: dict[str, Any],
) -> None:
    if vector["crc_valid"]:
        decoded = decode(vector["payload"], tolerant=True)
        assert decoded.objects[0].tag == "00"
        assert decoded.get("63") == vector["payload"][-4:]
    else:
        with pytest.raises(EmvError):
            decode(vector["payload"], tolerant=True)


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_strict_decoder_accepts_the_conforming_vectors_and_names_the_rule(
    vector: dict[str, Any],
) -> None:
    expected = STRICT_REJECTS.get(vector["id"])
    if expected is None:
        decoded = decode(vector["payload"])
        assert decoded.warnings == ()
        return
    with pytest.raises(EmvError) as caught:
        decode(vector["payload"])
    assert (caught.value.tag, caught.value.rule) == expected
    assert caught.value.rule in str(caught.value)


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["crc_valid"]], ids=lambda v: v["id"])
def test_reencoding_the_parsed_objects_in_their_order_reproduces_the_payload(
    vector: dict[str, Any],
) -> None:
    decoded = decode(vector["payload"], tolerant=True)
    body = serialize_all((obj.tag, obj.value) for obj in decoded.objects[:-1])
    rebuilt = with_crc(body)
    assert rebuilt.upper() == vector["payload"].upper()  # a lower-case CRC is written upper


def test_tolerant_warnings_name_each_deviation() -> None:
    by_id = {v["id"]: v["payload"] for v in VECTORS}
    rules = {
        vid: {(w.tag, w.rule) for w in decode(by_id[vid], tolerant=True).warnings}
        for vid in ("V15", "V33", "V71", "V85")
    }
    assert rules["V15"] == {("54", "amount.zero")}
    assert rules["V33"] == {
        ("52", "mandatory.missing"),
        ("59", "mandatory.missing"),
        ("60", "mandatory.missing"),
    }
    assert rules["V71"] == {("00", "pfi.value"), ("82", "template.parse")}
    assert rules["V85"] == {("59", "charset.ans")}
    v71 = decode(by_id["V71"], tolerant=True)
    raw = v71.object("82")
    assert raw is not None
    assert raw.children is None  # kept as the raw string
    assert v71.get("82") == raw.value
    assert v71.get("26", "00") == "A0000006150001"


def test_multi_network_sgqr_templates_parse() -> None:
    sgqr = next(v["payload"] for v in VECTORS if v["id"] == "V67")
    decoded = decode(sgqr)
    assert decoded.get("26", "00") == "com.grab"
    assert decoded.get("51", "00") == "SG.SGQR"
    assert decoded.get("59") == "TOAST BOX"
