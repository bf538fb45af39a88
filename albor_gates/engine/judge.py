"""The operator table: one place that turns a measured value and a band into a status.

Semantics (the seed's decision rules, GATES.md §1.2):

* ``le``/``ge``/``between`` are inclusive, ``lt``/``gt`` exclusive (``val_loss ≤ 2.2`` passes
  at exactly 2.2; ``tok/s ≥ 100`` passes at 100.0 and fails one ULP below).
* A non-finite number (NaN, ±inf — also the strings "NaN"/"inf") always FAILs, whatever the
  band says.
* ``expect`` is judged first: outside it the gate FAILs; inside it, outside ``warn`` → WARN.
* A value of the wrong type for an operator (a string for ``le``) is an EvidenceError, which
  the engine records as the gate's ERROR — never a silent pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from albor_gates import numbers
from albor_gates.engine.results import Status
from albor_gates.errors import EvidenceError
from albor_gates.spec.bands import to_float32
from albor_gates.spec.models import Approx, Band

_NONFINITE_STRINGS = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}
_SYMBOL = {"le": "≤", "lt": "<", "ge": "≥", "gt": ">", "eq": "=", "ne": "≠"}


def format_value(value: Any) -> str:
    """Format a value for a sentence: shortest round-trip floats, lowercase booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value)) if abs(value) >= 1e-4 or value == 0 else repr(value)
        return repr(value)
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "..."
    if isinstance(value, int) and value.bit_length() > 1024:  # str() refuses > 4300 digits
        return f"an integer of {value.bit_length()} bits"
    return str(value)


def as_number(value: Any, op: str) -> float:
    """Return ``value`` as a float for numeric operator ``op``.

    Raises:
        EvidenceError: when the value is not a number (bools are not numbers here).
    """
    if isinstance(value, bool):
        raise EvidenceError(f"value is a boolean ({format_value(value)}); {op} needs a number")
    if isinstance(value, (int, float)):
        return numbers.to_float(value)
    if isinstance(value, str) and value.strip().lower() in _NONFINITE_STRINGS:
        return float(value.strip().lower().replace("infinity", "inf"))
    raise EvidenceError(f"value {value!r} is not a number; {op} needs a number")


def is_nonfinite(value: Any) -> bool:
    """Whether the value is a non-finite number (or a string spelling one)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, str) and value.strip().lower() in _NONFINITE_STRINGS


def _scalar_eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return numbers.to_float(a) == numbers.to_float(b)
    return bool(a == b)


def _approx_ok(v: float, a: Approx) -> bool:
    return abs(v - a.value) <= max(a.abs, a.rel * abs(a.value))


def describe_band(band: Band) -> str:
    """Render a band as text: ``≤ 4.7 and ≥ 0``."""
    return " and ".join(_describe_op(k, v) for k, v in band.operators().items())


def _describe_op(op: str, bound: Any) -> str:
    if op in _SYMBOL:
        return f"{_SYMBOL[op]} {format_value(bound)}"
    if op == "between":
        return f"in [{format_value(bound[0])}, {format_value(bound[1])}]"
    if op == "in":
        return "one of " + ", ".join(format_value(b) for b in bound)
    if op == "not_in":
        return "none of " + ", ".join(format_value(b) for b in bound)
    if op == "is_true":
        return "true" if bound else "false"
    if op == "matches":
        return f"matching /{bound}/"
    a: Approx = bound
    tol = f"±{format_value(a.abs)}" if a.abs else f"±{format_value(a.rel * 100)}%"
    return f"≈ {format_value(a.value)} ({tol})"


def _check_op(op: str, bound: Any, value: Any, r: Callable[[float], float]) -> bool:
    if op == "is_true":
        if not isinstance(value, bool):
            raise EvidenceError(f"value {value!r} is not true/false; is_true needs a flag")
        return value is bound
    if op in ("eq", "ne"):
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            same = r(as_number(value, op)) == r(numbers.to_float(bound, "bound"))
        else:
            same = _scalar_eq(value, bound)
        return same if op == "eq" else not same
    if op in ("in", "not_in"):
        found = any(_scalar_eq(value, b) for b in bound)
        return found if op == "in" else not found
    if op == "matches":
        if not isinstance(value, str):
            raise EvidenceError(f"value {value!r} is not a string; matches needs text")
        return re.fullmatch(bound, value) is not None
    v = r(as_number(value, op))
    if op == "le":
        return v <= r(bound)
    if op == "lt":
        return v < r(bound)
    if op == "ge":
        return v >= r(bound)
    if op == "gt":
        return v > r(bound)
    if op == "between":
        return r(bound[0]) <= v <= r(bound[1])
    if op == "approx":
        return _approx_ok(v, bound)
    raise EvidenceError(f"unknown operator {op!r}")  # pragma: no cover - models forbid it


def failing_ops(band: Band, value: Any) -> list[str]:
    """Return the descriptions of the band's operators that ``value`` violates.

    Raises:
        EvidenceError: when the value's type does not suit an operator.
    """
    r: Callable[[float], float] = to_float32 if band.precision == "float32" else float
    return [
        _describe_op(op, bound)
        for op, bound in band.operators().items()
        if not _check_op(op, bound, value, r)
    ]


def _bounds(band: Band | None) -> list[float]:
    out: list[float] = []
    if band is None:
        return out
    for op, b in band.operators().items():
        if op in ("between", "in", "not_in"):
            out += [float(x) for x in b if isinstance(x, (int, float)) and not isinstance(x, bool)]
        elif op == "approx":
            out.append(b.value)
        elif isinstance(b, (int, float)) and not isinstance(b, bool):
            out.append(float(b))
    return out


def format_measured(value: Any, bounds: list[float]) -> str:
    """Format a measured value with 6 significant digits, unless that would misstate it.

    ``99.99999999999999`` next to a bound of 100 prints in full, so a failing value never
    reads as equal to the bound it fails.
    """
    if not isinstance(value, float) or not math.isfinite(value):
        return format_value(value)
    if len(repr(value)) <= 10:
        return repr(value).removesuffix(".0")
    short = f"{value:.6g}"
    if any(
        (float(short) > b) != (value > b) or (float(short) == b) != (value == b) for b in bounds
    ):
        return repr(value)
    return short


def judge(
    value: Any,
    subject: str,
    unit: str,
    expect: Band | None,
    warn: Band | None,
    summary: str = "",
) -> tuple[Status, str]:
    """Judge a measured value against the fail band and the warn band.

    Returns:
        The status and one sentence, e.g. ``val_loss 4.6227 nats ≤ 4.7 and ≥ 0``.

    Raises:
        EvidenceError: when the value cannot be compared (wrong type, no value).
    """
    shown_value = format_measured(value, _bounds(expect) + _bounds(warn))
    shown = f"{subject} {shown_value}{' ' + unit if unit else ''}".strip()
    if isinstance(value, bool) and summary:
        shown = f"{subject}: {summary}"
    if value is None:
        raise EvidenceError(f"{subject or 'the check'} produced no value")
    if is_nonfinite(value):
        return Status.FAIL, f"{shown}: non-finite measurements always fail"
    try:
        if expect is not None:
            bad = failing_ops(expect, value)
            if bad:
                return Status.FAIL, f"{shown}, must be {' and '.join(bad)}"
        if warn is not None:
            bad = failing_ops(warn, value)
            if bad:
                return Status.WARN, f"{shown}, outside the warn band ({' and '.join(bad)})"
    except EvidenceError as e:
        raise EvidenceError(f"{subject}: {e}") from e
    if expect is None or expect.is_true is not None:
        return Status.PASS, shown
    return Status.PASS, f"{shown} {describe_band(expect)}"
