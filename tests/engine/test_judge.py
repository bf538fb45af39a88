from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from albor_gates.engine.judge import format_measured, judge
from albor_gates.engine.results import Status
from albor_gates.errors import EvidenceError
from albor_gates.spec.models import Band


def b(**kw) -> Band:
    return Band.model_validate(kw)


@pytest.mark.parametrize(
    ("value", "band", "status"),
    [
        (2.2, {"le": 2.2}, Status.PASS),
        (2.2, {"lt": 2.2}, Status.FAIL),
        (0, {"gt": 0}, Status.FAIL),
        (5, {"between": [1, 5]}, Status.PASS),
        (5.000001, {"between": [1, 5]}, Status.FAIL),
        ("qwen2", {"eq": "qwen2"}, Status.PASS),
        ("llama", {"eq": "qwen2"}, Status.FAIL),
        ("llama", {"in": ["qwen2", "qwen3"]}, Status.FAIL),
        ("llama", {"not_in": ["qwen2", "qwen3"]}, Status.PASS),
        (8, {"eq": 8}, Status.PASS),
        (8.0, {"eq": 8}, Status.PASS),
        (True, {"eq": 1}, None),
        (1.0005, {"approx": {"value": 1.0, "rel": 1e-3}}, Status.PASS),
        (1.002, {"approx": {"value": 1.0, "abs": 1e-3}}, Status.FAIL),
        (True, {"is_true": True}, Status.PASS),
        (False, {"is_true": True}, Status.FAIL),
        (False, {"is_true": False}, Status.PASS),
        (7, {"ne": 8}, Status.PASS),
    ],
)
def test_operators(value, band, status) -> None:
    if status is None:
        with pytest.raises(EvidenceError, match="value is a boolean"):
            judge(value, "x", "", b(**band), None)
        return
    assert judge(value, "x", "", b(**band), None)[0] is status


def test_is_true_rejects_numbers() -> None:
    with pytest.raises(EvidenceError, match="x: value 1 is not true/false; is_true needs a flag"):
        judge(1, "x", "", b(is_true=True), None)


def test_none_value_is_an_error() -> None:
    with pytest.raises(EvidenceError, match="x produced no value"):
        judge(None, "x", "", b(le=1), None)


def test_warn_band_only_after_expect() -> None:
    assert judge(150, "tps", "tok/s", b(ge=100), b(ge=200)) == (
        Status.WARN,
        "tps 150 tok/s, outside the warn band (≥ 200)",
    )
    assert judge(50, "tps", "tok/s", b(ge=100), b(ge=200))[0] is Status.FAIL


def test_float32_precision_reproduces_the_f32_constant() -> None:
    widened = 2.200000047683716  # f32(2.2) printed as f64
    assert judge(widened, "v", "", b(le=2.2), None)[0] is Status.FAIL
    assert judge(widened, "v", "", b(le=2.2, precision="float32"), None)[0] is Status.PASS


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_nonfinite_always_fails_and_finite_never_errors(x: float) -> None:
    status, _ = judge(x, "x", "", b(ge=-1e308, le=1e308), None)
    if math.isfinite(x):
        assert status is (Status.PASS if -1e308 <= x <= 1e308 else Status.FAIL)
    else:
        assert status is Status.FAIL


@given(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_display_never_misstates_the_comparison(x: float, bound: float) -> None:
    shown = float(format_measured(x, [bound]))
    assert (shown > bound) == (x > bound) and (shown == bound) == (x == bound)


def test_matches_operator() -> None:
    sha = "0" * 64
    assert judge(sha, "optimizer_state_sha", "", b(matches="[0-9a-f]{64}"), None)[0] is Status.PASS
    assert judge("abc", "v", "", b(matches="[0-9a-f]{64}"), None) == (
        Status.FAIL,
        "v abc, must be matching /[0-9a-f]{64}/",
    )
    with pytest.raises(EvidenceError, match="matches needs text"):
        judge(3, "v", "", b(matches="x"), None)
