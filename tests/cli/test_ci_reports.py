"""Issue 12 parts 5-6: SARIF and annotations that code scanning maps, the step summary in
Actions, ``gates -v``, and the configuration applied to ``gates verify``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from safetensors.numpy import save_file

from albor_gates.engine.catalog import explain_term
from albor_gates.render.ci import BUNDLED, EXTERNAL, SRCROOT, CiContext, Location

SARIF_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)

# a repository spec that pulls the bundled training-hygiene gates in through `extends:` (line 5)
RELEASE = """
id: my-release
version: "1"
title: My release
extends:
  - training-hygiene
artifacts:
  train_log: {kind: jsonl, path: log.jsonl}
  epochs: {kind: dir, path: .}
  run: {kind: json, path: run.json}
  model: {kind: model, path: model.safetensors}
gates:
  - {id: MY-LOSS, title: Loss is small., check: metric.value, artifact: train_log, params: {field: loss, select: last}, expect: {le: 3}}
"""


@pytest.fixture
def repo(write, tmp_path, monkeypatch) -> Path:
    """A repository with specs/release.yaml extending a bundled spec, run from its root."""
    write("specs/release.yaml", RELEASE)
    write("specs/log.jsonl", '{"step": 1, "loss": 2.5}\n{"step": 2, "loss": 2.0}\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sarif(gates, *args: str) -> dict:
    r = gates("check", "specs/release.yaml", "-f", "sarif", *args)
    assert r.code == 1, r.err  # run.json and the epoch files are absent: ERROR → NO-GO
    log = json.loads(r.out)
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    return log


def test_inherited_gates_are_located_at_the_extends_line(gates, repo) -> None:
    log = sarif(gates)
    (run,) = log["runs"]
    where = {res["ruleId"]: res["locations"][0]["physicalLocation"] for res in run["results"]}
    # TRAIN-CHINCHILLA lives in the installed invariants/: code scanning sees the extends line
    assert where["TRAIN-CHINCHILLA"] == {
        "artifactLocation": {"uri": "specs/release.yaml", "uriBaseId": SRCROOT},
        "region": {"startLine": 5},
    }
    assert run["originalUriBaseIds"] == {
        SRCROOT: {
            "description": {"text": "The repository root: the working directory gates ran in."}
        }
    }
    text = json.dumps(log)
    assert "file:" not in text and str(repo) not in text and "informationUri" not in text


def test_pass_is_left_out_unless_asked_and_rules_carry_the_explain_text(gates, repo) -> None:
    results = sarif(gates)["runs"][0]["results"]
    assert "MY-LOSS" not in {r["ruleId"] for r in results}  # a PASS is no finding
    assert {r["kind"] for r in results} == {"fail"}
    run = sarif(gates, "--sarif-include-pass")["runs"][0]
    passed = [r for r in run["results"] if r["ruleId"] == "MY-LOSS"]
    assert [(r["kind"], r["level"]) for r in passed] == [("pass", "none")]
    rule = run["tool"]["driver"]["rules"][passed[0]["ruleIndex"]]
    assert rule["help"]["text"] == explain_term("metric.value")
    assert rule["help"]["markdown"] == f"```text\n{explain_term('metric.value')}```\n"


def test_annotations_use_the_same_locations(gates, repo) -> None:
    r = gates("check", "specs/release.yaml", "-f", "github")
    line = next(x for x in r.out.splitlines() if "TRAIN-CHINCHILLA ERROR" in x)
    assert line == (
        "::error file=specs/release.yaml,line=5,title=TRAIN-CHINCHILLA ERROR::"
        "specs/run.json: not found (artifact 'run')"
    )
    assert str(repo) not in r.out


def test_locate_follows_the_extends_chain_then_the_bundled_folders() -> None:
    ctx = CiContext(
        root="/repo",
        extended_at={
            "/site/invariants/a.yaml": ("/site/invariants/b.yaml", 4),
            "/site/invariants/b.yaml": ("specs/top.yaml", 7),
        },
        bundled={"/site/invariants": "invariants"},
    )
    assert ctx.locate("/site/invariants/a.yaml", 30) == Location("specs/top.yaml", 7)
    assert ctx.locate("/repo/specs/x.yaml", 3) == Location("specs/x.yaml", 3)
    assert ctx.locate("/site/invariants/c.yaml", 9) == Location("invariants/c.yaml", 9, BUNDLED)
    assert ctx.locate("/elsewhere/d.yaml", 2) == Location("d.yaml", 2, EXTERNAL)
    assert ctx.locate("../up/e.yaml", 1) == Location("e.yaml", 1, EXTERNAL)


def test_step_summary_is_written_in_actions_whatever_the_format(gates, repo, monkeypatch) -> None:
    summary, output = repo / "summary.md", repo / "output.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    r = gates("check", "specs/release.yaml", "-f", "json")
    assert r.code == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## ❌ albor-gates: **NO-GO**\n")
    assert "specs/run.json: not found" in text and str(repo) not in text
    assert output.read_text(encoding="utf-8") == "decision=NO-GO\n"


def test_an_unwritable_step_summary_is_a_warning(gates, repo, monkeypatch) -> None:
    folder = repo / "summary-is-a-folder"
    folder.mkdir()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(folder))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    r = gates("check", "specs/release.yaml", "-f", "json")
    assert r.code == 1 and json.loads(r.out)["decision"] == "NO-GO"
    assert r.err == (
        f"gates: warning: cannot append the Markdown summary to $GITHUB_STEP_SUMMARY ({folder}): "
        "Is a directory; the reports are written, the job page lacks the summary\n"
    )


def test_verbose_levels(gates, repo) -> None:
    quiet = gates("check", "specs/release.yaml", "-q")
    assert quiet.err == ""
    one = gates("-v", "check", "specs/release.yaml", "-q").err.splitlines()
    assert "gates: MY-LOSS: PASS in " in "\n".join(one)
    assert any(x.startswith("gates: TRAIN-CHINCHILLA: ERROR in ") for x in one)
    assert "gates: artifact train_log: specs/log.jsonl (50 bytes)" in one
    assert "gates: artifact run: specs/run.json (absent)" in one
    assert not any("started" in x for x in one)
    two = gates("-vv", "check", "specs/release.yaml", "-q").err.splitlines()
    assert "gates: MY-LOSS: started (metric.value)" in two
    # the level is per invocation: a later run without -v logs nothing
    assert gates("check", "specs/release.yaml", "-q").err == ""


@pytest.fixture
def model(tmp_path, monkeypatch) -> Path:
    """A one-tensor safetensors file; its verify decision is WARN once WEIGHTS-DENSITY is out."""
    rng = np.random.default_rng(0)
    save_file({"w": rng.standard_normal((16, 16)).astype(np.float32)}, tmp_path / "m.safetensors")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "m.safetensors"


def test_verify_takes_the_config_and_flags_win(gates, model, write) -> None:
    write("gates.toml", 'format = ["json", "sarif"]\noutput-dir = "cfg-out"\nstrict = true\n')
    base = ("verify", "m.safetensors", "--device", "cpu", "--ignore", "WEIGHTS-DENSITY", "-q")
    r = gates(*base)
    assert r.code == 1, r.err  # WARN under the config's strict
    assert sorted(os.listdir("cfg-out")) == ["gates-report.json", "gates.sarif"]
    assert json.loads(Path("cfg-out/gates-report.json").read_text())["decision"] == "WARN"
    r = gates(*base, "--no-strict", "-f", "markdown", "-o", "flag-out")
    assert r.code == 0, r.err
    assert os.listdir("flag-out") == ["gates-summary.md"]
    write("gates.toml", "strict = 1\n")
    r = gates(*base)
    assert (r.code, r.err) == (
        2,
        "gates: gates.toml:1:1: gates.toml → strict: expected true or false, got 1\n"
        "gates: 1 problem found\n",
    )
