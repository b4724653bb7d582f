"""Strict and tolerant decoding.

Both modes need a payload whose top-level ID/length/value sequence parses to the end
(lengths in characters), with 00 first and 63 last holding 4 hex digits that match the
CRC (either letter case). Strict mode then rejects any other broken rule; tolerant mode,
for codes found in the wild, reports them as warnings: PFI "02", a missing 59, amount
"00.00", a vendor template that does not parse, a lower-case CRC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devices.emv.crc import crc_text
from devices.emv.errors import EmvError, EmvIssue, fail
from devices.emv.rules import check_objects
from devices.emv.tlv import DataObject, parse_objects

#: EMVCo §4.1: "should not exceed 512 alphanumeric characters"
MAX_PAYLOAD_LENGTH = 512
_HEX = frozenset("0123456789ABCDEFabcdef")


@dataclass(frozen=True)
class DecodedPayload:
    payload: str
    objects: tuple[DataObject, ...]
    #: the rules broken (tolerant mode only; a strict decode has none)
    warnings: tuple[EmvIssue, ...] = ()

    def object(self, *path: str) -> DataObject | None:
        """The object at ``path``, e.g. ``object("62", "05")``."""
        level: tuple[DataObject, ...] | None = self.objects
        found: DataObject | None = None
        for tag in path:
            found = next((obj for obj in level or () if obj.tag == tag), None)
            if found is None:
                return None
            level = found.children
        return found

    def get(self, *path: str) -> str | None:
        found = self.object(*path)
        return None if found is None else found.value

    def tags(self) -> dict[str, Any]:
        """Two-digit IDs as keys, templates as nested objects; a repeated ID (tolerant mode
        only) becomes a list of its values in order."""
        return _tags(self.objects)


def _tags(objects: tuple[DataObject, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for obj in objects:
        value: Any = obj.value if obj.children is None else _tags(obj.children)
        if obj.tag in out:
            previous = out[obj.tag]
            out[obj.tag] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[obj.tag] = value
    return out


def _as_text(payload: str | bytes) -> str:
    if isinstance(payload, bytes):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail(None, "payload.encoding", f"not UTF-8 (byte {exc.start})") from None
    try:
        payload.encode("utf-8")  # lone surrogates cannot be hashed for the CRC
    except UnicodeEncodeError as exc:
        raise fail(None, "payload.encoding", f"character {exc.start} is not encodable") from None
    return payload


def decode(payload: str | bytes, *, tolerant: bool = False) -> DecodedPayload:
    """Decode ``payload``; raise EmvError (naming the tag and the rule) if it is not valid,
    or with ``tolerant=True`` if it is not acceptable."""
    text = _as_text(payload)
    if not text:
        raise fail(None, "payload.empty", "no data")
    top = parse_objects(text)
    if top[0].tag != "00":
        raise fail(top[0].tag, "order.first", "the payload format indicator 00 comes first")
    crc = top[-1]
    if crc.tag != "63":
        raise fail(crc.tag, "order.last", "the CRC 63 comes last")
    if len(crc.value) != 4 or not _HEX.issuperset(crc.value):
        raise fail("63", "crc.format", f"{crc.value!r}: the CRC is 4 hex digits")
    expected = crc_text(text[:-4])
    if crc.value.upper() != expected:
        raise fail("63", "crc.mismatch", f"CRC {crc.value} given, {expected} computed")
    issues: list[EmvIssue] = []
    if crc.value != expected:
        issues.append(EmvIssue("63", "crc.case", f"{crc.value}: written in upper case"))
    if len(text) > MAX_PAYLOAD_LENGTH:
        issues.append(EmvIssue(None, "payload.length", f"{len(text)} characters, at most 512"))
    objects = check_objects(top, issues)
    if issues and not tolerant:
        raise EmvError(*issues)
    return DecodedPayload(text, objects, tuple(issues))
