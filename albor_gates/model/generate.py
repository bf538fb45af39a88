"""Greedy decoding with the KV cache, for smoke generation (GATES.md §7.5, template gate 2).

Temperature 0: every step takes the arg-max token (ties → the lowest id, torch's ``argmax``),
so the output is a pure function of the weights and the prompt; the seed is still set and
recorded (``apr run ... --temperature 0.0 --seed 42``). Decoding stops at the first EOS id
(not included in the output), after ``max_new_tokens``, or when the wall-clock budget is spent
(checked after every token; the result says which). The batched path can also stop a row at a
stop string (see :func:`greedy_generate_batch`).

Lookup decoding (one prompt at a time): the tokens that followed the most recent earlier
occurrence of the text's last 3, 2 or 1 tokens — in the prompt or in what was generated — are
a guess at what comes next (prompt lookup, as transformers' ``prompt_lookup_num_tokens`` and
llama.cpp's ``lookup``). One forward over the last token and the guessed ones gives the model's
own arg-max after each; the guesses it agrees with are kept, and the first it does not agree
with is replaced by its own choice. Every kept token is the model's arg-max given the tokens
before it, so the output is greedy decoding's (a test holds the two equal on a trained model).
A step guesses one token, then twice as many after each step that kept its whole guess (up to
``lookup``), and one again after a step that did not: a decode step is bound by reading the
weights, so on a CPU a forward of 2 tokens costs what one of 1 does and one of 9 about twice —
a loop is decoded many tokens a step, while text that does not repeat costs no more than
one-token steps (benchmarks/bench_perf.py, row ``decode_lookup_humaneval``). When no n-gram
recurs, the step is the plain one-token step.

Timing: the time to first token (TTFT) covers the prompt's prefill and the first arg-max; each
later token's latency is one cached decode step. On CUDA every token's arg-max is copied to the
host, which synchronises the device, so the latencies are real.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from albor_gates.errors import UsageError
from albor_gates.model.device import synchronize

if TYPE_CHECKING:
    from albor_gates.model.decoder import DecoderModel

STOP_EOS = "eos"
STOP_MAX_TOKENS = "max_new_tokens"
STOP_TIME_BUDGET = "time_budget"
STOP_STRING = "stop_string"
LOOKUP_TOKENS = 16  # guessed tokens per lookup step, at most
LOOKUP_NGRAM = 3  # longest recurring tail searched for


@dataclass(frozen=True)
class GenerationResult:
    """One greedy generation.

    Attributes:
        prompt_ids: the prompt's token ids.
        token_ids: generated ids (EOS excluded; with stop strings, up to the token that completed
            one).
        text: ``token_ids`` decoded with the tokenizer (special tokens kept), or None without
            a tokenizer; with stop strings, cut where the first of them starts.
        stop_reason: ``"eos"``, ``"max_new_tokens"``, ``"time_budget"`` or ``"stop_string"``.
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
    lookup: int = LOOKUP_TOKENS,
) -> GenerationResult:
    """Greedy (temperature 0) decoding of one prompt with the KV cache.

    Args:
        model: the decoder.
        prompt: text (needs ``tokenizer``) or token ids.
        tokenizer: a ``tokenizers.Tokenizer``, used to encode a text prompt and decode output.
        max_new_tokens: upper bound on generated tokens.
        eos_token_ids: ids that stop decoding; None → the config's ``eos_token_id``.
        ignore_eos: never stop on EOS (benchmarks generate a fixed count).
        time_budget_s: stop once this many seconds have passed (None → no budget).
        seed: torch seed set before decoding (recorded; greedy does not sample).
        lookup: most draft tokens per lookup step (see the module); 0 → one token per forward.

    Returns:
        The :class:`GenerationResult`.

    Raises:
        UsageError: bad arguments, or prompt + new tokens beyond ``max_position_embeddings``.
    """
    return greedy_generate_batch(
        model,
        [prompt],
        tokenizer=tokenizer,
        max_new_tokens=max_new_tokens,
        eos_token_ids=eos_token_ids,
        ignore_eos=ignore_eos,
        time_budget_s=time_budget_s,
        seed=seed,
        lookup=lookup,
    )[0]


def greedy_generate_batch(
    model: DecoderModel,
    prompts: Sequence[str | Sequence[int]],
    *,
    tokenizer: Any = None,
    max_new_tokens: int = 64,
    eos_token_ids: Sequence[int] | None = None,
    ignore_eos: bool = False,
    time_budget_s: float | None = None,
    seed: int = 42,
    batch_size: int = 32,
    stop_strings: Sequence[str] = (),
    lookup: int = LOOKUP_TOKENS,
) -> list[GenerationResult]:
    """Greedy decoding of many prompts, ``batch_size`` at a time, one KV cache per batch.

    Prompts are grouped by length (less padding) and left-padded; each row's positions start
    at 0 after its pad and no query attends to a pad slot, so a row decodes what it decodes
    alone (a test holds the outputs equal to one-at-a-time decoding on a trained model). A row
    stops on its own EOS, token count or budget; finished rows leave the batch and the cache.
    A row's ``wall_time_s`` runs from its batch's start to its own stop, and the time budget
    applies to that span, as it would to the row decoded alone.

    Stop strings (HumanEval's ``"\\ndef"``, a chat template's multi-token end of turn): after each
    token a row decodes only its last few tokens (as many as the longest stop string has UTF-8
    bytes, plus 4: every token adds at least one byte, so a stop string completed by this token
    lies in that tail) and leaves the batch once a stop string occurs there. Its ``token_ids``
    keep every token generated (the cost was paid), and its ``text`` is cut where the first stop
    string starts — the text one-at-a-time decoding gives, cut at its first stop string (a test
    holds the two equal on a trained model).

    Args:
        model: the decoder.
        prompts: texts (need ``tokenizer``) or token-id lists.
        tokenizer: see :func:`greedy_generate`.
        max_new_tokens: upper bound on generated tokens per prompt.
        eos_token_ids: see :func:`greedy_generate`.
        ignore_eos: see :func:`greedy_generate`.
        time_budget_s: per-row budget, see above.
        seed: see :func:`greedy_generate`.
        batch_size: rows decoded together.
        stop_strings: texts that end a row (need ``tokenizer``); empty → none.
        lookup: see :func:`greedy_generate` (a batch of one row uses it).

    Returns:
        One :class:`GenerationResult` per prompt, in the order given.

    Raises:
        UsageError: bad arguments, or a prompt + new tokens beyond ``max_position_embeddings``.
    """
    if max_new_tokens < 1:
        raise UsageError(f"max_new_tokens must be ≥ 1, got {max_new_tokens}")
    if time_budget_s is not None and not time_budget_s > 0:
        raise UsageError(f"time budget must be positive, got {time_budget_s}")
    if batch_size < 1:
        raise UsageError(f"batch_size must be ≥ 1, got {batch_size}")
    if lookup < 0:
        raise UsageError(f"lookup must be ≥ 0 draft tokens, got {lookup}")
    stop_strings = tuple(s for s in stop_strings if s)
    if stop_strings and tokenizer is None:
        raise UsageError("stop strings need a tokenizer to decode the generated text")
    stopped = _stop_check(tokenizer, stop_strings) if stop_strings else None
    if getattr(model, "engine", "reference") != "reference":
        batch_size = 1  # the transformers engine (model/hf_engine.py) has no left-padded forward
        lookup = 0  # nor a cache that can be cut back
    encoded = [encode_prompt(p, tokenizer) for p in prompts]
    cfg = model.config
    for ids in encoded:
        total = len(ids) + max_new_tokens
        if total > cfg.max_position_embeddings:
            raise UsageError(
                f"prompt ({len(ids)} tokens) + max_new_tokens ({max_new_tokens}) = {total} "
                f"exceeds max_position_embeddings {cfg.max_position_embeddings} ({cfg.source})"
            )
    stops = set(cfg.eos_token_ids if eos_token_ids is None else eos_token_ids)
    if ignore_eos:
        stops = set()
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    results: dict[int, GenerationResult] = {}
    for at in range(0, len(order), batch_size):
        rows = order[at : at + batch_size]
        args = (max_new_tokens, stops, time_budget_s, seed, stopped)
        if len(rows) == 1 and lookup:
            batch = [_decode_lookup(model, encoded[rows[0]], *args, lookup)]
        else:
            batch = _decode_batch(model, [encoded[i] for i in rows], *args)
        for i, (out, reason, latencies, wall) in zip(rows, batch, strict=True):
            text = None if tokenizer is None else tokenizer.decode(out, skip_special_tokens=False)
            if text is not None and stop_strings:
                text = cut_at_stop(text, stop_strings)
            results[i] = GenerationResult(
                prompt_ids=tuple(encoded[i]),
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
    return [results[i] for i in range(len(encoded))]


def cut_at_stop(text: str, stop_strings: Sequence[str]) -> str:
    """``text`` up to where the first of ``stop_strings`` starts (whole when none occurs)."""
    cut = min((i for s in stop_strings if s and (i := text.find(s)) >= 0), default=-1)
    return text if cut < 0 else text[:cut]


def _stop_check(tokenizer: Any, stop_strings: tuple[str, ...]) -> Callable[[list[int]], bool]:
    """Whether a row's tokens end in text holding a stop string (decoding only their tail)."""
    window = max(len(s.encode("utf-8")) for s in stop_strings) + 4

    def stopped(ids: list[int]) -> bool:
        tail = tokenizer.decode(ids[-window:], skip_special_tokens=False)
        return any(s in tail for s in stop_strings)

    return stopped


def _decode_batch(
    model: DecoderModel,
    prompts: list[list[int]],
    max_new_tokens: int,
    stops: set[int],
    time_budget_s: float | None,
    seed: int,
    stopped: Callable[[list[int]], bool] | None = None,
) -> list[tuple[list[int], str, list[float], float]]:
    """Decode one left-padded batch: per row (tokens, stop reason, latencies, wall seconds)."""
    import torch

    width = max(len(p) for p in prompts)
    pad = torch.tensor([width - len(p) for p in prompts], dtype=torch.long)
    # an unpadded batch (one prompt, or prompts of one length) takes the plain forward, which
    # every engine has; the transformers engine (model/hf_engine.py) has no left-padded one
    padded = bool(pad.any())
    # pad slots hold id 0 (any valid id: they are masked out of every attention)
    step_input = torch.tensor([[0] * (width - len(p)) + p for p in prompts], dtype=torch.long)
    torch.manual_seed(seed)
    cache = model.new_cache(len(prompts), width + max_new_tokens)
    outs: list[list[int]] = [[] for _ in prompts]
    latencies: list[list[float]] = [[] for _ in prompts]
    done: list[tuple[str, float] | None] = [None] * len(prompts)
    active = list(range(len(prompts)))  # batch row → prompt index
    synchronize(model.device)
    start = time.perf_counter()
    last = start
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            kw = {"left_pad": pad} if padded else {}
            hidden = model.hidden_states(step_input, cache, **kw)
            nxt = model.project(hidden[:, -1]).argmax(dim=-1)
            tokens = nxt.tolist()  # host copy: synchronises the device
            now = time.perf_counter()
            keep: list[int] = []
            for row, (i, token) in enumerate(zip(active, tokens, strict=True)):
                latencies[i].append(now - last)
                if token in stops:
                    done[i] = (STOP_EOS, now - start)
                    continue
                outs[i].append(token)
                if stopped is not None and stopped(outs[i]):
                    done[i] = (STOP_STRING, now - start)
                    continue
                if time_budget_s is not None and now - start >= time_budget_s:
                    done[i] = (STOP_TIME_BUDGET, now - start)
                    continue
                keep.append(row)
            last = now
            if not keep:
                break
            if len(keep) < len(active):
                rows = torch.tensor(keep, dtype=torch.long)
                cache.select(rows.to(model.device))
                pad, nxt = pad[rows], nxt[rows.to(nxt.device)]
                active = [active[r] for r in keep]
            step_input = nxt.view(-1, 1)
    wall = time.perf_counter() - start
    ends = [d or (STOP_MAX_TOKENS, wall) for d in done]
    return [(outs[i], ends[i][0], latencies[i], ends[i][1]) for i in range(len(prompts))]


class _Recurrence:
    """For a growing token list: where its last n tokens (n = 3, 2, 1) last occurred before."""

    def __init__(self) -> None:
        self.tokens: list[int] = []
        # n-gram → (end of its latest occurrence, end of the one before it)
        self._ends: dict[tuple[int, ...], tuple[int, int]] = {}

    def extend(self, tokens: Sequence[int]) -> None:
        for token in tokens:
            self.tokens.append(token)
            end = len(self.tokens)
            for n in range(1, min(LOOKUP_NGRAM, end) + 1):
                key = tuple(self.tokens[end - n : end])
                self._ends[key] = (end, self._ends.get(key, (-1, -1))[0])

    def guess(self, count: int) -> list[int]:
        """Up to ``count`` tokens that followed the latest earlier occurrence of the tail."""
        end = len(self.tokens)
        for n in range(min(LOOKUP_NGRAM, end - 1), 0, -1):
            latest, before = self._ends.get(tuple(self.tokens[end - n :]), (-1, -1))
            at = before if latest == end else latest
            if at > 0:
                # copied as LZ77 copies: a span that runs into the tail goes on from what it
                # just copied (a loop of period p guesses p tokens ahead, then more)
                guess = self.tokens[at : at + count]
                while len(guess) < count:
                    guess.append(guess[len(guess) - (end - at)])
                return guess
        return []


def lookup_steps(
    step: Callable[[list[int], list[int], int], list[int]],
    prompt: list[int],
    max_new_tokens: int,
    lookup: int,
) -> Iterator[list[int]]:
    """The lookup schedule (see the module), around any next-token oracle; yields kept tokens.

    Args:
        step: ``step(inputs, guess, position)`` → the arg-max after each of ``inputs + guess``'s
            last ``len(guess) + 1`` tokens, where ``inputs`` start at ``position`` (everything
            before it was fed already; a KV cache is cut back to ``position`` first).
        prompt: the prompt's ids (the first step's ``inputs``).
        max_new_tokens: no guess runs past this many new tokens.
        lookup: most guessed tokens per step (≥ 1).

    Yields:
        Per step, the tokens it produced (the kept guesses, then the model's own next token);
        endless: the caller stops when it has enough.
    """
    seen = _Recurrence()
    seen.extend(prompt)
    inputs, budget, produced = prompt, 1, 0
    while True:
        left = max_new_tokens - produced
        guess = seen.guess(min(budget, left - 1)) if produced else []
        picks = step(inputs, guess, len(seen.tokens) - len(inputs))
        kept = 0  # guesses the model agrees with
        while kept < len(guess) and guess[kept] == picks[kept]:
            kept += 1
        if guess:  # twice the guess while it is kept whole, one token again once it is not
            budget = min(lookup, 2 * budget) if kept == len(guess) else 1
        new = picks[: kept + 1]
        yield new
        produced += len(new)
        seen.extend(new)
        inputs = new[-1:]


def _decode_lookup(
    model: DecoderModel,
    prompt: list[int],
    max_new_tokens: int,
    stops: set[int],
    time_budget_s: float | None,
    seed: int,
    stopped: Callable[[list[int]], bool] | None,
    lookup: int,
) -> tuple[list[int], str, list[float], float]:
    """Decode one prompt with lookup steps (see the module): (tokens, reason, latencies, wall).

    A step's time is shared evenly by the tokens it kept (each is one entry of the latencies).
    """
    import torch

    torch.manual_seed(seed)
    cache = model.new_cache(1, len(prompt) + max_new_tokens + lookup)

    def step(inputs: list[int], guess: list[int], position: int) -> list[int]:
        cache.length = position  # what an earlier step fed past its kept guesses is dropped
        hidden = model.hidden_states(torch.tensor([inputs + guess]), cache)
        picks: list[int] = model.project(hidden[0, -1 - len(guess) :]).argmax(dim=-1).tolist()
        return picks

    out: list[int] = []
    latencies: list[float] = []
    synchronize(model.device)
    start = time.perf_counter()
    last = start
    with torch.inference_mode():
        for new in lookup_steps(step, prompt, max_new_tokens, lookup):
            now = time.perf_counter()
            share = (now - last) / len(new)
            last = now
            for token in new:
                latencies.append(share)
                if token in stops:
                    return out, STOP_EOS, latencies, now - start
                out.append(token)
                if stopped is not None and stopped(out):
                    return out, STOP_STRING, latencies, now - start
                if time_budget_s is not None and now - start >= time_budget_s:
                    return out, STOP_TIME_BUDGET, latencies, now - start
                if len(out) == max_new_tokens:
                    return out, STOP_MAX_TOKENS, latencies, now - start
    raise AssertionError("unreachable: lookup_steps is endless")  # pragma: no cover
