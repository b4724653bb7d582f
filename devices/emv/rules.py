"""The EMVCo MPM v1.0 data-object rules (spec Tables 3.6-3.8, §4.7-§4.9).

``check_objects`` walks parsed objects, parses the templates, and appends one EmvIssue per
broken rule; the decoder decides which issues are fatal. Rule names are stable: tests,
the command line's JSON and callers match on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum
from typing import Literal

from devices.emv.errors import EmvError, EmvIssue
from devices.emv.tlv import DataObject, join_path, parse_objects

Charset = Literal["N", "ans", "S"]


class TemplateKind(Enum):
    #: a GUID in sub-ID 00, then network-specific data (26-51, 80-99, 62/50-99)
    ACCOUNT = "account"
    ADDITIONAL = "additional"  # 62
    LANGUAGE = "language"  # 64


@dataclass(frozen=True)
class Spec:
    name: str
    charset: Charset
    max_len: int
    exact: bool = False
    template: TemplateKind | None = None


_ROOT_FIXED = {
    0: Spec("Payload Format Indicator", "N", 2, exact=True),
    1: Spec("Point of Initiation Method", "N", 2, exact=True),
    52: Spec("Merchant Category Code", "N", 4, exact=True),
    53: Spec("Transaction Currency", "N", 3, exact=True),
    54: Spec("Transaction Amount", "ans", 13),
    55: Spec("Tip or Convenience Indicator", "N", 2, exact=True),
    56: Spec("Value of Convenience Fee Fixed", "ans", 13),
    57: Spec("Value of Convenience Fee Percentage", "ans", 5),
    58: Spec("Country Code", "ans", 2, exact=True),
    59: Spec("Merchant Name", "ans", 25),
    60: Spec("Merchant City", "ans", 15),
    61: Spec("Postal Code", "ans", 10),
    62: Spec("Additional Data Field Template", "S", 99, template=TemplateKind.ADDITIONAL),
    63: Spec("CRC", "ans", 4, exact=True),
    64: Spec("Merchant Information-Language Template", "S", 99, template=TemplateKind.LANGUAGE),
}


def root_spec(tag: str) -> Spec | None:
    """The spec of a root ID; None for the IDs EMVCo reserves (65-79)."""
    n = int(tag)
    if n in _ROOT_FIXED:
        return _ROOT_FIXED[n]
    if 2 <= n <= 25:
        return Spec("Merchant Account Information", "ans", 99)
    if 26 <= n <= 51:
        return Spec("Merchant Account Information", "S", 99, template=TemplateKind.ACCOUNT)
    if 80 <= n <= 99:
        return Spec("Unreserved Template", "S", 99, template=TemplateKind.ACCOUNT)
    return None


_ADDITIONAL_NAMES = {
    1: "Bill Number",
    2: "Mobile Number",
    3: "Store Label",
    4: "Loyalty Number",
    5: "Reference Label",
    6: "Customer Label",
    7: "Terminal Label",
    8: "Purpose of Transaction",
}


def sub_spec(kind: TemplateKind, tag: str) -> Spec | None:
    """The spec of ``tag`` inside a template of ``kind``; None where EMVCo reserves it."""
    n = int(tag)
    if kind is TemplateKind.ACCOUNT:
        if n == 0:
            return Spec("Globally Unique Identifier", "ans", 32)
        return Spec("Payment network specific", "S", 99)
    if kind is TemplateKind.ADDITIONAL:
        if n in _ADDITIONAL_NAMES:
            return Spec(_ADDITIONAL_NAMES[n], "ans", 25)
        if n == 9:
            return Spec("Additional Consumer Data Request", "ans", 3)
        if 10 <= n <= 49:
            # RFU in v1.0; v1.1 implementations use 10 and 11, so accept them as data
            return Spec("RFU for EMVCo", "S", 99)
        if n >= 50:
            return Spec("Payment System specific template", "S", 99, template=TemplateKind.ACCOUNT)
        return None
    # LANGUAGE
    if n == 0:
        return Spec("Language Preference", "ans", 2, exact=True)
    if n == 1:
        return Spec("Merchant Name-Alternate Language", "S", 25)
    if n == 2:
        return Spec("Merchant City-Alternate Language", "S", 15)
    return None


def _name(spec: Spec | None) -> str:
    return spec.name if spec else "this object"


def is_ans(text: str) -> bool:
    """EMV Book 4 Common Character Set: 0x20 (space) to 0x7E."""
    return all(" " <= ch <= "~" for ch in text)


def is_numeric(text: str) -> bool:
    return text.isascii() and text.isdigit()


_AMOUNT = re.compile(r"[0-9]*\.?[0-9]*", re.ASCII)


def amount_problem(value: str) -> tuple[str, str] | None:
    """(rule, detail) when ``value`` is not an EMV amount (§4.7.4), else None."""
    if not _AMOUNT.fullmatch(value) or not any(ch.isdigit() for ch in value):
        return "amount.format", f"{value!r}: digits with at most one '.', no other signs"
    if not value.replace(".", "").strip("0"):
        return "amount.zero", f"{value!r}: an amount must not be zero"
    return None


class _Checker:
    def __init__(self, issues: list[EmvIssue]) -> None:
        self.issues = issues

    def add(self, tag: str | None, rule: str, detail: str) -> None:
        self.issues.append(EmvIssue(tag, rule, detail))

    def objects(
        self, objects: tuple[DataObject, ...], kind: TemplateKind | None, path: str | None
    ) -> tuple[DataObject, ...]:
        counts = Counter(obj.tag for obj in objects)
        for tag, count in counts.items():
            if count > 1:
                self.add(
                    join_path(path, tag),
                    "tag.duplicate",
                    f"occurs {count} times; an ID occurs once per template",
                )
        checked = tuple(self.one(obj, kind, path) for obj in objects)
        present = {obj.tag: obj for obj in checked}
        if kind is None:
            self.root_rules(present)
        elif kind is TemplateKind.ACCOUNT:
            if "00" not in present:
                self.add(
                    path, "guid.missing", "a payment network template starts with a GUID in 00"
                )
        elif kind is TemplateKind.LANGUAGE:
            for tag in ("00", "01"):
                if tag not in present:
                    self.add(
                        join_path(path, tag),
                        "mandatory.missing",
                        f"{_name(sub_spec(kind, tag))} is mandatory",
                    )
        elif kind is TemplateKind.ADDITIONAL and "09" in present:
            request = present["09"].value
            if any(ch not in "AME" for ch in request) or len(set(request)) != len(request):
                self.add(
                    join_path(path, "09"),
                    "additional.consumer-data",
                    f"{request!r}: each of A, M, E at most once",
                )
        return checked

    def one(self, obj: DataObject, kind: TemplateKind | None, path: str | None) -> DataObject:
        where = join_path(path, obj.tag)
        spec = root_spec(obj.tag) if kind is None else sub_spec(kind, obj.tag)
        if spec is None:
            self.add(where, "tag.rfu", "this ID is reserved for future use by EMVCo")
            return obj
        value = obj.value
        if not value:
            self.add(where, "length.zero", f"{spec.name}: a value holds 1-99 characters")
            return obj
        if spec.exact and len(value) != spec.max_len:
            self.add(
                where,
                "length.exact",
                f"{spec.name}: {len(value)} characters, must be {spec.max_len}",
            )
        elif len(value) > spec.max_len:
            self.add(
                where, "length.max", f"{spec.name}: {len(value)} characters, at most {spec.max_len}"
            )
        if spec.template is not None:
            try:
                children = parse_objects(value, where)
            except EmvError as exc:
                self.add(where, "template.parse", f"{spec.name} is not a template: {exc.issue}")
                return obj
            return replace(obj, children=self.objects(children, spec.template, where))
        if spec.charset == "N" and not is_numeric(value):
            self.add(where, "charset.numeric", f"{spec.name}: digits 0-9 only")
        elif spec.charset == "ans" and not is_ans(value):
            self.add(
                where,
                "charset.ans",
                f"{spec.name}: printable ASCII only (put local script in template 64)",
            )
        elif spec.charset == "S" and not unicodedata.is_normalized("NFC", value):
            self.add(where, "charset.nfc", f"{spec.name}: text must be in Unicode NFC")
        return obj

    def root_rules(self, present: dict[str, DataObject]) -> None:
        def value(tag: str) -> str | None:
            obj = present.get(tag)
            return None if obj is None else obj.value

        if value("00") not in (None, "01"):
            self.add("00", "pfi.value", f"{value('00')!r}: the payload format indicator is 01")
        if value("01") not in (None, "11", "12"):
            self.add("01", "poi.value", f"{value('01')!r}: 11 (static) or 12 (dynamic)")
        for tag in ("52", "53", "58", "59", "60"):
            if tag not in present:
                self.add(tag, "mandatory.missing", f"{_name(root_spec(tag))} is mandatory")
        if not any(2 <= int(tag) <= 51 for tag in present):
            self.add(None, "mai.missing", "at least one merchant account (02-51) is mandatory")
        for tag in ("54", "56"):
            raw = value(tag)
            if raw and (problem := amount_problem(raw)):
                self.add(tag, *problem)
        country = value("58")
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            self.add("58", "country.format", f"{country!r}: ISO 3166-1 alpha-2, upper case")
        self.tip_rules(value("55"), value("56"), value("57"))

    def tip_rules(self, indicator: str | None, fixed: str | None, percent: str | None) -> None:
        if indicator not in (None, "01", "02", "03"):
            self.add("55", "tip.value", f"{indicator!r}: 01, 02 or 03")
        if (indicator == "02") != (fixed is not None):
            self.add("56", "tip.fixed", "a fixed convenience fee goes with indicator 02 only")
        if (indicator == "03") != (percent is not None):
            self.add("57", "tip.percentage", "a percentage fee goes with indicator 03 only")
        if percent and (
            amount_problem(percent) is not None or not Decimal("0") < Decimal(percent) < 100
        ):
            self.add("57", "tip.percentage", f"{percent!r}: 00.01 to 99.99, no '%'")


def check_objects(
    objects: tuple[DataObject, ...], issues: list[EmvIssue]
) -> tuple[DataObject, ...]:
    """Check root objects (templates parsed into ``children``); append every broken rule."""
    return _Checker(issues).objects(objects, None, None)
