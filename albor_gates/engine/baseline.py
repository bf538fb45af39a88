"""Baseline change thresholds against a previous JSON report (TFMA-style, defined exactly).

For a gate with ``baseline: {direction, max_regression_abs, max_regression_rel}``:

* change = candidate − baseline; relative = change / |baseline|.
* A zero baseline: relative = 0 when the candidate equals it, else ±inf in the change's sign
  (so any regression from 0 exceeds a relative limit; any improvement passes).
* regression = −change when higher is better, +change when lower is better; a regression
  above either limit is a FAIL (or WARN with ``on_regression: warn``).
* No baseline value for the gate (no report given, gate absent, value not a finite number) →
  the rule's ``missing`` outcome (default WARN), never a silent pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from albor_gates.artifacts.documents import read_json
from albor_gates.engine.judge import format_measured, format_value
from albor_gates.engine.results import BaselineOutcome, Status
from albor_gates.errors import EvidenceError, UsageError
from albor_gates.spec.models import BaselineRule

REPORT_SCHEMA = "albor-gates/report"


def load_baseline(path: Path) -> dict[tuple[str, str], Any]:
    """Read a previous albor-gates JSON report into ``(spec, gate) → value``.

    Raises:
        UsageError: when the file is not an albor-gates report.
    """
    try:
        data = read_json(path)
    except EvidenceError as e:
        raise UsageError(f"--baseline: {e}") from e
    if not isinstance(data, dict) or data.get("schema") != REPORT_SCHEMA:
        raise UsageError(
            f'--baseline {path}: not an albor-gates JSON report (no "schema": '
            f'"{REPORT_SCHEMA}"); pass a report written with --format json'
        )
    out: dict[tuple[str, str], Any] = {}
    for g in data.get("gates", []):
        if isinstance(g, dict) and isinstance(g.get("id"), str):
            out[(str(g.get("spec", "")), g["id"])] = g.get("value")
    return out


def relative_change(candidate: float, baseline: float) -> float:
    """(candidate − baseline) / |baseline|, with the zero-baseline rule of the module doc."""
    change = candidate - baseline
    if baseline == 0:
        if change == 0:
            return 0.0
        return math.copysign(math.inf, change)
    return change / abs(baseline)


def compare(
    rule: BaselineRule, candidate: Any, baseline: Any, *, have_report: bool
) -> BaselineOutcome:
    """Judge a candidate value against its baseline value under ``rule``."""
    missing_status = {"pass": Status.PASS, "warn": Status.WARN, "fail": Status.FAIL}[rule.missing]

    def number(v: Any) -> float | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        return float(v)

    b = number(baseline)
    c = number(candidate)
    if b is None:
        why = "no baseline report given" if not have_report else "no baseline value for this gate"
        return BaselineOutcome(missing_status, f"{why} ({rule.missing} by rule)")
    if c is None:
        return BaselineOutcome(Status.FAIL, f"candidate {format_value(candidate)} is not a number")
    change = c - b
    rel = relative_change(c, b)
    regression = -change if rule.direction == "higher_is_better" else change
    rel_regression = -rel if rule.direction == "higher_is_better" else rel
    over: list[str] = []
    if rule.max_regression_abs is not None and regression > rule.max_regression_abs:
        lim = rule.max_regression_abs
        over.append(f"regressed by {format_measured(regression, [lim])} > {lim:g}")
    if rule.max_regression_rel is not None and rel_regression > rule.max_regression_rel:
        pct = "inf" if math.isinf(rel_regression) else f"{rel_regression * 100:.4g}%"
        over.append(f"regressed by {pct} > {rule.max_regression_rel * 100:.4g}%")
    head = f"baseline {format_measured(b, [c])} → {format_measured(c, [b])}"
    if over:
        status = Status.FAIL if rule.on_regression == "fail" else Status.WARN
        return BaselineOutcome(status, f"{head}: {'; '.join(over)}", b, change, rel)
    return BaselineOutcome(Status.PASS, f"{head}: within limits", b, change, rel)


def baseline_value(values: Mapping[tuple[str, str], Any] | None, spec: str, gate: str) -> Any:
    """Look up a gate's previous value: same spec first, then the gate id in any spec."""
    if not values:
        return None
    if (spec, gate) in values:
        return values[(spec, gate)]
    for (_, g), v in sorted(values.items()):
        if g == gate:
            return v
    return None
