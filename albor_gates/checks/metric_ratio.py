"""metric.ratio — numerator / denominator × scale from one evidence record (e.g. pass@1 %).

AC-SHIP2-008: HumanEval pass@1 = correct / total × 100 ≥ 30.0. A zero denominator gives a
non-finite value, which always FAILs (the seed's "total = 0 → Fail"); a numerator above the
denominator is caught by the band's upper bound (``le: 100``) — "correct > total → Fail".

Example::

    check: metric.ratio
    artifact: humaneval
    params: {numerator: correct, denominator: total, scale: 100, unit: "%"}
    expect: {ge: 30.0, le: 100}

PASS: ``{"correct": 50, "total": 164}`` → "pass@1 30.49 % ≥ 30".
FAIL: ``{"correct": 0, "total": 0}`` → "pass@1 nan: non-finite measurements always fail".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import field_validator

from albor_gates.checks._records import RecordQuery, _valid_path, field_value, select_record
from albor_gates.checks.base import Context, Measurement
from albor_gates.numbers import to_float

KIND = "metric.ratio"
VERSION = 1
TITLE = "numerator / denominator × scale from one evidence record"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(RecordQuery):
    """Options of metric.ratio."""

    numerator: str
    denominator: str
    scale: float = 1.0
    unit: str = ""
    name: str | None = None

    @field_validator("numerator", "denominator")
    @classmethod
    def _ratio_paths(cls, v: str) -> str:
        _valid_path(v)
        return v


def _number(path: str, name: str, value: Any) -> float:
    return to_float(value, f"{path}: {name}")


def measure(ctx: Context, params: Params) -> Measurement:
    """Divide and scale."""
    path = str(ctx.path("source"))
    record, which = select_record(ctx, "source", params)
    num = _number(path, params.numerator, field_value(ctx, "source", record, params.numerator))
    den = _number(path, params.denominator, field_value(ctx, "source", record, params.denominator))
    if den == 0:
        value = math.nan
        summary = f"{params.denominator} is 0: the ratio is undefined"
    else:
        value = num / den * params.scale
        summary = f"{params.numerator} {num:g} / {params.denominator} {den:g}"
    return Measurement(
        value=value,
        subject=params.name or f"{params.numerator}/{params.denominator}",
        unit=params.unit,
        summary=summary + (f" ({which})" if which else ""),
        details={"numerator": num, "denominator": den},
    )
