"""Fill a template from the card and the session, with each value's provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from forms.model import Field, FieldKind, FilledBy, Source, Template


class Provenance(StrEnum):
    CARD = "card"
    RESIDENT = "resident"
    STAFF = "staff"
    SYSTEM = "system"


@dataclass(frozen=True)
class FilledValue:
    value: str
    provenance: Provenance


def prefill(template: Template, sources: Mapping[Source, str]) -> dict[str, FilledValue]:
    """Values for every field that has a source or a default.

    ``sources`` maps card and session sources to their text; a source the caller did not
    supply (e.g. ``card.my_number`` when the form does not need it) is simply left empty.
    """
    values: dict[str, FilledValue] = {}
    for f in template.fields:
        if f.source is not None and f.source in sources:
            provenance = Provenance.CARD if f.from_card else Provenance.SYSTEM
            values[f.id] = FilledValue(sources[f.source], provenance)
        elif f.default is not None:
            # a default is the resident's answer only for a question the resident is asked
            provenance = (
                Provenance.RESIDENT if f.filled_by is FilledBy.RESIDENT else Provenance.SYSTEM
            )
            values[f.id] = FilledValue(f.default, provenance)
        elif f.kind is FieldKind.CHECKBOX and f.filled_by is FilledBy.RESIDENT:
            values[f.id] = FilledValue("0", Provenance.RESIDENT)
    return values


def resident_questions(template: Template) -> list[str]:
    """Ids of the fields the resident answers after the card read, in form order."""
    return [
        f.id
        for f in template.fields
        if f.filled_by is FilledBy.RESIDENT
        and f.source is None
        and f.kind is not FieldKind.SIGNATURE  # signed by hand on the printed form
    ]


class _Stored(Protocol):
    @property
    def value(self) -> str: ...
    @property
    def provenance(self) -> Provenance: ...


def changed_from_prefill(f: Field, stored: _Stored) -> bool:
    """True when the resident replaced the value the form offered (its default), so the
    clerk can see which pre-filled answers were changed at the kiosk."""
    return (
        stored.provenance is Provenance.RESIDENT
        and f.default is not None
        and stored.value != f.default
    )
