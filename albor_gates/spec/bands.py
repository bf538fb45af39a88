"""Static analysis of threshold bands, used by ``gates lint`` before anything is measured.

A numeric band is reduced to an interval (plus excluded points); two bands contradict when
their intersection is empty. This catches ``expect: {ge: 5, le: 3}``, a warn band that can
never fire (it contains the whole expect band) and one that fires on every passing value.
"""

from __future__ import annotations

from albor_gates.spec.interval import Interval
from albor_gates.spec.models import Band
from albor_gates.spec.operators import OPERATORS


def numeric_interval(band: Band) -> Interval | None:
    """Reduce a purely numeric band to an interval; None when it is not purely numeric."""
    r = band.rounding()
    iv = Interval()
    for name, bound in band.operators().items():
        pass_set = OPERATORS[name].interval(bound, r)
        if pass_set is None:
            return None
        iv = iv.intersect(pass_set)
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
        if expect and warn and expect.judges_flag() != warn.judges_flag():
            problems.append("expect and warn compare different kinds of value (is_true vs numbers)")
        return problems
    if e.intersect(w).is_empty():
        problems.append("warn band excludes every value expect allows: the gate can never PASS")
    elif e.within(w):
        problems.append("warn band contains the whole expect band: it can never fire")
    return problems
