from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from albor_gates.engine.decide import decide
from albor_gates.engine.results import Decision, GateResult, Status, WaiverOutcome, decision_rank

STATUSES = list(Status)
SEVERITIES = ["blocking", "advisory", "info"]


def result(
    gid: str, status: Status, severity: str = "blocking", required: bool = True
) -> GateResult:
    return GateResult(
        spec="s",
        gate_id=gid,
        title="t",
        check="metric.value",
        check_version=1,
        severity=severity,  # type: ignore[arg-type]
        required=required,
        status=status,
        message="",
    )


def waiver(state: str) -> WaiverOutcome:
    return WaiverOutcome(
        "G", "s", state, False, "r", "a", dt.date(2030, 1, 1), "0" * 64, None, "f", 1, ""
    )


def test_decision_table() -> None:
    assert decide([result("a", Status.PASS)]) == (Decision.GO, ())
    assert decide([]) == (Decision.GO, ())
    assert decide([result("a", Status.ERROR, "info")])[0] is Decision.NO_GO
    assert decide([result("a", Status.FAIL, "blocking")]) == (
        Decision.NO_GO,
        ("a: FAIL (blocking)",),
    )
    assert decide([result("a", Status.FAIL, "advisory")]) == (
        Decision.WARN,
        ("a: FAIL (advisory)",),
    )
    assert decide([result("a", Status.FAIL, "info")]) == (Decision.GO, ())
    assert decide([result("a", Status.SKIPPED, required=True)]) == (
        Decision.NO_GO,
        ("a: SKIPPED but required",),
    )
    assert decide([result("a", Status.SKIPPED, required=False)])[0] is Decision.WARN
    assert decide([result("a", Status.WARN)])[0] is Decision.WARN
    assert decide([result("a", Status.WAIVED)])[0] is Decision.WARN
    assert decide([result("a", Status.PASS)], [waiver("expired")])[0] is Decision.NO_GO
    assert decide([result("a", Status.PASS)], [waiver("stale")])[0] is Decision.NO_GO
    assert decide([result("a", Status.PASS)], [waiver("live")])[0] is Decision.GO


results_st = st.lists(
    st.tuples(st.sampled_from(STATUSES), st.sampled_from(SEVERITIES), st.booleans()),
    max_size=12,
)
# the partial order of decide()'s docstring: s -> statuses at least as bad as s
WORSE = {
    Status.PASS: list(Status),
    Status.WARN: [Status.WARN, Status.WAIVED, Status.FAIL, Status.ERROR],
    Status.WAIVED: [Status.WAIVED, Status.FAIL, Status.ERROR],
    Status.FAIL: [Status.FAIL, Status.ERROR],
    Status.SKIPPED: [Status.SKIPPED, Status.ERROR],
    Status.ERROR: [Status.ERROR],
}


def build(rows: list[tuple[Status, str, bool]]) -> list[GateResult]:
    return [result(f"g{i}", s, sev, req) for i, (s, sev, req) in enumerate(rows)]


@settings(max_examples=500)
@given(results_st, st.data())
def test_decide_is_order_independent(rows, data) -> None:
    rs = build(rows)
    shuffled = data.draw(st.permutations(rs))
    assert decide(rs) == decide(shuffled)


@settings(max_examples=500)
@given(results_st, st.data())
def test_a_worse_result_never_improves_the_decision(rows, data) -> None:
    if not rows:
        return
    rs = build(rows)
    i = data.draw(st.integers(0, len(rs) - 1))
    new_status = data.draw(st.sampled_from(WORSE[rs[i].status]))
    changed = list(rs)
    changed[i] = result(rs[i].gate_id, new_status, rs[i].severity, rs[i].required)
    before, _ = decide(rs)
    after, _ = decide(changed)
    assert decision_rank(after) >= decision_rank(before)


@settings(max_examples=300)
@given(results_st)
def test_adding_a_gate_never_improves_the_decision(rows) -> None:
    rs = build(rows)
    base, _ = decide(rs[:-1]) if rs else (Decision.GO, ())
    full, _ = decide(rs)
    assert decision_rank(full) >= decision_rank(base)


def test_reasons_sorted_no_go_first() -> None:
    rs = [result("z", Status.WARN), result("b", Status.FAIL), result("a", Status.ERROR)]
    random.shuffle(rs)
    assert decide(rs) == (Decision.NO_GO, ("a: ERROR", "b: FAIL (blocking)", "z: WARN"))
