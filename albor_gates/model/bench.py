"""Decode throughput (AC-SHIP2-010, template gate 3, ``apr qa`` throughput; GATES.md §7.5).

Procedure: ``warmup`` untimed generations, then ``runs`` timed greedy generations of exactly
``new_tokens`` tokens each (EOS ignored, so every run decodes the same count) from the same
prompt, each with a fresh KV cache.

Figures:

* ``tokens_per_s`` of a run = ``new_tokens / wall time`` of that run, prefill included (the
  conservative reading of "decode throughput"); ``median_tokens_per_s`` is the median over
  runs; ``decode_tokens_per_s`` excludes the first token (``(n − 1) / (wall − TTFT)``).
* ``ttft_s``: median time to first token.
* ``latency_p50_s`` / ``latency_p99_s``: percentiles (numpy ``linear`` method) of the per-token
  latencies of all cached decode steps of all timed runs (the first token of each run, which
  includes the prefill, is excluded); ``p99_p50_ratio`` is their quotient.
* ``cv``: coefficient of variation of the per-run tokens/s (sample standard deviation / mean;
  0 for a single run).

The device is part of the measurement: ``device_type`` and ``device_name`` say what produced
the figure. A criterion the seed states for a GPU (template ≥ 200 tok/s on an RTX 4090,
AC-SHIP2-010 ≥ 100 tok/s) is not discharged by a CPU figure — the judging layer must treat a
CPU measurement of a GPU criterion as not applicable (SKIPPED / not discharged), never as a
PASS or a FAIL of that criterion.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from albor_gates.errors import UsageError
from albor_gates.model.device import environment
from albor_gates.model.generate import encode_prompt, greedy_generate

if TYPE_CHECKING:
    from albor_gates.model.decoder import DecoderModel

MIN_NEW_TOKENS = 128  # AC-SHIP2-010: "≥ 128 decoded tokens"


@dataclass(frozen=True)
class ThroughputResult:
    """A decode-throughput measurement (never a verdict).

    Attributes:
        median_tokens_per_s: median over runs of ``new_tokens / run wall time``.
        tokens_per_s_runs: per-run tokens/s, in run order.
        decode_tokens_per_s: median over runs of ``(n − 1) / (wall − TTFT)``.
        ttft_s: median time to first token.
        latency_p50_s: median per-token decode latency.
        latency_p99_s: 99th-percentile per-token decode latency.
        p99_p50_ratio: ``latency_p99_s / latency_p50_s``.
        cv: coefficient of variation of ``tokens_per_s_runs``.
        runs: timed runs.
        warmup: untimed runs before them.
        new_tokens: tokens generated per run.
        prompt_tokens: prompt length.
        device: torch device string.
        device_type: ``cpu`` / ``cuda`` / ``mps``.
        device_name: GPU or CPU model name.
        dtype: compute dtype name.
    """

    median_tokens_per_s: float
    tokens_per_s_runs: tuple[float, ...]
    decode_tokens_per_s: float
    ttft_s: float
    latency_p50_s: float
    latency_p99_s: float
    p99_p50_ratio: float
    cv: float
    runs: int
    warmup: int
    new_tokens: int
    prompt_tokens: int
    device: str
    device_type: str
    device_name: str
    dtype: str


def measure_throughput(
    model: DecoderModel,
    prompt: str | Sequence[int],
    *,
    tokenizer: Any = None,
    new_tokens: int = MIN_NEW_TOKENS,
    runs: int = 3,
    warmup: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ThroughputResult:
    """Median decode throughput over ``runs`` greedy generations (procedure in module doc).

    Args:
        model: the decoder.
        prompt: text (needs ``tokenizer``) or token ids.
        tokenizer: a ``tokenizers.Tokenizer`` for a text prompt.
        new_tokens: tokens per run (≥ 128 for AC-SHIP2-010; smaller values are measured but
            the caller should not use them for that criterion).
        runs: timed runs (≥ 1).
        warmup: untimed runs first (≥ 0).
        progress: called as ``progress(done, total)`` after each run (warmup included).

    Returns:
        The :class:`ThroughputResult`.

    Raises:
        UsageError: bad counts, or a generation longer than the model's positions.
    """
    import numpy as np

    if runs < 1 or warmup < 0 or new_tokens < 2:
        raise UsageError(
            f"throughput needs runs ≥ 1, warmup ≥ 0 and new_tokens ≥ 2 (got {runs}, {warmup}, "
            f"{new_tokens})"
        )
    ids = encode_prompt(prompt, tokenizer)
    total = warmup + runs
    tps: list[float] = []
    decode_tps: list[float] = []
    ttfts: list[float] = []
    steps: list[float] = []
    for i in range(total):
        # lookup=0: a throughput figure is the model's own step rate, one token per forward
        # (lookup steps would make it a function of how repetitive the text is)
        res = greedy_generate(model, ids, max_new_tokens=new_tokens, ignore_eos=True, lookup=0)
        if i >= warmup:
            tps.append(res.new_tokens / res.wall_time_s)
            decode_tps.append((res.new_tokens - 1) / max(res.wall_time_s - res.ttft_s, 1e-12))
            ttfts.append(res.ttft_s)
            steps.extend(res.token_latencies_s[1:])
        if progress is not None:
            progress(i + 1, total)
    arr = np.asarray(steps, dtype=np.float64)
    p50 = float(np.percentile(arr, 50))
    p99 = float(np.percentile(arr, 99))
    mean = statistics.fmean(tps)
    cv = statistics.stdev(tps) / mean if len(tps) > 1 and mean > 0 else 0.0
    env = environment(model.device)
    return ThroughputResult(
        median_tokens_per_s=float(statistics.median(tps)),
        tokens_per_s_runs=tuple(tps),
        decode_tokens_per_s=float(statistics.median(decode_tps)),
        ttft_s=float(statistics.median(ttfts)),
        latency_p50_s=p50,
        latency_p99_s=p99,
        p99_p50_ratio=p99 / p50 if p50 > 0 else math.inf,
        cv=cv,
        runs=runs,
        warmup=warmup,
        new_tokens=new_tokens,
        prompt_tokens=len(ids),
        device=str(model.device),
        device_type=model.device.type,
        device_name=env.device_name,
        dtype=str(model.dtype).removeprefix("torch."),
    )
