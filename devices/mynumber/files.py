"""Encoders for the files of the 券面事項入力補助AP (handbook mynumber-card.md §3), used by the
virtual card. The parsers live in ``devices.mynumber.records``.

* EF 0001: ``FF 10 0C`` + 12 ASCII digits + ``FF FF`` filler (17 bytes).
* EF 0002: ``FF 20 L { DF21 08 offsets, DF22 name, DF23 address, DF24 birth, DF25 sex }``,
  the DF21 offsets being uint16 big-endian positions of the DF22..DF25 TLVs from the start of
  the file, then filler up to the physical size of the EF.

Lengths are BER definite: short form below 128, else ``81 xx`` or ``82 hh ll``; some cards use
``82 hh ll`` for the outer length even when it is small, which ``long_length_form`` reproduces.
"""

from __future__ import annotations

TAG_MY_NUMBER = b"\xff\x10"
TAG_BASIC_FOUR = b"\xff\x20"
TAG_OFFSETS = b"\xdf\x21"
TAG_NAME = b"\xdf\x22"
TAG_ADDRESS = b"\xdf\x23"
TAG_BIRTH_DATE = b"\xdf\x24"
TAG_SEX = b"\xdf\x25"

MY_NUMBER_FILE_SIZE = 17
FILLER = 0xFF

_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def encode_length(length: int, *, long_form: bool = False) -> bytes:
    """BER definite length: 1 byte below 128, ``81 xx`` up to 255, ``82 hh ll`` up to 65535;
    ``long_form`` always gives ``82 hh ll``."""
    if not 0 <= length <= 0xFFFF:
        raise ValueError(f"length {length} does not fit a 2-byte BER length")
    if long_form or length > 0xFF:
        return b"\x82" + length.to_bytes(2, "big")
    if length >= 0x80:
        return bytes([0x81, length])
    return bytes([length])


def encode_tlv(tag: bytes, value: bytes, *, long_form: bool = False) -> bytes:
    return tag + encode_length(len(value), long_form=long_form) + value


def is_valid_my_number(number: str) -> bool:
    """12 ASCII digits whose last one is the check digit of 総務省令第八十五号 第五条 (§3.5)."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        return False
    remainder = sum(int(d) * w for d, w in zip(number[:11], _WEIGHTS, strict=True)) % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return int(number[11]) == check


def encode_my_number(number: str) -> bytes:
    """EF 0001, 17 bytes: ``FF 10 0C`` + the 12 ASCII digits + ``FF FF``. The check digit is
    not checked here (see ``is_valid_my_number``)."""
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        raise ValueError("the My Number must be 12 ASCII digits")
    return encode_tlv(TAG_MY_NUMBER, number.encode("ascii")) + bytes([FILLER, FILLER])


def _ascii(value: str, size: int, what: str) -> bytes:
    try:
        data = value.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"{what} must be ASCII") from None
    if len(data) != size:
        raise ValueError(f"{what} must be {size} ASCII characters")
    return data


def offset_table_position(data: bytes) -> int:
    """Where the 8 bytes of the DF21 offset table start in an EF 0002 (after ``DF 21 08``)."""
    if len(data) < 3 or data[:2] != TAG_BASIC_FOUR:
        raise ValueError("not an FF20 object")
    first = data[2]
    header = 3 + (first & 0x7F if first & 0x80 else 0)
    if data[header : header + 3] != TAG_OFFSETS + b"\x08" or len(data) < header + 11:
        raise ValueError("no DF21 offset table where expected")
    return header + 3


def basic_four_offsets(data: bytes) -> tuple[int, int, int, int]:
    """The DF21 offset table of an EF 0002, as four integers."""
    at = offset_table_position(data)
    a, b, c, d = (int.from_bytes(data[at + i : at + i + 2], "big") for i in range(0, 8, 2))
    return a, b, c, d


def encode_basic_four(
    name: str,
    address: str,
    birth_date: str,
    sex: str,
    *,
    long_length_form: bool = False,
    size: int | None = None,
) -> bytes:
    """EF 0002: the FF20 object with a correct DF21 offset table, then ``FF`` filler up to
    ``size`` bytes when given (``size`` smaller than the object is an error).

    ``long_length_form`` writes the outer length as ``82 hh ll`` whatever its value; inner
    lengths always take the shortest form (``81``/``82`` from 128 bytes on).
    """
    fields = [
        encode_tlv(TAG_NAME, name.encode("utf-8")),
        encode_tlv(TAG_ADDRESS, address.encode("utf-8")),
        encode_tlv(TAG_BIRTH_DATE, _ascii(birth_date, 8, "the birth date (YYYYMMDD)")),
        encode_tlv(TAG_SEX, _ascii(sex, 1, "the sex code")),
    ]
    offsets_tlv_size = 2 + 1 + 8
    inner_length = offsets_tlv_size + sum(len(f) for f in fields)
    outer_header = TAG_BASIC_FOUR + encode_length(inner_length, long_form=long_length_form)
    position = len(outer_header) + offsets_tlv_size
    table = bytearray()
    for field in fields:
        if position > 0xFFFF:
            raise ValueError("EF 0002 too large for the DF21 offset table")
        table += position.to_bytes(2, "big")
        position += len(field)
    data = outer_header + encode_tlv(TAG_OFFSETS, bytes(table)) + b"".join(fields)
    if size is not None:
        if size < len(data):
            raise ValueError(f"EF 0002 needs {len(data)} bytes, more than size={size}")
        data += bytes([FILLER]) * (size - len(data))
    return data
