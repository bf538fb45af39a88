"""Static analysis of threshold bands, used by ``gates lint`` before anything is measured.

A numeric band is reduced to an interval (plus excluded points); two bands contradict when
their intersection is empty. This catches ``expect: {ge: 5, le: 3}``, a warn band that can
never fire (it contains the whole expect band) and one that fires on every passing value.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from albor_gates.spec.models import Band


def to_float32(x: float) -> float:
    """Round ``x`` to the nearest IEEE-754 single-precision value (inf on overflow)."""
    if not math.isfinite(x):
        return x
    try:
        return float(struct.unpack("<f", struct.pack("<f", x))[0])
    except OverflowError:
        return math.copysign(math.inf, x)


@dataclass(frozen=True)
class Interval:
    """A real interval with open or closed ends, minus a few excluded points."""

    lo: float = -math.inf
    lo_closed: bool = False
    hi: float = math.inf
    hi_closed: bool = False
    excluded: frozenset[float] = frozenset()
    points: frozenset[float] | None = None  # when set, the band is this finite set

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies in the interval (and in ``points`` when set)."""
        if x in self.excluded:
            return False
        if self.points is not None and x not in self.points:
            return False
        above = x > self.lo or (self.lo_closed and x == self.lo)
        below = x < self.hi or (self.hi_closed and x == self.hi)
        return above and below

    def intersect(self, other: Interval) -> Interval:
        """Return the intersection of two intervals."""
        if self.lo > other.lo or (self.lo == other.lo and not self.lo_closed):
            lo, lo_c = self.lo, self.lo_closed
        else:
            lo, lo_c = other.lo, other.lo_closed
        if self.hi < other.hi or (self.hi == other.hi and not self.hi_closed):
            hi, hi_c = self.hi, self.hi_closed
        else:
            hi, hi_c = other.hi, other.hi_closed
        if self.points is None:
            points = other.points
        elif other.points is None:
            points = self.points
        else:
            points = self.points & other.points
        return Interval(lo, lo_c, hi, hi_c, self.excluded | other.excluded, points)

    def is_empty(self) -> bool:
        """Whether no real number satisfies the interval."""
        if self.points is not None:
            return not any(self.contains(p) for p in self.points)
        if self.lo > self.hi:
            return True
        if self.lo == self.hi:
            return not (self.lo_closed and self.hi_closed) or self.lo in self.excluded
        return False

    def within(self, other: Interval) -> bool:
        """Whether every member of ``self`` is a member of ``other`` (conservative)."""
        if self.is_empty():
            return True
        if self.points is not None:
            return all(other.contains(p) for p in self.points if self.contains(p))
        if other.points is not None:
            return False
        lo_ok = self.lo > other.lo or (
            self.lo == other.lo and (other.lo_closed or not self.lo_closed)
        )
        hi_ok = self.hi < other.hi or (
            self.hi == other.hi and (other.hi_closed or not self.hi_closed)
        )
        return lo_ok and hi_ok and not (other.excluded - self.excluded)


def _num(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x)


def numeric_interval(band: Band) -> Interval | None:
    """Reduce a purely numeric band to an interval; None when it is not purely numeric."""
    r = to_float32 if band.precision == "float32" else float
    iv = Interval()
    for name, value in band.operators().items():
        if name == "le":
            iv = iv.intersect(Interval(hi=r(value), hi_closed=True))
        elif name == "lt":
            iv = iv.intersect(Interval(hi=r(value)))
        elif name == "ge":
            iv = iv.intersect(Interval(lo=r(value), lo_closed=True))
        elif name == "gt":
            iv = iv.intersect(Interval(lo=r(value)))
        elif name == "between":
            lo, hi = value
            iv = iv.intersect(Interval(r(lo), True, r(hi), True))
        elif name == "approx":
            tol = max(value.abs, value.rel * abs(value.value))
            iv = iv.intersect(Interval(value.value - tol, True, value.value + tol, True))
        elif name == "eq":
            v = _num(value)
            if v is None:
                return None
            iv = iv.intersect(Interval(r(v), True, r(v), True))
        elif name == "ne":
            v = _num(value)
            if v is None:
                return None
            iv = iv.intersect(Interval(excluded=frozenset({r(v)})))
        elif name in ("in", "not_in"):
            nums = [_num(x) for x in value]
            if any(n is None for n in nums):
                return None
            pts = frozenset(r(n) for n in nums if n is not None)
            iv = iv.intersect(Interval(points=pts) if name == "in" else Interval(excluded=pts))
        else:  # is_true, matches
            return None
    return iv


def band_conflicts(expect: Band | None, warn: Band | None) -> list[str]:
    """Return sentences describing contradictions in a gate's bands (empty when sound)."""
    problems: list[str] = []
    e = numeric_interval(expect) if expect else None
    w = numeric_interval(warn) if warn else None
    if e is not None and e.is_empty():
        problems.append("expect band is empty: no value can pass")
    if w is not None and w.is_empty():
        problems.append("warn band is empty: every passing value would warn")
    if problems or e is None or w is None:
        if expect and warn and (expect.is_true is None) != (warn.is_true is None):
            problems.append("expect and warn compare different kinds of value (is_true vs numbers)")
        return problems
    if e.intersect(w).is_empty():
        problems.append("warn band excludes every value expect allows: the gate can never PASS")
    elif e.within(w):
        problems.append("warn band contains the whole expect band: it can never fire")
    return problems
