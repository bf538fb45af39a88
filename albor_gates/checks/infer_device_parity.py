"""infer.device_parity — the GPU computes what the CPU computes (apr qa P6, GPU/CPU parity).

Runs the same windows through the decoder on the CPU (fp32, the reference) and on CUDA (the
GPU policy: bf16 with fp32 accumulation, or ``gpu_dtype``), then compares next-token logits
position by position: ``measure: top1_agreement`` (share of positions whose argmax agrees;
default band ``ge: 0.99``) or ``min_cosine`` (the lowest logit cosine over positions).
Without a CUDA device the gate is SKIPPED ("no CUDA device"), never passed.

A disagreement at a position where the two next-token distributions (softmax) have cosine ≥
``near_tie_cosine`` (0.98, the seed's format_parity rule) is a near-tie, not a failure: bf16
rounding flips genuinely close calls (measured on an H200: raw agreement 0.984 on the example
model, min logit cosine 0.99996). The raw agreement is reported too.

Inputs: the first ``windows`` windows of ``seq_len`` tokens from the ``tokens`` artifact, or
the ``prompts`` tokenized with the tokenizer when there is no token file.

PASS: "top-1 agreement 0.9992 over 1,024 positions, min cosine 0.99991 (H100, bfloat16)".
FAIL: a GPU kernel bug flips tokens → "top1 agreement 0.71, must be ≥ 0.99".
SKIPPED: "no CUDA device: CPU↔GPU parity needs one".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks._decoder import load_decoder, load_tokenizer
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import CheckSkipped

KIND = "infer.device_parity"
VERSION = 1
TITLE = "CPU fp32 vs GPU logits: top-1 agreement and cosine per position"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("tokens", "tokenizer")
NEEDS: frozenset[str] = frozenset({"torch", "gpu"})
EXTRAS: tuple[str, ...] = ("model",)
DEFAULT_EXPECT: Mapping[str, Any] | None = {"ge": 0.99}


class Params(CheckParams):
    """Options of infer.device_parity."""

    measure: Literal["top1_agreement", "min_cosine"] = "top1_agreement"
    seq_len: int = Field(128, ge=2)
    windows: int = Field(4, ge=1)
    prompts: list[str] = ["def fibonacci(n):", "import numpy as np\n", "class Stack:\n"]
    gpu_dtype: Literal["bfloat16", "float16", "float32"] | None = None
    near_tie_cosine: float = Field(0.98, ge=0, le=1)


def measure(ctx: Context, params: Params) -> Measurement:
    """Compare CPU and CUDA logits."""
    import torch

    if not torch.cuda.is_available():
        raise CheckSkipped("no CUDA device: CPU↔GPU parity needs one")

    def compare(_path: Any) -> dict[str, Any]:
        import torch.nn.functional as F  # noqa: N812

        from albor_gates.model.tokens import load_tokens, make_windows

        cpu = load_decoder(ctx, device="cpu")
        gpu = load_decoder(ctx, device="cuda")
        if params.gpu_dtype is not None and str(gpu.dtype) != f"torch.{params.gpu_dtype}":
            from albor_gates.model.decoder import load_model

            gpu = load_model(ctx.path("model"), "cuda", getattr(torch, params.gpu_dtype))
        batches: list[torch.Tensor] = []
        if ctx.has("tokens"):
            path = ctx.path("tokens")
            tok = None if path.suffix.lower() in (".npy", ".bin") else load_tokenizer(ctx)
            src = load_tokens(path, tokenizer=tok, max_tokens=params.windows * params.seq_len + 1)
            w = make_windows(src, params.seq_len, vocab_size=cpu.config.vocab_size)
            n = min(len(w), params.windows)
            inputs, _ = w.batch(list(range(n)))
            batches.append(inputs)
        else:
            tok = load_tokenizer(ctx)
            for p in params.prompts:
                ids = tok.encode(p, add_special_tokens=False).ids
                batches.append(torch.tensor([ids], dtype=torch.long))
        agree = raw = total = 0
        min_cos = 1.0
        vocab = cpu.config.vocab_size
        with torch.no_grad():
            for ids in batches:
                a = cpu.logits(ids.to(cpu.device)).float().reshape(-1, vocab)
                b = gpu.logits(ids.to(gpu.device)).float().cpu().reshape(-1, vocab)
                same = a.argmax(-1) == b.argmax(-1)
                prob_cos = F.cosine_similarity(torch.softmax(a, -1), torch.softmax(b, -1), dim=-1)
                raw += int(same.sum())
                agree += int((same | (prob_cos >= params.near_tie_cosine)).sum())
                total += a.shape[0]
                min_cos = min(min_cos, float(F.cosine_similarity(a, b, dim=-1).min()))
        return {
            "top1_agreement": agree / total,
            "top1_agreement_raw": raw / total,
            "min_cosine": min_cos,
            "positions": total,
            "gpu": torch.cuda.get_device_name(gpu.device),
            "gpu_dtype": str(gpu.dtype).replace("torch.", ""),
        }

    r = ctx.read("model", f"parity:{params.model_dump_json()}", compare)
    return Measurement(
        r[params.measure],
        subject=params.measure.replace("_", " "),
        summary=f"top-1 agreement {r['top1_agreement']:.4f} (raw {r['top1_agreement_raw']:.4f}; "
        f"flips where the distributions' cosine ≥ {params.near_tie_cosine} are near-ties) over "
        f"{r['positions']:,} positions, "
        f"min cosine {r['min_cosine']:.6f} ({r['gpu']}, {r['gpu_dtype']} vs cpu float32)",
        details=r,
    )
