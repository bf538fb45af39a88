"""Fake command-line tools for the cli.* check-kind tests, and a one-gate evaluator.

Each fake is a small Python script written into the test's tmp_path and run as
``["{python}", script]`` — the placeholder the process runner expands to sys.executable.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import GateResult


def fake_tool(tmp_path: Path, source: str, name: str = "tool.py") -> list[str]:
    """Write a Python script and return the command that runs it."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return ["{python}", str(script)]


def run_gate(
    tmp_path: Path,
    check: str,
    command: list[str],
    params: dict[str, Any] | None = None,
    *,
    expect: dict[str, Any] | None = None,
    input_text: str | bytes | None = None,
    input_name: str = "input.txt",
    pass_env: tuple[str, ...] = (),
) -> GateResult:
    """Evaluate a one-gate spec whose ``tool`` artifact is ``command``."""
    gate: dict[str, Any] = {
        "id": "G",
        "title": "The tool behaves.",
        "check": check,
        "artifact": "tool",
        "params": params or {},
    }
    artifacts: dict[str, Any] = {"tool": {"kind": "command", "command": command}}
    if input_text is not None:
        path = tmp_path / input_name
        if isinstance(input_text, bytes):
            path.write_bytes(input_text)
        else:
            path.write_text(input_text, encoding="utf-8")
        artifacts["sample"] = {"path": input_name}
        gate["artifacts"] = {"input": "sample"}
    if expect is not None:
        gate["expect"] = expect
    spec = {"id": "cli-case", "version": "1", "title": "CLI case", "artifacts": artifacts}
    spec["gates"] = [gate]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    (result,) = evaluate(path, allow_exec=True, pass_env=pass_env).results
    return result
