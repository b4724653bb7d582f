"""Fees from the template's rules and the municipality's fee table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from forms.model import FeeRule, Template


@dataclass(frozen=True)
class FeeLine:
    code: str
    unit_amount: int
    units: int

    @property
    def amount(self) -> int:
        return self.unit_amount * self.units


@dataclass(frozen=True)
class Fee:
    lines: tuple[FeeLine, ...]

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def primary_code(self) -> str:
        return self.lines[0].code if self.lines else "none"


def _units(rule: FeeRule, values: Mapping[str, str]) -> int:
    if rule.when_field is not None and values.get(rule.when_field) != rule.when_value:
        return 0
    if rule.per_field is None:
        return 1
    raw = values.get(rule.per_field, "0")
    return max(0, int(raw) - rule.free_units) if raw.isdigit() else 0


def compute_fee(
    template: Template, values: Mapping[str, str], fee_table: Mapping[str, int] | None = None
) -> Fee:
    """The fee due; ``fee_table`` (fee code → yen) overrides the template's default amounts."""
    table = fee_table or {}
    lines = []
    for rule in template.fees:
        units = _units(rule, values)
        unit_amount = table.get(rule.code, rule.amount)
        if units and unit_amount:
            lines.append(FeeLine(rule.code, unit_amount, units))
    return Fee(tuple(lines))
