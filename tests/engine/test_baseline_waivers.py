from __future__ import annotations

import datetime as dt
import hashlib
import math

import pytest

from albor_gates.api import evaluate
from albor_gates.engine.baseline import compare, relative_change
from albor_gates.engine.results import Decision, Status
from albor_gates.spec.models import BaselineRule


def rule(**kw) -> BaselineRule:
    return BaselineRule.model_validate(kw)


def test_relative_change_definition() -> None:
    assert relative_change(110, 100) == pytest.approx(0.1)
    assert relative_change(-90, -100) == pytest.approx(0.1)  # divides by |baseline|
    assert relative_change(0, 0) == 0
    assert relative_change(1, 0) == math.inf
    assert relative_change(-1, 0) == -math.inf


def test_compare_directions_and_limits() -> None:
    lower = rule(direction="lower_is_better", max_regression_abs=0.05)
    assert compare(lower, 4.62, 4.60, have_report=True).status is Status.PASS
    out = compare(lower, 4.70, 4.60, have_report=True)
    assert (
        out.status is Status.FAIL and out.message == "baseline 4.6 → 4.7: regressed by 0.1 > 0.05"
    )
    higher = rule(direction="higher_is_better", max_regression_rel=0.1, on_regression="warn")
    assert compare(higher, 91, 100, have_report=True).status is Status.PASS
    assert compare(higher, 89, 100, have_report=True).status is Status.WARN
    assert compare(higher, 500, 100, have_report=True).status is Status.PASS


def test_zero_baseline_is_defined() -> None:
    r = rule(direction="lower_is_better", max_regression_rel=0.5)
    assert compare(r, 0.0, 0.0, have_report=True).status is Status.PASS
    assert compare(r, 0.1, 0.0, have_report=True).status is Status.FAIL
    assert compare(r, -0.1, 0.0, have_report=True).status is Status.PASS


def test_missing_baseline_follows_the_rule() -> None:
    r = rule(direction="lower_is_better", max_regression_abs=1)
    assert (
        compare(r, 1, None, have_report=False).message == "no baseline report given (warn by rule)"
    )
    assert compare(r, 1, None, have_report=True).status is Status.WARN
    assert (
        compare(
            rule(direction="lower_is_better", max_regression_abs=1, missing="fail"),
            1,
            "nan",
            have_report=True,
        ).status
        is Status.FAIL
    )


SPEC = """
id: w
version: "1"
title: Waivers
artifacts:
  m: {{kind: json, path: m.json}}
gates:
  - {{id: G, title: T., check: metric.value, artifact: m, params: {{field: x}}, expect: {{le: 1}}}}
waivers:
  - {{gate: G, sha256: "{sha}", reason: known, approved_by: lead, expires: {expires}}}
"""


@pytest.mark.parametrize(
    ("content", "tamper", "expires", "status", "decision", "state"),
    [
        ('{"x": 5}', False, "2030-01-01", Status.WAIVED, Decision.WARN, "live"),
        ('{"x": 5}', False, "2026-11-25", Status.FAIL, Decision.NO_GO, "expired"),
        ('{"x": 5}', True, "2030-01-01", Status.FAIL, Decision.NO_GO, "stale"),
        ('{"x": 0}', False, "2030-01-01", Status.PASS, Decision.GO, "live"),
        ('{"x": 0}', False, "2026-11-26", Status.PASS, Decision.GO, "live"),
    ],
)
def test_waivers(write, content, tamper, expires, status, decision, state) -> None:
    m = write("m.json", content)
    sha = hashlib.sha256(m.read_bytes()).hexdigest()
    if tamper:
        m.write_text(content + " ")
    spec = write("w.yaml", SPEC.format(sha=sha, expires=expires))
    v = evaluate(spec, now=dt.datetime(2026, 11, 26, tzinfo=dt.timezone.utc))
    assert v.results[0].status is status
    assert v.decision is decision
    assert v.waivers[0].state == state
