"""CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR).

EMVCo §4.7.3: it covers every object up to and including the ``6304`` of the CRC itself,
over the UTF-8 bytes, and is written as 4 upper-case hex digits (leading zeros kept).
"""

from __future__ import annotations

import binascii

CRC_HEADER = "6304"


def crc16_ccitt_false(data: bytes) -> int:
    # crc_hqx is the non-reflected 0x1021 CRC; with init 0xFFFF it is CCITT-FALSE
    return binascii.crc_hqx(data, 0xFFFF)


def crc_text(head: str) -> str:
    """The CRC value for ``head`` (which must end with ``6304``) as 4 upper-case hex digits."""
    return f"{crc16_ccitt_false(head.encode('utf-8')):04X}"


def with_crc(body: str) -> str:
    """Append tag 63 to ``body``."""
    head = body + CRC_HEADER
    return head + crc_text(head)
