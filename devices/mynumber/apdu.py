"""Command APDUs and status words of the 券面事項入力補助AP (handbook mynumber-card.md §2, §4).

Short APDUs only: some contactless readers fail on extended ones.
"""

from __future__ import annotations

import re

#: 券面事項入力補助AP
AID_TEXT = bytes.fromhex("D3921000310001010408")
FID_MY_NUMBER = 0x0001
FID_BASIC_FOUR = 0x0002
FID_PIN = 0x0011  # 券面事項入力補助用暗証番号, 3 tries

SW_OK = 0x9000
SW_SECURITY = 0x6982  # security status not satisfied (no VERIFY yet)
SW_BLOCKED = 0x6984  # VERIFY on a blocked key
SW_AUTH_BLOCKED = 0x6983  # not reported by this card; treated as blocked defensively
SW_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_END_OF_FILE = 0x6B00
SW_WRONG_LENGTH = 0x6700
SW_NO_CURRENT_EF = 0x6986
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_CHANNEL_NOT_SUPPORTED = 0x6881

#: exactly four ASCII digits; use with fullmatch (``$`` would let "1234\n" through)
PIN_PATTERN = re.compile(r"[0-9]{4}")


def is_tries_status(sw: int) -> bool:
    """``63 Cx``: a failed VERIFY, or the answer to the empty VERIFY, with x tries left."""
    return sw & 0xFFF0 == 0x63C0


def tries_of(sw: int) -> int:
    return sw & 0x000F


def select_df(aid: bytes = AID_TEXT) -> bytes:
    return bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid


def select_ef(fid: int) -> bytes:
    return bytes([0x00, 0xA4, 0x02, 0x0C, 0x02, fid >> 8, fid & 0xFF])


def verify_query(sfi: int | None = None) -> bytes:
    """The empty VERIFY (case 1): reports the remaining tries without spending one."""
    return bytes([0x00, 0x20, 0x00, 0x80 | (sfi or 0)])


def verify(pin: str, sfi: int | None = None) -> bytes:
    """VERIFY with the PIN as ASCII digits; refuses anything but exactly four digits."""
    if not PIN_PATTERN.fullmatch(pin):
        raise ValueError("the PIN must be exactly 4 digits")
    return bytes([0x00, 0x20, 0x00, 0x80 | (sfi or 0), 0x04]) + pin.encode("ascii")


def read_binary(offset: int, le: int) -> bytes:
    """READ BINARY of the current EF; ``le`` 1..256 (256 is sent as 00)."""
    if not 0 <= offset <= 0x7FFF or not 1 <= le <= 256:
        raise ValueError("offset or length out of range")
    return bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, le & 0xFF])


def read_binary_sfi(sfi: int, offset: int, le: int) -> bytes:
    """READ BINARY by short EF identifier (no SELECT needed); offsets up to 255 only."""
    if not 1 <= sfi <= 30 or not 0 <= offset <= 0xFF or not 1 <= le <= 256:
        raise ValueError("SFI, offset or length out of range")
    return bytes([0x00, 0xB0, 0x80 | sfi, offset, le & 0xFF])


def masked(apdu: bytes) -> str:
    """Hex for traces, with VERIFY data replaced by ``**`` (LOG-05)."""
    if len(apdu) > 5 and apdu[1] == 0x20:
        return apdu[:5].hex(" ").upper() + " " + " ".join("**" for _ in apdu[5:])
    return apdu.hex(" ").upper()
