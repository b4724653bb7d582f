"""The JPQR profile of EMV MPM (Payments Japan Association), as far as two public
implementations show it (mercari/go-emv-code mpm/jpqr, kenmaz/JPQRReader).

Profile rules: the JPQR ID in template 26 (GUID ``jp.or.paymentsjapan``, levels 01-04 of
13, 4, 6 and 6 characters), currency 392, country JP, a postal code, yen amounts without
decimals. Where template 64 is present it is ``JA`` and holds no city. Unlike mercari's
decoder we do not require 64: the default merchant keeps the payload ASCII so that the QR
symbol needs no ECI header (see ``qr_image``).
"""

from __future__ import annotations

from devices.emv.decode import DecodedPayload, decode
from devices.emv.encode import (
    LanguageTemplate,
    MpmFields,
    TemplateAccount,
    encode_checked,
    format_amount_yen,
)
from devices.emv.errors import EmvError, EmvIssue
from devices.emv.merchant import JPQR_ID_PARTS, MerchantConfig
from devices.emv.rules import is_numeric

JPQR_GUID = "jp.or.paymentsjapan"
JPY = "392"
JAPAN = "JP"


def jpqr_fields(
    merchant: MerchantConfig,
    *,
    amount_yen: int | None,
    reference: str | None = None,
    terminal_label: str | None = None,
) -> MpmFields:
    """Dynamic (01=12, amount in 54) when ``amount_yen`` is given, static (01=11) if not.
    ``reference`` goes to 62/05 (Reference Label), ``terminal_label`` to 62/07."""
    account = TemplateAccount(
        "26",
        (("00", JPQR_GUID), *((f"{i:02d}", p) for i, p in enumerate(merchant.jpqr_id_parts, 1))),
    )
    additional = tuple(
        (sub, value) for sub, value in (("05", reference), ("07", terminal_label)) if value
    )
    return MpmFields(
        merchant_accounts=(account,),
        merchant_category_code=merchant.mcc,
        currency=JPY,
        country=JAPAN,
        merchant_name=merchant.name,
        merchant_city=merchant.city,
        point_of_initiation="11" if amount_yen is None else "12",
        amount=None if amount_yen is None else format_amount_yen(amount_yen),
        postal_code=merchant.postal_digits,
        additional_data=additional,
        language=LanguageTemplate("JA", merchant.name_ja) if merchant.language_template else None,
    )


def build_jpqr_payload(
    merchant: MerchantConfig,
    *,
    amount_yen: int | None,
    reference: str | None = None,
    terminal_label: str | None = None,
) -> str:
    decoded = encode_checked(
        jpqr_fields(
            merchant, amount_yen=amount_yen, reference=reference, terminal_label=terminal_label
        )
    )
    validate_jpqr(decoded)
    return decoded.payload


def jpqr_issues(decoded: DecodedPayload) -> list[EmvIssue]:
    issues: list[EmvIssue] = []

    def add(tag: str | None, rule: str, detail: str) -> None:
        issues.append(EmvIssue(tag, rule, detail))

    if decoded.get("26", "00") != JPQR_GUID:
        add("26", "jpqr.id", f"template 26 holds the JPQR ID under GUID {JPQR_GUID}")
    else:
        for level, length in enumerate(JPQR_ID_PARTS, 1):
            tag = f"{level:02d}"
            value = decoded.get("26", tag)
            if value is None or len(value) != length:
                add(f"26.{tag}", "jpqr.id", f"JPQR ID level {level} is {length} characters")
    if decoded.get("53") != JPY:
        add("53", "jpqr.currency", f"the currency is {JPY} (JPY)")
    if decoded.get("58") != JAPAN:
        add("58", "jpqr.country", f"the country is {JAPAN}")
    if decoded.get("61") is None:
        add("61", "jpqr.postal-code", "a JPQR code carries the postal code")
    amount = decoded.get("54")
    if amount is not None and not is_numeric(amount):
        add("54", "jpqr.amount", f"{amount!r}: yen have no decimals")
    if decoded.object("64") is not None:
        if decoded.get("64", "00") != "JA":
            add("64.00", "jpqr.language", "the language template is JA")
        if decoded.get("64", "02") is not None:
            add("64.02", "jpqr.language", "JPQR carries no city in template 64")
    return issues


def validate_jpqr(decoded: DecodedPayload) -> None:
    """Raise EmvError for the first JPQR rule ``decoded`` breaks."""
    issues = jpqr_issues(decoded)
    if issues:
        raise EmvError(*issues)


def decode_jpqr(payload: str | bytes) -> DecodedPayload:
    """Strict EMV decoding plus the JPQR profile."""
    decoded = decode(payload)
    validate_jpqr(decoded)
    return decoded
