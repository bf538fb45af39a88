"""The judge: a measured value and a gate's bands in, a status and one sentence out.

Each operator's predicate and sentence are one row of :mod:`albor_gates.spec.operators`; the
judge applies them (the seed's decision rules, GATES.md §1.2):

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
from typing import Any

from albor_gates.engine.results import Status
from albor_gates.errors import EvidenceError
from albor_gates.spec.models import Band
from albor_gates.spec.operators import OPERATORS, Approx, format_value, is_nonfinite, number

__all__ = ["failing_ops", "format_measured", "format_value", "judge"]


def failing_ops(band: Band, value: Any) -> list[str]:
    """Return the descriptions of the band's operators that ``value`` violates.

    Raises:
        EvidenceError: when the value's type does not suit an operator.
    """
    r = band.rounding()
    return [
        OPERATORS[op].describe(bound)
        for op, bound in band.operators().items()
        if not OPERATORS[op].holds(bound, value, r)
    ]


def _bounds(band: Band | None) -> list[float]:
    """Every number a band mentions: a measured value is never shown rounded onto one."""
    out: list[float] = []
    for bound in band.operators().values() if band else ():
        items = bound if isinstance(bound, (list, tuple)) else [bound]
        nums = (number(x.value if isinstance(x, Approx) else x) for x in items)
        out += [n for n in nums if n is not None]
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
    if expect is None or expect.judges_flag():
        return Status.PASS, shown
    return Status.PASS, f"{shown} {expect.describe()}"
