"""infer.smoke — greedy generation looks like text (and, if asked, like Python).

For each prompt (default ``def fibonacci(n):``, the dogfood template's §2 prompt) the decoder
generates up to ``max_new_tokens`` greedily (temperature 0, seed 42) within a ``time_budget_s``
(30 s in the template; prompts are decoded 32 at a time, and a prompt's seconds run from its
batch's start to its own last token) and the output is judged by the output-verification rules of
``apr qa`` golden_output (GATES.md §3.1.4, in order): empty; garbage markers (U+FFFD,
``[UNK]``, ``akunji``, ``olumbia``); statistical gibberish (non-ASCII share > 60 %, a 4–16-byte
fragment repeated 3× in a row, U+FFFD density); null bytes; the ``expected`` pattern present.
With ``python: true`` the prompt + continuation must also be valid Python, allowing a cut at the
token limit (the longest-valid-leading-lines rule of AC-SHIP2-007).

Prompts come from ``prompts`` (a list) or the optional ``prompts`` artifact (JSONL with a
``prompt`` field, or a text file with one prompt per line). ``measure``: ``failures`` (prompts
that fail any rule or the time budget; default band ``eq: 0``), ``syntax_errors`` (AC-SHIP2-007:
``le: 1`` over 100 prompts), or ``seconds`` (the slowest generation). Outputs are kept in the
report so the document can quote them.

PASS: "0 of 1 prompts failed; 'def fibonacci(n):' → '\\n    if n < 2:\\n        return n ...'".
FAIL: a model degenerated into repeated tokens → "1 of 1 prompts failed: gibberish: the
fragment ' č' repeats 3× in a row".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks._decoder import environment_details, load_decoder, load_tokenizer
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "infer.smoke"
VERSION = 1
TITLE = "Greedy generation passes the output-verification rules (and Python validity)"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer", "prompts")
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model",)
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}
MAX_PROMPTS = 10_000
BATCH = 32  # prompts decoded together (one KV cache per batch)


class Params(CheckParams):
    """Options of infer.smoke."""

    prompts: list[str] = ["def fibonacci(n):"]
    max_new_tokens: int = Field(64, ge=1)
    time_budget_s: float = Field(30.0, gt=0)
    expected: str | None = None
    python: bool = False
    seed: int = 42
    max_prompts: int | None = Field(None, ge=1)
    measure: Literal["failures", "syntax_errors", "seconds"] = "failures"


def _prompts(ctx: Context, p: Params) -> list[str]:
    if not ctx.has("prompts"):
        return list(p.prompts)
    path: Path = ctx.path("prompts")
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if path.suffix in (".jsonl", ".ndjson"):
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    raise EvidenceError(f"{path}:{i}: invalid JSON: {e.msg}") from e
                if not isinstance(rec, dict) or not isinstance(rec.get("prompt"), str):
                    raise EvidenceError(f"{path}:{i}: no string field 'prompt'")
                out.append(rec["prompt"])
            else:
                out.append(line.rstrip("\n"))
            if len(out) >= MAX_PROMPTS:
                break
    if not out:
        raise EvidenceError(f"{path}: no prompts")
    return out


def generate_all(ctx: Context, p: Params) -> tuple[list[dict[str, Any]], Any]:
    """Generate and judge every prompt (cached for the run)."""
    model = load_decoder(ctx)
    tok = load_tokenizer(ctx)
    prompts = list(ctx.settings.prompts) or _prompts(ctx, p)
    if p.max_prompts:
        prompts = prompts[: p.max_prompts]
    max_new = ctx.settings.max_new_tokens or p.max_new_tokens

    def run(_path: Any) -> list[dict[str, Any]]:
        from albor_gates.model.distributed import is_distributed, map_sharded
        from albor_gates.model.generate import greedy_generate_batch

        report = ctx.progress("generation", float(len(prompts)))
        done = [0]

        def run_batch(batch: list[str]) -> list[dict[str, Any]]:
            # one KV cache per batch; each row decodes what it decodes alone
            results = greedy_generate_batch(
                model,
                batch,
                tokenizer=tok,
                max_new_tokens=max_new,
                time_budget_s=p.time_budget_s,
                seed=p.seed,
                batch_size=BATCH,
            )
            done[0] += len(batch)
            report(done[0], len(prompts))
            return [
                {
                    "prompt": prompt,
                    "text": g.text or "",
                    "new_tokens": g.new_tokens,
                    "seconds": round(g.wall_time_s, 3),
                    "stop_reason": g.stop_reason,
                }
                for prompt, g in zip(batch, results, strict=True)
            ]

        # under torchrun each rank decodes its round-robin share of the batches (batches small
        # enough that every rank gets one); every rank gets every row back, in prompt order
        world = 1
        if is_distributed():
            import torch.distributed as dist

            world = dist.get_world_size()
        size = max(1, min(BATCH, -(-len(prompts) // world)))
        batches = [prompts[at : at + size] for at in range(0, len(prompts), size)]
        return [row for part in map_sharded(batches, run_batch) for row in part]

    # generations are cached on what shapes them only, so gates that judge the same
    # continuations differently (gibberish rules, Python validity) generate once
    key = f"generate:{prompts}:{max_new}:{p.time_budget_s}:{p.seed}"
    generated = ctx.read("model", key, run)
    from albor_gates.model.textcheck import check_output, python_validity

    rows = []
    for g in generated:
        verdict = check_output(g["text"], p.expected)
        row = {k: v for k, v in g.items() if k != "text"}
        row.update(output=g["text"][:600], rule=verdict.rule, reason=verdict.reason)
        if p.python:
            pv = python_validity(g["prompt"] + g["text"])
            row["python"] = pv.status
            row["python_error"] = pv.error
        rows.append(row)
    return rows, model


def measure(ctx: Context, params: Params) -> Measurement:
    """Generate, judge, count."""
    rows, model = generate_all(ctx, params)
    failed = []
    for r in rows:
        reasons = []
        if r["rule"]:
            reasons.append(r["reason"])
        if r["stop_reason"] == "time_budget":
            reasons.append(f"over the {params.time_budget_s:g} s budget")
        if params.python and r.get("python") == "invalid":
            reasons.append(f"SyntaxError: {r['python_error']}")
        if reasons:
            failed.append((r, "; ".join(reasons)))
    syntax = sum(1 for r in rows if r.get("python") == "invalid")
    slowest = max(r["seconds"] for r in rows)
    first = rows[0]
    sample = f"{first['prompt']!r} → {first['output'][:80]!r}"
    details = {"outputs": rows[:20], "prompts": len(rows), **environment_details(model)}
    if params.measure == "syntax_errors":
        return Measurement(
            syntax,
            subject="prompts with a SyntaxError",
            summary=f"{syntax} of {len(rows)} continuations are not valid Python; {sample}",
            details=details,
        )
    if params.measure == "seconds":
        return Measurement(
            slowest, subject="slowest generation", unit="s", summary=sample, details=details
        )
    summary = f"{len(failed)} of {len(rows)} prompts failed"
    if failed:
        summary += f": {failed[0][1]}"
    summary += f"; {sample}"
    return Measurement(len(failed), subject="failed prompts", summary=summary, details=details)
