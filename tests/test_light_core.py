"""The light core (issue 12): albor-gates without torch, numpy, safetensors, gguf, tokenizers and
huggingface_hub.

Two ways to take the extras away: a ``sys.meta_path`` blocker in a subprocess (fast; it also
proves no module of the package imports them at import time), and a real install of the wheel
into a fresh venv with the core dependencies only (``test_core_wheel_install``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from testlib.core_install import IndexUnreachable, build_wheel, core_wheels, fresh_venv, pip

from albor_gates import checks
from albor_gates.extras import EXTRAS, missing_reason

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart" / "gates.yaml"
#: Every module an extra brings: none of them is importable in the blocked subprocess.
HEAVY = sorted({mod for extra in EXTRAS.values() for mod, _ in extra.modules})
NO_TORCH = "torch is not installed: pip install 'albor-gates[model]'"

BLOCKER = f"""
import sys
HEAVY = {HEAVY!r}
class _Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HEAVY:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None
sys.meta_path.insert(0, _Blocker())
"""
CLI = BLOCKER + "from albor_gates.cli import main\nmain(sys.argv[1:])\n"


def blocked(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``gates ARGS`` in a subprocess where no extra can be imported."""
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_no_module_imports_an_extra_at_import_time() -> None:
    code = BLOCKER + textwrap.dedent(
        """
        import importlib, pkgutil, albor_gates
        for m in pkgutil.walk_packages(albor_gates.__path__, "albor_gates."):
            if not m.name.endswith("__main__"):
                importlib.import_module(m.name)
        print(sorted(n for n in sys.modules if n.partition(".")[0] in HEAVY))
        print(len([n for n in sys.modules if n.startswith("albor_gates.")]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    loaded, count = proc.stdout.splitlines()
    assert loaded == "[]"
    assert int(count) > 150  # every module was imported, model/ and formats/ included


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("lint",), "spec files, "),
        (("lint", "specs", "invariants", "-f", "json"), '"problems": []'),
        (("plan", str(QUICKSTART)), "7 gates in 1 specs; 0 need torch"),
        (("explain", "weights.stats"), "Extras: model (pip install 'albor-gates[model]')"),
        (("explain", "AC-SHIP2-003"), "AC-SHIP2-003-LOOSE"),
        (("list", "--what", "kinds"), "weights.stats"),
        (("schema",), '"Params_weights_stats"'),
        (("check", str(QUICKSTART)), "Decision: WARN"),
    ],
    ids=lambda v: " ".join(v[:2]) if isinstance(v, tuple) else None,
)
def test_core_commands_run_without_extras(args: tuple[str, ...], expected: str) -> None:
    proc = blocked(*args)
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout
    assert "ModuleNotFoundError" not in proc.stdout + proc.stderr


def _model_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "model.yaml"
    spec.write_text(
        textwrap.dedent(
            f"""
            id: model-check
            version: "1"
            title: A weights gate and an evidence gate
            artifacts:
              model: {{kind: safetensors, path: {REPO}/examples/albor-tiny-v1/model.safetensors}}
              card: {{kind: file, path: {REPO}/examples/albor-tiny-v1/README.md}}
            gates:
              - id: W-FINITE
                title: Every weight is finite.
                check: weights.stats
                artifact: model
                params: {{measure: nonfinite}}
                expect: {{eq: 0}}
                required: true
              - id: CARD
                title: The model card exists.
                check: file.exists
                artifact: card
            """
        ),
        encoding="utf-8",
    )
    return spec


def test_a_model_gate_is_skipped_with_the_pip_line(tmp_path: Path) -> None:
    spec = _model_spec(tmp_path)
    proc = blocked("check", str(spec), "-f", "json", "--allow-outside-root")
    assert proc.returncode == 1, proc.stderr  # a required gate SKIPPED is NO-GO
    report = json.loads(proc.stdout)
    by_id = {r["id"]: r for r in report["gates"]}
    assert by_id["W-FINITE"]["status"] == "SKIPPED"
    assert by_id["W-FINITE"]["message"] == NO_TORCH
    assert by_id["CARD"]["status"] == "PASS"
    assert report["decision"] == "NO-GO"
    plan = blocked("plan", str(spec), "--allow-outside-root")
    assert plan.returncode == 0, plan.stderr
    assert f"SKIPPED: {NO_TORCH}\n" in plan.stdout


def test_bundled_specs_run_without_extras_and_skip_only_the_kinds_that_need_one(
    tmp_path: Path,
) -> None:
    proc = blocked("check", "specs", "-f", "json", "-o", str(tmp_path))
    assert proc.returncode == 1, proc.stderr  # the example release is NO-GO either way
    results = json.loads((tmp_path / "gates-report.json").read_text(encoding="utf-8"))["gates"]
    assert "ModuleNotFoundError" not in json.dumps(results)
    kinds = [checks.REGISTRY.get(r["check"]) for r in results]  # None: a -VS-LOGGED gate
    assert sum(k is not None and bool(k.EXTRAS) for k in kinds) >= 20
    for r, kind in zip(results, kinds, strict=True):
        not_installed = re.search(
            r" (is|are) not installed: pip install 'albor-gates\[", r["message"]
        )
        skipped_for_extra = r["status"] == "SKIPPED" and bool(not_installed)
        assert skipped_for_extra == bool(kind and kind.EXTRAS), r


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("verify", "examples/albor-tiny-v1"), f"gates verify: {NO_TORCH}"),
        (
            ("export", "examples/albor-tiny-v1", "--quant", "q8_0", "-o", "x.gguf"),
            "gates export: torch, gguf are not installed: pip install 'albor-gates[model,gguf]'",
        ),
        (
            ("check", str(QUICKSTART), "-a", "best_epoch=hf://Qwen/Qwen2-0.5B"),
            "hf://Qwen/Qwen2-0.5B: huggingface_hub is not installed: pip install 'albor-gates[hub]'",
        ),
    ],
    ids=["verify", "export", "hub"],
)
def test_a_command_without_its_extra_is_one_usage_line(args: tuple[str, ...], line: str) -> None:
    proc = blocked(*args)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"gates: error: {line}\n"


def test_missing_reason_names_every_absent_extra_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from albor_gates import extras

    monkeypatch.setattr(extras, "_importable", lambda mod: mod not in ("torch", "gguf"))
    assert missing_reason(()) == ""
    assert missing_reason(("tokenizer",)) == ""
    assert missing_reason(("model",)) == NO_TORCH
    assert missing_reason(("tokenizer", "model", "gguf")) == (
        "torch, gguf are not installed: pip install 'albor-gates[model,gguf]'"
    )


def test_extras_are_the_optional_dependencies_of_pyproject() -> None:
    import tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    optional = meta["optional-dependencies"]
    assert set(optional) - {"all", "dev"} == set(EXTRAS)
    assert optional["all"] == [f"albor-gates[{','.join(EXTRAS)}]"]
    # dev installs every extra but llama, which `make llama` builds from a cached wheel
    assert optional["dev"][0] == f"albor-gates[{','.join(e for e in EXTRAS if e != 'llama')}]"
    core = " ".join(meta["dependencies"]).lower()
    assert not [d for e in EXTRAS.values() for _, d in e.modules if d.lower() in core]


def test_core_wheel_install(tmp_path: Path) -> None:
    """The wheel with its core dependencies only: no torch, and lint and check work."""
    try:
        core_wheels()
    except IndexUnreachable as e:
        pytest.skip(str(e))
    wheel = build_wheel(tmp_path / "dist")
    python = fresh_venv(tmp_path / "venv")
    pip(
        "install", "-q", "--no-index", "--find-links", str(core_wheels()), str(wheel), python=python
    )
    gates = python.parent / "gates"
    probe = subprocess.run([python, "-c", "import torch"], capture_output=True, text=True)
    assert "No module named 'torch'" in probe.stderr
    work = tmp_path / "work"
    work.mkdir()
    lint = subprocess.run([gates, "lint"], cwd=work, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stderr
    assert "spec files, " in lint.stdout and "gates: no problems" in lint.stdout
    check = subprocess.run(
        [gates, "check", str(QUICKSTART)], cwd=work, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    assert "Decision: WARN" in check.stdout
