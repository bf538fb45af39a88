"""metric.series_agree — two runs' logs agree step by step (reproducibility, AC-SHIP2-011).

Reads the same ``field`` (e.g. ``loss``) from two logs (roles ``a`` and ``b``: JSONL, or JSON /
YAML lists), pairs records by ``x`` (e.g. ``step``) and keeps the first ``first`` steps of
``a``. The value is the largest absolute difference; a step that is missing from ``b``, or a
non-finite value in either, makes it ``inf``. AC-SHIP2-011 asks for two runs identical for the
first 100 steps (``expect: {eq: 0}``); INV-GPUTRAIN-006 allows |Δloss| ≤ 1e-5 on one device.

PASS: the fixed-seed replay of steps 1–100 → "max |Δloss| 0 over 100 steps".
FAIL: step 37 differs by 3e-4 → "max |Δloss| 0.0003 over 100 steps (first at step 37), must be
= 0".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from albor_gates.artifacts.documents import FieldMissing, extract, parse_field_path
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import records
from albor_gates.errors import EvidenceError

KIND = "metric.series_agree"
VERSION = 1
TITLE = "Two logs agree on a metric step by step (max |difference| over the first N steps)"
ROLES = ("a", "b")
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class Params(CheckParams):
    """Options of metric.series_agree."""

    field: str
    x: str = "step"
    first: int = Field(100, ge=1)


def _series(ctx: Context, role: str, p: Params) -> dict[float, float]:
    recs = records(ctx, role)
    fpath, xpath = parse_field_path(p.field), parse_field_path(p.x)
    out: dict[float, float] = {}
    for rec in recs:
        try:
            x, y = extract(rec, xpath), extract(rec, fpath)
        except FieldMissing:
            continue
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(y, bool):
            out[float(x)] = float(y)
    if not out:
        raise EvidenceError(f"{ctx.path(role)}: no record has both {p.x!r} and {p.field!r}")
    return out


def measure(ctx: Context, params: Params) -> Measurement:
    """Pair the steps and take the largest difference."""
    a, b = _series(ctx, "a", params), _series(ctx, "b", params)
    steps = sorted(a)[: params.first]
    worst, first_at, missing = 0.0, None, 0
    for s in steps:
        if s not in b:
            missing += 1
            diff = math.inf
        else:
            diff = abs(a[s] - b[s]) if math.isfinite(a[s]) and math.isfinite(b[s]) else math.inf
        if diff > 0 and first_at is None:
            first_at = s
        worst = max(worst, diff)
    summary = f"max |Δ{params.field}| {worst:g} over {len(steps)} steps"
    if first_at is not None:
        summary += f" (first difference at {params.x} {first_at:g})"
    if missing:
        summary += f"; {missing} steps missing from {ctx.path('b').name}"
    return Measurement(
        worst,
        subject=f"max |Δ{params.field}|",
        summary=summary,
        details={"steps": len(steps), "missing": missing, "first_difference_at": first_at},
    )
