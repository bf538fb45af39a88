"""metric.trajectory — a summary of one metric's trajectory across a training log.

Reads the ``source`` artifact as an ordered series: a JSONL log (one record per step or
epoch), a JSON/YAML list, or a folder of per-epoch files matched by ``glob`` (e.g.
``epoch-*.metadata.json``, one record each). Records are ordered by ``x`` (default: file
order) and optionally filtered with ``where``. ``measure`` picks what the bands judge:

=========================  ===================================================================
``last`` / ``first``       the final / first value
``min`` / ``max``          smallest / largest finite value (GATE-TRAIN-005 divergence cap: max)
``count``                  number of points
``count_nonfinite``        number of NaN / ±inf values
``after_first_nonfinite``  points logged after the first NaN/inf (INV-TRAIN-007: must be 0 —
                           training aborts on the first NaN/Inf)
``increases``              number of steps where the value went up (a noisy-monotonicity count)
``max_increase``           the largest single upward step
``drop``                   first − last (how much the loss fell)
=========================  ===================================================================

``x_range: [lo, hi]`` keeps only the points whose ``x`` lies in that closed range, e.g.
F-DISTILL-SMOKE-001 "val_loss at step 500 below step 0": ``{x: step, x_range: [0, 500],
measure: drop}`` with ``expect: {gt: 0}``.

The series is kept in the report (``details.plot``) so the HTML report can draw it.

Example — the albor P2-E val-loss trajectory must not diverge past 10 nats::

    check: metric.trajectory
    artifact: epochs          # a folder
    params: {field: val_loss, x: epoch, glob: "epoch-*.metadata.json", measure: max}
    expect: {le: 10.0}

PASS: 7.43, 5.91, ..., 4.62 → "val_loss max 7.43 ≤ 10".
FAIL: a NaN at step 300 followed by 200 more steps with ``measure: after_first_nonfinite`` →
"val_loss after_first_nonfinite 200, must be = 0".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import field_validator

from albor_gates.artifacts.documents import (
    FieldMissing,
    extract,
    parse_field_path,
)
from albor_gates.checks import evidence
from albor_gates.checks._records import Scalar, _matches, _valid_path
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "metric.trajectory"
VERSION = 1
TITLE = "Last / min / max / non-finite count / monotonicity of a metric across a training log"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None

PLOT_POINTS = 1000

Measure = Literal[
    "last",
    "first",
    "min",
    "max",
    "count",
    "count_nonfinite",
    "after_first_nonfinite",
    "increases",
    "max_increase",
    "drop",
]


class Params(CheckParams):
    """Options of metric.trajectory."""

    field: str
    measure: Measure
    x: str | None = None
    glob: str | None = None
    where: dict[str, Scalar] = {}
    x_range: tuple[float, float] | None = None
    unit: str = ""
    name: str | None = None

    @field_validator("field", "x")
    @classmethod
    def _paths(cls, v: str | None) -> str | None:
        return _valid_path(v)


def _number(path: str, i: int, v: Any, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if isinstance(v, str) and v.strip().lower() in ("nan", "inf", "-inf", "infinity"):
            return float(v.strip().lower().replace("infinity", "inf"))
        raise EvidenceError(f"{path}: point {i + 1}: {field} is {v!r}, not a number")
    return float(v)


def _series(ctx: Context, params: Params) -> tuple[list[float], list[float], str]:
    path = ctx.path("source")
    records = evidence.records(ctx, "source", glob=params.glob)
    fpath = parse_field_path(params.field)
    xpath = parse_field_path(params.x) if params.x else None
    points: list[tuple[float, float]] = []
    for i, rec in enumerate(records):
        if not _matches(rec, params.where):
            continue
        try:
            y = extract(rec, fpath)
        except FieldMissing:
            continue  # logs interleave record types (train / eval); keep those with the field
        x = (
            float(i)
            if xpath is None
            else _number(str(path), i, _extract(rec, xpath), str(params.x))
        )
        points.append((x, _number(str(path), i, y, params.field)))
    if not points:
        raise EvidenceError(f"{path}: no record has {params.field!r}")
    if params.x_range is not None:
        lo, hi = params.x_range
        points = [p for p in points if lo <= p[0] <= hi]
        if not points:
            raise EvidenceError(f"{path}: no point with {params.x} in [{lo:g}, {hi:g}]")
    if xpath is not None:
        points.sort(key=lambda p: p[0])
    return [p[0] for p in points], [p[1] for p in points], str(path)


def _extract(rec: Any, path: Any) -> Any:
    try:
        return extract(rec, path)
    except FieldMissing as e:
        raise EvidenceError(str(e)) from e


def summarise(ys: list[float], measure: str) -> float:
    """Compute ``measure`` over the series (see the module docstring)."""
    finite = [y for y in ys if math.isfinite(y)]
    if measure == "last":
        return ys[-1]
    if measure == "first":
        return ys[0]
    if measure in ("min", "max"):
        if not finite:
            return math.nan
        return min(finite) if measure == "min" else max(finite)
    if measure == "count":
        return float(len(ys))
    if measure == "count_nonfinite":
        return float(len(ys) - len(finite))
    if measure == "after_first_nonfinite":
        first = next((i for i, y in enumerate(ys) if not math.isfinite(y)), None)
        return 0.0 if first is None else float(len(ys) - first - 1)
    pairs = zip(ys, ys[1:], strict=False)
    steps = [b - a for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    if measure == "increases":
        return float(sum(1 for s in steps if s > 0))
    if measure == "max_increase":
        return max([0.0, *steps])
    return ys[0] - ys[-1]  # drop


def _downsample(xs: list[float], ys: list[float]) -> tuple[list[float], list[Any]]:
    if len(xs) <= PLOT_POINTS:
        pairs = list(zip(xs, ys, strict=True))
    else:
        step = len(xs) / PLOT_POINTS
        pairs = [(xs[int(i * step)], ys[int(i * step)]) for i in range(PLOT_POINTS)]
        pairs.append((xs[-1], ys[-1]))
    return [p[0] for p in pairs], [p[1] if math.isfinite(p[1]) else None for p in pairs]


def measure(ctx: Context, params: Params) -> Measurement:
    """Read the series and summarise it."""
    xs, ys, path = _series(ctx, params)
    value = summarise(ys, params.measure)
    if params.measure in ("count", "count_nonfinite", "after_first_nonfinite", "increases"):
        out_value: float | int = int(value)
    else:
        out_value = value
    name = params.name or params.field
    px, py = _downsample(xs, ys)
    return Measurement(
        value=out_value,
        subject=f"{name} {params.measure}",
        unit=params.unit,
        summary=f"{len(ys)} points from {Path(path).name}",
        details={
            "points": len(ys),
            "first": ys[0] if math.isfinite(ys[0]) else str(ys[0]),
            "last": ys[-1] if math.isfinite(ys[-1]) else str(ys[-1]),
            "plot": {
                "title": f"{name} trajectory",
                "x_label": params.x or "record",
                "y_label": name + (f" ({params.unit})" if params.unit else ""),
                "x": px,
                "series": {name: py},
            },
        },
    )
