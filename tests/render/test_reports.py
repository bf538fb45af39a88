"""Golden reports (regenerate with `pytest tests/render --update-golden`), schema checks and
determinism for every renderer."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from albor_gates.engine.catalog import report_schema
from albor_gates.render import FILENAMES, RENDERERS, Format

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"


@pytest.mark.parametrize("fmt", list(Format))
def test_golden(fmt: Format, scenario, request: pytest.FixtureRequest) -> None:
    text = RENDERERS[fmt](scenario())
    golden = GOLDEN / "scenario-out" / FILENAMES[fmt]
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        f"{golden} differs; if the change is intended run: pytest tests/render --update-golden"
    )


def test_scenario_statuses(scenario) -> None:
    rec = scenario()
    status = {g["id"]: g["status"] for g in rec["gates"]}
    assert status == {
        "BEST-VAL-LOSS": "FAIL",  # 4.62 vs baseline 4.5: regressed by 0.12 > 0.05
        "BENCH-TPS": "WARN",
        "CARD-PRESENT": "SKIPPED",
        "MISSING-EVIDENCE": "ERROR",
        "QUALITY": "WAIVED",
        "QUALITY-ADVISORY": "FAIL",
        "VAL-LOSS-NO-DIVERGENCE": "PASS",
    }
    assert rec["decision"] == "NO-GO"
    assert rec["reasons"] == [
        "BEST-VAL-LOSS: FAIL (blocking)",
        "MISSING-EVIDENCE: ERROR",
        "BENCH-TPS: WARN",
        "CARD-PRESENT: SKIPPED (optional)",
        "QUALITY-ADVISORY: FAIL (advisory)",
        "QUALITY: WAIVED",
    ]


def test_json_report_validates_against_its_schema(scenario) -> None:
    rec = json.loads(RENDERERS[Format.JSON](scenario()))
    jsonschema.validate(rec, report_schema())


def test_sarif_validates_against_the_official_schema(scenario) -> None:
    log = json.loads(RENDERERS[Format.SARIF](scenario()))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(log)
    levels = {r["ruleId"]: (r["kind"], r["level"]) for r in log["runs"][0]["results"]}
    assert levels["MISSING-EVIDENCE"] == ("fail", "error")
    assert levels["CARD-PRESENT"] == ("notApplicable", "none")
    assert levels["QUALITY-ADVISORY"] == ("fail", "warning")
    waived = [r for r in log["runs"][0]["results"] if r["ruleId"] == "QUALITY"][0]
    assert waived["suppressions"][0]["status"] == "accepted"


def test_junit_parses_and_counts(scenario) -> None:
    root = ET.fromstring(RENDERERS[Format.JUNIT](scenario()))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "7",
        "1",
        "1",
        "1",
    )
    names = [c.get("name") for c in root.iter("testcase")]
    assert names[0].startswith("BENCH-TPS: ")


def test_github_annotations_escape_and_locate(scenario) -> None:
    text = RENDERERS[Format.GITHUB](scenario())
    first = [line for line in text.splitlines() if "MISSING-EVIDENCE" in line][0]
    assert first.startswith("::error file=tests/golden/scenario/spec.yaml,line=42,")
    assert text.splitlines()[-1].startswith("::notice title=albor-gates NO-GO::NO-GO (")


def test_two_runs_are_byte_identical(scenario) -> None:
    a = scenario()
    b = scenario()
    for fmt in Format:
        assert RENDERERS[fmt](a) == RENDERERS[fmt](b)


def test_source_date_epoch_freezes_the_cli_reports(gates, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    outs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        r = gates(
            "check",
            "examples/quickstart/gates.yaml",
            "-f",
            "json",
            "-f",
            "sarif",
            "-f",
            "junit",
            "-o",
            str(out),
            "-q",
            "--no-cache",  # a warm second run would say "cached": the cache is an input too
        )
        assert r.code == 0, r.err
        outs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outs[0] == outs[1]
    assert json.loads(outs[0]["gates-report.json"])["generated_at"] == "2026-09-21T14:13:20Z"
    assert not any(name.startswith(".") for name in os.listdir(tmp_path / "run1"))
