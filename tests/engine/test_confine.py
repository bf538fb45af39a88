"""Issue 11 §1–§2: no execution without consent, no reading outside the release.

Each test fails on the main branch before issue 11: there a spec's command ran under plain
``gates check`` and ``log.match`` / ``file.sha256`` followed any path.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import Status

REPO = Path(__file__).resolve().parents[2]
CI_EXAMPLE = REPO / "docs" / "ci" / "github-actions.yml"
ACTION = REPO / "action.yml"


def _spec(folder: Path, artifacts: dict, gates: list[dict]) -> Path:
    spec = {"id": "pr", "version": "1", "title": "From a fork", "artifacts": artifacts}
    spec["gates"] = gates
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _shell_gate(marker: Path) -> tuple[dict, list[dict]]:
    artifacts = {"t": {"kind": "command", "command": ["/bin/sh", "-c", f"touch {marker}"]}}
    gates = [{"id": "RUN", "title": "Runs.", "check": "cli.exit_code", "artifact": "t"}]
    return artifacts, gates


def _log_gate(path: str) -> tuple[dict, list[dict]]:
    artifacts = {"log": {"kind": "file", "path": path}}
    gate = {"id": "LOG", "title": "Reads.", "check": "log.match", "artifact": "log"}
    gate["params"] = {"pattern": "."}
    gate["expect"] = {"ge": 0}
    return artifacts, [gate]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the spec's folder and the working directory."""
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "secrets.txt"
    path.write_text("AWS_SECRET=hunter2\n", encoding="utf-8")
    return path


@pytest.fixture
def pr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The checkout of a pull request; the working directory, as in CI."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_a_command_artifact_does_not_run_without_consent(pr: Path) -> None:
    marker = pr / "ran"
    (r,) = evaluate(_spec(pr, *_shell_gate(marker))).results
    assert not marker.exists()
    assert r.status is Status.SKIPPED
    assert r.message == (
        f"not run: the gate runs command artifact 't' (/bin/sh -c touch {marker}); "
        "pass --allow-exec to run it"
    )
    (r,) = evaluate(_spec(pr, *_shell_gate(marker)), allow_exec=True).results
    assert marker.exists() and r.status is Status.PASS


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
def test_a_path_outside_the_root_is_refused(pr: Path, secret: Path, how: str) -> None:
    if how == "absolute":
        path = str(secret)
    elif how == "dotdot":
        path = os.path.relpath(secret, pr)
    else:
        (pr / "innocent.log").symlink_to(secret)
        path = "innocent.log"
    (r,) = evaluate(_spec(pr, *_log_gate(path))).results
    assert r.status is Status.ERROR
    shown = pr / path if not Path(path).is_absolute() else secret
    assert r.message == (
        f"artifact 'log': {shown} resolves to {secret}, outside {pr}; "
        "bind it with --artifact, or pass --allow-outside-root to read it"
    )
    assert "hunter2" not in json.dumps(r.details)
    (r,) = evaluate(_spec(pr, *_log_gate(path)), allow_outside_root=True).results
    assert r.status is Status.PASS and "hunter2" in r.details["examples"][0]


def test_file_sha256_does_not_hash_outside_files(pr: Path, secret: Path) -> None:
    artifacts = {"f": {"kind": "file", "path": str(secret)}}
    gates = [{"id": "SHA", "title": "Hashes.", "check": "file.sha256", "artifact": "f"}]
    gates[0]["expect"] = {"eq": "0" * 64}
    verdict = evaluate(_spec(pr, artifacts, gates))
    assert verdict.results[0].status is Status.ERROR
    assert verdict.artifacts[0].sha256 is None and verdict.artifacts[0].size is None


def test_lint_and_plan_name_the_gates_that_need_consent(pr: Path, gates) -> None:
    spec = _spec(pr, *_shell_gate(pr / "ran"))
    r = gates("lint", str(spec))
    assert r.code == 0
    assert r.out.splitlines()[-1] == "1 gates execute programs and run only with --allow-exec: RUN"
    r = gates("plan", str(spec))
    assert "SKIPPED: not run: the gate runs command artifact 't'" in r.out
    assert r.out.splitlines()[-1] == "1 gates execute programs, SKIPPED without --allow-exec: RUN"
    assert not (pr / "ran").exists()


def _action_step_env(workflow_job: str) -> tuple[str, dict[str, str]]:
    """The `gates check` step of action.yml and its environment, for the inputs the example
    workflow's job gives the action (the other inputs at their defaults)."""
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    workflow = yaml.safe_load(CI_EXAMPLE.read_text(encoding="utf-8"))
    (uses,) = [s for s in workflow["jobs"][workflow_job]["steps"] if "albor-gates" in s["uses"]]
    inputs = {k: str(v["default"]) for k, v in action["inputs"].items()} | uses["with"]
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "gates"]
    env = {}
    for name, value in step["env"].items():
        expr = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", value)
        env[name] = inputs[expr.group(1)] if expr else value
    return step["run"], env


def test_fork_pr_simulation_with_the_ci_example_flags(
    pr: Path, secret: Path, tmp_path: Path
) -> None:
    """A hostile spec evaluated exactly as the example workflow's pull-request job runs it: the
    action's own `gates check` script, with that job's inputs, on the installed `gates`."""
    marker = pr / "pwned"
    artifacts, run_gates = _shell_gate(marker)
    artifacts["t"]["command"] = ["/bin/sh", "-c", f"env > {marker}"]
    log_artifacts, log_gates = _log_gate(str(secret))
    hostile = [{**g, "tags": ["pr"]} for g in run_gates + log_gates]  # the fork tags its gates
    spec = _spec(pr, {**artifacts, **log_artifacts}, hostile)
    script, env = _action_step_env("pull-request")
    assert "--allow-exec" not in env["GATES_ARGS"]
    assert "--allow-outside-root" not in env["GATES_ARGS"]
    outputs = tmp_path / "github-output"
    env |= {
        "GATES_SPECS": str(spec),
        "GATES_CACHE_DIR": str(tmp_path / "cache"),
        "GITHUB_OUTPUT": str(outputs),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
    }
    r = subprocess.run(
        ["bash", "-c", script], cwd=pr, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr  # NO-GO is the last step's exit, after the uploads
    assert "exit-code=1" in outputs.read_text(encoding="utf-8").splitlines()
    assert not marker.exists()  # nothing ran
    out_dir = pr / env["GATES_OUTPUT_DIR"]
    everything = "".join(p.read_text(encoding="utf-8") for p in out_dir.iterdir()) + r.stdout
    assert "hunter2" not in everything  # nothing from outside was read
    report = json.loads((out_dir / "gates-report.json").read_text(encoding="utf-8"))
    assert report["decision"] == "NO-GO"
    why = {g["id"]: g["message"] for g in report["gates"]}
    assert why["RUN"].startswith("not run: the gate runs command artifact 't'")
    assert why["LOG"].startswith(f"artifact 'log': {secret} resolves to {secret}, outside ")
    assert all("\n" not in m for m in why.values())


def test_a_path_the_os_cannot_look_up_is_one_line_not_a_crash(pr: Path) -> None:
    # found by `make fuzz`: Path.exists() raised ENAMETOOLONG out of evaluate()
    (r,) = evaluate(_spec(pr, *_log_gate("x" * 300))).results
    assert r.status is Status.ERROR and not r.internal_error
    assert (
        r.message
        == f"artifact 'log': {str(pr / ('x' * 300))[:200]}: File name too long; fix the path"
    )
