"""EMV QR Code, Merchant-Presented Mode: codec, JPQR profile and QR symbols (Qt-free).

It sits under ``devices/`` because the payment adapters build their codes with it and
``devices`` never imports ``kiosk``; like ``devices/mynumber`` it is a format package with
strict parsers, not an adapter.

- ``tlv``: ID/length/value objects, lengths counted in characters
- ``crc``: CRC-16/CCITT-FALSE over the UTF-8 bytes
- ``rules``: the EMVCo MPM v1.0 data-object rules, as issues naming the tag and the rule
- ``decode``: strict and tolerant decoding
- ``encode``: typed field sets to payloads (checked by the strict decoder before return)
- ``jpqr``: the JPQR profile; ``merchant``: the merchant configuration
- ``qr_image``: PNG symbols in byte mode (ECI 26 when the payload is not ASCII)
"""

from devices.emv.decode import DecodedPayload, decode
from devices.emv.encode import (
    LanguageTemplate,
    MpmFields,
    PrimitiveAccount,
    TemplateAccount,
    encode,
    format_amount_yen,
)
from devices.emv.errors import EmvError, EmvIssue
from devices.emv.tlv import DataObject

__all__ = [
    "DataObject",
    "DecodedPayload",
    "EmvError",
    "EmvIssue",
    "LanguageTemplate",
    "MpmFields",
    "PrimitiveAccount",
    "TemplateAccount",
    "decode",
    "encode",
    "format_amount_yen",
]
