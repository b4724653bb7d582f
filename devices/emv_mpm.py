"""The first, minimal EMV helpers, kept for the payment adapters that call them; they now
delegate to the codec in ``devices/emv`` (decoder, encoder, JPQR profile, QR images)."""

from __future__ import annotations

from collections.abc import Iterable

from devices.emv import crc as _crc
from devices.emv.encode import MpmFields, TemplateAccount, encode, format_amount_yen
from devices.emv.jpqr import JAPAN, JPY
from devices.emv.tlv import parse_objects, serialize

crc16_ccitt_false = _crc.crc16_ccitt_false
with_crc = _crc.with_crc


def tlv(tag: str, value: str) -> str:
    return serialize(tag, value)


def build_dynamic_payload(
    *,
    merchant_account: Iterable[tuple[str, str]],
    amount_yen: int,
    reference: str,
    merchant_name: str,
    merchant_city: str,
    mcc: str = "9399",  # government services
) -> str:
    """A dynamic (01=12) yen code with the account in template 26 and ``reference`` in
    62/05. Raises EmvError (a ValueError) for anything the strict rules refuse."""
    if amount_yen <= 0:
        raise ValueError("a payment code needs a positive amount")
    return encode(
        MpmFields(
            merchant_accounts=(TemplateAccount("26", tuple(merchant_account)),),
            merchant_category_code=mcc,
            currency=JPY,
            country=JAPAN,
            merchant_name=merchant_name,
            merchant_city=merchant_city,
            point_of_initiation="12",  # dynamic: one code per payment
            amount=format_amount_yen(amount_yen),
            additional_data=(("05", reference),),
        )
    )


def parse_top_level(payload: str) -> dict[str, str]:
    """Split a payload into its top-level tags; raise ValueError if it does not parse."""
    return {obj.tag: obj.value for obj in parse_objects(payload)}


def crc_ok(payload: str) -> bool:
    """Whether the last 8 characters are a 63 whose CRC matches (either letter case);
    ``devices.emv.decode`` checks the structure as well."""
    if len(payload) < 8 or payload[-8:-4] != _crc.CRC_HEADER:
        return False
    return payload[-4:].upper() == _crc.crc_text(payload[:-4])
