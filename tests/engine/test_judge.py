from __future__ import annotations

import math
import re

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from albor_gates.engine.judge import format_measured, judge
from albor_gates.engine.results import Status
from albor_gates.errors import EvidenceError
from albor_gates.spec.bands import numeric_interval
from albor_gates.spec.models import Band
from albor_gates.spec.operators import OPERATORS


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


# Bounds drawn from a few values so that random values and bounds often coincide: the edges
# (inclusive vs exclusive, f32 rounding) are where operators disagree when they disagree.
_NUMS = st.sampled_from([-1.5, -1, 0, 0.1, 1, 2.2, 2.200000047683716, 3, 1e9]) | st.floats(
    -1e6, 1e6, allow_nan=False
)
_SCALARS = _NUMS | st.booleans() | st.sampled_from(["qwen2", "llama", "1"])
_BOUNDS = {
    "le": _NUMS,
    "lt": _NUMS,
    "ge": _NUMS,
    "gt": _NUMS,
    "eq": _SCALARS,
    "ne": _SCALARS,
    "between": st.lists(_NUMS, min_size=2, max_size=2).map(sorted),
    "in": st.lists(_SCALARS, min_size=1, max_size=3),
    "not_in": st.lists(_SCALARS, max_size=3),
    "approx": st.fixed_dictionaries(
        {"value": _NUMS, "rel": st.sampled_from([1e-3, 0.5])},
        optional={"abs": st.sampled_from([0.0, 1e-9, 0.25])},
    ),
    "matches": st.sampled_from(["qwen[0-9]", "[0-9]+", ".*"]),
}


@st.composite
def _bands(draw: st.DrawFn) -> dict:
    """A random valid band: one to three operators, or is_true alone, in either precision."""
    if draw(st.integers(0, 9)) == 0:
        return {"is_true": draw(st.booleans())}
    names = draw(st.lists(st.sampled_from(sorted(_BOUNDS)), min_size=1, max_size=3, unique=True))
    band = {name: draw(_BOUNDS[name]) for name in names}
    band["precision"] = draw(st.sampled_from(["float64", "float32"]))
    return band


@settings(max_examples=400, deadline=None)
@given(_bands(), _SCALARS)
def test_the_judge_applies_every_operator_predicate(spec: dict, value: object) -> None:
    """PASS exactly when every row's predicate holds; a FAIL names exactly the failing rows."""
    band = b(**spec)
    r = band.rounding()
    try:
        held = {n: OPERATORS[n].holds(x, value, r) for n, x in band.operators().items()}
    except EvidenceError as e:
        with pytest.raises(EvidenceError, match=re.escape(f"x: {e}")):
            judge(value, "x", "", band, None)
        return
    status, message = judge(value, "x", "", band, None)
    failing = [OPERATORS[n].describe(x) for n, x in band.operators().items() if not held[n]]
    if failing:
        assert (status, message.split(", must be ", 1)[1]) == (Status.FAIL, " and ".join(failing))
    else:
        assert status is Status.PASS


@settings(max_examples=400, deadline=None)
@given(_bands(), _NUMS)
@example({"approx": {"value": 0.1, "abs": 0.2}}, 0.1 + 0.2)
@example({"in": [0.1], "precision": "float32"}, 0.1 + 2**-40)
def test_a_value_in_the_band_lints_interval_passes(spec: dict, x: float) -> None:
    """The band lint's pass set and the judge agree on every number (after the band's rounding).

    So ``gates lint`` calls a band empty only when no value can pass, and a warn band that
    contains the expect band can really never fire.
    """
    band = b(**spec)
    interval = numeric_interval(band)
    assume(interval is not None)
    assert interval is not None
    v = band.rounding()(float(x))
    assert interval.contains(v) is (judge(v, "x", "", band, None)[0] is Status.PASS)
