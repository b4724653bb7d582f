"""Template logic figures: parsing each shipped template (with its conditions, rules and
eligibility) and assessing one proxy application against it, in microseconds."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from forms.assessment import assess, settle
from forms.model import parse_template
from forms.prefill import FilledValue, Provenance
from kiosk.templates_repo import SHIPPED_DIR

#: a proxy with a 委任状 who asks for everything the forms offer
ANSWERS = {
    "relation": "proxy",
    "notifier_relation": "proxy",
    "proxy_letter": "1",
    "include_my_number": "1",
    "seal_card": "1",
    "copies": "1",
    "applicant_kana": "たかさき はなこ",
}


def _median_us(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return round(statistics.median(times), 1)


def bench_forms(runs: int) -> dict[str, Any]:
    figures: dict[str, Any] = {"runs": runs}
    day = date(2026, 12, 1)
    for path in sorted(SHIPPED_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        template = parse_template(raw)
        filled = {k: FilledValue(v, Provenance.RESIDENT) for k, v in ANSWERS.items()}

        def parsing(r: dict[str, Any] = raw) -> object:
            return parse_template(r)

        def assessment(t: Any = template, f: dict[str, FilledValue] = filled) -> object:
            return assess(t, {k: v.value for k, v in settle(t, f, day).items()})

        figures[template.id] = {
            "parse_median_us": _median_us(parsing, runs),
            "settle_and_assess_median_us": _median_us(assessment, runs),
        }
    return figures
