"""Split a Japanese address into 都道府県 / 市区町村 / the rest, for forms with separate boxes.

The card holds the address as one string. Forms that print it in three boxes need the
parts; each part is then printed whole in its box. The split is by the shape of
Japanese municipality names, which is regular except for a few names that contain
``市``, ``町`` or ``郡`` themselves (四日市市, 市川市, 郡山市, …): those are listed.
Anything that does not parse is kept whole in ``rest`` so nothing is ever dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|[^\s都道府県]{2,3}県)")

#: municipalities whose own name contains a character the pattern below splits on
_TRICKY = (
    "四日市市",
    "廿日市市",
    "市川市",
    "市原市",
    "野々市市",
    "大町市",
    "町田市",
    "郡山市",
    "大和郡山市",
    "村山市",
    "東村山市",
    "武蔵村山市",
    "羽村市",
    "十日町市",
    "日野市",
)

_N = r"[^\s市区町村郡]"  # a character of a name that is not itself a unit suffix
# A county town or village (余市郡余市町: a county name may hold 市), a designated city
# with its ward (札幌市中央区), a city, a Tokyo special ward, a town or village.
_MUNICIPALITY = re.compile(
    rf"^(?:[^\s区町村郡]{{1,5}}郡[^\s区町村郡]{{1,5}}[町村]"
    rf"|{_N}{{1,6}}市{_N}{{1,4}}区"
    rf"|{_N}{{1,6}}市"
    rf"|{_N}{{1,4}}区"
    rf"|{_N}{{1,5}}[町村])"
)


@dataclass(frozen=True)
class AddressParts:
    prefecture: str
    municipality: str
    rest: str

    def joined(self) -> str:
        return self.prefecture + self.municipality + self.rest


def _municipality(text: str) -> str:
    for name in _TRICKY:
        if text.startswith(name):
            return name
    m = _MUNICIPALITY.match(text)
    return m.group(0) if m else ""


def split_address(address: str) -> AddressParts:
    text = address.strip()
    m = _PREFECTURE.match(text)
    prefecture = m.group(1) if m else ""
    after = text[len(prefecture) :]
    municipality = _municipality(after)
    return AddressParts(prefecture, municipality, after[len(municipality) :])


def address_part(address: str, part: str) -> str:
    """One part by name (``prefecture``, ``municipality`` or ``rest``), for a form that
    prints an address in separate boxes."""
    value: str = getattr(split_address(address), part)
    return value
