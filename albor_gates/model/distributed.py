"""The validation loss under ``torchrun --nproc_per_node N`` (torch.distributed).

Every rank loads the same model and the same windows; windows are sharded round-robin
(rank *r* of *N* takes windows ``r, r + N, r + 2N, …`` — deterministic, balanced to within one
window, independent of timing). Each rank computes its ``(loss_sum, token_count,
scored_bytes, windows)`` exactly as :func:`~albor_gates.model.evaluate.evaluate_loss` does,
and one ``all_reduce(SUM)`` of a float64 tensor combines them, so every rank ends with the same
result, equal to the single-process one up to fp64 summation order (≪ 1e-6 relative).

Backend: ``gloo`` when the model is on the CPU, ``nccl`` on CUDA (each rank then uses
``cuda:LOCAL_RANK``). :func:`init_distributed` reads the environment torchrun sets (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``); outside torchrun it reports a
world of one and the functions here fall back to the single-process path.

Wall time is the slowest rank's (a max all-reduce), so tokens/s is the whole job's throughput.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from albor_gates.errors import UsageError
from albor_gates.model.device import resolve_device
from albor_gates.model.evaluate import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CHUNK_SIZE,
    LossResult,
    ProgressCallback,
    ShardLoss,
    evaluate_shard,
    loss_result,
)
from albor_gates.model.tokens import TokenWindows

if TYPE_CHECKING:
    import torch

    from albor_gates.model.decoder import DecoderModel


@dataclass(frozen=True)
class DistContext:
    """Where the current process sits in a torch.distributed job.

    Attributes:
        rank: global rank.
        world_size: number of processes.
        local_rank: rank on this machine (selects the CUDA device).
        backend: ``"gloo"``, ``"nccl"``, or ``""`` for a world of one.
        device: the device this rank computes on.
    """

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: torch.device


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise UsageError(f"environment variable {name}={raw!r} is not an integer") from e


def in_torchrun() -> bool:
    """Whether the environment describes a distributed job of more than one process."""
    return _env_int("WORLD_SIZE", 1) > 1


def init_distributed(device: str = "auto", *, timeout_s: float = 300.0) -> DistContext:
    """Join the process group torchrun describes (or report a world of one).

    Args:
        device: ``auto`` / ``cpu`` / ``cuda`` (a ``cuda:N`` ordinal is replaced by
            ``LOCAL_RANK`` under torchrun: one GPU per rank).
        timeout_s: collective timeout.

    Returns:
        The :class:`DistContext`.

    Raises:
        UsageError: a bad device request, or more CUDA ranks than visible GPUs.
    """
    import datetime

    import torch
    import torch.distributed as dist

    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", 0)
    dev = resolve_device(device)
    if dev.type == "cuda" and world > 1:
        dev = resolve_device(f"cuda:{local}")
        torch.cuda.set_device(dev)
    if world <= 1:
        return DistContext(0, 1, 0, "", dev)
    if dev.type == "mps":
        raise UsageError("distributed evaluation supports cpu (gloo) and cuda (nccl), not mps")
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(
            backend=backend,
            rank=rank,
            world_size=world,
            timeout=datetime.timedelta(seconds=timeout_s),
        )
    return DistContext(rank, world, local, backend, dev)


def shard_indices(n_windows: int, rank: int, world_size: int) -> Sequence[int]:
    """Round-robin share of window numbers for one rank.

    Args:
        n_windows: total windows.
        rank: this rank.
        world_size: number of ranks.

    Returns:
        ``range(rank, n_windows, world_size)``.
    """
    if not 0 <= rank < world_size:
        raise UsageError(f"rank {rank} is outside a world of {world_size}")
    return range(rank, n_windows, world_size)


def evaluate_loss_distributed(
    model: DecoderModel,
    windows: TokenWindows,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: ProgressCallback | None = None,
) -> LossResult:
    """Evaluate this rank's shard and all-reduce to the job's result (same on every rank).

    Outside an initialised process group this is
    :func:`~albor_gates.model.evaluate.evaluate_loss`.

    Args:
        model: the model, on this rank's device.
        windows: the same windows on every rank.
        batch_size: windows per forward.
        chunk_size: rows per vocabulary-projection chunk.
        progress: called after every batch with this rank's progress.

    Returns:
        The combined :class:`~albor_gates.model.evaluate.LossResult` (``world_size`` set).
    """
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        from albor_gates.model.evaluate import evaluate_loss

        return evaluate_loss(
            model, windows, batch_size=batch_size, chunk_size=chunk_size, progress=progress
        )
    rank, world = dist.get_rank(), dist.get_world_size()
    if model.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(model.device)
    part = evaluate_shard(
        model, windows, shard_indices(len(windows), rank, world), batch_size, chunk_size, progress
    )
    comm_device = model.device if dist.get_backend() == "nccl" else torch.device("cpu")
    sums = torch.tensor(
        [
            part.loss_sum,
            float(part.token_count),
            float(part.scored_bytes or 0),
            float(part.windows),
        ],
        dtype=torch.float64,
        device=comm_device,
    )
    dist.all_reduce(sums, op=dist.ReduceOp.SUM)
    wall = torch.tensor([part.wall_time_s], dtype=torch.float64, device=comm_device)
    dist.all_reduce(wall, op=dist.ReduceOp.MAX)
    loss_sum, count, nbytes, nwin = (float(x) for x in sums.tolist())
    combined = ShardLoss(
        loss_sum=loss_sum,
        token_count=int(round(count)),
        scored_bytes=int(round(nbytes)) if part.scored_bytes is not None else None,
        windows=int(round(nwin)),
        wall_time_s=float(wall.item()),
    )
    return loss_result(model, windows, combined, batch_size, chunk_size, world_size=world)


def shutdown() -> None:
    """Leave the process group if one was joined (safe to call in a world of one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
