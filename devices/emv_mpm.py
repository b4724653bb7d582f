"""EMV Merchant-Presented Mode payloads: ID/length/value with a CRC-16/CCITT-FALSE.

The minimum the simulated provider needs to issue a dynamic payment code; the full
encoder/decoder with the JPQR profile extends this module.
"""

from __future__ import annotations

from collections.abc import Iterable


def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def tlv(tag: str, value: str) -> str:
    if len(tag) != 2 or not tag.isdigit():
        raise ValueError("EMV tags are two digits")
    if len(value) > 99:
        raise ValueError("EMV values are at most 99 characters")
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    """Append tag 63: the CRC covers everything before it, including ``6304``."""
    head = body + "6304"
    return head + f"{crc16_ccitt_false(head.encode('utf-8')):04X}"


def build_dynamic_payload(
    *,
    merchant_account: Iterable[tuple[str, str]],
    amount_yen: int,
    reference: str,
    merchant_name: str,
    merchant_city: str,
    mcc: str = "9399",  # government services
) -> str:
    if amount_yen <= 0:
        raise ValueError("a payment code needs a positive amount")
    account = "".join(tlv(t, v) for t, v in merchant_account)
    body = "".join(
        (
            tlv("00", "01"),
            tlv("01", "12"),  # dynamic: one code per payment
            tlv("26", account),
            tlv("52", mcc),
            tlv("53", "392"),  # JPY
            tlv("54", str(amount_yen)),
            tlv("58", "JP"),
            tlv("59", merchant_name),
            tlv("60", merchant_city),
            tlv("62", tlv("05", reference)),
        )
    )
    return with_crc(body)


def parse_top_level(payload: str) -> dict[str, str]:
    """Split a payload into its top-level tags; raise ValueError if it does not parse."""
    out: dict[str, str] = {}
    i = 0
    while i < len(payload):
        tag, length = payload[i : i + 2], payload[i + 2 : i + 4]
        if len(tag) < 2 or not length.isdigit():
            raise ValueError("truncated EMV payload")
        value = payload[i + 4 : i + 4 + int(length)]
        if len(value) != int(length):
            raise ValueError("truncated EMV payload")
        out[tag] = value
        i += 4 + int(length)
    return out


def crc_ok(payload: str) -> bool:
    if len(payload) < 8 or payload[-8:-4] != "6304":
        return False
    return payload[-4:].upper() == f"{crc16_ccitt_false(payload[:-4].encode('utf-8')):04X}"
