"""One self-contained run of the model checker's CUDA path; prints a compact JSON summary.

What it exercises (issue 4: "run the checker's CUDA path ... tokens/s, memory, device parity"):

1. **Parity** on a small qwen2 trained here for a few seconds on stdlib Python (a BPE
   tokenizer trained on the same text), so its logits have real margins: CPU fp32 vs CUDA
   (policy dtype, bf16) top-1 agreement, mean / min logit cosine and max |Δ| over 8 × 128
   positions; val loss on CPU fp32, CUDA fp32 and CUDA bf16; greedy tokens CPU vs CUDA; the KV
   cache on CUDA (prefill + steps vs full forward).
2. **Val loss on an albor-shaped model** (Qwen2: 24 layers, hidden 896, 14 / 2 heads,
   intermediate 4864, vocab 151,936, tied, random weights) in bf16: tokens/s and peak memory
   (``torch.cuda.max_memory_allocated`` above the weights) at batch × seq = 8 × 512 with
   512-row projection chunks, vs transformers' ``Qwen2ForCausalLM`` on the same weights and
   tokens; achieved FLOP/s vs a bf16 matmul rate measured in the same run.
3. **Decode** tokens/s (``measure_throughput``: 128 new tokens, median of 5 runs after 2
   warm-ups, p50 / p99 latency, CV) vs transformers ``generate``.

Needs torch with CUDA, safetensors, tokenizers, numpy, transformers; no network. Finishes in
well under 3 minutes on one H100. Usage: ``python benchmarks/gpu_check.py [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from testlib.corpus import stdlib_text, train_byte_bpe  # noqa: E402

from albor_gates.model.bench import measure_throughput  # noqa: E402
from albor_gates.model.decoder import load_model  # noqa: E402
from albor_gates.model.device import environment, resolve_device, synchronize  # noqa: E402
from albor_gates.model.evaluate import evaluate_loss  # noqa: E402
from albor_gates.model.generate import greedy_generate  # noqa: E402
from albor_gates.model.tokens import load_tokens, make_windows  # noqa: E402

VOCAB = 151_936
# Sizes of the real run; --cpu-dry-run shrinks them to check the script itself without a GPU.
SCALE = {"train_steps": 400, "layers": 24, "windows": 32, "matmul": 8192, "new_tokens": 128}
DRY_SCALE = {"train_steps": 5, "layers": 1, "windows": 2, "matmul": 512, "new_tokens": 8}
TRAIN_FILES = ["textwrap.py", "string.py", "shlex.py", "fnmatch.py", "glob.py", "bisect.py",
               "argparse.py", "inspect.py", "typing.py", "dataclasses.py"]  # fmt: skip
VAL_FILES = ["colorsys.py", "calendar.py"]


def section(summary: dict[str, Any], name: str, fn: Callable[[], dict[str, Any]]) -> None:
    """Run one part; a failure is recorded in the summary instead of ending the run."""
    start = time.perf_counter()
    try:
        summary[name] = fn()
    except Exception as e:  # a GPU smoke script reports every part it can
        summary[name] = {
            "error": f"{type(e).__name__}: {e}",
            "trace": traceback.format_exc()[-1500:],
        }
    summary[name]["seconds"] = round(time.perf_counter() - start, 2)


def train_small(tmp: Path, device: torch.device) -> dict[str, Any]:
    """Train a byte-level BPE and a small qwen2 on stdlib Python (on the GPU, fp32)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    text = stdlib_text(TRAIN_FILES)
    tok = train_byte_bpe(text, vocab_size=2048)
    path = tmp / "small"
    path.mkdir()
    tok.save(str(path / "tokenizer.json"))
    ids = torch.tensor(tok.encode(text).ids, dtype=torch.long, device=device)
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=tok.get_vocab_size(),
        hidden_size=256,
        intermediate_size=688,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        eos_token_id=0,
    )
    model = Qwen2ForCausalLM(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    seq, steps = 128, SCALE["train_steps"]
    offsets = torch.arange(seq, device=device)
    losses = []
    for _ in range(steps):
        starts = torch.randint(0, ids.numel() - seq - 1, (32,), device=device)
        batch = ids[starts[:, None] + offsets]
        loss = model(batch, labels=batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    model.cpu().eval().save_pretrained(path)
    val = path / "val.py"
    val.write_text(stdlib_text(VAL_FILES), encoding="utf-8")
    return {"path": path, "train_loss_first": losses[0], "train_loss_last": losses[-1]}


def parity(small: dict[str, Any], cuda: torch.device) -> dict[str, Any]:
    from tokenizers import Tokenizer

    path = small["path"]
    cpu_model = load_model(path, "cpu")
    gpu_model = load_model(path, cuda)  # policy dtype (bf16)
    gpu32 = load_model(path, cuda, torch.float32)
    src = load_tokens(path / "val.py", tokenizer=path / "tokenizer.json")
    windows = make_windows(src, 128, vocab_size=cpu_model.config.vocab_size)
    inputs, _ = windows.batch(range(min(8, len(windows))))
    ref = cpu_model.logits(inputs).double()
    got = gpu_model.logits(inputs).double().cpu()
    cos = torch.nn.functional.cosine_similarity(ref, got, dim=-1)
    top1 = (ref.argmax(-1) == got.argmax(-1)).double().mean()
    got32 = gpu32.logits(inputs).double().cpu()
    loss_cpu = evaluate_loss(cpu_model, windows, batch_size=8)
    loss_gpu = evaluate_loss(gpu_model, windows, batch_size=8)
    loss_gpu32 = evaluate_loss(gpu32, windows, batch_size=8)
    prompt = "def fibonacci(n):"
    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    g_cpu = greedy_generate(cpu_model, prompt, tokenizer=tok, max_new_tokens=48)
    g_gpu = greedy_generate(gpu_model, prompt, tokenizer=tok, max_new_tokens=48)
    same = 0
    for a, b in zip(g_cpu.token_ids, g_gpu.token_ids, strict=False):
        if a != b:
            break
        same += 1
    # KV cache on CUDA: prefill + steps vs full forward (bf16)
    ids = inputs[:2, :64]
    full = gpu_model.logits(ids).float()
    cache = gpu_model.new_cache(2, 64)
    parts = [gpu_model.logits(ids[:, :40], cache)]
    parts += [gpu_model.logits(ids[:, i : i + 1], cache) for i in range(40, 64)]
    inc = torch.cat(parts, dim=1).float()
    cache_cos = torch.nn.functional.cosine_similarity(full, inc, dim=-1).min()
    return {
        "train_loss_first_last": [
            round(small["train_loss_first"], 3),
            round(small["train_loss_last"], 3),
        ],
        "positions": int(ref.shape[0] * ref.shape[1]),
        "gpu_dtype": str(gpu_model.dtype),
        "top1_agreement_cpu_fp32_vs_cuda_bf16": float(top1),
        "logit_cosine_mean": float(cos.mean()),
        "logit_cosine_min": float(cos.min()),
        "max_abs_diff_bf16": float((ref - got).abs().max()),
        "max_abs_diff_cuda_fp32": float((ref - got32).abs().max()),
        "val_loss_cpu_fp32": loss_cpu.loss,
        "val_loss_cuda_fp32": loss_gpu32.loss,
        "val_loss_cuda_bf16": loss_gpu.loss,
        "val_loss_rel_diff_fp32": abs(loss_gpu32.loss - loss_cpu.loss) / loss_cpu.loss,
        "val_loss_rel_diff_bf16": abs(loss_gpu.loss - loss_cpu.loss) / loss_cpu.loss,
        "greedy_same_prefix_tokens": same,
        "greedy_tokens": len(g_cpu.token_ids),
        "greedy_text_cpu": (g_cpu.text or "")[:120],
        "kv_cache_min_cosine_bf16": float(cache_cos),
    }


def build_albor(tmp: Path, device: torch.device) -> tuple[Path, Any]:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        vocab_size=VOCAB,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=SCALE["layers"],
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        eos_token_id=151643,
    )
    torch.manual_seed(0)
    with torch.device(device):
        hf = Qwen2ForCausalLM(cfg)
    hf = hf.to(torch.bfloat16).eval()
    path = tmp / "albor"
    hf.save_pretrained(path)
    return path, hf


def _allocated(device: torch.device) -> int:
    return int(torch.cuda.memory_allocated(device)) if device.type == "cuda" else 0


def bf16_matmul_rate(device: torch.device) -> float:
    """Matmul rate in the model's compute dtype (bf16 on CUDA, fp32 in a CPU dry run)."""
    n = SCALE["matmul"]
    dt = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(n, n, device=device, dtype=dt)
    b = torch.randn(n, n, device=device, dtype=dt)
    for _ in range(3):
        a @ b
    synchronize(device)
    start, reps = time.perf_counter(), 20
    for _ in range(reps):
        a @ b
    synchronize(device)
    return 2.0 * n**3 * reps / (time.perf_counter() - start)


def val_loss_albor(path: Path, hf: Any, cuda: torch.device, tmp: Path) -> dict[str, Any]:
    import numpy as np

    model = load_model(path, cuda)
    flops = model.forward_flops_per_token(context=256.5)
    weights = _allocated(cuda)
    ids = tmp / "ids.npy"
    n_windows = SCALE["windows"]
    np.save(ids, np.random.default_rng(0).integers(0, 151_643, n_windows * 512 + 1))
    windows = make_windows(load_tokens(ids), 512, vocab_size=VOCAB)
    evaluate_loss(model, windows, batch_size=8, indices=range(min(8, len(windows))))  # warm-up
    runs = [evaluate_loss(model, windows, batch_size=8, chunk_size=512) for _ in range(3)]
    ours = sorted(runs, key=lambda r: r.tokens_per_s)[1]
    peak_ours = max(r.peak_memory_bytes or 0 for r in runs) - weights

    del model
    if cuda.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(cuda)
    hf_weights = _allocated(cuda)

    def hf_pass() -> float:
        synchronize(cuda)
        start = time.perf_counter()
        total = torch.zeros((), dtype=torch.float64, device=cuda)
        with torch.no_grad():
            for b in range(0, len(windows), 8):
                inputs, targets = windows.batch(range(b, min(b + 8, len(windows))))
                logits = hf(inputs.to(cuda)).logits
                total += torch.nn.functional.cross_entropy(
                    logits.reshape(-1, VOCAB).float(), targets.to(cuda).reshape(-1), reduction="sum"
                ).double()
        synchronize(cuda)
        return time.perf_counter() - start

    hf_pass()
    hf_times = [hf_pass() for _ in range(3)]
    hf_tps = windows.scored_tokens / statistics.median(hf_times)
    peak_hf = (torch.cuda.max_memory_allocated(cuda) if cuda.type == "cuda" else 0) - hf_weights
    rate = bf16_matmul_rate(cuda)
    return {
        "tokens": ours.token_count,
        "loss": ours.loss,
        "tokens_per_s_checker": ours.tokens_per_s,
        "tokens_per_s_transformers": hf_tps,
        "speedup_vs_transformers": ours.tokens_per_s / hf_tps,
        "peak_extra_MiB_checker_8x512_chunk512": peak_ours / 2**20,
        "peak_extra_MiB_transformers_8x512": peak_hf / 2**20,
        "full_fp32_logits_8x512_MiB": 8 * 512 * VOCAB * 4 / 2**20,
        "achieved_TFLOPs": ours.tokens_per_s * flops / 1e12,
        "bf16_matmul_TFLOPs": rate / 1e12,
        "flops_fraction_of_matmul": ours.tokens_per_s * flops / rate,
        "dtype": ours.dtype,
    }


def decode_albor(path: Path, hf: Any, cuda: torch.device) -> dict[str, Any]:
    model = load_model(path, cuda)
    prompt = list(range(1000, 1016))
    res = measure_throughput(model, prompt, new_tokens=SCALE["new_tokens"], runs=5, warmup=2)

    def hf_run() -> float:
        synchronize(cuda)
        start = time.perf_counter()
        with torch.no_grad():
            out = hf.generate(
                torch.tensor([prompt], device=cuda),
                max_new_tokens=SCALE["new_tokens"],
                min_new_tokens=SCALE["new_tokens"],
                do_sample=False,
                pad_token_id=0,
            )
        synchronize(cuda)
        return (out.shape[1] - len(prompt)) / (time.perf_counter() - start)

    hf_run()
    hf_tps = statistics.median(hf_run() for _ in range(3))
    return {
        "median_tokens_per_s": res.median_tokens_per_s,
        "decode_tokens_per_s": res.decode_tokens_per_s,
        "ttft_ms": res.ttft_s * 1e3,
        "p50_ms": res.latency_p50_s * 1e3,
        "p99_ms": res.latency_p99_s * 1e3,
        "p99_p50": res.p99_p50_ratio,
        "cv": res.cv,
        "transformers_generate_tokens_per_s": hf_tps,
        "speedup_vs_transformers": res.median_tokens_per_s / hf_tps,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--cpu-dry-run", action="store_true", help="tiny sizes on the CPU")
    args = ap.parse_args()
    started = time.perf_counter()
    if args.cpu_dry_run:
        SCALE.update(DRY_SCALE)
        cuda = torch.device("cpu")
    elif not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device: this script checks the CUDA path"}))
        return 2
    else:
        cuda = resolve_device("cuda")
    env = environment(cuda)
    summary: dict[str, Any] = {"environment": env.__dict__}
    tmp = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    small: dict[str, Any] = {}

    def do_train() -> dict[str, Any]:
        small.update(train_small(tmp, cuda))
        return {"train_loss_last": small["train_loss_last"]}

    section(summary, "train_small", do_train)
    if "path" in small:
        section(summary, "parity", lambda: parity(small, cuda))
    holder: dict[str, Any] = {}

    def do_build() -> dict[str, Any]:
        holder["path"], holder["hf"] = build_albor(tmp, cuda)
        return {"params": sum(p.numel() for p in holder["hf"].parameters())}

    section(summary, "build_albor_shaped", do_build)
    if "path" in holder:
        section(
            summary, "val_loss", lambda: val_loss_albor(holder["path"], holder["hf"], cuda, tmp)
        )
        section(summary, "decode", lambda: decode_albor(holder["path"], holder["hf"], cuda))
    summary["total_seconds"] = round(time.perf_counter() - started, 1)

    def clean(x: Any) -> Any:
        if isinstance(x, float):
            return round(x, 6) if math.isfinite(x) else str(x)
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    text = json.dumps(clean(summary), indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
