"""Logged vs recomputed: a disagreement between the two is its own blocking finding (issue 10).

An operator logs a number or a verdict (``apr qa``'s golden_output, ``apr bench``'s tok/s, the
trainer's val_loss); albor-gates recomputes the same thing from the published artifacts. A gate
that declares ``recomputes: {gate: LOGGED-ID}`` gets a sibling result ``<ID>-VS-LOGGED`` that
shows both side by side and FAILs (blocking) when

* one side PASSes (or WARNs) and the other FAILs — the operator's log and the artifacts tell two
  stories, and a document must not show both without a finding; or
* both values are numbers further apart than ``tolerance_abs`` / ``tolerance_rel``.

When either side produced no measurement (SKIPPED, ERROR) there is nothing to compare: the
finding is SKIPPED and optional (the skipped or failed side already counts on its own).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from albor_gates.engine.judge import format_measured
from albor_gates.engine.plan import Plan, PlannedGate
from albor_gates.engine.results import GateResult, Status
from albor_gates.spec.models import Recomputes

KIND = "logged.agreement"
_PASSING = (Status.PASS, Status.WARN)


def _side(r: GateResult) -> str:
    value = "" if r.value is None else format_measured(r.value, [])
    unit = f" {r.unit}" if r.unit and value else ""
    return f"{r.gate_id} {r.status.value}" + (f" ({value}{unit})" if value else "")


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _apart(logged: GateResult, recomputed: GateResult, rc: Recomputes) -> str | None:
    """Why the two numbers disagree beyond the tolerance, or None."""
    a, b = _number(logged.value), _number(recomputed.value)
    if a is None or b is None or (rc.tolerance_abs is None and rc.tolerance_rel is None):
        return None
    diff = abs(a - b)
    if rc.tolerance_abs is not None and not diff <= rc.tolerance_abs:
        return f"apart by {diff:.6g} (tolerance {rc.tolerance_abs:g})"
    rel = diff / abs(a) if a else (0.0 if diff == 0 else math.inf)
    if rc.tolerance_rel is not None and not rel <= rc.tolerance_rel:
        return f"apart by {rel:.1%} (tolerance {rc.tolerance_rel:.1%})"
    return None


def compare(
    pg: PlannedGate, spec_id: str, recomputed: GateResult, logged: GateResult | None
) -> GateResult:
    """The ``-VS-LOGGED`` finding of one recomputing gate."""
    rc = pg.origin.gate.recomputes
    assert rc is not None  # only called for gates that declare it
    base = GateResult(
        spec=spec_id,
        gate_id=f"{pg.id}-VS-LOGGED",
        title=f"What {rc.gate} logged agrees with what {pg.id} recomputed from the artifacts.",
        check=KIND,
        check_version=1,
        severity="blocking",
        required=False,
        status=Status.PASS,
        message="",
        file=pg.origin.file,
        line=pg.origin.line,
        tags=recomputed.tags,
        details={
            "recomputed": {"gate": pg.id, "status": recomputed.status.value},
            "logged": {"gate": rc.gate},
            "tolerance": rc.model_dump(exclude={"gate"}, exclude_none=True),
        },
    )
    if logged is None:
        return _with(
            base,
            Status.ERROR,
            f"{pg.origin.file}:{pg.origin.line}: recomputes.gate {rc.gate!r} is not a gate of "
            "this run; name the gate that judges the logged value",
            None,
        )
    details = {
        **base.details,
        "logged": {"gate": logged.gate_id, "status": logged.status.value, "value": logged.value},
        "recomputed": {
            "gate": pg.id,
            "status": recomputed.status.value,
            "value": recomputed.value,
        },
    }
    sides = f"logged {_side(logged)} · recomputed {_side(recomputed)}"
    base = replace(base, details=details)
    unmeasured = [r for r in (logged, recomputed) if r.status in (Status.SKIPPED, Status.ERROR)]
    if not (logged.selected and recomputed.selected):  # a partial run compares nothing it left out
        left_out = (r.gate_id for r in (logged, recomputed) if not r.selected)
        why = ", ".join(f"{gid} was not selected" for gid in left_out)
        return replace(_with(base, Status.SKIPPED, f"not compared: {why}", None), selected=False)
    if unmeasured:
        why = ", ".join(f"{r.gate_id} was {r.status.value}" for r in unmeasured)
        return _with(base, Status.SKIPPED, f"{sides} — not compared: {why}", None)
    if (logged.status in _PASSING) != (recomputed.status in _PASSING):
        return _with(base, Status.FAIL, f"{sides} — the verdicts disagree", False)
    apart = _apart(logged, recomputed, rc)
    if apart:
        return _with(base, Status.FAIL, f"{sides} — {apart}", False)
    return _with(base, Status.PASS, f"{sides} — agree", True)


def _with(r: GateResult, status: Status, message: str, value: bool | None) -> GateResult:
    fix = (
        "find out which is right: re-run the operator's tool on the published files, or fix "
        "what the recomputation reads"
        if status is Status.FAIL
        else ""
    )
    return replace(r, status=status, message=message, value=value, fix=fix)


def agreements(plans: Iterable[Plan], results: Iterable[GateResult]) -> list[GateResult]:
    """One ``-VS-LOGGED`` finding per gate of ``plans`` that declares ``recomputes``."""
    by_id: dict[str, GateResult] = {}
    for r in results:
        by_id.setdefault(r.gate_id, r)
    out = []
    for plan in plans:
        for pg in plan.gates:
            rc = pg.origin.gate.recomputes
            mine = by_id.get(pg.id)
            if rc is not None and mine is not None:
                out.append(compare(pg, plan.spec_id, mine, by_id.get(rc.gate)))
    return out
