"""The torchrun evaluation equals the single-process one (2 CPU ranks, gloo)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from albor_gates.errors import UsageError
from albor_gates.model.decoder import load_model
from albor_gates.model.distributed import (
    evaluate_loss_distributed,
    in_torchrun,
    init_distributed,
    shard_indices,
)
from albor_gates.model.evaluate import evaluate_loss
from albor_gates.model.tokens import load_tokens, make_windows

pytest.importorskip("torch")


def test_shards_cover_every_window_once() -> None:
    shards = [list(shard_indices(11, r, 3)) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]
    with pytest.raises(UsageError, match="rank 3 is outside a world of 3"):
        shard_indices(11, 3, 3)


def test_outside_torchrun_is_a_world_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not in_torchrun()
    ctx = init_distributed("cpu")
    assert (ctx.rank, ctx.world_size, ctx.backend, str(ctx.device)) == (0, 1, "", "cpu")


def test_torchrun_two_ranks_equal_single_process(
    tmp_path: Path, qwen2_checkpoint: Any, subprocess_env: dict[str, str]
) -> None:
    ckpt = qwen2_checkpoint(tmp_path / "m", vocab_size=500)
    tokens = tmp_path / "ids.npy"
    np.save(tokens, np.random.default_rng(1).integers(0, 500, 32 * 13 + 5))
    out = tmp_path / "dist.json"
    worker = Path(__file__).with_name("dist_worker.py")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(worker),
            str(ckpt),
            str(tokens),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    dist = json.loads(out.read_text())

    model = load_model(ckpt, "cpu")
    windows = make_windows(load_tokens(tokens), 32, vocab_size=500)
    single = evaluate_loss(model, windows, batch_size=3, chunk_size=64)
    assert dist["backend"] == "gloo" and dist["world_size"] == 2
    assert dist["windows"] == single.windows == 13
    assert dist["token_count"] == single.token_count
    assert abs(dist["loss_sum"] - single.loss_sum) <= 1e-6 * abs(single.loss_sum)
    assert abs(dist["loss"] - single.loss) <= 1e-6 * single.loss


def test_distributed_function_without_process_group_is_single(
    tmp_path: Path, qwen2_checkpoint: Any
) -> None:
    ckpt = qwen2_checkpoint(tmp_path / "m", vocab_size=200)
    tokens = tmp_path / "ids.npy"
    np.save(tokens, np.arange(200).repeat(2))
    model = load_model(ckpt, "cpu")
    windows = make_windows(load_tokens(tokens), 16)
    assert evaluate_loss_distributed(model, windows).loss == evaluate_loss(model, windows).loss
