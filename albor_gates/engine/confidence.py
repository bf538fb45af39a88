"""Confidence-aware bands: judge a noisy measurement by its interval, not its point (issue 10).

A check whose value has sampling noise puts the samples behind it in its details —
``samples`` (numbers: tok/s per run, loss per window, pass rate per prompt), ``samples_of``
(``runs`` / ``windows`` / ``prompts``) and ``samples_stat`` (``mean`` or ``median``, the
statistic its value is). A band that says ``confidence: 0.95`` is then judged on the
percentile-bootstrap interval of that statistic:

* PASS only when the whole interval is inside the band;
* FAIL only when the whole interval is outside it;
* otherwise WARN "inconclusive — N more runs would decide it", N from the 1/√n shrinkage of
  the interval needed to clear the nearest bound.

The bootstrap is seeded from the gate id (crc32), so the same samples give the same interval on
every machine and when a run is replayed from its evidence bundle. Pure Python: the engine
never imports numpy.
"""

from __future__ import annotations

import math
import random
import statistics
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from albor_gates.engine.judge import format_measured, judge
from albor_gates.engine.results import Status
from albor_gates.errors import EvidenceError
from albor_gates.spec.models import Band

RESAMPLES = 2000
_STATS: dict[str, Callable[[list[float]], float]] = {
    "mean": statistics.fmean,
    "median": statistics.median,
}


def bootstrap_interval(
    samples: Sequence[float], confidence: float, seed: int, stat: str = "mean"
) -> tuple[float, float]:
    """The percentile-bootstrap ``confidence`` interval of ``stat`` over ``samples``."""
    fn = _STATS.get(stat, statistics.fmean)
    if len(samples) < 2:
        return float(samples[0]), float(samples[0])
    rng = random.Random(seed)
    n = len(samples)
    draws = sorted(fn([samples[rng.randrange(n)] for _ in range(n)]) for _ in range(RESAMPLES))
    tail = (1.0 - confidence) / 2.0
    lo = draws[max(0, math.floor(tail * RESAMPLES))]
    hi = draws[min(RESAMPLES - 1, math.ceil((1.0 - tail) * RESAMPLES) - 1)]
    return float(lo), float(hi)


def _limits(band: Band) -> tuple[float, float, bool, bool]:
    """The band as one interval: (low, high, low inclusive, high inclusive)."""
    lo, hi, lo_inc, hi_inc = -math.inf, math.inf, True, True
    for op, bound in band.operators().items():
        if op in ("ge", "gt") and float(bound) >= lo:
            lo, lo_inc = float(bound), op == "ge"
        elif op in ("le", "lt") and float(bound) <= hi:
            hi, hi_inc = float(bound), op == "le"
        elif op == "between":
            lo, hi, lo_inc, hi_inc = max(lo, bound[0]), min(hi, bound[1]), True, True
    return lo, hi, lo_inc, hi_inc


def interval_status(lo: float, hi: float, band: Band) -> Status:
    """PASS (inside), FAIL (entirely outside) or WARN (straddling a bound) for ``[lo, hi]``."""
    a, b, a_inc, b_inc = _limits(band)

    def inside(x: float) -> bool:
        return (x > a or (a_inc and x == a)) and (x < b or (b_inc and x == b))

    if inside(lo) and inside(hi):
        return Status.PASS
    if hi < a or (hi == a and not a_inc) or lo > b or (lo == b and not b_inc):
        return Status.FAIL
    return Status.WARN


def more_samples(point: float, lo: float, hi: float, n: int, band: Band) -> int | None:
    """How many more samples would shrink the interval clear of the bound it straddles.

    The interval's half-width shrinks like 1/√n; None when the estimate sits on the bound.
    """
    a, b, _, _ = _limits(band)
    crossed = [x for x in (a, b) if math.isfinite(x) and lo <= x <= hi]
    distance = min(abs(point - x) for x in crossed) if crossed else 0.0
    half = max(point - lo, hi - point)
    if distance <= 0 or half <= 0:
        return None
    return max(1, math.ceil(n * (half / distance) ** 2) - n)


def judge_interval(
    value: Any,
    details: Mapping[str, Any],
    subject: str,
    unit: str,
    expect: Band,
    warn: Band | None,
    gate_id: str,
) -> tuple[Status, str, dict[str, Any]]:
    """Judge ``value`` by the bootstrap interval of its samples (see the module docstring).

    Returns:
        status, sentence ("decode 1834.2 ± 12.3 tok/s (95% interval [..] over 3 runs) ≥ 200")
        and the ``interval`` detail to add to the report.

    Raises:
        EvidenceError: when the check gave no samples to build an interval from.
    """
    samples = details.get("samples")
    if not isinstance(samples, list) or not samples:
        raise EvidenceError(
            f"{subject}: the band asks for confidence {expect.confidence:g} but the check gave no "
            "samples to build an interval from; drop confidence: or use a check that reports them"
        )
    numbers = [float(s) for s in samples]
    if not all(math.isfinite(x) for x in numbers) or not isinstance(value, (int, float)):
        return (*judge(value, subject, unit, expect, warn), {})
    assert expect.confidence is not None
    of = str(details.get("samples_of", "samples"))
    stat = str(details.get("samples_stat", "mean"))
    lo, hi = bootstrap_interval(numbers, expect.confidence, zlib.crc32(gate_id.encode()), stat)
    point = float(value)
    bounds = [lo, hi, point]
    plus = format_measured(max(point - lo, hi - point), [])
    shown = (
        f"{subject} {format_measured(point, bounds)} ± {plus}{' ' + unit if unit else ''} "
        f"({expect.confidence:.0%} interval [{format_measured(lo, bounds)}, "
        f"{format_measured(hi, bounds)}] over {len(numbers)} {of})"
    )
    interval = {
        "interval": {"lo": lo, "hi": hi, "confidence": expect.confidence, "n": len(numbers)}
    }
    status = interval_status(lo, hi, expect)
    band = expect.describe()
    if status is Status.FAIL:
        return status, f"{shown}, entirely outside {band}", interval
    if status is Status.WARN:
        k = more_samples(point, lo, hi, len(numbers), expect)
        more = f"{k} more {of} would decide it" if k else f"more {of} would not move it off a bound"
        return status, f"{shown}: inconclusive against {band} — {more}", interval
    if warn is not None:
        warned, _ = judge(value, subject, unit, warn, None)
        if warned is Status.FAIL:
            return Status.WARN, f"{shown}, outside the warn band ({warn.describe()})", interval
    return Status.PASS, f"{shown} {band}", interval
