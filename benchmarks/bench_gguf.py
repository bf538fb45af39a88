"""Benchmark: read + dequantise a Q4_K GGUF of a Qwen2-0.5B-shaped model (issue 5); quantisers.

Builds once (cached under ``.benchmarks/gguf/``) a random Qwen2-0.5B-shaped Hugging Face folder
(hidden 896, 24 layers, 14 / 2 heads, intermediate 4864, vocab 151,936, q/k/v biases, tied
embeddings, fp16 safetensors) with a synthetic 151,665-token byte-level BPE tokenizer, and exports
it with ``export_gguf(..., "q4_k")`` — which, like llama.cpp, writes Q4_K where the row length
is a multiple of 256 (ffn_down, rows of 4864), Q5_0 for the 896-wide matrices and Q8_0 for the
896-wide tied embedding (the output tensor, Q6_K when its rows are whole 256-blocks).

Then, in one run, alternating, ``--repeats`` times:

* ours: ``read_gguf`` + ``iter_dequantized`` over every tensor;
* gguf-py: ``GGUFReader`` + ``gguf.quants.dequantize`` over every tensor;

and prints the medians, the ratio (gguf-py time / ours; target ≥ 1.0), the header-parse and
per-ggml-type decode split, and the peak RSS of each path measured in a fresh subprocess against
"largest tensor in fp32 + its bytes + the interpreter's baseline".

Last, the export's quantisers on one ffn_down-shaped matrix (896 × 4864 fp32, ~N(0, 0.02)),
alternating, ``--repeats`` times: gguf-py's Q8_0 and albor-gates' numpy Q4_K and Q6_K, as
median MB/s of fp32 input (``--quantisers-only`` runs just this part, without the model).

Usage: ``python benchmarks/bench_gguf.py [--repeats 3] [--layers 24] [--cache .benchmarks/gguf]
[--quantisers-only]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

QWEN2_RE = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SHAPE = {
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
}
N_TOKENS = 151643  # Qwen2's BPE vocabulary; 22 special tokens follow, then padding


def synthetic_tokenizer(n_tokens: int, seed: int = 0) -> dict:
    """A valid byte-level BPE tokenizer.json with ``n_tokens`` tokens and their merges."""
    from tokenizers import pre_tokenizers

    rng = np.random.default_rng(seed)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab: dict[str, int] = {ch: i for i, ch in enumerate(sorted(alphabet))}
    tokens = list(vocab)
    merges: list[list[str]] = []
    while len(vocab) < n_tokens:
        a = tokens[int(rng.integers(len(tokens)))]
        b = tokens[int(rng.integers(len(tokens)))]
        if a + b in vocab or len(a + b) > 12:
            continue
        vocab[a + b] = len(vocab)
        tokens.append(a + b)
        merges.append([a, b])
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [
        f"<|extra_{i}|>" for i in range(19)
    ]
    added = [
        {
            "id": n_tokens + i,
            "content": s,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for i, s in enumerate(specials)
    ]
    return {
        "version": "1.0",
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": QWEN2_RE},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {
                    "type": "ByteLevel",
                    "add_prefix_space": False,
                    "trim_offsets": False,
                    "use_regex": False,
                },
            ],
        },
        "post_processor": None,
        "decoder": {
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": False,
            "use_regex": False,
        },
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": merges,
        },
    }


def build_model(folder: Path, layers: int, seed: int = 0) -> None:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    h, ffn, v = SHAPE["hidden_size"], SHAPE["intermediate_size"], SHAPE["vocab_size"]
    kv = h // SHAPE["num_attention_heads"] * SHAPE["num_key_value_heads"]
    rng = np.random.default_rng(seed)

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)

    tensors = {"model.embed_tokens.weight": w(v, h), "model.norm.weight": np.ones(h, np.float16)}
    for i in range(layers):
        p = f"model.layers.{i}."
        tensors.update(
            {
                p + "self_attn.q_proj.weight": w(h, h),
                p + "self_attn.q_proj.bias": w(h),
                p + "self_attn.k_proj.weight": w(kv, h),
                p + "self_attn.k_proj.bias": w(kv),
                p + "self_attn.v_proj.weight": w(kv, h),
                p + "self_attn.v_proj.bias": w(kv),
                p + "self_attn.o_proj.weight": w(h, h),
                p + "mlp.gate_proj.weight": w(ffn, h),
                p + "mlp.up_proj.weight": w(ffn, h),
                p + "mlp.down_proj.weight": w(h, ffn),
                p + "input_layernorm.weight": np.ones(h, np.float16),
                p + "post_attention_layernorm.weight": np.ones(h, np.float16),
            }
        )
    save_file(tensors, str(folder / "model.safetensors"))
    config = {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "num_hidden_layers": layers,
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
        "bos_token_id": N_TOKENS,
        "eos_token_id": N_TOKENS,
        **SHAPE,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    (folder / "tokenizer.json").write_text(json.dumps(synthetic_tokenizer(N_TOKENS)))
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": None})
    )


def ensure_gguf(cache: Path, layers: int) -> Path:
    from albor_gates.formats.gguf_export import export_gguf

    src = cache / f"qwen2-0.5b-shaped-{layers}l"
    dst = cache / f"qwen2-0.5b-shaped-{layers}l-q4_k.gguf"
    if dst.exists():
        return dst
    if not (src / "tokenizer.json").exists():
        t = time.perf_counter()
        build_model(src, layers)
        print(f"built the random source model in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    res = export_gguf(src, dst, "q4_k")
    print(
        f"exported q4_k in {time.perf_counter() - t:.1f} s: {res.file_size / 1e6:.0f} MB "
        f"from {res.source_bytes / 1e6:.0f} MB fp16, {len(res.fallbacks)} Q4_K fallbacks",
        flush=True,
    )
    return dst


def run_ours(path: Path, per_type: dict[str, float]) -> tuple[float, float]:
    from albor_gates.artifacts.gguf import read_gguf
    from albor_gates.artifacts.gguf_dequant import dequantize_tensor

    t0 = time.perf_counter()
    g = read_gguf(path)
    t1 = time.perf_counter()
    for info in g.tensors:
        s = time.perf_counter()
        arr = dequantize_tensor(g, info)
        per_type[info.ggml_type] = per_type.get(info.ggml_type, 0.0) + time.perf_counter() - s
        del arr
    return time.perf_counter() - t0, t1 - t0


def run_gguf_py(path: Path, per_type: dict[str, float]) -> tuple[float, float]:
    import gguf

    t0 = time.perf_counter()
    r = gguf.GGUFReader(path)
    t1 = time.perf_counter()
    for t in r.tensors:
        s = time.perf_counter()
        arr = gguf.quants.dequantize(t.data, t.tensor_type)
        name = t.tensor_type.name
        per_type[name] = per_type.get(name, 0.0) + time.perf_counter() - s
        del arr
    return time.perf_counter() - t0, t1 - t0


_RSS_CHILD = """
import sys
import numpy, gguf  # the baseline includes both libraries
from albor_gates.artifacts.gguf import read_gguf
from albor_gates.artifacts.gguf_dequant import iter_dequantized

def hwm() -> int:
    # VmHWM is this process's own peak RSS (ru_maxrss would include the parent's at fork).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")

base = hwm()
path = sys.argv[1]
if sys.argv[2] == "ours":
    for _info, arr in iter_dequantized(read_gguf(path)):
        del arr
else:
    r = gguf.GGUFReader(path)
    for t in r.tensors:
        arr = gguf.quants.dequantize(t.data, t.tensor_type)
        del arr
print(base, hwm())
"""


def peak_rss(path: Path, which: str) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(path), which],
        capture_output=True,
        text=True,
        check=True,
    )
    base, peak = out.stdout.split()
    return int(base), int(peak)


def bench_quantisers(repeats: int) -> None:
    """Median throughput of each export quantiser on one ffn_down-shaped fp32 matrix."""
    from albor_gates.formats.gguf_quants import quantize

    h, ffn = SHAPE["hidden_size"], SHAPE["intermediate_size"]
    x = np.random.default_rng(0).standard_normal((h, ffn), dtype=np.float32) * np.float32(0.02)
    times: dict[str, list[float]] = {"Q8_0": [], "Q4_K": [], "Q6_K": []}
    for i in range(repeats):
        for t in list(times) if i % 2 == 0 else list(reversed(times)):
            s = time.perf_counter()
            quantize(x, t)
            times[t].append(time.perf_counter() - s)
    print(f"quantise one {h} x {ffn} fp32 matrix ({x.nbytes / 1e6:.1f} MB), median of {repeats}:")
    for t, ts in times.items():
        m = statistics.median(ts)
        print(
            f"  {t}: {m:.3f} s, {x.nbytes / m / 1e6:.1f} MB/s ({x.size / m / 1e6:.2f} M values/s)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--cache", type=Path, default=Path(".benchmarks/gguf"))
    ap.add_argument("--quantisers-only", action="store_true")
    args = ap.parse_args()
    if args.quantisers_only:
        bench_quantisers(args.repeats)
        return

    from albor_gates.artifacts.gguf import read_gguf

    path = ensure_gguf(args.cache, args.layers)
    g = read_gguf(path)
    largest = max(g.tensors, key=lambda t: t.n_elements)
    print(
        f"file: {path} ({g.file_size / 1e6:.0f} MB, {len(g.tensors)} tensors, "
        f"{g.n_parameters / 1e6:.0f} M parameters, types {g.type_counts})"
    )

    ours, theirs, ours_hdr, theirs_hdr = [], [], [], []
    ours_types: dict[str, float] = {}
    theirs_types: dict[str, float] = {}
    for i in range(args.repeats):
        order = ("ours", "gguf-py") if i % 2 == 0 else ("gguf-py", "ours")
        for which in order:
            if which == "ours":
                total, hdr = run_ours(path, ours_types)
                ours.append(total)
                ours_hdr.append(hdr)
            else:
                total, hdr = run_gguf_py(path, theirs_types)
                theirs.append(total)
                theirs_hdr.append(hdr)
        print(f"  run {i + 1}: ours {ours[-1]:.2f} s, gguf-py {theirs[-1]:.2f} s", flush=True)

    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(
        f"read + dequantise all tensors, median of {args.repeats}: ours {mo:.2f} s "
        f"({g.n_parameters / mo / 1e6:.0f} M elements/s), gguf-py {mt:.2f} s -> "
        f"ratio {mt / mo:.2f}x (target >= 1.0)"
    )
    print(
        f"  header parse: ours {statistics.median(ours_hdr) * 1e3:.0f} ms, "
        f"gguf-py {statistics.median(theirs_hdr) * 1e3:.0f} ms"
    )
    for t in sorted(ours_types):
        n = sum(x.n_elements for x in g.tensors if x.ggml_type == t)
        a, b = ours_types[t] / args.repeats, theirs_types.get(t, 0.0) / args.repeats
        print(
            f"  {t:5s} {n / 1e6:6.0f} M elements: ours {a:.2f} s ({n / a / 1e6:.0f} M/s), "
            f"gguf-py {b:.2f} s ({n / b / 1e6:.0f} M/s), ratio {b / a:.2f}x"
        )

    floor = largest.n_elements * 4 + largest.nbytes
    for which in ("ours", "gguf-py"):
        base, peak = peak_rss(path, "ours" if which == "ours" else "theirs")
        print(
            f"peak RSS {which}: {peak / 1e6:.0f} MB = baseline {base / 1e6:.0f} MB + "
            f"{(peak - base) / 1e6:.0f} MB; largest tensor {largest.name} fp32 + its bytes "
            f"= {floor / 1e6:.0f} MB -> {(peak - base) / floor:.2f}x of it"
        )
    bench_quantisers(args.repeats)


if __name__ == "__main__":
    main()
