"""The llama.cpp generation engine: stop handling, the context rule, the child's failures.

The GGUF is the bundled example (examples/albor-tiny-v1) exported to Q8_0: llama.cpp runs it in
well under a second, and its greedy text loops on a few fragments, which gives stop sequences
something to find. Each test compares llama.cpp with itself (stopped vs unstopped), so no
expected text is written down.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from albor_gates.errors import CheckSkipped, EvidenceError
from albor_gates.model import llama_engine
from albor_gates.model.llama_engine import complete

REPO = Path(__file__).resolve().parents[2]
LLAMA = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed (pip install 'albor-gates[llama]')",
)


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch", reason="the exporter needs torch")
    from albor_gates.formats.gguf_export import export_gguf

    dst = tmp_path_factory.mktemp("llama") / "albor-tiny-q8_0.gguf"
    return export_gguf(REPO / "examples" / "albor-tiny-v1", dst, "q8_0").path


@LLAMA
def test_a_stop_sequence_ends_the_text_before_it_and_max_tokens_ends_the_rest(
    tiny_gguf: Path,
) -> None:
    prompts = ["import os\n", "def fibonacci(n):"]
    seen: list[tuple[float, float]] = []
    free = complete(
        tiny_gguf, prompts, max_tokens=24, threads=1, progress=lambda d, n: seen.append((d, n))
    )
    assert free.ended is None and seen == [(1, 2), (2, 2)]
    assert [c.stop_reason for c in free.completions] == ["max_tokens", "max_tokens"]
    assert [c.new_tokens for c in free.completions] == [24, 24]
    text = free.completions[0].text
    stop = "\nimport"
    assert stop in text, text  # the example loops on "import sys\n"
    cut = complete(tiny_gguf, prompts[:1], max_tokens=24, threads=1, stop=[stop, "\nnever"])
    (c,) = cut.completions
    assert (c.text, c.stop_reason) == (text[: text.index(stop)], "stop")
    assert c.new_tokens < 24


@LLAMA
def test_a_prompt_that_does_not_fit_the_context_is_not_generated(tiny_gguf: Path) -> None:
    run = complete(tiny_gguf, ["x = 1\n" * 200, "y = 2\n"], max_tokens=8, n_ctx=256, threads=1)
    long, short = run.completions
    assert run.n_ctx == 256 and run.ended is None
    assert (long.text, long.new_tokens, long.stop_reason) == ("", 0, "context")
    assert long.prompt_tokens + 8 > 256
    assert short.stop_reason in ("stop", "max_tokens") and short.new_tokens > 0


@LLAMA
def test_the_time_budget_stops_a_completion(tiny_gguf: Path) -> None:
    run = complete(tiny_gguf, ["import os\n"], max_tokens=200, time_budget_s=0.0, threads=1)
    (c,) = run.completions
    assert c.stop_reason == "time_budget" and c.new_tokens < 200


@LLAMA
def test_a_file_llama_cpp_refuses_is_an_evidence_error_with_its_log_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(EvidenceError) as e:
        complete(bad, ["a"], max_tokens=1)
    assert str(e.value).startswith("llama.cpp cannot load bad.gguf: ")
    assert "\n" not in str(e.value)


@LLAMA
def test_a_child_that_dies_mid_run_keeps_what_it_finished(
    tiny_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real child, made to abort (as llama.cpp does on a hostile file) after one prompt.
    child = llama_engine._CHILD.replace(
        "for i, prompt in enumerate", "import os\nfor i, prompt in enumerate"
    ).replace(
        '"seconds": round(time.monotonic() - t0, 3),\n    })', '"seconds": 0})\n    os.abort()'
    )
    assert "os.abort()" in child
    monkeypatch.setattr(llama_engine, "_CHILD", child)
    run = complete(tiny_gguf, ["import os\n", "def f():"], max_tokens=4, threads=1)
    assert len(run.completions) == 1
    assert run.ended == "llama.cpp killed by SIGABRT after 1 of 2 prompts"


def test_without_llama_cpp_python_the_engine_skips_with_the_pip_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *a: Any, **k: Any) -> Any:
        return None if name == "llama_cpp" else real(name, *a, **k)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(CheckSkipped) as e:
        complete(tmp_path / "any.gguf", ["a"], max_tokens=1)
    assert str(e.value) == (
        "llama-cpp-python is not installed: pip install 'albor-gates[llama]' (llama-cpp-python; "
        "it compiles llama.cpp from source with cmake and a C++ compiler: about 7 minutes on 2 "
        "cores, or install a prebuilt wheel with --find-links)"
    )
