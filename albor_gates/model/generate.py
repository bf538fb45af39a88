"""Greedy decoding with the KV cache, for smoke generation (GATES.md §7.5, template gate 2).

Temperature 0: every step takes the arg-max token (ties → the lowest id, torch's ``argmax``),
so the output is a pure function of the weights and the prompt; the seed is still set and
recorded (``apr run ... --temperature 0.0 --seed 42``). Decoding stops at the first EOS id
(not included in the output), after ``max_new_tokens``, or when the wall-clock budget is spent
(checked after every token; the result says which).

Timing: the time to first token (TTFT) covers the prompt's prefill and the first arg-max; each
later token's latency is one cached decode step. On CUDA every token's arg-max is copied to the
host, which synchronises the device, so the latencies are real.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from albor_gates.errors import UsageError
from albor_gates.model.device import synchronize

if TYPE_CHECKING:
    from albor_gates.model.decoder import DecoderModel

STOP_EOS = "eos"
STOP_MAX_TOKENS = "max_new_tokens"
STOP_TIME_BUDGET = "time_budget"


@dataclass(frozen=True)
class GenerationResult:
    """One greedy generation.

    Attributes:
        prompt_ids: the prompt's token ids.
        token_ids: generated ids (EOS excluded).
        text: ``token_ids`` decoded with the tokenizer (special tokens kept), or None without
            a tokenizer.
        stop_reason: ``"eos"``, ``"max_new_tokens"`` or ``"time_budget"``.
        ttft_s: seconds from the start to the first generated token.
        token_latencies_s: seconds per generated token; the first entry is ``ttft_s``.
        wall_time_s: seconds for the whole generation.
        seed: the torch seed set before decoding.
        device: torch device string.
        dtype: compute dtype name.
    """

    prompt_ids: tuple[int, ...]
    token_ids: tuple[int, ...]
    text: str | None
    stop_reason: str
    ttft_s: float
    token_latencies_s: tuple[float, ...]
    wall_time_s: float
    seed: int
    device: str
    dtype: str

    @property
    def new_tokens(self) -> int:
        """Number of generated tokens."""
        return len(self.token_ids)


def encode_prompt(prompt: str | Sequence[int], tokenizer: Any) -> list[int]:
    """Token ids of a prompt given as text (needs a tokenizer) or as ids.

    Args:
        prompt: text or token ids.
        tokenizer: a ``tokenizers.Tokenizer`` (for text prompts).

    Returns:
        The ids.

    Raises:
        UsageError: text without a tokenizer, or an empty prompt.
    """
    if isinstance(prompt, str):
        if tokenizer is None:
            raise UsageError("a text prompt needs a tokenizer (tokenizer.json)")
        ids = list(tokenizer.encode(prompt, add_special_tokens=False).ids)
    else:
        ids = [int(i) for i in prompt]
    if not ids:
        raise UsageError("the prompt is empty: greedy decoding needs at least one token")
    return ids


def greedy_generate(
    model: DecoderModel,
    prompt: str | Sequence[int],
    *,
    tokenizer: Any = None,
    max_new_tokens: int = 64,
    eos_token_ids: Sequence[int] | None = None,
    ignore_eos: bool = False,
    time_budget_s: float | None = None,
    seed: int = 42,
) -> GenerationResult:
    """Greedy (temperature 0) decoding with the KV cache.

    Args:
        model: the decoder.
        prompt: text (needs ``tokenizer``) or token ids.
        tokenizer: a ``tokenizers.Tokenizer``, used to encode a text prompt and decode output.
        max_new_tokens: upper bound on generated tokens.
        eos_token_ids: ids that stop decoding; None → the config's ``eos_token_id``.
        ignore_eos: never stop on EOS (benchmarks generate a fixed count).
        time_budget_s: stop once this many seconds have passed (None → no budget).
        seed: torch seed set before decoding (recorded; greedy does not sample).

    Returns:
        The :class:`GenerationResult`.

    Raises:
        UsageError: bad arguments, or prompt + new tokens beyond ``max_position_embeddings``.
    """
    import torch

    if max_new_tokens < 1:
        raise UsageError(f"max_new_tokens must be ≥ 1, got {max_new_tokens}")
    if time_budget_s is not None and not time_budget_s > 0:
        raise UsageError(f"time budget must be positive, got {time_budget_s}")
    ids = encode_prompt(prompt, tokenizer)
    cfg = model.config
    total = len(ids) + max_new_tokens
    if total > cfg.max_position_embeddings:
        raise UsageError(
            f"prompt ({len(ids)} tokens) + max_new_tokens ({max_new_tokens}) = {total} exceeds "
            f"max_position_embeddings {cfg.max_position_embeddings} ({cfg.source})"
        )
    stops = set(cfg.eos_token_ids if eos_token_ids is None else eos_token_ids)
    if ignore_eos:
        stops = set()
    torch.manual_seed(seed)
    cache = model.new_cache(1, total)
    out: list[int] = []
    latencies: list[float] = []
    reason = STOP_MAX_TOKENS
    synchronize(model.device)
    start = time.perf_counter()
    last = start
    step_input = torch.tensor([ids], dtype=torch.long)
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            hidden = model.hidden_states(step_input, cache)
            logits = model.project(hidden[:, -1])
            nxt = logits.argmax(dim=-1)
            token = int(nxt.item())  # host copy: synchronises the device
            now = time.perf_counter()
            latencies.append(now - last)
            last = now
            if token in stops:
                reason = STOP_EOS
                break
            out.append(token)
            if time_budget_s is not None and now - start >= time_budget_s:
                reason = STOP_TIME_BUDGET
                break
            step_input = nxt.view(1, 1)
    wall = time.perf_counter() - start
    text = tokenizer.decode(out, skip_special_tokens=False) if tokenizer is not None else None
    return GenerationResult(
        prompt_ids=tuple(ids),
        token_ids=tuple(out),
        text=text,
        stop_reason=reason,
        ttft_s=latencies[0],
        token_latencies_s=tuple(latencies),
        wall_time_s=wall,
        seed=seed,
        device=str(model.device),
        dtype=str(model.dtype).removeprefix("torch."),
    )
