"""Real intervals and float32 rounding: the sets the band lint reasons about.

Each operator of :mod:`albor_gates.spec.operators` states its pass set as an :class:`Interval`
(``le: 4.7`` is ``(-inf, 4.7]``); :mod:`albor_gates.spec.bands` intersects them to find bands
that no value can pass or that can never fire.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass


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
