"""The operator table: each row is a Band key, a validated bound, a sentence and a pass set."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from albor_gates.spec.bands import numeric_interval
from albor_gates.spec.models import Band
from albor_gates.spec.operators import OPERATORS


def test_every_row_is_a_band_key_and_nothing_else_is() -> None:
    keys = [f.alias or name for name, f in Band.model_fields.items()]
    assert keys == [*OPERATORS, "precision", "confidence"]
    props = Band.model_json_schema(by_alias=True)["properties"]
    assert sorted(props) == sorted(keys)


@pytest.mark.parametrize(
    ("band", "text"),
    [
        ({"ge": 0, "le": 4.7}, "≤ 4.7 and ≥ 0"),
        ({"lt": 1, "gt": -1}, "< 1 and > -1"),
        ({"eq": "qwen2", "ne": 8}, "= qwen2 and ≠ 8"),
        ({"between": [1, 5]}, "in [1, 5]"),
        ({"in": ["qwen2", 3], "not_in": [True]}, "one of qwen2, 3 and none of true"),
        ({"is_true": False}, "false"),
        ({"approx": {"value": 1.0, "rel": 1e-3}}, "≈ 1 (±0.1%)"),
        ({"approx": {"value": 2.5, "abs": 0.25}}, "≈ 2.5 (±0.25)"),
        ({"matches": "[0-9a-f]{64}"}, "matching /[0-9a-f]{64}/"),
    ],
)
def test_each_row_describes_its_bound(band: dict, text: str) -> None:
    assert Band.model_validate(band).describe() == text


@pytest.mark.parametrize(
    ("band", "message"),
    [
        ({}, "a band needs at least one operator: " + ", ".join(OPERATORS)),
        ({"precision": "float32"}, "a band needs at least one operator: " + ", ".join(OPERATORS)),
        ({"is_true": True, "le": 1}, "is_true cannot be combined with other operators"),
        ({"le": math.inf}, "le must be a finite number, got inf"),
        ({"gt": -math.inf}, "gt must be a finite number, got -inf"),
        ({"between": [0, math.inf]}, "between bounds must be finite"),
        ({"between": [3, 1]}, "between [3.0, 1.0] is empty: the lower bound is above the upper"),
        (
            {"matches": "("},
            "matches: invalid regular expression: missing ), unterminated subpattern at position 0",
        ),
        ({"approx": {"value": 1}}, "approx needs a tolerance: set rel or abs (or use eq)"),
    ],
)
def test_a_bad_bound_is_refused_with_its_reason(band: dict, message: str) -> None:
    with pytest.raises(ValidationError) as e:
        Band.model_validate(band)
    assert [str(err["ctx"]["error"]) for err in e.value.errors()] == [message]


@pytest.mark.parametrize(
    ("band", "inside", "outside"),
    [
        ({"le": 2.2}, [2.2, -1e9], [2.2000000000000006]),
        ({"lt": 2.2}, [2.1999999999999997], [2.2]),
        ({"le": 2.2, "precision": "float32"}, [2.200000047683716], [2.2000002861022949]),
        ({"between": [1, 5], "ne": 3}, [1, 5, 2.5], [3, 0.5, 5.5]),
        ({"in": [1, 2]}, [1, 2], [1.5]),
        ({"not_in": [1, 2]}, [1.5, -7], [1, 2]),
        ({"approx": {"value": 0.1, "abs": 0.2}}, [0.1 + 0.2, -0.1], [0.30000000000000010]),
    ],
)
def test_the_band_lint_pass_set_is_the_rows_intervals(
    band: dict, inside: list[float], outside: list[float]
) -> None:
    interval = numeric_interval(Band.model_validate(band))
    assert interval is not None
    assert [interval.contains(x) for x in inside + outside] == [True] * len(inside) + [False] * len(
        outside
    )


@pytest.mark.parametrize(
    "band",
    [
        {"eq": "qwen2", "le": 1},
        {"in": [1, "x"], "le": 1},
        {"matches": "x", "le": 1},
        {"is_true": True},
    ],
)
def test_a_band_on_text_or_flags_has_no_interval(band: dict) -> None:
    assert numeric_interval(Band.model_validate(band)) is None
