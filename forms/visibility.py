"""Which fields apply to an application: ``shown_when`` and ``required_when``.

A field whose ``shown_when`` does not hold is not asked, not checked and not kept: its
value counts as empty everywhere (conditions, rules, fees, eligibility), so an answer
given before the resident changed their mind (委任状: はい, then relation: 本人) cannot
linger in the application.
"""

from __future__ import annotations

from collections.abc import Mapping

from forms.conditions import fields_of, holds
from forms.model import Field, Template


def visible_ids(template: Template, values: Mapping[str, str]) -> frozenset[str]:
    """Ids of the fields that apply for ``values``. The parser refuses ``shown_when``
    cycles, so the recursion ends."""
    by_id = {f.id: f for f in template.fields}
    known: dict[str, bool] = {}

    def visible(fid: str) -> bool:
        if fid not in known:
            f = by_id[fid]
            if f.shown_when is None:
                known[fid] = True
            else:
                seen = {g: values.get(g, "") if visible(g) else "" for g in fields_of(f.shown_when)}
                known[fid] = holds(f.shown_when, seen)
        return known[fid]

    return frozenset(fid for fid in by_id if visible(fid))


def effective_values(template: Template, values: Mapping[str, str]) -> dict[str, str]:
    """``values`` without the fields that do not apply."""
    shown = visible_ids(template, values)
    return {k: v for k, v in values.items() if k in shown}


def is_required(f: Field, values: Mapping[str, str]) -> bool:
    return f.required or (f.required_when is not None and holds(f.required_when, values))
