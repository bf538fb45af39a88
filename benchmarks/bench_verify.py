"""Benchmark of the `gates verify` library layer on a Qwen2-0.5B-shaped bf16 checkpoint.

Prints, for issue 3's performance targets (ratios against baselines measured in the same run):

1. header + structure check time of ``read_safetensors_header`` (target < 50 ms);
2. scan throughput of ``scan_checkpoint`` in GB/s and its ratio to a numpy baseline that sums
   the same bytes (target >= 0.5). The baseline maps the file and sums every tensor's elements
   as the unsigned integer type of the same width (``uint16`` for bf16: numpy has no bf16), the
   cheapest pass that reads every byte as elements. The raw memory floor (the data section
   summed as ``uint64``) is printed for reference;
3. the alternatives the scanner was chosen against: naive per-statistic torch over whole tensors
   and a chunked numpy implementation (on a subset of tensors, scaled to GB/s);
4. peak RSS of a scan in a fresh subprocess, against the largest tensor + 256 MB.

The checkpoint (GATES.md §6.3 names and shapes: 24 layers, hidden 896, 14/2 heads, head_dim 64,
intermediate 4864, vocab 151936, q/k/v biases, untied ``lm_head.weight``; 1.26 GB) is generated
once into ``$ALBOR_GATES_CACHE`` (default ``~/.cache/albor-gates``)/bench.

Usage: ``python benchmarks/bench_verify.py [--rounds 3] [--device cpu]``
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN, VOCAB = 896, 24, 14, 2, 64, 4864, 151936
MB = 1 << 20


def qwen2_05b_shapes() -> list[tuple[str, tuple[int, ...]]]:
    kv = KV_HEADS * HEAD_DIM
    shapes: list[tuple[str, tuple[int, ...]]] = [("model.embed_tokens.weight", (VOCAB, HIDDEN))]
    for n in range(LAYERS):
        p = f"model.layers.{n}"
        shapes += [
            (f"{p}.self_attn.q_proj.weight", (HIDDEN, HIDDEN)),
            (f"{p}.self_attn.q_proj.bias", (HIDDEN,)),
            (f"{p}.self_attn.k_proj.weight", (kv, HIDDEN)),
            (f"{p}.self_attn.k_proj.bias", (kv,)),
            (f"{p}.self_attn.v_proj.weight", (kv, HIDDEN)),
            (f"{p}.self_attn.v_proj.bias", (kv,)),
            (f"{p}.self_attn.o_proj.weight", (HIDDEN, HIDDEN)),
            (f"{p}.mlp.gate_proj.weight", (FFN, HIDDEN)),
            (f"{p}.mlp.up_proj.weight", (FFN, HIDDEN)),
            (f"{p}.mlp.down_proj.weight", (HIDDEN, FFN)),
            (f"{p}.input_layernorm.weight", (HIDDEN,)),
            (f"{p}.post_attention_layernorm.weight", (HIDDEN,)),
        ]
    shapes += [("model.norm.weight", (HIDDEN,)), ("lm_head.weight", (VOCAB, HIDDEN))]
    return shapes


def cache_dir() -> Path:
    root = os.environ.get("ALBOR_GATES_CACHE") or str(Path.home() / ".cache" / "albor-gates")
    return Path(root) / "bench"


def generate(path: Path) -> None:
    """Write the checkpoint tensor by tensor (never the whole model in memory)."""
    import torch

    shapes = qwen2_05b_shapes()
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in shapes:
        nbytes = 2 * int(np.prod(shape))
        header[name] = {
            "dtype": "BF16",
            "shape": list(shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # align the data section to 8 bytes, as the library does
    gen = torch.Generator().manual_seed(0)
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name, shape in shapes:
            if name.endswith("norm.weight"):
                t = 1.0 + 0.05 * torch.randn(shape, generator=gen)
            else:
                t = 0.02 * torch.randn(shape, generator=gen)
            f.write(t.to(torch.bfloat16).view(torch.uint16).numpy().tobytes())
    tmp.replace(path)


def median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def numpy_baseline(path: Path, header) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Return (seconds to sum every tensor as same-width uints, seconds to sum data as uint64)."""
    uint_of = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        t0 = time.perf_counter()
        acc = 0
        for t in header.tensors:
            width = t.nbytes // max(t.numel, 1)
            a = np.frombuffer(mm, dtype=uint_of[width], count=t.numel, offset=t.abs_begin)
            acc += int(a.sum(dtype=np.uint64))
            del a
        same_width = time.perf_counter() - t0
        t0 = time.perf_counter()
        n8 = header.nbytes // 8
        a = np.frombuffer(mm, dtype=np.uint64, count=n8, offset=header.data_start)
        a.sum()
        del a
        floor = time.perf_counter() - t0
    return same_width, floor


def naive_torch(path: Path, header, names: set[str]) -> float:  # type: ignore[no-untyped-def]
    """Per-statistic torch over whole tensors (what the issue warns against), one thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same setting as the scan: compare kernels, not contention
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        t0 = time.perf_counter()
        for t in header.tensors:
            if t.name not in names:
                continue
            x = torch.frombuffer(
                mm, dtype=torch.bfloat16, count=t.numel, offset=t.abs_begin
            ).float()
            torch.isfinite(x).all().item()
            int(torch.isnan(x).sum())
            int(torch.isinf(x).sum())
            int((x == 0).sum())
            x.abs().max().item()
            x.min().item()
            x.max().item()
            torch.var_mean(x)
            x.norm().item()
            del x
        dt = time.perf_counter() - t0
        mm.close()
    torch.set_num_threads(threads)
    return dt


def numpy_chunked(path: Path, header, names: set[str], chunk: int = 1 << 20) -> float:  # type: ignore[no-untyped-def]
    """The same statistics in numpy, chunked (bf16 widened via uint32 shifts)."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        buf = np.empty(chunk, dtype=np.uint32)
        t0 = time.perf_counter()
        for t in header.tensors:
            if t.name not in names:
                continue
            for start in range(0, t.numel, chunk):
                n = min(chunk, t.numel - start)
                raw = np.frombuffer(mm, dtype=np.uint16, count=n, offset=t.abs_begin + 2 * start)
                b = buf[:n]
                np.left_shift(raw, 16, out=b, dtype=np.uint32)
                x = b.view(np.float32)
                x.min(), x.max(), np.count_nonzero(x), x.sum(), np.dot(x, x)
                if n > 1:
                    np.dot(x[:-1], x[1:])
                del raw
        return time.perf_counter() - t0


# VmHWM (the high-water mark of this process's own address space), not ru_maxrss: Linux keeps
# ru_maxrss across fork + exec, so a child would report the parent's peak.
RSS_CHILD = r"""
import sys
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
import torch
base = hwm()
from albor_gates.artifacts.checkpoint import open_checkpoint
from albor_gates.model.scan import scan_checkpoint
ckpt = open_checkpoint(sys.argv[1])
r = scan_checkpoint(ckpt, device=sys.argv[2])
print(base, hwm(), r.seconds, r.bytes_scanned)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--skip-alternatives", action="store_true")
    args = ap.parse_args()

    from albor_gates.artifacts.safetensors import read_safetensors_header
    from albor_gates.model.scan import scan_checkpoint

    path = cache_dir() / "qwen2-0.5b-shaped-bf16.safetensors"
    if not path.exists():
        print(f"generating {path} (once) ...", flush=True)
        t0 = time.perf_counter()
        generate(path)
        print(f"  written in {time.perf_counter() - t0:.1f} s", flush=True)
    header = read_safetensors_header(path)
    largest = max(t.nbytes for t in header.tensors)
    print(
        f"checkpoint: {path} | {len(header.tensors)} tensors | {header.num_params / 1e6:.1f} M "
        f"params | data {header.nbytes / 1e9:.3f} GB | largest tensor {largest / MB:.0f} MiB"
    )

    parse_ms = [
        1e3 * median_time(lambda: read_safetensors_header(path), 21) for _ in range(args.rounds)
    ]

    subset = {
        t.name for t in header.tensors if t.name.startswith(("model.layers.0.", "model.layers.1."))
    }
    subset_bytes = sum(t.nbytes for t in header.tensors if t.name in subset)
    scan_gbps, base_gbps, floor_gbps, ratios = [], [], [], []
    naive_gbps, np_gbps = [], []
    # Warm the page cache and torch once, outside the timed rounds.
    numpy_baseline(path, header)
    scan_checkpoint(header, device=args.device)
    for r in range(args.rounds):
        same, floor = numpy_baseline(path, header)
        res = scan_checkpoint(header, device=args.device)
        gbps = header.nbytes / res.seconds / 1e9
        scan_gbps.append(gbps)
        base_gbps.append(header.nbytes / same / 1e9)
        floor_gbps.append(header.nbytes / floor / 1e9)
        ratios.append(gbps / base_gbps[-1])
        line = (
            f"round {r + 1}: scan {gbps:.2f} GB/s | numpy same-width sum {base_gbps[-1]:.2f} GB/s "
            f"| ratio {ratios[-1]:.2f} | uint64 memory floor {floor_gbps[-1]:.1f} GB/s"
        )
        if not args.skip_alternatives:
            naive_gbps.append(subset_bytes / naive_torch(path, header, subset) / 1e9)
            np_gbps.append(subset_bytes / numpy_chunked(path, header, subset) / 1e9)
            line += (
                f" | naive torch {naive_gbps[-1]:.2f} GB/s | numpy chunked {np_gbps[-1]:.2f} GB/s"
            )
        print(line, flush=True)

    env = dict(os.environ)
    env["PYTHONPATH"] = (
        str(Path(__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    )
    rss = []
    for _ in range(args.rounds):
        out = subprocess.run(
            [sys.executable, "-c", RSS_CHILD, str(path), args.device],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.split()
        rss.append((int(out[0]), int(out[1])))

    med = statistics.median
    base_rss, peak_rss = med(r[0] for r in rss), med(r[1] for r in rss)
    budget = largest + 256 * MB
    print()
    print(f"header + structure checks : {med(parse_ms):7.2f} ms   (target < 50 ms)")
    print(
        f"scan throughput           : {med(scan_gbps):7.2f} GB/s vs numpy same-width sum "
        f"{med(base_gbps):.2f} GB/s -> ratio {med(ratios):.2f}   (target >= 0.5)"
    )
    print(
        f"  memory floor (uint64 sum): {med(floor_gbps):7.2f} GB/s -> scan at "
        f"{med(scan_gbps) / med(floor_gbps):.2f} of it"
    )
    if naive_gbps:
        print(
            f"  alternatives (layers 0-1): naive per-statistic torch {med(naive_gbps):.2f} GB/s, "
            f"numpy chunked {med(np_gbps):.2f} GB/s, chosen chunked torch {med(scan_gbps):.2f} GB/s"
        )
    print(
        f"peak RSS of a scan        : {peak_rss / MB:7.0f} MiB (after import torch: "
        f"{base_rss / MB:.0f} MiB) "
        f"vs budget largest tensor + 256 MiB = {budget / MB:.0f} MiB   (target <=)"
    )
    print(f"medians of {args.rounds} rounds on {os.cpu_count()} CPU(s), device {args.device}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
