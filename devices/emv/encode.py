"""Typed field sets to payloads.

The encoder writes 00 first, 63 last and the rest in the spec's table order; it
normalises text to NFC before counting characters, and checks its output with the strict
decoder, so it never returns a payload that breaks a rule.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from devices.emv.crc import with_crc
from devices.emv.decode import DecodedPayload, decode
from devices.emv.errors import fail
from devices.emv.tlv import DataObject, serialize, serialize_all

MAX_AMOUNT_LENGTH = 13


@dataclass(frozen=True)
class PrimitiveAccount:
    """Merchant account information 02-25 (Visa, Mastercard, JCB, … primitive IDs)."""

    tag: str
    value: str


@dataclass(frozen=True)
class TemplateAccount:
    """A payment network template (26-51, or 80-99 unreserved): ``fields`` start with
    ``("00", GUID)``."""

    tag: str
    fields: tuple[tuple[str, str], ...]

    @property
    def guid(self) -> str | None:
        return dict(self.fields).get("00")


@dataclass(frozen=True)
class LanguageTemplate:
    """Template 64: the merchant's name (and city) in another language, e.g. ``JA``."""

    language: str
    merchant_name: str
    merchant_city: str | None = None

    def fields(self) -> tuple[tuple[str, str], ...]:
        out = [("00", self.language), ("01", self.merchant_name)]
        if self.merchant_city is not None:
            out.append(("02", self.merchant_city))
        return tuple(out)


@dataclass(frozen=True)
class MpmFields:
    merchant_accounts: tuple[PrimitiveAccount | TemplateAccount, ...]
    merchant_category_code: str
    currency: str
    country: str
    merchant_name: str
    merchant_city: str
    #: "11" static (the app asks for the amount), "12" dynamic (one code per payment)
    point_of_initiation: str | None = None
    amount: str | None = None
    tip_indicator: str | None = None
    convenience_fee_fixed: str | None = None
    convenience_fee_percentage: str | None = None
    postal_code: str | None = None
    #: template 62 as (sub-ID, value) pairs, e.g. ("05", reference label)
    additional_data: tuple[tuple[str, str], ...] = ()
    language: LanguageTemplate | None = None
    unreserved: tuple[TemplateAccount, ...] = ()

    def top_level(self) -> list[tuple[str, str]]:
        """Root (ID, value) pairs without the CRC; template values already serialised."""
        out: list[tuple[str, str]] = [("00", "01")]
        if self.point_of_initiation is not None:
            out.append(("01", _nfc(self.point_of_initiation)))
        for account in self.merchant_accounts:
            out.append(_account(account))
        optional = (
            ("52", self.merchant_category_code),
            ("53", self.currency),
            ("54", self.amount),
            ("55", self.tip_indicator),
            ("56", self.convenience_fee_fixed),
            ("57", self.convenience_fee_percentage),
            ("58", self.country),
            ("59", self.merchant_name),
            ("60", self.merchant_city),
            ("61", self.postal_code),
        )
        out.extend((tag, _nfc(value)) for tag, value in optional if value is not None)
        if self.additional_data:
            out.append(("62", _template("62", self.additional_data)))
        if self.language is not None:
            out.append(("64", _template("64", self.language.fields())))
        out.extend(_account(account) for account in self.unreserved)
        return out

    @classmethod
    def from_decoded(cls, decoded: DecodedPayload) -> MpmFields:
        """The field set of a strictly decoded payload (tags outside this model are
        dropped)."""
        accounts: list[PrimitiveAccount | TemplateAccount] = []
        unreserved: list[TemplateAccount] = []
        for obj in decoded.objects:
            n = int(obj.tag)
            if 2 <= n <= 25:
                accounts.append(PrimitiveAccount(obj.tag, obj.value))
            elif (26 <= n <= 51 or n >= 80) and obj.children is not None:
                account = TemplateAccount(obj.tag, tuple((c.tag, c.value) for c in obj.children))
                (accounts if n <= 51 else unreserved).append(account)
        language = decoded.object("64")
        return cls(
            merchant_accounts=tuple(accounts),
            merchant_category_code=decoded.get("52") or "",
            currency=decoded.get("53") or "",
            country=decoded.get("58") or "",
            merchant_name=decoded.get("59") or "",
            merchant_city=decoded.get("60") or "",
            point_of_initiation=decoded.get("01"),
            amount=decoded.get("54"),
            tip_indicator=decoded.get("55"),
            convenience_fee_fixed=decoded.get("56"),
            convenience_fee_percentage=decoded.get("57"),
            postal_code=decoded.get("61"),
            additional_data=_pairs(decoded.object("62")),
            language=None
            if language is None
            else LanguageTemplate(
                language=decoded.get("64", "00") or "",
                merchant_name=decoded.get("64", "01") or "",
                merchant_city=decoded.get("64", "02"),
            ),
            unreserved=tuple(unreserved),
        )


def _pairs(template: DataObject | None) -> tuple[tuple[str, str], ...]:
    children = template.children if template is not None else None
    return tuple((c.tag, c.value) for c in children or ())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _template(tag: str, fields: tuple[tuple[str, str], ...]) -> str:
    return serialize_all(((sub, _nfc(value)) for sub, value in fields), path=tag)


def _account(account: PrimitiveAccount | TemplateAccount) -> tuple[str, str]:
    if isinstance(account, PrimitiveAccount):
        return account.tag, _nfc(account.value)
    return account.tag, _template(account.tag, account.fields)


def encode(fields: MpmFields) -> str:
    """The payload for ``fields``; EmvError (naming the tag and rule) if any rule breaks."""
    return encode_checked(fields).payload


def encode_checked(fields: MpmFields) -> DecodedPayload:
    """``encode``, returning the strict decode of the payload it checked."""
    body = "".join(serialize(tag, value) for tag, value in fields.top_level())
    return decode(with_crc(body))  # strict: the output obeys every rule the decoder checks


def format_amount_yen(yen: int) -> str:
    """Tag 54 for a yen amount: JPY has no minor unit, so plain digits (300 → "300")."""
    if isinstance(yen, bool) or not isinstance(yen, int):
        raise fail("54", "amount.format", "a yen amount is a whole number")
    if yen <= 0:
        raise fail("54", "amount.zero", "an amount must be positive")
    text = str(yen)
    if len(text) > MAX_AMOUNT_LENGTH:
        raise fail("54", "length.max", f"{len(text)} digits, at most {MAX_AMOUNT_LENGTH}")
    return text
