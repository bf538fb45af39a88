"""Issue 12 parts 4 and 5: gates.toml / [tool.gates], -f json everywhere, lint for CI, names."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import albor_gates

SPEC = """
id: cfg
version: "1"
title: Config
artifacts:
  m: {kind: json, path: m.json}
gates:
  - {id: CHEAP-LOSS, title: Loss is small., check: metric.value, artifact: m, params: {field: loss}, expect: {le: 2.2}, tags: [pr]}
  - {id: SLOW-ACC, title: Accuracy is high., check: metric.value, artifact: m, params: {field: acc}, expect: {ge: 0.9}, severity: advisory}
"""


@pytest.fixture
def project(write, tmp_path, monkeypatch) -> Path:
    """A project folder with specs/cfg.yaml and an evidence YAML that is no spec."""
    write("specs/m.json", '{"loss": 1.0, "acc": 0.5}')
    write("specs/cfg.yaml", SPEC)
    write("specs/evidence/operator.yaml", "operator: someone\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_exclude_keeps_an_evidence_yaml_out_of_the_specs(gates, project, write) -> None:
    r = gates("lint", "specs")
    assert r.code == 2
    assert "gates: specs/evidence/operator.yaml:1:1: missing required key 'id'" in r.err
    write("gates.toml", 'exclude = ["specs/evidence/*"]\n')
    r = gates("lint", "specs")
    assert (r.code, r.out) == (0, "1 spec files, 2 gates: no problems\n")
    # pre-commit passes the changed files by name: an excluded one is still left out
    r = gates("lint", "specs/evidence/operator.yaml")
    assert (r.code, r.out) == (
        0,
        "0 spec files: every file named is excluded by the configuration\n",
    )
    r = gates("lint", "specs/evidence/operator.yaml", "specs/cfg.yaml")
    assert (r.code, r.out) == (0, "1 spec files, 2 gates: no problems\n")


def test_config_supplies_defaults_and_flags_win(gates, project, write) -> None:
    write(
        "pyproject.toml",
        """
        [project]
        name = "x"

        [tool.gates]
        exclude = ["specs/evidence/*"]
        format = ["json", "markdown"]
        output-dir = "out"
        strict = true
        select = ["tag:pr"]
        """,
    )
    # the config: a partial run of the PR gate, written as json + markdown to out/, strict
    r = gates("check", "-q")
    assert r.code == 0
    record = json.loads((project / "out" / "gates-report.json").read_text())
    assert (record["decision"], record["selection"]["not_selected"]) == ("GO", ["SLOW-ACC"])
    assert (project / "out" / "gates-summary.md").is_file()
    # flags win key by key: --select replaces the config's, --no-strict its strict, -f its
    # format; output-dir still comes from the config
    report = project / "out" / "gates-report.json"
    r = gates("check", "--select", "*", "-f", "json", "-q")
    assert (r.code, json.loads(report.read_text())["decision"]) == (1, "WARN")  # strict: config
    r = gates("check", "--select", "*", "-f", "json", "-q", "--no-strict", "-o", "out2")
    record = json.loads((project / "out2" / "gates-report.json").read_text())
    assert (r.code, record["decision"], record["partial"]) == (0, "WARN", False)
    assert not (project / "out2" / "gates-summary.md").exists()


def test_lint_validates_the_config_in_the_spec_error_style(gates, project, write) -> None:
    write(
        "pyproject.toml",
        """
        [tool.gates]
        fromat = ["json"]
        strict = "yes"
        format = ["pdf"]
        exclude = ["specs/evidence/*"]
        """,
    )
    r = gates("lint", "specs/cfg.yaml")
    assert r.code == 2
    assert r.err.splitlines() == [
        "gates: pyproject.toml:2:1: [tool.gates]: unknown key 'fromat' (did you mean 'format'?)",
        "gates: pyproject.toml:3:1: [tool.gates] → strict: expected true or false, got 'yes'",
        "gates: pyproject.toml:4:1: [tool.gates] → format: 'pdf' is not one of 'text', 'json', "
        "'junit', 'sarif', 'github', 'markdown' or 'html'",
        "gates: 3 problems found",
    ]
    # check refuses to run on a broken config: the same lines, exit 2
    assert gates("check", "specs/cfg.yaml").err == r.err


def test_bad_toml_is_located(gates, project, write) -> None:
    write("gates.toml", "strict = \n")
    r = gates("lint", "specs/cfg.yaml")
    assert r.err.splitlines()[0] == "gates: gates.toml:1:10: not valid TOML: Invalid value"


def test_lint_formats_for_ci(gates, project, write) -> None:
    bad = write(
        "specs/bad.yaml", SPEC.replace("id: cfg", "id: bad").replace("expect:", "expct:", 1)
    )
    r = gates("lint", str(bad), "-f", "github")
    assert r.code == 2
    # named absolutely, located relative to the repository root (the working directory)
    assert r.out == (
        "::error file=specs/bad.yaml,line=7,col=102,title=gates lint::spec bad → gate CHEAP-LOSS "
        "→ expct: unknown key 'expct' (did you mean 'expect'?)\n"
    )
    r = gates("lint", str(bad), "-f", "json", "--exit-zero")
    record = json.loads(r.out)
    assert (r.code, record["schema"], record["summary"]) == (
        0,
        "albor-gates/lint",
        "1 problem found",
    )
    assert record["problems"][0]["line"] == 7
    r = gates("lint", str(bad), "-f", "sarif")
    log = json.loads(r.out)
    schema = json.loads(
        (Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text()
    )
    jsonschema.validate(log, schema)
    (result,) = log["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "specs/bad.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 7, "startColumn": 102},
    }
    assert str(project) not in r.out  # no machine path anywhere in the log
    r = gates("lint", str(bad), "--exit-zero")
    assert (r.code, r.err.splitlines()[-1]) == (0, "1 problem found")


def test_check_exit_zero_still_reports_the_decision(gates, project) -> None:
    r = gates("check", "specs/cfg.yaml", "--strict", "--exit-zero")
    assert (r.code, "Decision: WARN" in r.out) == (0, True)


def test_listing_commands_print_json(gates, project) -> None:
    kinds = json.loads(gates("list", "-f", "json").out)["kinds"]
    assert {"kind": "metric.value", "needs": []}.items() <= next(
        k for k in kinds if k["kind"] == "metric.value"
    ).items()
    rows = json.loads(gates("list", "--what", "gates", "-f", "json", "--spec-path", "specs").out)
    assert {"id": "CHEAP-LOSS", "spec": "cfg", "tags": ["pr"]}.items() <= next(
        g for g in rows["gates"] if g["id"] == "CHEAP-LOSS"
    ).items()
    explained = json.loads(gates("explain", "metric.value", "-f", "json").out)
    assert [(m["type"], m["id"]) for m in explained["matches"]] == [("kind", "metric.value")]
    plan = json.loads(gates("plan", "specs/cfg.yaml", "--select", "tag:pr", "-f", "json").out)
    assert [(g["gate"], g["outcome"]) for g in plan["gates"]] == [
        ("CHEAP-LOSS", "run"),
        ("SLOW-ACC", "not selected"),
    ]
    assert json.loads(gates("schema", "-f", "json").out)["type"] == "object"


def test_short_names_on_the_cli_and_in_the_api(gates, project) -> None:
    r = gates("lint", "ship-model-2")
    from albor_gates.spec.resources import data_dir

    n = len(
        yaml.safe_load((data_dir("specs") / "albor-370m-v1/ship-model-2.yaml").read_text())["gates"]
    )
    assert (r.code, r.out.split(":")[0]) == (0, f"1 spec files, {n} gates")
    r = gates("plan", "albor-370m-v1/ship-model-2", "-f", "json")
    assert json.loads(r.out)["specs"] == ["albor-ship-model-2"]
    r = gates("check", "ship-modle-2")
    assert r.err == (
        "gates: error: spec ship-modle-2: no such file or bundled spec short name "
        "(did you mean 'ship-model-2'?)\n"
    )
    verdict = albor_gates.evaluate("ship-model-2", select=["tag:pr"], device="cpu")
    record = albor_gates.to_record(verdict)
    assert record["partial"] is True
    jsonschema.validate(record, albor_gates.engine.catalog.report_schema())
