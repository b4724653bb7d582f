"""ID/length/value data objects. Lengths count characters (code points), not bytes
(EMVCo §4.4.1.1: ``0104最佳运输`` is 4 characters, 12 UTF-8 bytes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from devices.emv.errors import fail

MAX_VALUE_LENGTH = 99


@dataclass(frozen=True)
class DataObject:
    tag: str
    value: str
    #: the nested objects when ``value`` was parsed as a template, else None
    children: tuple[DataObject, ...] | None = None

    def child(self, tag: str) -> DataObject | None:
        for obj in self.children or ():
            if obj.tag == tag:
                return obj
        return None


def join_path(parent: str | None, tag: str) -> str:
    return f"{parent}.{tag}" if parent else tag


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit alone accepts non-ASCII digits such as "٣" or "²"
    return text.isascii() and text.isdigit()


def parse_objects(text: str, path: str | None = None) -> tuple[DataObject, ...]:
    """Split ``text`` into objects; raise EmvError unless it parses to the last character."""
    out: list[DataObject] = []
    i = 0
    while i < len(text):
        header = text[i : i + 4]
        if len(header) < 4 or not _is_ascii_digits(header):
            raise fail(path, "tlv.header", f"no two-digit ID and length at character {i}")
        tag, length = header[:2], int(header[2:])
        value = text[i + 4 : i + 4 + length]
        if len(value) != length:
            raise fail(
                join_path(path, tag),
                "tlv.truncated",
                f"length {length} runs past the end ({len(value)} characters left)",
            )
        out.append(DataObject(tag, value))
        i += 4 + length
    return tuple(out)


def serialize(tag: str, value: str, path: str | None = None) -> str:
    """One object as text; the value must already be NFC (``encode`` normalises)."""
    where = join_path(path, tag)
    if len(tag) != 2 or not _is_ascii_digits(tag):
        raise fail(where, "tlv.id", "an ID is two digits 00-99")
    if not value:
        raise fail(where, "length.zero", "a value holds 1-99 characters, not none")
    if len(value) > MAX_VALUE_LENGTH:
        raise fail(where, "length.max", f"{len(value)} characters, at most 99 fit")
    return f"{tag}{len(value):02d}{value}"


def serialize_all(objects: Iterable[tuple[str, str]], path: str | None = None) -> str:
    return "".join(serialize(tag, value, path) for tag, value in objects)
