"""The operator table: every threshold operator a band may use, one row each.

A row says everything the rest of the code needs to know about an operator:

* ``accepts`` — the type of its bound in YAML (the :class:`~albor_gates.spec.models.Band`
  field is generated from it, so ``gates lint`` and ``gates schema`` know every operator);
* ``check_bound`` — what else a bound must satisfy (``le: .inf`` and ``between: [5, 1]`` are
  refused when the spec is loaded);
* ``describe`` — the sentence fragment (``≤ 4.7``) that the judge's PASS and FAIL messages,
  ``gates explain`` and the reports print;
* ``holds`` — the predicate the judge applies to a measured value (GATES.md §1.2: ``le``,
  ``ge`` and ``between`` are inclusive, ``lt`` and ``gt`` exclusive; a value of the wrong type
  is an :class:`~albor_gates.errors.EvidenceError`, never a silent pass);
* ``interval`` — its pass set as a real interval for the band lint, or None when the operator
  does not compare numbers (``matches``, ``is_true``, ``eq: qwen2``).

``precision: float32`` rounds the value and the bounds to IEEE single precision first
(:data:`PRECISIONS`); each row receives that rounding as ``r``. Adding an operator is adding a
row to :data:`OPERATORS`; the order of the table is the order bands are described in.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from albor_gates import numbers
from albor_gates.errors import EvidenceError
from albor_gates.spec.interval import Interval, to_float32

Scalar = StrictBool | int | float | str
Rounder = Callable[[float], float]

#: ``precision`` → how values and bounds are rounded before they are compared.
PRECISIONS: dict[str, Rounder] = {"float64": float, "float32": to_float32}

_NONFINITE_STRINGS = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "-infinity"}


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


def number(x: object) -> float | None:
    """``x`` as a float when it is a number (a bool is not), else None."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x)


def _scalar_eq(a: Any, b: Any, r: Rounder) -> bool:
    # 1 == True in Python; a flag and a count are different evidence here.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return r(numbers.to_float(a)) == r(numbers.to_float(b, "bound"))
    return bool(a == b)


class Approx(BaseModel):
    """Approximate equality: ``|v - value| <= max(abs, rel * |value|)``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    value: float
    rel: float = Field(0.0, ge=0)
    abs: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _some_tolerance(self) -> Approx:
        if self.rel == 0 and self.abs == 0:
            raise ValueError("approx needs a tolerance: set rel or abs (or use eq)")
        return self

    @property
    def tolerance(self) -> float:
        """The allowed distance from ``value``."""
        return max(self.abs, self.rel * abs(self.value))


def _any_bound(name: str, bound: Any) -> None:
    """Accept every bound the field's type accepts."""


@dataclass(frozen=True)
class Operator:
    """One threshold operator: its YAML name, bound type, checks, sentence and pass set."""

    name: str
    accepts: Any
    describe: Callable[[Any], str]
    holds: Callable[[Any, Any, Rounder], bool]
    interval: Callable[[Any, Rounder], Interval | None]
    check_bound: Callable[[str, Any], None] = _any_bound
    # It judges a flag: it stands alone in its band, and a PASS sentence needs no band.
    flag: bool = False
    description: str | None = None

    @property
    def attr(self) -> str:
        """The Band attribute holding the bound (``in`` is a Python keyword: ``in_``)."""
        return f"{self.name}_" if keyword.iskeyword(self.name) else self.name


def _finite(name: str, bound: float) -> None:
    if not math.isfinite(bound):
        raise ValueError(f"{name} must be a finite number, got {bound}")


def _symbol(symbol: str) -> Callable[[Any], str]:
    return lambda bound: f"{symbol} {format_value(bound)}"


def _numeric(
    name: str,
    accepts: Any,
    describe: Callable[[Any], str],
    pass_set: Callable[[Any, Rounder], Interval],
    check_bound: Callable[[str, Any], None] = _any_bound,
) -> Operator:
    """An operator on numbers only: it holds exactly on its pass set, the band lint's interval.

    One definition for both, so ``gates lint`` never calls a band empty that a value can pass
    (``approx: {value: 0.1, abs: 0.2}`` holds at 0.1 + 0.2, though ``|0.1 + 0.2 - 0.1| > 0.2``
    in floating point).
    """
    return Operator(
        name,
        accepts,
        describe,
        holds=lambda b, v, r: pass_set(b, r).contains(r(as_number(v, name))),
        interval=pass_set,
        check_bound=check_bound,
    )


def _equality(name: str, symbol: str, equal: bool) -> Operator:
    """``eq`` / ``ne``: numbers compare as numbers (after rounding), anything else as is."""

    def holds(bound: Any, value: Any, r: Rounder) -> bool:
        if number(bound) is not None:
            same = r(as_number(value, name)) == r(numbers.to_float(bound, "bound"))
        else:
            same = _scalar_eq(value, bound, r)
        return same is equal

    def pass_set(bound: Any, r: Rounder) -> Interval | None:
        b = number(bound)
        if b is None:
            return None
        return Interval(r(b), True, r(b), True) if equal else Interval(excluded=frozenset({r(b)}))

    return Operator(name, Scalar, _symbol(symbol), holds, pass_set)


def _membership(name: str, lead: str, member: bool) -> Operator:
    """``in`` / ``not_in``: the value equals one of the listed scalars (or none of them)."""

    def pass_set(bound: list[Any], r: Rounder) -> Interval | None:
        nums = [number(x) for x in bound]
        if any(n is None for n in nums):
            return None
        pts = frozenset(r(n) for n in nums if n is not None)
        return Interval(points=pts) if member else Interval(excluded=pts)

    return Operator(
        name,
        list[Scalar],
        describe=lambda b: lead + ", ".join(format_value(x) for x in b),
        holds=lambda b, v, r: any(_scalar_eq(v, x, r) for x in b) is member,
        interval=pass_set,
    )


def _check_between(name: str, bound: tuple[float, float]) -> None:
    lo, hi = bound
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("between bounds must be finite")
    if lo > hi:
        raise ValueError(f"between [{lo}, {hi}] is empty: the lower bound is above the upper")


def _is_true(bound: bool, value: Any, r: Rounder) -> bool:
    if not isinstance(value, bool):
        raise EvidenceError(f"value {value!r} is not true/false; is_true needs a flag")
    return value is bound


def _describe_approx(a: Approx) -> str:
    tol = f"±{format_value(a.abs)}" if a.abs else f"±{format_value(a.rel * 100)}%"
    return f"≈ {format_value(a.value)} ({tol})"


def _check_regex(name: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"{name}: invalid regular expression: {e}") from e


def _matches(pattern: str, value: Any, r: Rounder) -> bool:
    if not isinstance(value, str):
        raise EvidenceError(f"value {value!r} is not a string; matches needs text")
    return re.fullmatch(pattern, value) is not None


def _no_interval(bound: Any, r: Rounder) -> None:
    """The operator does not compare numbers: the band lint leaves the band alone."""


_ROWS = (
    _numeric("le", float, _symbol("≤"), lambda b, r: Interval(hi=r(b), hi_closed=True), _finite),
    _numeric("lt", float, _symbol("<"), lambda b, r: Interval(hi=r(b)), _finite),
    _numeric("ge", float, _symbol("≥"), lambda b, r: Interval(lo=r(b), lo_closed=True), _finite),
    _numeric("gt", float, _symbol(">"), lambda b, r: Interval(lo=r(b)), _finite),
    _equality("eq", "=", equal=True),
    _equality("ne", "≠", equal=False),
    _numeric(
        "between",
        tuple[float, float],
        lambda b: f"in [{format_value(b[0])}, {format_value(b[1])}]",
        lambda b, r: Interval(r(b[0]), True, r(b[1]), True),
        _check_between,
    ),
    _membership("in", "one of ", member=True),
    _membership("not_in", "none of ", member=False),
    Operator(
        "is_true",
        StrictBool,
        describe=lambda b: "true" if b else "false",
        holds=_is_true,
        interval=_no_interval,
        flag=True,
    ),
    # Under precision: float32 only the measured value is rounded: the tolerance absorbs the rest.
    _numeric(
        "approx",
        Approx,
        _describe_approx,
        lambda a, r: Interval(a.value - a.tolerance, True, a.value + a.tolerance, True),
    ),
    Operator(
        "matches",
        str,
        describe=lambda b: f"matching /{b}/",
        holds=_matches,
        interval=_no_interval,
        check_bound=_check_regex,
        description="Regular expression the whole string matches.",
    ),
)

#: name → operator, in the order bands are described and documented.
OPERATORS: dict[str, Operator] = {op.name: op for op in _ROWS}
