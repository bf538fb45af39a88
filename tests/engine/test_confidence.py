"""Confidence-aware bands (issue 10): PASS only when the whole interval is inside the band, FAIL
only when it is entirely outside, WARN "inconclusive" across a bound; seeded, so replayable."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from albor_gates.api import evaluate
from albor_gates.engine.confidence import bootstrap_interval, interval_status, more_samples
from albor_gates.engine.results import Status
from albor_gates.spec.models import Band


def evaluate_one(tmp_path: Path, bench: dict, params: dict, expect: dict):
    """Evaluate one metric.value gate on ``bench.json``; return its result."""
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    gate = {"id": "TPS", "title": "Fast.", "check": "metric.value", "artifact": "bench"}
    spec = {"id": "s", "version": "1", "title": "s"}
    spec["artifacts"] = {"bench": {"kind": "json", "path": "bench.json"}}
    spec["gates"] = [{**gate, "params": params, "expect": expect}]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (r,) = evaluate(tmp_path / "spec.yaml").results
    return r


def run(tmp_path: Path, runs: list[float], expect: dict) -> tuple[str, str, dict]:
    bench = {"tok_s": statistics.median(runs), "runs": runs}
    params = {"field": "tok_s", "unit": "tok/s", "samples": "runs", "samples_stat": "median"}
    r = evaluate_one(tmp_path, bench, params, expect)
    return r.status.value, r.message, dict(r.details)


RUNS = [210.0, 205.0, 215.0, 208.0, 212.0, 207.0, 213.0]  # median 210, interval ≈ [207, 213]


@pytest.mark.parametrize(
    ("bound", "status"),
    [
        (200, "PASS"),  # the whole interval is above 200
        (211, "WARN"),  # 211 lies inside the interval: inconclusive
        (220, "FAIL"),  # the whole interval is below 220
    ],
)
def test_interval_inside_straddling_outside(tmp_path, bound, status) -> None:
    got, message, details = run(tmp_path, RUNS, {"ge": bound, "confidence": 0.95})
    assert got == status, message
    lo, hi = details["interval"]["lo"], details["interval"]["hi"]
    assert lo <= 210 <= hi and details["interval"]["n"] == 7
    assert message.startswith("tok_s 210 ± ") and "(95% interval [" in message
    assert "over 7 runs)" in message
    if status == "WARN":
        assert message.endswith("more runs would decide it")
        assert ": inconclusive against ≥ 211 — " in message
    if status == "FAIL":
        assert message.endswith(", entirely outside ≥ 220")


def test_the_point_value_alone_would_pass_what_the_interval_cannot(tmp_path) -> None:
    assert run(tmp_path, RUNS, {"ge": 209})[0] == "PASS"
    assert run(tmp_path, RUNS, {"ge": 209, "confidence": 0.95})[0] == "WARN"


def test_same_samples_same_interval(tmp_path) -> None:
    first = run(tmp_path, RUNS, {"ge": 211, "confidence": 0.95})
    assert run(tmp_path, RUNS, {"ge": 211, "confidence": 0.95}) == first


def test_no_samples_is_an_error(tmp_path) -> None:
    r = evaluate_one(tmp_path, {"tok_s": 210}, {"field": "tok_s"}, {"ge": 200, "confidence": 0.9})
    assert r.status.value == "ERROR"
    assert r.message == (
        "tok_s: the band asks for confidence 0.9 but the check gave no samples to build an "
        "interval from; drop confidence: or use a check that reports them"
    )


def test_confidence_needs_numeric_bounds() -> None:
    with pytest.raises(ValidationError, match="confidence needs numeric bounds only"):
        Band.model_validate({"eq": 3, "confidence": 0.95})


@pytest.mark.parametrize(
    ("lo", "hi", "band", "status"),
    [
        (1.0, 2.0, {"ge": 1.0}, Status.PASS),  # inclusive bound touched from inside
        (1.0, 2.0, {"gt": 1.0}, Status.WARN),  # exclusive bound: lo itself fails
        (0.0, 1.0, {"gt": 1.0}, Status.FAIL),  # entirely at or below an exclusive bound
        (0.0, 1.0, {"ge": 1.0}, Status.WARN),  # hi alone passes
        (2.0, 3.0, {"between": [0.0, 4.7]}, Status.PASS),
        (4.0, 5.0, {"between": [0.0, 4.7]}, Status.WARN),
        (4.8, 5.0, {"between": [0.0, 4.7]}, Status.FAIL),
        (-1.0, 9.0, {"ge": 0.0, "le": 4.7}, Status.WARN),  # covers the band: not decided
    ],
)
def test_interval_status_at_the_boundaries(lo, hi, band, status) -> None:
    assert interval_status(lo, hi, Band.model_validate(band)) is status


def test_more_samples_follows_the_square_root_law() -> None:
    band = Band.model_validate({"ge": 9.0})
    # half-width 2 at distance 1 from the bound: the width must shrink 2× → 4× the samples
    assert more_samples(10.0, 8.0, 12.0, 5, band) == 15
    assert more_samples(9.0, 8.0, 12.0, 5, band) is None  # on the bound: cannot be decided


def test_bootstrap_is_seeded_and_brackets_the_statistic() -> None:
    a = bootstrap_interval(RUNS, 0.95, seed=7, stat="median")
    assert a == bootstrap_interval(RUNS, 0.95, seed=7, stat="median")
    assert a[0] <= statistics.median(RUNS) <= a[1]
    assert bootstrap_interval([3.0], 0.95, seed=7) == (3.0, 3.0)


BOUND = st.floats(-100, 100, allow_nan=False)


@given(
    a=BOUND,
    b=BOUND,
    t1=st.floats(0, 1),
    t2=st.floats(0, 1),
    band=st.sampled_from(["ge", "gt", "le", "lt", "between"]),
    x=BOUND,
    y=BOUND,
)
def test_narrowing_the_interval_never_turns_pass_into_fail(a, b, t1, t2, band, x, y) -> None:
    lo, hi = min(a, b), max(a, b)
    # nested in [lo, hi] (clamped: lo + (hi - lo) can round past hi)
    n_lo = max(lo, min(hi, lo + (hi - lo) * min(t1, t2)))
    n_hi = max(n_lo, min(hi, lo + (hi - lo) * max(t1, t2)))
    spec = {"between": [min(x, y), max(x, y)]} if band == "between" else {band: x}
    b_ = Band.model_validate(spec)
    wide, narrow = interval_status(lo, hi, b_), interval_status(n_lo, n_hi, b_)
    if wide is Status.PASS:
        assert narrow is Status.PASS
    if wide is Status.FAIL:
        assert narrow is Status.FAIL
    assert not (wide is Status.PASS and narrow is Status.FAIL)
