"""qa.report on real `apr qa --json` shapes: the §82 report, an all-passing 12-gate report and
the template's {verdict, checks[]} shape, each against its documented per-gate outcomes
(tests/data/apr-qa/expected.yaml); bad input is one ERROR line naming file and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from albor_gates.api import evaluate
from albor_gates.checks.qa_report import CANONICAL

DATA = Path(__file__).resolve().parents[1] / "data" / "apr-qa"
EXPECTED = yaml.safe_load((DATA / "expected.yaml").read_text())
OPERATOR = "tool: {name: apr-cli, version: 'apr 0.31.2 (6d1f0e3)'}\n"


def run(tmp_path: Path, report: str | dict[str, Any], gates: list[dict[str, Any]]) -> dict:
    """Evaluate ``gates`` (qa.report) against ``report``; return results by gate id."""
    src = tmp_path / "qa.json"
    if isinstance(report, str):
        shutil.copy(DATA / report, src)
    else:
        src.write_text(json.dumps(report))
    (tmp_path / "operator.yaml").write_text(OPERATOR)
    spec = {
        "id": "qa",
        "version": "1",
        "title": "qa",
        "artifacts": {
            "qa": {"kind": "json", "path": "qa.json"},
            "op": {"kind": "yaml", "path": "operator.yaml"},
        },
        "gates": [
            {
                "title": "Case.",
                "check": "qa.report",
                "artifacts": {"source": "qa", "operator": "op"},
            }
            | g
            for g in gates
        ],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return {r.gate_id: r for r in evaluate(tmp_path / "spec.yaml").results}


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_each_fixture_gives_the_documented_outcome_per_canonical_gate(tmp_path, fixture) -> None:
    want = EXPECTED[fixture]
    gates = [{"id": "ALL"}] + [{"id": f"G-{c}", "params": {"gate": c}} for c in CANONICAL]
    res = run(tmp_path, fixture, gates)
    every = res["ALL"]
    got = {k: v["outcome"] for k, v in every.details["canonical"].items()}
    assert got == want["canonical"]
    assert every.details["shape"] == want["shape"]
    assert every.details["extra"] == want["extra"]
    assert (every.status.value == "PASS") == want["discharged"]
    for canon, outcome in want["canonical"].items():
        # a skip, a warning and an absence are never a pass
        assert res[f"G-{canon}"].status.value == ("PASS" if outcome == "passed" else "FAIL")


def test_the_section_82_report_names_every_reason_it_does_not_discharge(tmp_path) -> None:
    (r,) = run(tmp_path, "section82-12-gates.json", [{"id": "ALL"}]).values()
    assert r.summary == (
        "3 of 8 canonical apr qa gates passed; failed: golden_output; skipped (not a pass): "
        "ollama_parity, gpu_vs_cpu_speedup (as gpu_speedup), ptx_parity; not discharged — absent "
        "from the report of apr 0.31.2 (6d1f0e3): probar; extra gates reported, not counted: "
        "capability_match, classifier_head, gpu_state_isolation, metadata_plausibility, "
        "performance_regression"
    )


def test_the_bundled_canonical_report_passes(tmp_path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "albor-tiny-v1"
    report = json.loads((example / "evidence" / "operator" / "apr-qa.json").read_text())
    (r,) = run(tmp_path, report, [{"id": "ALL"}]).values()
    assert r.status.value == "PASS" and r.summary == "8 of 8 canonical apr qa gates passed"


def _gate(name: str) -> dict[str, Any]:
    return {"name": name, "passed": True, "skipped": False, "message": ""}


@pytest.mark.parametrize(
    ("report", "message"),
    [
        (
            {"gates": [_gate("throughput"), _gate("probar"), _gate("throughput")]},
            "gates[2].name 'throughput' repeats gates[0]; a QA report names each gate once — "
            "re-run `apr qa --json` and keep one result per gate",
        ),
        (
            {"verdict": "GO", "gates_executed": 8},
            "neither a QaReport (gates[] of name/passed/skipped, GATES.md §3.1.5) nor the "
            "template's {verdict, checks[{name, result}]} (§3.1.6); save `apr qa --json` output "
            "unchanged",
        ),
        (
            {"gates": [_gate("throughput")], "gates_executed": 2, "gates_skipped": 0},
            "gates_executed is 2 but gates[] lists 1; the report contradicts itself — re-run "
            "`apr qa --json`",
        ),
        (
            {"gates": [_gate("format_parity"), _gate("cross_format_parity")]},
            "gates cross_format_parity and format_parity both report canonical "
            "cross_format_parity; keep one",
        ),
        (
            {"verdict": "GO", "checks": [{"name": "probar", "result": "green"}]},
            "checks[0].result is 'green'; expected one of FAIL, PASS, SKIP, SKIPPED, WARN",
        ),
    ],
)
def test_bad_reports_are_one_error_line_naming_file_and_field(tmp_path, report, message) -> None:
    (r,) = run(tmp_path, report, [{"id": "ALL"}]).values()
    assert r.status.value == "ERROR"
    assert r.message == f"{tmp_path / 'qa.json'}: {message}"
