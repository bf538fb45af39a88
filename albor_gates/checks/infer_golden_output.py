"""infer.golden_output — ``apr qa`` golden_output: chat prompts through the model's own template.

GATES.md §3.1.2: each case's question is rendered through the model's chat template
(``tokenizer_config.json`` ``chat_template``, or ``chat_template.jinja`` beside it) exactly as
transformers' ``apply_chat_template(messages, add_generation_prompt=True)`` renders it, in a
bounded jinja2 sandbox (:mod:`albor_gates.model.chat`); the model answers greedily (temperature
0, top_k 1, seed 42, up to ``max_new_tokens``, 32 as in ``apr qa``), stopping at EOS and at the
template's end-of-turn marker (``<|im_end|>``, ``<|eot_id|>``: a stop token when it is one
token, else a stop string). ``<think>…</think>`` blocks are stripped (an unclosed one fails the
case: the model was still reasoning), then the §3.1.4 output verification runs in order: 1
non-empty; 2 literal garbage markers; 2.5 statistical gibberish; 3 null bytes; 4 one of the
case's ``expected`` texts present (case-insensitive).

Default cases (``apr qa``): "What is 2+2?" must contain "4"; "Hello" must contain one of Hello,
Hi, hey, hello, "!". ``system`` adds a system message first. When the run's device is CUDA the
cases run on the CPU first, then on the GPU (§3.1.2's two legs); a case fails if either leg fails.

The value is the number of failing cases (default band ``eq: 0``). The details list every case
and leg: the rendered prompt, the output, and which verification step failed.

A model without a chat template is SKIPPED with that reason (a required gate SKIPPED is NO-GO);
a template that fails, reaches for internals or runs past its bounds is an ERROR naming the file;
so is a tokenizer that cannot encode the rendered prompt.

PASS: "0 of 2 cases failed; 'What is 2+2?' → '2 + 2 = 4.'".
FAIL: a pretrain-only code model → "2 of 2 cases failed: 'What is 2+2?' (cpu): statistical
gibberish: the 4-byte fragment '#\\n#\\n' repeats 3 times in a row at byte 0; ...".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from albor_gates.checks import evidence
from albor_gates.checks._decoder import environment_details, load_decoder, load_tokenizer
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import CheckSkipped, EvidenceError

KIND = "infer.golden_output"
VERSION = 1
TITLE = "Greedy answers to chat prompts, rendered by the model's chat template, pass apr qa's rules"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("tokenizer",)
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model",)
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}
RULE_UNCLOSED_THINK = "unclosed_think"


class Case(CheckParams):
    """One golden-output question and the texts one of which the answer must contain."""

    prompt: str = Field(min_length=1)
    expected: list[str] = []


class Params(CheckParams):
    """Options of infer.golden_output."""

    cases: list[Case] = Field(
        default=[
            Case(prompt="What is 2+2?", expected=["4"]),
            Case(prompt="Hello", expected=["Hello", "Hi", "hey", "hello", "!"]),
        ],
        min_length=1,
    )
    max_new_tokens: int = Field(32, ge=1)
    system: str | None = None
    seed: int = 42


def _template(ctx: Context, role: str) -> tuple[str, Path, Mapping[str, str]]:
    """The chat template, the file it came from, and the named special tokens."""
    cfg = evidence.tokenizer_config(ctx, role)
    path = ctx.path(role)
    where = (path if path.is_dir() else path.parent) / "tokenizer_config.json"
    if cfg is None:
        raise CheckSkipped(f"no chat_template in tokenizer_config.json: {where} does not exist")
    if not cfg.chat_template or cfg.chat_template_path is None:
        raise CheckSkipped(
            f"no chat_template in tokenizer_config.json: {where} has no 'chat_template' key and "
            "no chat_template.jinja lies beside it (a base model without a chat format)"
        )
    return cfg.chat_template, cfg.chat_template_path, cfg.named_tokens


def _encode(tok: Any, text: str, where: str) -> list[int]:
    try:
        ids = list(tok.encode(text, add_special_tokens=False).ids)
    except Exception as e:  # tokenizers raises its own Exception subclass (no public type)
        detail = " ".join(str(e).split())[:200] or type(e).__name__
        raise EvidenceError(
            f"{where}: the tokenizer cannot encode the chat prompt {text[:80]!r} ({detail}); "
            "use the tokenizer the model was trained with"
        ) from e
    if not ids:
        raise EvidenceError(f"{where}: the tokenizer encodes the chat prompt {text[:80]!r} as []")
    return ids


def _legs(ctx: Context) -> list[tuple[str, str | None]]:
    """The devices to answer on: the run's device, after the CPU when that device is CUDA.

    Each is (name, ``load_decoder`` device); None is the run's own decoder, shared with the other
    model gates, so a CPU run loads the model once.
    """
    from albor_gates.model.device import resolve_device

    device = str(resolve_device(ctx.settings.requested_device))
    return [("cpu", "cpu"), (device, None)] if device.startswith("cuda") else [(device, None)]


def judge(text: str, expected: list[str]) -> tuple[str | None, str]:
    """Think-blocks stripped (an unclosed one fails), then §3.1.4 in order: (rule, reason)."""
    from albor_gates.model.textcheck import check_output, split_thinking

    answer, unclosed = split_thinking(text)
    if unclosed:
        return RULE_UNCLOSED_THINK, "an unclosed <think> block: the model was still reasoning"
    verdict = check_output(answer, expected)
    return verdict.rule, verdict.reason


def _answer(
    ctx: Context, p: Params, device: str | None, prompts: list[list[int]], marker: str | None
) -> tuple[list[dict[str, Any]], Mapping[str, Any]]:
    """Greedy answers on one device (stopped at EOS or the end of turn), and its environment."""
    from albor_gates.model.generate import greedy_generate_batch

    model = load_decoder(ctx, device=device)
    tok = load_tokenizer(ctx)
    stop_ids = list(model.config.eos_token_ids)
    marker_id = tok.token_to_id(marker) if marker else None
    if marker_id is not None:
        stop_ids.append(marker_id)
    strings = (marker,) if marker and marker_id is None else ()

    def run(_path: Path) -> list[dict[str, Any]]:
        results = greedy_generate_batch(
            model,
            prompts,
            tokenizer=tok,
            max_new_tokens=p.max_new_tokens,
            eos_token_ids=stop_ids,
            seed=p.seed,
            stop_strings=strings,
        )
        return [
            {"output": g.text or "", "new_tokens": g.new_tokens, "stop_reason": g.stop_reason}
            for g in results
        ]

    key = f"golden:{device}:{prompts}:{p.max_new_tokens}:{stop_ids}:{strings}:{p.seed}"
    return ctx.read("model", key, run), environment_details(model)


def measure(ctx: Context, params: Params) -> Measurement:
    """Render, answer on each leg, verify, count failing cases."""
    from albor_gates.model.chat import ChatTemplateError, end_of_turn, render_chat

    role = "tokenizer" if ctx.has("tokenizer") else "model"
    template, source, tokens = _template(ctx, role)
    tok = load_tokenizer(ctx)
    head = [{"role": "system", "content": params.system}] if params.system else []
    rendered = []
    for case in params.cases:
        messages = [*head, {"role": "user", "content": case.prompt}]
        try:
            text = render_chat(template, messages, tokens=tokens)
        except ChatTemplateError as e:
            raise EvidenceError(
                f"{source}: chat_template cannot be rendered: {e}; fix the template or use the "
                "one the model was trained with"
            ) from e
        rendered.append(text)
    where = str(ctx.path(role))
    prompts = [_encode(tok, text, where) for text in rendered]
    marker = end_of_turn(template, tokens)
    rows: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []  # a failing case's first failing leg
    answers = {leg: _answer(ctx, params, dev, prompts, marker) for leg, dev in _legs(ctx)}
    for i, case in enumerate(params.cases):
        case_failed: dict[str, Any] | None = None
        for leg, (outs, _env) in answers.items():
            out = outs[i]
            rule, reason = judge(out["output"], case.expected)
            row = {
                "prompt": case.prompt,
                "rendered": rendered[i],
                "expected": case.expected,
                "device": leg,
                "output": out["output"][:600],
                "new_tokens": out["new_tokens"],
                "stop_reason": out["stop_reason"],
                "verdict": "pass" if rule is None else "fail",
                "rule": rule,
                "reason": reason,
            }
            rows.append(row)
            if rule is not None and case_failed is None:
                case_failed = row
        if case_failed is not None:
            failed.append(case_failed)
    first = rows[0]
    sample = f"{first['prompt']!r} → {first['output'][:80]!r}"
    summary = f"{len(failed)} of {len(params.cases)} cases failed"
    if failed:
        summary += f": {failed[0]['prompt']!r} ({failed[0]['device']}): {failed[0]['reason']}"
    summary += f"; {sample}"
    details = {
        "cases": rows,
        "total_cases": len(params.cases),
        "legs": {leg: dict(env) for leg, (_outs, env) in answers.items()},
        "chat_template": str(source),
        "end_of_turn": marker,
        "max_new_tokens": params.max_new_tokens,
    }
    return Measurement(
        len(failed),
        subject="failed golden-output cases",
        summary=summary,
        details=details,
        fix="a chat model must answer its own template's prompts; a pretrain-only model is not "
        "expected to (keep the gate advisory for it)",
    )
