"""The virtual My Number card (券面事項入力補助AP) and its vpcd transport, handbook
mynumber-card.md §2-§4, §7.2, §8. No pcscd here: the vpcd side is a small fake in this file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devices.mynumber import apdu
from devices.mynumber.emulator import (
    ATR,
    CardProfile,
    Faults,
    ProfileError,
    VirtualCard,
)
from devices.mynumber.files import (
    basic_four_offsets,
    encode_basic_four,
    encode_length,
    encode_my_number,
    is_valid_my_number,
)
from devices.mynumber.vpcd import VpcdCardServer
from tests.helpers.card_vectors import (
    ADDRESS,
    BIRTH,
    INVALID_NUMBERS,
    NAME,
    NUMBER,
    SEX,
    VALID_NUMBERS,
    VECTORS_FILE,
)
from tests.helpers.card_vectors import BASIC_FOUR_FILE as SAMPLE_0002
from tests.helpers.card_vectors import MY_NUMBER_FILE as SAMPLE_0001

REPO = Path(__file__).resolve().parents[2]

SELECT_AP = bytes.fromhex("00A4040C0AD3921000310001010408")
SELECT_PIN = bytes.fromhex("00A4020C020011")
SELECT_0001 = bytes.fromhex("00A4020C020001")
SELECT_0002 = bytes.fromhex("00A4020C020002")
QUERY = bytes.fromhex("00200080")
VERIFY_1234 = bytes.fromhex("002000800431323334")
VERIFY_9999 = bytes.fromhex("002000800439393939")
READ_ALL = bytes.fromhex("00B0000000")


def make_profile(**changes: Any) -> CardProfile:
    profile = CardProfile(
        name=NAME,
        address=ADDRESS,
        birth_date=BIRTH,
        sex=SEX,
        my_number=NUMBER,
        pin="1234",
    )
    return replace(profile, **changes)


def sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big")


class Card:
    """A VirtualCard and the counter values it reported."""

    def __init__(self, profile: CardProfile | None = None, faults: Faults | None = None) -> None:
        self.reported: list[int] = []
        self.card = VirtualCard(
            profile or make_profile(), on_counter_change=self.reported.append, faults=faults
        )

    def send(self, command: bytes) -> bytes:
        return self.card.process(command)

    def sw(self, command: bytes) -> int:
        return sw(self.card.process(command))

    def open_pin(self) -> None:
        assert self.sw(SELECT_AP) == 0x9000
        assert self.sw(SELECT_PIN) == 0x9000

    def verified(self) -> None:
        self.open_pin()
        assert self.sw(VERIFY_1234) == 0x9000


@pytest.fixture
def card() -> Card:
    return Card()


# --- files.py ------------------------------------------------------------------------------


@pytest.mark.skipif(
    not VECTORS_FILE.exists(),
    reason="../shared/testdata is not beside this clone (CI has it); "
    "the copied vectors are tested anyway",
)
def test_embedded_samples_match_the_shared_vectors() -> None:
    vectors = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
    assert bytes.fromhex(vectors["ef0001_my_number_file"]["hex"]) == SAMPLE_0001
    assert vectors["ef0001_my_number_file"]["my_number"] == NUMBER
    assert bytes.fromhex(vectors["ef0002_basic_four_file"]["hex"]) == SAMPLE_0002
    decoded = vectors["ef0002_basic_four_file"]["decoded"]
    assert (decoded["name_df22"], decoded["address_df23"]) == (NAME, ADDRESS)
    assert (decoded["birth_date_df24"], decoded["sex_df25"]) == (BIRTH, SEX)
    assert set(vectors["valid_my_numbers"]) <= set(VALID_NUMBERS)
    assert set(vectors["invalid_my_numbers"]) <= set(INVALID_NUMBERS)


def test_public_sample_ef0002_reproduced_byte_for_byte() -> None:
    data = encode_basic_four(
        NAME,
        ADDRESS,
        BIRTH,
        SEX,
    )
    assert data == SAMPLE_0002
    assert basic_four_offsets(data) == (0x0E, 0x20, 0x59, 0x64)


def test_public_sample_ef0001_reproduced_byte_for_byte() -> None:
    assert encode_my_number("537686677188") == SAMPLE_0001
    assert len(SAMPLE_0001) == 17


def test_filler_up_to_size() -> None:
    data = encode_basic_four("山田　太郎", "東京都", "19900101", "2", size=256)
    assert len(data) == 256
    tlv = encode_basic_four("山田　太郎", "東京都", "19900101", "2")
    assert data[: len(tlv)] == tlv
    assert set(data[len(tlv) :]) == {0xFF}
    with pytest.raises(ValueError, match="size"):
        encode_basic_four("山田　太郎", "東京都", "19900101", "2", size=len(tlv) - 1)


def test_long_length_form_and_offsets_from_file_start() -> None:
    data = encode_basic_four(
        NAME,
        ADDRESS,
        BIRTH,
        SEX,
        long_length_form=True,
    )
    assert data[:5] == bytes.fromhex("FF20820065")
    assert data[16:] == SAMPLE_0002[14:]  # same TLVs, two bytes further on
    offsets = basic_four_offsets(data)
    assert offsets == (0x10, 0x22, 0x5B, 0x66)
    for offset, tag in zip(offsets, (0xDF22, 0xDF23, 0xDF24, 0xDF25), strict=True):
        assert int.from_bytes(data[offset : offset + 2], "big") == tag


def test_inner_lengths_of_128_bytes_and_more_use_81_and_82() -> None:
    name = "あ" * 50  # 150 bytes of UTF-8
    address = "い" * 100  # 300 bytes
    data = encode_basic_four(name, address, "20000229", "9")
    offsets = basic_four_offsets(data)
    assert data[:4] == bytes.fromhex("FF208201")  # 11 + 154 + 305 + 11 + 4 = 485
    assert int.from_bytes(data[3:5], "big") == len(data) - 5 == 485
    assert data[offsets[0] : offsets[0] + 4] == bytes.fromhex("DF228196")
    assert data[offsets[1] : offsets[1] + 5] == bytes.fromhex("DF2382012C")
    assert data[offsets[2] : offsets[2] + 11] == b"\xdf\x24\x08" + b"20000229"
    assert data[offsets[3] :] == b"\xdf\x25\x01" + b"9"
    assert data[offsets[0] + 4 : offsets[1]].decode("utf-8") == name
    assert data[offsets[1] + 5 : offsets[2]].decode("utf-8") == address


def test_encode_length_forms() -> None:
    assert encode_length(0x7F) == b"\x7f"
    assert encode_length(0x80) == b"\x81\x80"
    assert encode_length(0xFF) == b"\x81\xff"
    assert encode_length(0x100) == b"\x82\x01\x00"
    assert encode_length(5, long_form=True) == b"\x82\x00\x05"
    with pytest.raises(ValueError, match="length"):
        encode_length(0x10000)


def test_encoders_refuse_bad_fixed_fields() -> None:
    with pytest.raises(ValueError, match="12 ASCII digits"):
        encode_my_number("53768667718")
    with pytest.raises(ValueError, match="birth date"):
        encode_basic_four("a", "b", "1980021", "1")
    with pytest.raises(ValueError, match="sex"):
        encode_basic_four("a", "b", "19800217", "男")


def test_check_digits() -> None:
    assert all(is_valid_my_number(n) for n in VALID_NUMBERS)
    assert not any(is_valid_my_number(n) for n in INVALID_NUMBERS)


# --- VirtualCard: PIN ---------------------------------------------------------------------


def test_handbook_trace_query_costs_no_try(card: Card) -> None:
    card.open_pin()
    assert card.send(QUERY) == bytes.fromhex("63C3")
    assert card.send(QUERY) == bytes.fromhex("63C3")
    assert card.reported == []
    assert card.card.pin_tries_left == 3


def test_short_ef_query_and_verify_without_select_ef(card: Card) -> None:
    assert card.sw(SELECT_AP) == 0x9000
    assert card.send(apdu.verify_query(0x11)) == bytes.fromhex("63C3")
    assert card.sw(apdu.verify("1234", 0x11)) == 0x9000
    data = card.send(apdu.read_binary_sfi(0x01, 0, 17))
    assert data == SAMPLE_0001 + b"\x90\x00"


def test_wrong_pin_counts_down_and_reports(card: Card) -> None:
    card.open_pin()
    assert card.send(VERIFY_9999) == bytes.fromhex("63C2")
    assert card.reported == [2]
    assert card.send(QUERY) == bytes.fromhex("63C2")
    assert card.card.profile.pin_tries_left == 2


def test_three_wrong_block_the_pin(card: Card) -> None:
    card.open_pin()
    answers = [card.sw(VERIFY_9999) for _ in range(3)]
    assert answers == [0x63C2, 0x63C1, 0x63C0]
    assert card.reported == [2, 1, 0]
    assert card.sw(VERIFY_1234) == apdu.SW_BLOCKED  # even the right PIN
    assert card.sw(VERIFY_9999) == apdu.SW_BLOCKED
    assert card.sw(QUERY) == 0x63C0
    assert card.reported == [2, 1, 0]
    assert card.card.pin_tries_left == 0
    assert card.sw(SELECT_0002) == 0x9000
    assert card.sw(READ_ALL) == apdu.SW_SECURITY


def test_right_pin_resets_the_counter(card: Card) -> None:
    card.open_pin()
    assert card.sw(VERIFY_9999) == 0x63C2
    assert card.sw(VERIFY_9999) == 0x63C1
    assert card.sw(VERIFY_1234) == 0x9000
    assert card.reported == [2, 1, 3]
    assert card.sw(VERIFY_1234) == 0x9000
    assert card.reported == [2, 1, 3]  # no change, no report
    assert card.sw(QUERY) == 0x63C3


def test_blocked_profile_answers_63c0_and_6984() -> None:
    card = Card(make_profile(pin_tries_left=0))
    card.open_pin()
    assert card.sw(QUERY) == 0x63C0
    assert card.sw(VERIFY_1234) == 0x6984
    assert card.reported == []


def test_verify_needs_a_key(card: Card) -> None:
    assert card.sw(SELECT_AP) == 0x9000
    assert card.sw(QUERY) == apdu.SW_NO_CURRENT_EF  # no current EF
    assert card.sw(SELECT_0001) == 0x9000
    assert card.sw(QUERY) == 0x6A88  # EF 0001 is not a key
    assert card.sw(bytes.fromhex("00200081")) == 0x6A88
    assert card.sw(bytes.fromhex("00200000")) == apdu.SW_WRONG_P1P2
    assert card.reported == []


def test_command_log_never_holds_the_pin(card: Card) -> None:
    card.open_pin()
    card.send(QUERY)
    assert not [c for c in card.card.commands if c[0] == 0x20 and c[3] > 0]
    card.send(VERIFY_1234)
    assert card.card.commands == [
        (0xA4, 0x04, 0x0C, 10),
        (0xA4, 0x02, 0x0C, 2),
        (0x20, 0x00, 0x80, 0),
        (0x20, 0x00, 0x80, 4),
    ]
    assert card.card.apdu_count == 4


# --- VirtualCard: SELECT and READ BINARY ------------------------------------------------


def test_read_without_verify_is_refused(card: Card) -> None:
    card.open_pin()
    for fid in (apdu.FID_MY_NUMBER, apdu.FID_BASIC_FOUR):
        assert card.sw(apdu.select_ef(fid)) == 0x9000
        assert card.send(READ_ALL) == bytes.fromhex("6982")
        assert card.send(apdu.read_binary_sfi(fid, 0, 256)) == bytes.fromhex("6982")


def test_read_whole_files_after_verify(card: Card) -> None:
    card.verified()
    assert card.sw(SELECT_0001) == 0x9000
    assert card.send(READ_ALL) == encode_my_number("537686677188") + b"\x90\x00"
    assert card.send(apdu.read_binary(0, 17)) == SAMPLE_0001 + b"\x90\x00"
    assert card.sw(SELECT_0002) == 0x9000
    data = card.send(READ_ALL)
    assert sw(data) == 0x9000
    expected = encode_basic_four(
        NAME,
        ADDRESS,
        BIRTH,
        SEX,
        size=256,
    )
    assert data[:-2] == expected
    assert data[: len(SAMPLE_0002)] == SAMPLE_0002
    # the handbook trace: the length byte alone
    assert card.send(bytes.fromhex("00B0000201")) == bytes.fromhex("659000")


def test_read_in_chunks_with_offsets(card: Card) -> None:
    card.verified()
    assert card.sw(SELECT_0002) == 0x9000
    whole = card.send(READ_ALL)[:-2]
    parts = bytearray()
    offset = 0
    while True:
        response = card.send(apdu.read_binary(offset, 100))
        if sw(response) == apdu.SW_END_OF_FILE:
            break
        assert sw(response) == 0x9000
        assert len(response) - 2 == min(100, 256 - offset)
        parts += response[:-2]
        offset += len(response) - 2
    assert bytes(parts) == whole
    assert offset == 256


def test_read_by_short_ef_identifier(card: Card) -> None:
    card.verified()
    assert card.send(bytes.fromhex("00B0810000")) == SAMPLE_0001 + b"\x90\x00"
    assert card.send(bytes.fromhex("00B0810C05")) == SAMPLE_0001[12:] + b"\x90\x00"
    response = card.send(bytes.fromhex("00B0820003"))
    assert response == SAMPLE_0002[:3] + b"\x90\x00"
    assert card.card.current_ef == apdu.FID_BASIC_FOUR  # the short-EF read selected it
    assert card.sw(bytes.fromhex("00B0830000")) == apdu.SW_NOT_FOUND
    assert card.sw(bytes.fromhex("00B0910000")) == apdu.SW_SECURITY  # the PIN EF


def test_offset_past_the_end(card: Card) -> None:
    card.verified()
    assert card.sw(SELECT_0001) == 0x9000
    assert card.sw(apdu.read_binary(17, 1)) == apdu.SW_END_OF_FILE
    assert card.sw(apdu.read_binary(16, 5)) == 0x9000
    assert card.send(apdu.read_binary(16, 5)) == b"\xff\x90\x00"
    assert card.sw(apdu.read_binary_sfi(1, 17, 1)) == apdu.SW_END_OF_FILE
    assert card.sw(apdu.read_binary_sfi(2, 255, 1)) == 0x9000
    assert card.sw(SELECT_0002) == 0x9000
    assert card.sw(apdu.read_binary(256, 1)) == apdu.SW_END_OF_FILE
    assert card.sw(apdu.read_binary(0x7FFF, 1)) == apdu.SW_END_OF_FILE


def test_extended_le(card: Card) -> None:
    card.verified()
    assert card.sw(SELECT_0002) == 0x9000
    response = card.send(bytes.fromhex("00B00000000000"))
    assert sw(response) == 0x9000
    assert len(response) == 256 + 2


@pytest.mark.parametrize("action", ["power_off", "power_on", "reset"])
def test_power_cycle_clears_verified_keeps_counter(card: Card, action: str) -> None:
    card.verified()
    getattr(card.card, action)()
    assert not card.card.verified
    assert card.card.current_df is None
    assert card.sw(READ_ALL) == apdu.SW_NO_CURRENT_EF
    card.open_pin()
    assert card.sw(SELECT_0002) == 0x9000
    assert card.sw(READ_ALL) == apdu.SW_SECURITY
    assert card.sw(SELECT_PIN) == 0x9000
    assert card.sw(VERIFY_9999) == 0x63C2
    getattr(card.card, action)()
    card.open_pin()
    assert card.sw(QUERY) == 0x63C2  # the counter is persistent
    assert card.reported == [2]


def test_power_off_after_verify_needs_verify_again(card: Card) -> None:
    card.verified()
    card.card.power_off()
    card.open_pin()
    assert card.sw(SELECT_0001) == 0x9000
    assert card.sw(READ_ALL) == 0x6982
    assert card.card.pin_tries_left == 3


def test_selecting_the_df_again_clears_verified(card: Card) -> None:
    card.verified()
    assert card.sw(SELECT_AP) == 0x9000
    assert card.card.current_ef is None
    assert card.sw(SELECT_0001) == 0x9000
    assert card.sw(READ_ALL) == 0x6982


def test_select_errors(card: Card) -> None:
    assert card.sw(SELECT_0001) == apdu.SW_NOT_FOUND  # no DF yet
    jpki = bytes.fromhex("D392F000260100000001")
    assert card.sw(apdu.select_df(jpki)) == apdu.SW_NOT_FOUND
    assert card.sw(apdu.select_df(bytes.fromhex("A000000003"))) == apdu.SW_NOT_FOUND
    assert card.sw(SELECT_AP) == 0x9000
    assert card.sw(apdu.select_ef(0x0003)) == apdu.SW_NOT_FOUND
    assert card.sw(apdu.select_ef(0x3F00)) == apdu.SW_NOT_FOUND
    assert card.sw(bytes.fromhex("00A4000000")) == apdu.SW_WRONG_P1P2
    assert card.sw(bytes.fromhex("00A4020C03000100")) == apdu.SW_WRONG_LENGTH


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("01A4040C0AD3921000310001010408", 0x6881),  # logical channel 1
        ("03B0000000", 0x6881),
        ("40B0000000", 0x6881),  # further interindustry class: channel 4+
        ("0CB0000000", 0x6E00),  # secure messaging
        ("10B0000000", 0x6E00),  # command chaining
        ("80A4040C0AD3921000310001010408", 0x6E00),
        ("A0B0000000", 0x6E00),
        ("FFB0000000", 0x6E00),
        ("802A000000", 0x6D00),  # COMPUTE SIGNATURE: not emulated
        ("00CA5F5100", 0x6D00),  # GET DATA
        ("0084000008", 0x6D00),
        ("00A4040C0BD3921000310001010408", 0x6700),  # Lc says 11, 10 bytes follow
        ("00A4040C", 0x6700),  # no AID
        ("00B00000", 0x6700),  # READ BINARY without Le
        ("00B0", 0x6700),  # shorter than a header
        ("00B000000000", 0x6700),  # extended form, 4 bytes: no valid case
        ("00B0000000000005", 0x6700),  # extended, Lc 0000
        ("0020008004313233343500", 0x6700),  # VERIFY with Le
    ],
)
def test_class_instruction_and_length_errors(card: Card, command: str, expected: int) -> None:
    assert card.sw(bytes.fromhex(command)) == expected
    assert card.reported == []


def test_long_length_form_profile() -> None:
    card = Card(make_profile(long_length_form=True))
    card.verified()
    assert card.sw(SELECT_0002) == 0x9000
    data = card.send(READ_ALL)
    assert data[:5] == bytes.fromhex("FF20820065")
    assert data[5:-2].startswith(bytes.fromhex("DF210800100022005B0066"))


def test_long_texts_make_ef0002_longer_than_256() -> None:
    card = Card(make_profile(address="東京都" + "あ" * 120))
    card.verified()
    assert card.sw(SELECT_0002) == 0x9000
    first = card.send(READ_ALL)
    assert len(first) == 256 + 2
    rest = card.send(apdu.read_binary(256, 256))
    assert sw(rest) == 0x9000
    whole = first[:-2] + rest[:-2]
    assert whole[:3] == bytes.fromhex("FF2082")
    assert len(whole) == 5 + int.from_bytes(whole[3:5], "big")
    assert card.sw(apdu.read_binary(len(whole), 1)) == apdu.SW_END_OF_FILE


def test_malformed_basic_four_fault() -> None:
    card = Card(faults=Faults(malformed_basic_four=True))
    card.verified()
    assert card.sw(SELECT_0002) == 0x9000
    data = card.send(READ_ALL)[:-2]
    assert basic_four_offsets(data) == (0x0F, 0x21, 0x5A, 0x65)  # each one byte too far
    assert data[14:16] == b"\xdf\x22"
    assert data[:6] + data[14:104] == SAMPLE_0002[:6] + SAMPLE_0002[14:]


def test_atr() -> None:
    assert VirtualCard(make_profile()).atr == bytes.fromhex("3BE000FF8131FE4514") == ATR


# --- CardProfile ---------------------------------------------------------------------------


def test_profile_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    profile = make_profile(pin_tries_left=2, long_length_form=True)
    profile.save(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert set(raw) == {
        "name",
        "address",
        "birth_date",
        "sex",
        "my_number",
        "pin",
        "pin_tries_left",
        "long_length_form",
    }
    assert raw["name"] == "黒桐　幹也"
    assert CardProfile.load(path) == profile
    profile.pin_tries_left = 1
    profile.save(path)
    assert CardProfile.load(path).pin_tries_left == 1
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]  # no temp file left


def test_profile_defaults_for_optional_keys(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    raw = make_profile().to_dict()
    del raw["pin_tries_left"], raw["long_length_form"]
    path.write_text(json.dumps(raw), encoding="utf-8")
    loaded = CardProfile.load(path)
    assert loaded.pin_tries_left == 3
    assert loaded.long_length_form is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pin": "123"}, "pin"),
        ({"pin": "12a4"}, "pin"),
        ({"pin": "12345"}, "pin"),
        ({"pin": 1234}, "pin"),
        ({"pin_tries_left": 4}, "pin_tries_left"),
        ({"pin_tries_left": -1}, "pin_tries_left"),
        ({"pin_tries_left": True}, "pin_tries_left"),
        ({"pin_tries_left": "3"}, "pin_tries_left"),
        ({"sex": "3"}, "sex"),
        ({"sex": "男"}, "sex"),
        ({"my_number": "53768667718"}, "my_number"),
        ({"my_number": "123456789012"}, "check digit"),
        ({"birth_date": "1980-02-17"}, "birth_date"),
        ({"name": ""}, "name"),
        ({"address": None}, "address"),
        ({"long_length_form": "yes"}, "long_length_form"),
        ({"colour": "blue"}, "unknown keys: colour"),
    ],
)
def test_profile_validation(tmp_path: Path, change: dict[str, object], message: str) -> None:
    path = tmp_path / "card.json"
    raw: dict[str, object] = {**make_profile().to_dict(), **change}
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ProfileError, match=message) as info:
        CardProfile.load(path)
    assert str(path) in str(info.value)


def test_profile_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        CardProfile.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid JSON"):
        CardProfile.load(bad)
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(ProfileError, match="JSON object"):
        CardProfile.load(bad)
    raw = make_profile().to_dict()
    del raw["pin"]
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ProfileError, match="missing keys: pin"):
        CardProfile.load(bad)


# --- vpcd ----------------------------------------------------------------------------------


class FakeVpcd:
    """The vpcd side: a TCP server on 127.0.0.1, port 0, speaking the 2-byte framing."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(5)
        self.port: int = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []

    def accept(self, timeout: float = 5.0) -> socket.socket:
        self.listener.settimeout(timeout)
        conn, _ = self.listener.accept()
        conn.settimeout(5)
        self.conns.append(conn)
        return conn

    @staticmethod
    def send(conn: socket.socket, payload: bytes) -> None:
        conn.sendall(len(payload).to_bytes(2, "big") + payload)

    @staticmethod
    def recv_exact(conn: socket.socket, size: int) -> bytes:
        buf = b""
        while len(buf) < size:
            chunk = conn.recv(size - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    def recv(self, conn: socket.socket) -> bytes:
        size = int.from_bytes(self.recv_exact(conn, 2), "big")
        return self.recv_exact(conn, size)

    def transmit(self, conn: socket.socket, command: bytes) -> bytes:
        self.send(conn, command)
        return self.recv(conn)

    def atr(self, conn: socket.socket) -> bytes:
        self.send(conn, b"\x04")
        return self.recv(conn)

    @staticmethod
    def closed_by_peer(conn: socket.socket) -> bool:
        try:
            return conn.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.listener.close()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    yield fake
    fake.close()


@pytest.fixture
def servers() -> Iterator[list[VpcdCardServer]]:
    started: list[VpcdCardServer] = []
    yield started
    for server in started:
        server.stop()


def start_server(
    servers: list[VpcdCardServer], port: int, faults: Faults | None = None
) -> VpcdCardServer:
    server = VpcdCardServer(make_profile(), port=port, faults=faults)
    servers.append(server)
    server.start()
    return server


def test_vpcd_session_remove_and_insert(
    vpcd: FakeVpcd, servers: list[VpcdCardServer], tmp_path: Path
) -> None:
    path = tmp_path / "card.json"
    make_profile().save(path)
    server = VpcdCardServer.from_file(path, port=vpcd.port)
    servers.append(server)
    server.start()
    conn = vpcd.accept()
    assert vpcd.atr(conn) == bytes.fromhex("3BE000FF8131FE4514")
    vpcd.send(conn, b"\x01")  # power on: no reply
    assert vpcd.transmit(conn, SELECT_AP) == b"\x90\x00"
    assert vpcd.atr(conn) == ATR  # the presence poll, between APDUs
    assert vpcd.transmit(conn, SELECT_PIN) == b"\x90\x00"
    assert vpcd.transmit(conn, QUERY) == bytes.fromhex("63C3")
    assert vpcd.transmit(conn, VERIFY_9999) == bytes.fromhex("63C2")
    assert CardProfile.load(path).pin_tries_left == 2  # saved at once
    assert vpcd.transmit(conn, VERIFY_1234) == b"\x90\x00"
    assert CardProfile.load(path).pin_tries_left == 3
    assert vpcd.transmit(conn, SELECT_0001) == b"\x90\x00"
    assert vpcd.transmit(conn, READ_ALL) == SAMPLE_0001 + b"\x90\x00"
    vpcd.send(conn, b"\x00")  # power off
    assert vpcd.transmit(conn, READ_ALL) == bytes.fromhex("6986")
    assert server.apdus_received == 8

    server.remove()
    assert vpcd.closed_by_peer(conn)
    assert not server.connected
    with pytest.raises(TimeoutError):
        vpcd.accept(timeout=0.5)  # stays removed

    server.insert()
    conn2 = vpcd.accept()
    assert vpcd.atr(conn2) == ATR
    vpcd.send(conn2, b"\x01")
    assert vpcd.transmit(conn2, SELECT_AP) == b"\x90\x00"
    assert vpcd.transmit(conn2, apdu.verify_query(0x11)) == bytes.fromhex("63C3")
    assert server.connections == 2

    server.stop()
    assert vpcd.closed_by_peer(conn2)


def test_vpcd_reset_clears_verified(vpcd: FakeVpcd, servers: list[VpcdCardServer]) -> None:
    start_server(servers, vpcd.port)
    conn = vpcd.accept()
    for command in (SELECT_AP, SELECT_PIN, VERIFY_1234, SELECT_0001):
        assert vpcd.transmit(conn, command) == b"\x90\x00"
    vpcd.send(conn, b"\x02")  # reset: no reply
    assert vpcd.atr(conn) == ATR
    for command in (SELECT_AP, SELECT_0001):
        assert vpcd.transmit(conn, command) == b"\x90\x00"
    assert vpcd.transmit(conn, READ_ALL) == b"\x69\x82"


def test_vpcd_frames_split_across_segments(vpcd: FakeVpcd, servers: list[VpcdCardServer]) -> None:
    start_server(servers, vpcd.port)
    conn = vpcd.accept()
    message = len(SELECT_AP).to_bytes(2, "big") + SELECT_AP
    for byte in message:
        conn.sendall(bytes([byte]))
        time.sleep(0.01)
    assert vpcd.recv(conn) == b"\x90\x00"


def test_fault_remove_at_apdu(vpcd: FakeVpcd, servers: list[VpcdCardServer]) -> None:
    server = start_server(servers, vpcd.port, faults=Faults(remove_at_apdu=3))
    conn = vpcd.accept()
    assert vpcd.atr(conn) == ATR
    assert vpcd.transmit(conn, SELECT_AP) == b"\x90\x00"
    assert vpcd.transmit(conn, SELECT_PIN) == b"\x90\x00"
    vpcd.send(conn, VERIFY_1234)
    assert vpcd.closed_by_peer(conn)  # no answer: the card left
    with pytest.raises(TimeoutError):
        vpcd.accept(timeout=0.6)
    assert not server.inserted
    assert server.card.pin_tries_left == 3
    server.insert()
    conn2 = vpcd.accept()
    assert vpcd.transmit(conn2, SELECT_AP) == b"\x90\x00"
    assert vpcd.transmit(conn2, apdu.verify_query(0x11)) == bytes.fromhex("63C3")


def test_fault_drop_connection_reconnects_at_once(
    vpcd: FakeVpcd, servers: list[VpcdCardServer]
) -> None:
    server = start_server(servers, vpcd.port, faults=Faults(drop_connection_at=4))
    conn = vpcd.accept()
    for command in (SELECT_AP, SELECT_PIN, VERIFY_1234):
        assert vpcd.transmit(conn, command) == b"\x90\x00"
    vpcd.send(conn, SELECT_0001)
    assert vpcd.closed_by_peer(conn)
    conn2 = vpcd.accept(timeout=2)  # re-inserted without being told
    assert server.inserted
    for command in (SELECT_AP, SELECT_0001):
        assert vpcd.transmit(conn2, command) == b"\x90\x00"
    assert vpcd.transmit(conn2, READ_ALL) == b"\x69\x82"  # a fresh card: not verified


def test_fault_delay(vpcd: FakeVpcd, servers: list[VpcdCardServer]) -> None:
    start_server(servers, vpcd.port, faults=Faults(delay_s=0.3))
    conn = vpcd.accept()
    began = time.monotonic()
    assert vpcd.atr(conn) == ATR
    assert time.monotonic() - began < 0.25  # control codes are not delayed
    began = time.monotonic()
    assert vpcd.transmit(conn, SELECT_AP) == b"\x90\x00"
    assert time.monotonic() - began >= 0.3


def test_connects_once_vpcd_listens(servers: list[VpcdCardServer]) -> None:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = start_server(servers, port)
    time.sleep(0.5)  # nobody listening: retrying
    assert not server.connected
    fake = FakeVpcd(port)
    try:
        conn = fake.accept()
        assert fake.atr(conn) == ATR
        assert server.wait_connected(2)
    finally:
        server.stop()
        fake.close()


def test_reconnects_after_vpcd_closes(vpcd: FakeVpcd, servers: list[VpcdCardServer]) -> None:
    server = start_server(servers, vpcd.port)
    conn = vpcd.accept()
    assert vpcd.atr(conn) == ATR
    conn.close()  # pcscd restarted
    conn2 = vpcd.accept()
    assert vpcd.atr(conn2) == ATR
    assert server.connections == 2


def test_no_reconnect_option(vpcd: FakeVpcd) -> None:
    server = VpcdCardServer(make_profile(), port=vpcd.port, reconnect=False)
    stop = threading.Event()
    thread = threading.Thread(target=server.run, args=(stop,))
    thread.start()
    try:
        conn = vpcd.accept()
        assert vpcd.atr(conn) == ATR
        conn.close()
        thread.join(2)
        assert not thread.is_alive()
    finally:
        stop.set()
        thread.join(2)


def test_stop_joins_quickly(vpcd: FakeVpcd, servers: list[VpcdCardServer]) -> None:
    server = start_server(servers, vpcd.port)
    conn = vpcd.accept()
    assert vpcd.atr(conn) == ATR
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 1.0
    assert vpcd.closed_by_peer(conn)
    server.remove()  # while stopped: harmless
    server.insert()
    server.start()  # and it can start again
    conn2 = vpcd.accept()
    assert vpcd.atr(conn2) == ATR


def test_serve_command_saves_counter_and_stops_on_sigterm(vpcd: FakeVpcd, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    make_profile().save(path)
    code = (
        "from pathlib import Path; from devices.mynumber.vpcd import serve; "
        f"serve(Path({str(path)!r}), port={vpcd.port})"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env)
    try:
        conn = vpcd.accept(timeout=20)
        assert vpcd.atr(conn) == ATR
        assert vpcd.transmit(conn, SELECT_AP) == b"\x90\x00"
        assert vpcd.transmit(conn, apdu.verify("0000", 0x11)) == bytes.fromhex("63C2")
        assert CardProfile.load(path).pin_tries_left == 2
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert vpcd.closed_by_peer(conn)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
