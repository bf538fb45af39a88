"""Issue 12 part 3: ``--select`` / ``--ignore`` by gate-id glob and ``tag:NAME``; a partial run."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from albor_gates.engine.catalog import report_schema
from albor_gates.engine.select import check_patterns, is_selected
from albor_gates.errors import UsageError

SPEC = """
id: sel
version: "1"
title: Selection
artifacts:
  m: {kind: json, path: m.json}
gates:
  - {id: CHEAP-LOSS, title: Loss is small., check: metric.value, artifact: m, params: {field: loss}, expect: {le: 2.2}, tags: [pr]}
  - {id: SLOW-ACC, title: Accuracy is high., check: metric.value, artifact: m, params: {field: acc}, expect: {ge: 0.9}}
"""


@pytest.fixture
def spec(write) -> Path:
    write("m.json", '{"loss": 1.0, "acc": 0.5}')
    return write("sel.yaml", SPEC)


def test_patterns_match_ids_by_glob_and_tags_by_name() -> None:
    assert is_selected("CHEAP-LOSS", ["pr"], ["tag:pr"], [])
    assert not is_selected("SLOW-ACC", [], ["tag:pr"], [])
    assert is_selected("SLOW-ACC", [], ["SLOW-*"], [])
    assert not is_selected("SLOW-ACC", [], [], ["*-ACC"])
    assert not is_selected("CHEAP-LOSS", ["pr"], ["tag:pr"], ["CHEAP-*"])  # ignore wins
    assert is_selected("X", [], [], [])


def test_a_pattern_that_names_no_gate_is_a_usage_error() -> None:
    gates = [("CHEAP-LOSS", ["pr"]), ("SLOW-ACC", [])]
    with pytest.raises(UsageError) as e:
        check_patterns(gates, ["tag:release"], [])
    assert (
        str(e.value)
        == "--select tag:release: no gate in the selected specs has this tag (tags: pr)"
    )
    with pytest.raises(UsageError) as e:
        check_patterns(gates, [], ["NOPE-*"])
    assert str(e.value) == "--ignore NOPE-*: no gate id in the selected specs matches it"


def test_select_tag_reports_not_selected_and_a_partial_decision(gates, spec, tmp_path) -> None:
    # the full run is NO-GO (SLOW-ACC fails); selecting the PR gates leaves it out: GO, partial
    assert gates("check", str(spec)).code == 1
    out = tmp_path / "out"
    r = gates(
        "check", str(spec), "--select", "tag:pr", "-f", "json", "-f", "markdown", "-o", str(out)
    )
    assert r.code == 0
    assert (
        "PARTIAL: 1 gates not selected (1 required); the decision covers the selected gates only"
        in r.out
    )
    record = json.loads((out / "gates-report.json").read_text())
    jsonschema.validate(record, report_schema())
    assert (record["decision"], record["reasons"], record["partial"]) == ("GO", [], True)
    assert record["selection"] == {
        "select": ["tag:pr"],
        "ignore": [],
        "not_selected": ["SLOW-ACC"],
        "required_not_selected": ["SLOW-ACC"],
    }
    slow = next(g for g in record["gates"] if g["id"] == "SLOW-ACC")
    assert (slow["status"], slow["message"], slow["selected"], slow["effect"]) == (
        "SKIPPED",
        "not selected (--select tag:pr)",
        False,
        "GO",
    )
    assert "selected" not in next(g for g in record["gates"] if g["id"] == "CHEAP-LOSS")
    summary = (out / "gates-summary.md").read_text()
    assert "> **PARTIAL: 1 gates not selected (1 required)" in summary


def test_ignore_by_glob_and_skip_stay_apart(gates, spec) -> None:
    r = gates("check", str(spec), "--ignore", "SLOW-*", "-f", "json")
    assert (json.loads(r.out)["decision"], r.code) == ("GO", 0)
    # --skip is not a selection: a required gate skipped by name is NO-GO, no partial field
    r = gates("check", str(spec), "--skip", "SLOW-ACC", "-f", "json")
    record = json.loads(r.out)
    assert (record["decision"], "partial" in record) == ("NO-GO", False)


def test_unknown_tag_exits_2(gates, spec) -> None:
    r = gates("check", str(spec), "--select", "tag:nightly")
    assert (r.code, r.err) == (
        2,
        "gates: error: --select tag:nightly: no gate in the selected specs has this tag "
        "(tags: pr)\n",
    )


def test_plan_marks_the_gates_left_out(gates, spec) -> None:
    r = gates("plan", str(spec), "--select", "tag:pr")
    assert r.code == 0
    slow = next(line for line in r.out.splitlines() if line.startswith("SLOW-ACC"))
    assert slow.endswith("not selected")
    assert "1 gates not selected: the run would be partial" in r.out


def test_bundled_specs_tag_their_cheap_gates_pr() -> None:
    import datetime as dt

    from albor_gates.engine.lint import plan_files
    from albor_gates.engine.preview import preview
    from albor_gates.engine.run import RunOptions
    from albor_gates.spec.resources import data_dir, spec_files

    plans = plan_files(spec_files(data_dir("specs")), [data_dir("invariants")])
    runnable = [p for p in plans if p.spec_set.root.spec.kind == "spec"]
    rows, _ = preview(runnable, RunOptions(select=("tag:pr",)), dt.date(2026, 1, 1))
    chosen = [r for r in rows if r.outcome != "not selected"]
    # a PR run of the bundled specs never needs torch, a GPU or a program, and is most of them
    assert [r.gate for r in chosen if r.needs] == []
    assert len(chosen) >= 60


def test_a_partial_run_replays_as_partial(gates, spec, tmp_path) -> None:
    bundle = tmp_path / "run.bundle.json"
    r = gates("check", str(spec), "--select", "tag:pr", "--bundle", str(bundle), "-q")
    assert r.code == 0
    r = gates("replay", str(bundle), "-f", "json")
    record = json.loads(r.out)
    assert (r.code, record["decision"], record["partial"]) == (0, "GO", True)
    assert record["selection"]["not_selected"] == ["SLOW-ACC"]
