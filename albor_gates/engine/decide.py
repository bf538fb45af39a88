"""The decision rule: one pure function, the single source of truth (DESIGN.md).

* NO-GO — any ERROR; any FAIL on a blocking gate; any required gate SKIPPED (or not run);
  any expired waiver; any waiver whose artifact sha256 no longer matches.
* WARN — otherwise: any WARN, any FAIL on an advisory gate, any WAIVED, any optional skip.
* GO — otherwise. WARN, WAIVED or FAIL on an ``info`` gate is reported and changes nothing.

A gate left out by ``--select`` / ``--ignore`` (``selected`` false) changes nothing either: the
record says the run is partial instead (engine/select.py), unlike ``--skip``, which is NO-GO
for a required gate.

``decide`` is independent of the order of its inputs and monotone in each gate's status under
the partial order PASS < WARN < WAIVED < FAIL < ERROR and PASS < SKIPPED < ERROR (a skip is
"no evidence", not comparable with a measured failure: a required advisory gate that did not
run is NO-GO while one that ran and failed is WARN). tests/engine/test_decide.py checks both.
"""

from __future__ import annotations

from collections.abc import Iterable

from albor_gates.engine.results import Decision, GateResult, Status, WaiverOutcome


def gate_effect(result: GateResult) -> tuple[Decision, str | None]:
    """Return what one gate contributes to the decision, and why (None for GO)."""
    gid = result.gate_id
    if not result.selected:
        return Decision.GO, None
    if result.status is Status.ERROR:
        return Decision.NO_GO, f"{gid}: ERROR"
    if result.status is Status.FAIL:
        if result.severity == "blocking":
            return Decision.NO_GO, f"{gid}: FAIL (blocking)"
        if result.severity == "advisory":
            return Decision.WARN, f"{gid}: FAIL (advisory)"
        return Decision.GO, None
    if result.status is Status.SKIPPED:
        if result.required:
            return Decision.NO_GO, f"{gid}: SKIPPED but required"
        return Decision.WARN, f"{gid}: SKIPPED (optional)"
    if result.status is Status.WARN:
        return (Decision.WARN, f"{gid}: WARN") if result.severity != "info" else (Decision.GO, None)
    if result.status is Status.WAIVED:
        return (
            (Decision.WARN, f"{gid}: WAIVED") if result.severity != "info" else (Decision.GO, None)
        )
    return Decision.GO, None


def decide(
    results: Iterable[GateResult], waivers: Iterable[WaiverOutcome] = ()
) -> tuple[Decision, tuple[str, ...]]:
    """Return the decision and the sorted reasons behind it.

    Args:
        results: every gate's result.
        waivers: the state of every waiver in the specs.

    Returns:
        ``(decision, reasons)``; reasons are the gate ids (and waivers) that made the
        decision what it is, NO-GO reasons first, each group sorted.
    """
    no_go: set[str] = set()
    warn: set[str] = set()
    for r in results:
        effect, why = gate_effect(r)
        if effect is Decision.NO_GO and why:
            no_go.add(why)
        elif effect is Decision.WARN and why:
            warn.add(why)
    for w in waivers:
        if w.state == "expired":
            no_go.add(f"{w.gate}: waiver expired on {w.expires.isoformat()}")
        elif w.state == "stale":
            no_go.add(f"{w.gate}: waiver sha256 no longer matches the artifact")
    if no_go:
        return Decision.NO_GO, tuple(sorted(no_go)) + tuple(sorted(warn))
    if warn:
        return Decision.WARN, tuple(sorted(warn))
    return Decision.GO, ()
