"""Validation loss: mean next-token cross-entropy (nats), perplexity and bits per byte.

How it is computed (AC-SHIP2-003, DESIGN.md "The model checker"):

1. Windows (:mod:`albor_gates.model.tokens`) are run through the decoder ``batch_size`` at a
   time, giving final-normed hidden states ``[B, T, H]`` in the compute dtype.
2. The vocabulary projection and the loss are computed ``chunk_size`` rows of the flattened
   ``B·T`` positions at a time: logits ``[chunk, vocab]`` are projected, cast to fp32, turned into
   per-row cross-entropy, and the rows are summed in fp64. ``B × T × vocab`` logits are never
   materialised (albor's vocab is 151,936: 8 × 512 positions would be 2.5 GB of fp32 logits;
   a 512-row chunk is 311 MB, reused).
   In a 16-bit compute dtype the projection is fused with the loss instead: ``VOCAB_BLOCK``
   vocabulary rows at a time, an online log-sum-exp (running maximum and rescaled sum in fp32,
   as flash attention keeps its softmax) and the target's logit picked from its block, so the
   ``[chunk, vocab]`` logits are never written at all — in bf16 on a CPU the projection's output
   and its fp32 copy, not its FLOPs, were the cost (benchmarks/bench_perf.py). Each logit is
   the same bf16 value the unfused path rounds (a test holds the two equal to 1e-6); fp32
   keeps the one-pass form above, the equality oracle against transformers.
3. ``loss = loss_sum / token_count``; ``perplexity = exp(loss)``; when the source carries
   per-token byte counts, ``bits_per_byte = loss_sum / (ln 2 · scored_bytes)``.

The result also carries the raw ``(loss_sum, token_count)`` pair so shards can be combined
exactly (:mod:`albor_gates.model.distributed`).

Interruption: KeyboardInterrupt is never caught here; it surfaces between torch ops (each at
most one chunk projection, well under a second for a 512-row chunk on this CPU) and propagates
to the caller, which must not write a report that reads as complete.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from albor_gates.errors import UsageError
from albor_gates.model.device import synchronize
from albor_gates.model.tokens import IGNORE_INDEX, TokenWindows

if TYPE_CHECKING:
    import torch

    from albor_gates.model.decoder import DecoderModel

DEFAULT_CHUNK_SIZE = 512
VOCAB_BLOCK = 2048  # vocabulary rows per fused block: a 512 × 2048 fp32 block is 4 MiB
DEFAULT_BATCH_SIZE = 8


@dataclass(frozen=True)
class Progress:
    """Progress of an evaluation, passed to the callback after every batch.

    Attributes:
        windows_done: windows finished (this rank).
        windows_total: windows to do (this rank).
        tokens_done: targets scored so far.
        elapsed_s: seconds since the evaluation started.
    """

    windows_done: int
    windows_total: int
    tokens_done: int
    elapsed_s: float

    @property
    def eta_s(self) -> float | None:
        """Estimated seconds left (None before the first batch finishes)."""
        if self.windows_done == 0:
            return None
        return self.elapsed_s / self.windows_done * (self.windows_total - self.windows_done)


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class LossResult:
    """A validation-loss measurement (never a verdict).

    Attributes:
        loss: mean next-token cross-entropy in nats.
        perplexity: ``exp(loss)`` (``inf`` on overflow).
        bits_per_byte: ``loss_sum / (ln 2 · scored_bytes)``, or None when bytes are unknown.
        loss_sum: sum of per-token losses (nats), accumulated in fp64.
        token_count: targets scored.
        scored_bytes: UTF-8 bytes of the scored targets, or None.
        windows: windows evaluated.
        seq_len: positions per window.
        batch_size: windows per forward.
        chunk_size: rows per vocabulary-projection chunk.
        device: torch device string.
        dtype: compute dtype name.
        wall_time_s: seconds for the whole evaluation (device synchronised).
        tokens_per_s: ``token_count / wall_time_s``.
        peak_memory_bytes: ``torch.cuda.max_memory_allocated`` on CUDA, else None.
        world_size: processes that shared the work (1 unless distributed).
        rank_token_counts: targets each rank scored, by rank (empty for a world of one).
    """

    loss: float
    perplexity: float
    bits_per_byte: float | None
    loss_sum: float
    token_count: int
    scored_bytes: int | None
    windows: int
    seq_len: int
    batch_size: int
    chunk_size: int
    device: str
    dtype: str
    wall_time_s: float
    tokens_per_s: float
    peak_memory_bytes: int | None
    world_size: int = 1
    rank_token_counts: tuple[int, ...] = ()


def chunked_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[float, int]:
    """Sum of next-token cross-entropy over rows, projecting ``chunk_size`` rows at a time.

    Args:
        hidden: ``[N, H]`` (or any ``[..., H]``) final hidden states.
        weight: ``[vocab, H]`` output projection.
        targets: target ids with the same leading shape as ``hidden``; :data:`IGNORE_INDEX`
            rows are skipped.
        chunk_size: rows per projection.

    Returns:
        (loss sum in nats as a Python float accumulated in fp64, number of scored rows).
    """
    import torch
    import torch.nn.functional as F

    if chunk_size < 1:
        raise UsageError(f"chunk size must be positive, got {chunk_size}")
    h = hidden.reshape(-1, hidden.shape[-1])
    t = targets.reshape(-1).to(h.device)
    total = torch.zeros((), dtype=torch.float64, device=h.device)
    with torch.inference_mode():
        for r in range(0, h.shape[0], chunk_size):
            tgt = t[r : r + chunk_size]
            keep = tgt != IGNORE_INDEX
            if not bool(keep.any()):
                continue
            rows = h[r : r + chunk_size][keep]
            if rows.dtype in (torch.bfloat16, torch.float16):
                total += _fused_row_losses(rows, weight, tgt[keep]).double().sum()
                continue
            logits = F.linear(rows, weight).float()
            total += _row_losses(logits, tgt[keep]).double().sum()
            del logits
        count = int((t != IGNORE_INDEX).sum())
    return float(total), count


def _row_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-row ``logsumexp(logits) - logits[target]``, overwriting ``logits`` (fp32).

    Working in place keeps one ``[chunk, vocab]`` buffer alive instead of the two that
    ``F.cross_entropy`` (log-softmax, then gather) needs, and makes fewer passes over it.
    """
    target_logit = logits.gather(1, targets[:, None])[:, 0]
    peak = logits.amax(dim=-1, keepdim=True)
    # A row whose maximum is ±inf or NaN stays non-finite: the measurement must show it.
    lse = logits.sub_(peak).exp_().sum(dim=-1).log_().add_(peak[:, 0])
    return lse - target_logit


def _fused_row_losses(
    rows: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor
) -> torch.Tensor:
    """Per-row ``logsumexp(rows @ weightᵀ) - logit[target]`` (fp32), ``VOCAB_BLOCK`` at a time.

    Each block's logits are rounded to the compute dtype by the projection, exactly as the
    unfused path's are, then widened; the running maximum and sum are fp32. A non-finite logit
    leaves its row non-finite, as in :func:`_row_losses`.
    """
    import torch
    import torch.nn.functional as F

    n = rows.shape[0]
    peak = torch.full((n,), float("-inf"), dtype=torch.float32, device=rows.device)
    total = torch.zeros(n, dtype=torch.float32, device=rows.device)
    target_logit = torch.zeros(n, dtype=torch.float32, device=rows.device)
    for v0 in range(0, weight.shape[0], VOCAB_BLOCK):
        block = F.linear(rows, weight[v0 : v0 + VOCAB_BLOCK]).float()
        width = block.shape[1]
        at = targets - v0
        hit = (at >= 0) & (at < width)
        picked = block.gather(1, at.clamp(0, width - 1)[:, None])[:, 0]
        target_logit = torch.where(hit, picked, target_logit)
        new_peak = torch.maximum(peak, block.amax(dim=1))
        # rescale what was summed against the old maximum (exp(-inf) = 0 on the first block)
        total.mul_(torch.exp(peak - new_peak))
        total.add_(block.sub_(new_peak[:, None]).exp_().sum(dim=1))
        peak = new_peak
    return total.log_().add_(peak) - target_logit


@dataclass(frozen=True)
class ShardLoss:
    """The additive part of a loss measurement over some windows (one rank's share).

    Attributes:
        loss_sum: sum of per-token losses (nats, fp64).
        token_count: targets scored.
        scored_bytes: UTF-8 bytes of the scored targets, or None.
        windows: windows evaluated.
        wall_time_s: seconds spent.
    """

    loss_sum: float
    token_count: int
    scored_bytes: int | None
    windows: int
    wall_time_s: float


def evaluate_shard(
    model: DecoderModel,
    windows: TokenWindows,
    indices: Sequence[int],
    batch_size: int,
    chunk_size: int,
    progress: ProgressCallback | None,
) -> ShardLoss:
    """Evaluate the windows ``indices`` and return the additive sums.

    Args:
        model: the decoder.
        windows: evaluation windows.
        indices: window numbers to evaluate, in order.
        batch_size: windows per forward.
        chunk_size: rows per vocabulary-projection chunk.
        progress: per-batch callback, or None.

    Returns:
        The :class:`ShardLoss`.
    """
    import torch

    if batch_size < 1:
        raise UsageError(f"--batch-size must be positive, got {batch_size}")
    cfg = model.config
    if windows.seq_len > cfg.max_position_embeddings:
        raise UsageError(
            f"--seq-len {windows.seq_len} exceeds the model's max_position_embeddings "
            f"{cfg.max_position_embeddings} ({cfg.source})"
        )
    synchronize(model.device)
    start = time.perf_counter()
    loss_sum = 0.0
    count = 0
    done = 0
    for b in range(0, len(indices), batch_size):
        batch = list(indices[b : b + batch_size])
        inputs, targets = windows.batch(batch)
        with torch.inference_mode():
            hidden = model.hidden_states(inputs)
            s, c = chunked_cross_entropy(hidden, model.lm_head, targets, chunk_size)
            del hidden
        loss_sum += s
        count += c
        done += len(batch)
        if progress is not None:
            progress(Progress(done, len(indices), count, time.perf_counter() - start))
    synchronize(model.device)
    wall = time.perf_counter() - start
    return ShardLoss(loss_sum, count, windows.scored_bytes(indices), len(indices), wall)


def loss_result(
    model: DecoderModel,
    windows: TokenWindows,
    part: ShardLoss,
    batch_size: int,
    chunk_size: int,
    world_size: int = 1,
) -> LossResult:
    """Turn (possibly all-reduced) sums into a :class:`LossResult`.

    Args:
        model: the decoder (device, dtype and peak memory are read from it).
        windows: the windows evaluated.
        part: the sums.
        batch_size: as used.
        chunk_size: as used.
        world_size: processes that contributed.

    Returns:
        The result.
    """
    import torch

    if part.token_count == 0:
        raise UsageError("no target was scored (empty window selection)")
    loss = part.loss_sum / part.token_count
    try:
        ppl = math.exp(loss)
    except OverflowError:
        ppl = math.inf
    bpb = None
    if part.scored_bytes:
        bpb = part.loss_sum / (math.log(2) * part.scored_bytes)
    peak = None
    if model.device.type == "cuda":
        peak = int(torch.cuda.max_memory_allocated(model.device))
    return LossResult(
        loss=loss,
        perplexity=ppl,
        bits_per_byte=bpb,
        loss_sum=part.loss_sum,
        token_count=part.token_count,
        scored_bytes=part.scored_bytes,
        windows=part.windows,
        seq_len=windows.seq_len,
        batch_size=batch_size,
        chunk_size=chunk_size,
        device=str(model.device),
        dtype=str(model.dtype).removeprefix("torch."),
        wall_time_s=part.wall_time_s,
        tokens_per_s=part.token_count / part.wall_time_s if part.wall_time_s > 0 else math.inf,
        peak_memory_bytes=peak,
        world_size=world_size,
    )


def evaluate_loss(
    model: DecoderModel,
    windows: TokenWindows,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    indices: Sequence[int] | None = None,
    progress: ProgressCallback | None = None,
) -> LossResult:
    """Mean next-token cross-entropy of ``model`` over ``windows`` (single process).

    Args:
        model: a loaded :class:`~albor_gates.model.decoder.DecoderModel`.
        windows: evaluation windows (validated against the model's vocabulary).
        batch_size: windows per forward pass.
        chunk_size: rows per vocabulary-projection chunk (bounds peak memory).
        indices: a subset of window numbers (default: all, in order).
        progress: called with a :class:`Progress` after every batch.

    Returns:
        The :class:`LossResult`.

    Raises:
        UsageError: bad batch / chunk size, or windows longer than the model's positions.
    """
    import torch

    if model.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(model.device)
    idx = range(len(windows)) if indices is None else indices
    part = evaluate_shard(model, windows, idx, batch_size, chunk_size, progress)
    return loss_result(model, windows, part, batch_size, chunk_size)
