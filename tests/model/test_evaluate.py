"""Validation loss: chunked projection, agreement with an independent computation, Ctrl-C."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from testlib.signals import sigint_default

from albor_gates.errors import UsageError
from albor_gates.model import evaluate
from albor_gates.model.decoder import load_model
from albor_gates.model.evaluate import Progress, chunked_cross_entropy, evaluate_loss
from albor_gates.model.tokens import load_tokens, make_windows

torch = pytest.importorskip("torch")
F = torch.nn.functional


def test_chunked_cross_entropy_equals_full_and_bounds_the_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(3, 50, 16, generator=g)
    weight = torch.randn(300, 16, generator=g)
    targets = torch.randint(0, 300, (3, 50), generator=g)
    targets[0, :7] = -100
    full = F.cross_entropy(
        (hidden @ weight.T).reshape(-1, 300).double(), targets.reshape(-1), reduction="sum"
    )
    shapes = _spy_linear(monkeypatch)
    total, count = chunked_cross_entropy(hidden, weight, targets, chunk_size=32)
    assert count == 143
    assert math.isclose(total, float(full), rel_tol=1e-6)
    rows_seen = [rows for rows, _ in shapes]
    assert max(rows_seen) == 32 and sum(rows_seen) == 143  # unscored rows are not projected


def _spy_linear(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record (input rows, output width) of every ``F.linear`` call from now on."""
    shapes: list[tuple[int, int]] = []
    real_linear = F.linear

    def spy(x: Any, w: Any, b: Any = None) -> Any:
        shapes.append((x.shape[0], w.shape[0]))
        return real_linear(x, w, b)

    monkeypatch.setattr(F, "linear", spy)
    return shapes


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_the_fused_16_bit_loss_equals_the_rounded_logits_loss_and_never_projects_the_vocabulary(
    monkeypatch: pytest.MonkeyPatch, dtype: str
) -> None:
    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(1)
    vocab = 2 * evaluate.VOCAB_BLOCK + 77  # a partial last block
    hidden = (torch.randn(2, 40, 32, generator=g) * 2).to(dt)
    weight = torch.randn(vocab, 32, generator=g).to(dt)
    targets = torch.randint(0, vocab, (2, 40), generator=g)
    targets[0, :3] = -100
    targets[1, :4] = torch.tensor([0, vocab - 1, evaluate.VOCAB_BLOCK - 1, evaluate.VOCAB_BLOCK])
    keep = targets.reshape(-1) != -100
    # the unfused loss of the same 16-bit-rounded logits
    logits = F.linear(hidden.reshape(-1, 32)[keep], weight).double()
    full = F.cross_entropy(logits, targets.reshape(-1)[keep], reduction="sum")
    shapes = _spy_linear(monkeypatch)
    total, count = chunked_cross_entropy(hidden, weight, targets, chunk_size=32)
    assert count == 77
    assert math.isclose(total, float(full), rel_tol=1e-6)
    assert max(width for _, width in shapes) == evaluate.VOCAB_BLOCK


def test_a_non_finite_logit_leaves_the_fused_loss_non_finite() -> None:
    weight = torch.randn(evaluate.VOCAB_BLOCK + 5, 8).to(torch.bfloat16)
    hidden = torch.randn(3, 8).to(torch.bfloat16)
    for bad in (float("nan"), float("inf")):
        w = weight.clone()
        w[evaluate.VOCAB_BLOCK + 2, 0] = bad  # in the second block
        total, _ = chunked_cross_entropy(hidden, w, torch.tensor([1, 2, 3]))
        assert not math.isfinite(total)


def _windows(trained: Any, seq_len: int = 64, **kw: Any) -> Any:
    model = load_model(trained.path, "cpu")
    src = load_tokens(trained.val_text_path, tokenizer=trained.tokenizer_path)
    w = make_windows(
        src,
        seq_len,
        vocab_size=model.config.vocab_size,
        max_position_embeddings=model.config.max_position_embeddings,
        **kw,
    )
    return model, w


def _independent_loss(hf: Any, windows: Any) -> tuple[float, int]:
    """transformers' logits in full, cross-entropy in fp64: no code shared with the checker."""
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(len(windows)):
            inputs, targets = windows.batch([i])
            logits = hf(inputs).logits.double()
            keep = targets[0] != -100
            total += float(F.cross_entropy(logits[0][keep], targets[0][keep], reduction="sum"))
            count += int(keep.sum())
    return total / count, count


def test_real_model_loss_equals_independent_computation(trained_model: Any) -> None:
    model, windows = _windows(trained_model)
    result = evaluate_loss(model, windows, batch_size=4, chunk_size=50)
    ref, count = _independent_loss(trained_model.hf_model, windows)
    assert result.token_count == count == windows.scored_tokens
    assert abs(result.loss - ref) / ref <= 1e-4
    # trained: well below a uniform guess over the vocabulary
    assert result.loss < math.log(model.config.vocab_size) - 1.0
    assert math.isclose(result.perplexity, math.exp(result.loss))
    assert result.scored_bytes == windows.scored_bytes()
    assert result.bits_per_byte is not None
    assert math.isclose(result.bits_per_byte, result.loss_sum / (math.log(2) * result.scored_bytes))
    assert (result.device, result.dtype, result.windows) == ("cpu", "float32", len(windows))
    assert result.wall_time_s > 0 and result.tokens_per_s > 0
    assert result.peak_memory_bytes is None and result.world_size == 1


def test_loss_does_not_depend_on_batch_or_chunk_size(trained_model: Any) -> None:
    model, windows = _windows(trained_model, seq_len=32, stride=24, bos_id=0)
    a = evaluate_loss(model, windows, batch_size=1, chunk_size=7)
    b = evaluate_loss(model, windows, batch_size=5, chunk_size=4096)
    assert a.token_count == b.token_count == windows.scored_tokens
    assert math.isclose(a.loss_sum, b.loss_sum, rel_tol=1e-6)


def test_progress_callback_reports_every_batch(trained_model: Any) -> None:
    model, windows = _windows(trained_model)
    seen: list[Progress] = []
    evaluate_loss(model, windows, batch_size=3, indices=range(7), progress=seen.append)
    assert [p.windows_done for p in seen] == [3, 6, 7]
    assert all(p.windows_total == 7 for p in seen)
    assert seen[-1].eta_s == 0.0 and seen[-1].tokens_done == 7 * 64


def test_bad_batch_size(trained_model: Any) -> None:
    model, windows = _windows(trained_model)
    with pytest.raises(UsageError, match="--batch-size must be positive, got 0"):
        evaluate_loss(model, windows, batch_size=0)


_INTERRUPT_SCRIPT = """
import sys, numpy as np
from albor_gates.model.decoder import load_model
from albor_gates.model.evaluate import evaluate_loss
from albor_gates.model.tokens import load_tokens, make_windows
model = load_model(sys.argv[1], "cpu")
w = make_windows(load_tokens(sys.argv[2]), 256)
def progress(p):
    print("batch", p.windows_done, flush=True)
evaluate_loss(model, w, batch_size=2, chunk_size=256, progress=progress)
print("finished", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery differs on Windows")
def test_ctrl_c_stops_within_a_second_and_propagates(
    tmp_path: Path, qwen2_checkpoint: Any, subprocess_env: dict[str, str]
) -> None:
    ckpt = qwen2_checkpoint(tmp_path / "m", vocab_size=32000, hidden_size=128)
    ids = tmp_path / "ids.npy"
    np.save(ids, np.random.default_rng(0).integers(0, 32000, 200_000))
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPT_SCRIPT, str(ckpt), str(ids)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env,
        preexec_fn=sigint_default,  # as from a terminal, even under a background shell
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the first batch is done: we are mid-evaluation
        assert line.startswith("batch"), line + (proc.stderr.read() if proc.stderr else "")
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        elapsed = time.perf_counter() - sent
    finally:
        proc.kill()
    assert "finished" not in out
    assert "KeyboardInterrupt" in err
    assert proc.returncode != 0
    print(f"stopped {elapsed:.3f} s after SIGINT")
    assert elapsed < 1.5, f"took {elapsed:.2f} s to stop"
