"""One look at a whole application: its fields, its rules and its eligibility.

``settle`` brings a set of values into shape after any change (drop the fields that no
longer apply, recompute the computed ones); ``assess`` says what stands in the way of
submission (resident stage) or approval (``include_staff``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from forms.computed import computed_values
from forms.eligibility import Outcome, evaluate
from forms.model import Template
from forms.prefill import FilledValue, Provenance
from forms.rules import RuleFailure, check_rules
from forms.validation import Problem, validate
from forms.visibility import visible_ids


@dataclass(frozen=True)
class Assessment:
    problems: tuple[Problem, ...]
    failures: tuple[RuleFailure, ...]
    outcome: Outcome

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failures and self.outcome.allowed


def settle(
    template: Template, values: Mapping[str, FilledValue], day: date
) -> dict[str, FilledValue]:
    """``values`` without the fields that do not apply, with every computed field worked
    out again (by the system) for ``day``."""
    plain = {k: v.value for k, v in values.items()}
    shown = visible_ids(template, plain)
    result = {k: v for k, v in values.items() if k in shown}
    for fid, value in computed_values(
        template, {k: v.value for k, v in result.items()}, day
    ).items():
        if fid in shown:
            result[fid] = FilledValue(value, Provenance.SYSTEM)
    return result


def assess(
    template: Template, values: Mapping[str, str], *, include_staff: bool = False
) -> Assessment:
    return Assessment(
        tuple(validate(template, values, include_staff=include_staff)),
        tuple(check_rules(template, values, include_staff=include_staff)),
        evaluate(template, values),
    )
