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

Wall time is the slowest rank's (a max all-reduce), so tokens/s is the whole job's throughput;
``rank_token_counts`` records what each rank scored. Other per-item work (smoke prompts) is
shared the same round-robin way by :func:`map_sharded`. ``gates`` joins the group itself
(``cli/session.py``) when torchrun describes a world of more than one; a group that cannot form
is a usage error (exit 2), never a silent single-process run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

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

T = TypeVar("T")
R = TypeVar("R")


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
        # A world of more than one that cannot form is an error, never a silent
        # single-process run (each rank would evaluate everything and report world_size 1).
        where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        try:
            dist.init_process_group(
                backend=backend,
                rank=rank,
                world_size=world,
                timeout=datetime.timedelta(seconds=timeout_s),
            )
        except (RuntimeError, ValueError, OSError) as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise UsageError(
                f"torch.distributed: rank {rank} of a world of {world} could not join the "
                f"{backend} process group at {where} ({first}): run every rank with the same "
                f"torchrun command and a reachable --rdzv-endpoint"
            ) from e
    return DistContext(rank, world, local, backend, dev)


def is_distributed() -> bool:
    """Whether this process has joined a process group of more than one rank."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def map_sharded(items: Sequence[T], fn: Callable[[T], R]) -> list[R]:
    """``[fn(x) for x in items]`` with the items shared round-robin across the ranks.

    Every rank computes its share (:func:`shard_indices`) and one ``all_gather_object`` puts
    the results back in the items' order, so every rank returns the same list, equal to the
    single-process one. Outside a process group it is the plain list comprehension.

    Args:
        items: the same sequence on every rank (prompts, benchmark runs).
        fn: the work for one item; its result must be picklable.

    Returns:
        The results in the order of ``items``.
    """
    if not is_distributed():
        return [fn(x) for x in items]
    import torch.distributed as dist

    rank, world = dist.get_rank(), dist.get_world_size()
    mine = [(i, fn(items[i])) for i in shard_indices(len(items), rank, world)]
    gathered: list[list[tuple[int, R]] | None] = [None] * world
    dist.all_gather_object(gathered, mine)
    out: dict[int, R] = {}
    for part in gathered:
        out.update(part or [])
    return [out[i] for i in range(len(items))]


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
    per_rank = torch.zeros(world, dtype=torch.float64, device=comm_device)
    per_rank[rank] = float(part.token_count)
    dist.all_reduce(per_rank, op=dist.ReduceOp.SUM)
    loss_sum, count, nbytes, nwin = (float(x) for x in sums.tolist())
    combined = ShardLoss(
        loss_sum=loss_sum,
        token_count=int(round(count)),
        scored_bytes=int(round(nbytes)) if part.scored_bytes is not None else None,
        windows=int(round(nwin)),
        wall_time_s=float(wall.item()),
    )
    result = loss_result(model, windows, combined, batch_size, chunk_size, world_size=world)
    return replace(result, rank_token_counts=tuple(int(round(x)) for x in per_rank.tolist()))


def shutdown() -> None:
    """Leave the process group if one was joined (safe to call in a world of one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
