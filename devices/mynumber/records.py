"""Parsers for the files of the 券面事項入力補助AP (handbook mynumber-card.md §3, §10).

* EF 0001: ``FF 10 0C`` + 12 ASCII digits (+ ``FF FF`` filler, ignored).
* EF 0002: ``FF 20 L { DF21 08 offsets, DF22 name, DF23 address, DF24 birth, DF25 sex }``
  (+ filler, ignored); the DF21 offsets are uint16 big-endian positions of the DF22..DF25
  TLVs from the start of the file.

Tags are BER (the card uses the 2-byte high-tag-number form even for small numbers), lengths
BER definite: short form, ``81 xx`` or ``82 hh ll`` (some cards use ``82 00 xx`` for small
values). The encoders live in ``devices.mynumber.files``.

Both parsers either return a fully validated record or raise ``CardDataError``; nothing else
escapes them, whatever the bytes. An error message says only what was wrong and where, never
a value read from the card, and the error carries no chained exception (a
``UnicodeDecodeError`` would hold the raw bytes), so it is safe to log.
"""

from __future__ import annotations

import calendar
import unicodedata
from dataclasses import dataclass

__all__ = [
    "BasicFour",
    "CardDataError",
    "parse_basic_four",
    "parse_my_number",
    "read_tlv",
    "tlv_total_length",
    "valid_my_number",
]

TAG_MY_NUMBER = 0xFF10
TAG_BASIC_FOUR = 0xFF20
TAG_OFFSETS = 0xDF21
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH_DATE = 0xDF24
TAG_SEX = 0xDF25

MY_NUMBER_LENGTH = 12
MAX_NAME_CHARS = 200
MAX_ADDRESS_CHARS = 500
MIN_YEAR = 1868  # 明治元年
MAX_YEAR = 2100
SEX_CODES = frozenset({"1", "2", "9"})

#: a tag longer than this many bytes is not something this card uses
_MAX_TAG_BYTES = 4
_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_DIGITS = frozenset(b"0123456789")
_BIDI_CONTROLS = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
_FIELD_TAGS = (TAG_NAME, TAG_ADDRESS, TAG_BIRTH_DATE, TAG_SEX)
_LAYOUT = (TAG_OFFSETS, *_FIELD_TAGS)


class CardDataError(ValueError):
    """The card's data does not have the expected form. The message names the file, the
    field and the fault, never a value read from the card."""


@dataclass(frozen=True, repr=False)
class BasicFour:
    """基本4情報 as read from EF 0002, validated."""

    name: str
    address: str
    birth_date: str  # YYYYMMDD as on the card; MM and/or DD may be 00 (partly unknown)
    sex: str  # "1" | "2" | "9"
    birth_date_partial: bool

    def __repr__(self) -> str:
        return "BasicFour(<redacted>)"


# --- BER ----------------------------------------------------------------------------------


def _header(data: bytes, pos: int, end: int, where: str) -> tuple[int, int, int] | None:
    """Parse the tag and length at ``pos``: (tag, value_start, value_length), or None when
    the header does not end before ``end``. Malformed headers raise ``CardDataError``."""
    n = min(end, len(data))
    if pos < 0:
        raise CardDataError(f"{where} at a negative position")
    if pos >= n:
        return None
    first = data[pos]
    tag = first
    i = pos + 1
    if first & 0x1F == 0x1F:
        while True:
            if i >= n:
                return None
            if i - pos >= _MAX_TAG_BYTES:
                raise CardDataError(f"{where} tag longer than {_MAX_TAG_BYTES} bytes")
            b = data[i]
            tag = (tag << 8) | b
            i += 1
            if not b & 0x80:
                break
    if i >= n:
        return None
    first_length = data[i]
    i += 1
    if first_length < 0x80:
        return tag, i, first_length
    if first_length == 0x80:
        raise CardDataError(f"{where} has an indefinite length")
    count = first_length & 0x7F
    if count > 2:
        raise CardDataError(f"{where} length form with {count} bytes not supported")
    if i + count > n:
        return None
    return tag, i + count, int.from_bytes(data[i : i + count], "big")


def _tlv(data: bytes, pos: int, end: int, where: str) -> tuple[int, int, int]:
    """One TLV at ``pos`` that must lie entirely before ``end``: (tag, start, end) of its
    value."""
    header = _header(data, pos, end, where)
    if header is None:
        raise CardDataError(f"{where} header truncated")
    tag, start, length = header
    if start + length > end:
        raise CardDataError(f"{where} runs past the end of its container")
    return tag, start, start + length


def read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """The BER TLV at ``pos``: (tag, value_start, value_end), the tag as an int of its bytes
    (``0xFF20``, ``0xDF22``). Definite lengths only: short form, ``81 xx``, ``82 hh ll``.
    Raises ``CardDataError`` when the header is malformed or the TLV runs past ``data``."""
    return _tlv(data, pos, len(data), f"TLV at offset {pos}")


def tlv_total_length(prefix: bytes) -> int | None:
    """For reading a file in chunks: the size of its first TLV, header included, or None
    when ``prefix`` is too short to tell. Raises ``CardDataError`` for a malformed header."""
    header = _header(prefix, 0, len(prefix), "TLV at offset 0")
    if header is None:
        return None
    _, start, length = header
    return start + length


# --- EF 0001 ------------------------------------------------------------------------------


def valid_my_number(number: str) -> bool:
    """12 ASCII digits whose last is the check digit of 総務省令第八十五号 第五条 (§3.5)."""
    if len(number) != MY_NUMBER_LENGTH or not all("0" <= c <= "9" for c in number):
        return False
    remainder = sum(int(d) * w for d, w in zip(number[:11], _WEIGHTS, strict=True)) % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return int(number[11]) == check


def parse_my_number(data: bytes) -> str:
    """EF 0001: the 12-digit My Number. Anything after the FF10 TLV is filler."""
    where = "EF0001"
    tag, start, end = _tlv(data, 0, len(data), f"{where}: FF10")
    if tag != TAG_MY_NUMBER:
        raise CardDataError(f"{where}: not an FF10 object")
    value = data[start:end]
    if len(value) != MY_NUMBER_LENGTH:
        raise CardDataError(f"{where}: FF10 length is not 12")
    if not all(b in _DIGITS for b in value):
        raise CardDataError(f"{where}: FF10 holds characters other than ASCII digits")
    number = value.decode("ascii")
    if not valid_my_number(number):
        raise CardDataError(f"{where}: FF10 check digit wrong")
    return number


# --- EF 0002 ------------------------------------------------------------------------------


def _text(raw: bytes, field: str, max_chars: int) -> str:
    where = f"EF0002: {field}"
    try:
        text: str | None = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        text = None
    # raised outside the except block so the error has no __context__ holding the bytes
    if text is None:
        raise CardDataError(f"{where} is not valid UTF-8")
    if len(text) > max_chars:
        raise CardDataError(f"{where} longer than {max_chars} characters")
    for c in text:
        cp = ord(c)
        if cp < 0x20 or 0x7F <= cp <= 0x9F:
            raise CardDataError(f"{where} contains a control character")
        if cp in _BIDI_CONTROLS:
            raise CardDataError(f"{where} contains a bidirectional formatting character")
        # invisible format characters, line/paragraph separators, unassigned code points
        if unicodedata.category(c) in ("Cf", "Zl", "Zp", "Cn"):
            raise CardDataError(f"{where} contains an invisible or unassigned character")
    return text


def _birth_date(raw: bytes) -> tuple[str, bool]:
    """DF24 ``YYYYMMDD``; MM 00 (then DD 00) or DD 00 mark a partly unknown date."""
    where = "EF0002: DF24 birth date"
    if len(raw) != 8 or not all(b in _DIGITS for b in raw):
        raise CardDataError(f"{where} malformed")
    text = raw.decode("ascii")
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CardDataError(f"{where} year out of range")
    if month > 12:
        raise CardDataError(f"{where} month out of range")
    if month == 0:
        if day != 0:
            raise CardDataError(f"{where} has a day but no month")
        return text, True
    if day == 0:
        return text, True
    if day > calendar.monthrange(year, month)[1]:
        raise CardDataError(f"{where} is not a calendar date")
    return text, False


def parse_basic_four(data: bytes) -> BasicFour:
    """EF 0002: the 基本4情報, with the DF21 offset table checked against the actual
    positions of DF22..DF25. Anything after the FF20 TLV is filler."""
    tag, start, end = _tlv(data, 0, len(data), "EF0002: FF20")
    if tag != TAG_BASIC_FOUR:
        raise CardDataError("EF0002: not an FF20 object")
    values: list[bytes] = []
    positions: list[int] = []
    pos = start
    for expected in _LAYOUT:
        label = f"{expected:04X}"
        if pos >= end:
            raise CardDataError(f"EF0002: {label} missing")
        tag, v_start, v_end = _tlv(data, pos, end, f"EF0002: {label}")
        if tag != expected:
            if tag in _LAYOUT:
                raise CardDataError(f"EF0002: {label} expected, found another field out of order")
            raise CardDataError(f"EF0002: {label} expected, found an unknown tag")
        positions.append(pos)
        values.append(data[v_start:v_end])
        pos = v_end
    if pos != end:
        raise CardDataError("EF0002: unexpected data after DF25 inside FF20")

    offsets_raw = values[0]
    if len(offsets_raw) != 8:
        raise CardDataError("EF0002: DF21 offset table is not 8 bytes")
    for i, field_tag in enumerate(_FIELD_TAGS):
        offset = int.from_bytes(offsets_raw[2 * i : 2 * i + 2], "big")
        if offset != positions[i + 1]:
            raise CardDataError(f"EF0002: DF21 offset of {field_tag:04X} does not match")

    name = _text(values[1], "DF22 name", MAX_NAME_CHARS)
    if not name.strip():
        raise CardDataError("EF0002: DF22 name empty")
    address = _text(values[2], "DF23 address", MAX_ADDRESS_CHARS)
    if not address.strip():
        raise CardDataError("EF0002: DF23 address empty")
    birth_date, partial = _birth_date(values[3])
    sex_raw = values[4]
    if len(sex_raw) != 1 or sex_raw.decode("latin-1") not in SEX_CODES:
        raise CardDataError("EF0002: DF25 sex code not one of 1, 2, 9")
    return BasicFour(
        name=name,
        address=address,
        birth_date=birth_date,
        sex=sex_raw.decode("ascii"),
        birth_date_partial=partial,
    )
