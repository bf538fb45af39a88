"""gguf.tensor_parity — every GGUF tensor matches its safetensors source (GATES.md §7.4).

Compares the ``model`` release (safetensors) with a GGUF file — the ``gguf`` artifact when one
is bound and present, else this run's export for ``quant`` (see ``gguf.export``) — tensor by
tensor: each GGUF tensor is dequantised to fp32, renamed to its Hugging Face name (llama q/k
rows un-permuted) and compared with the source tensor in float64 chunks (memory: the largest
tensor twice, never the model).

``measure``:

* ``min_cosine`` (default) — the lowest per-tensor cosine (AC-SHIP1-003 round trip: ``ge:
  0.999``; what Q4_K reaches depends on the weights, see the per-type minima in details);
* ``max_l2_drift`` — the largest ``‖gguf − source‖ / ‖source‖`` (metamorphic M2: ``lt: 0.01``);
* ``inexact`` — tensors whose GGUF type holds the source dtype exactly (F32 from F32 / F16 /
  BF16, F16 from F16, BF16 from BF16) but are not bit-identical (``eq: 0``: a writer bug);
* ``unmatched`` — source tensors missing from the GGUF, GGUF tensors unknown to the source and
  shape mismatches (``eq: 0``).

Tensors missing on either side make ``min_cosine``, ``max_l2_drift`` and ``inexact`` NaN (which
always FAILs) with the names in the summary: a partial comparison must not pass. Details hold
the per-type minima (``by_type``) and the five worst tensors.

PASS: "min cosine 0.99981 over 27 tensors of this run's q4_k export (Q4_K 0.99981 at
model.layers.1.mlp.down_proj.weight, Q5_0 0.99957, F32 1)".
FAIL: "min tensor cosine 0.93 must be ≥ 0.999 — model.layers.0.self_attn.q_proj.weight (Q4_K)";
FAIL: "1 source tensor is not in model.gguf: lm_head.weight".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from albor_gates.checks._gguf import Quant, gguf_under_test, require_safetensors
from albor_gates.checks.base import CheckParams, Context, Measurement

KIND = "gguf.tensor_parity"
VERSION = 1
TITLE = "Per-tensor cosine, L2 drift and exactness of a GGUF against its safetensors source"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("gguf",)
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model", "gguf")
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(CheckParams):
    """Options of gguf.tensor_parity."""

    quant: Quant = "q4_k"
    measure: Literal["min_cosine", "max_l2_drift", "inexact", "unmatched"] = "min_cosine"
    worst: int = Field(5, ge=0, le=100)


def _fmt(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else str(x)


def measure(ctx: Context, params: Params) -> Measurement:
    """Compare (once per run and GGUF) and report the chosen figure."""
    from albor_gates.formats.gguf_parity import compare_tensors

    source = require_safetensors(ctx, KIND)
    g = gguf_under_test(ctx, params.quant)

    def compare(path: Any) -> Any:
        return compare_tensors(source, path, progress=ctx.progress("tensor parity", 1.0))

    r = g.read(ctx, f"tensor-parity:{source.resolve()}", compare)
    by_type = r.by_type()
    ranked = sorted(r.tensors, key=lambda t: (not math.isnan(t.cosine), t.cosine))
    details: dict[str, Any] = {
        "gguf": g.label,
        "tensors": len(r.tensors),
        "source_tensors": r.source_tensors,
        "by_type": {
            k: {
                "tensors": v.tensors,
                "min_cosine": v.min_cosine,
                "worst_cosine": v.worst_cosine,
                "max_l2_drift": v.max_l2_drift,
                "worst_drift": v.worst_drift,
                "inexact": v.inexact,
            }
            for k, v in by_type.items()
        },
        "worst": [
            {
                "name": t.name,
                "type": t.ggml_type,
                "cosine": t.cosine,
                "l2_drift": t.l2_drift,
                "max_abs_diff": t.max_abs_diff,
            }
            for t in ranked[: params.worst]
        ],
        "inexact_tensors": list(r.inexact[:20]),
        "missing_in_gguf": list(r.missing_in_gguf[:20]),
        "extra_in_gguf": list(r.extra_in_gguf[:20]),
        "shape_mismatches": list(r.shape_mismatches[:20]),
        "skipped_buffers": list(r.skipped_buffers),
    }
    unmatched = len(r.missing_in_gguf) + len(r.extra_in_gguf) + len(r.shape_mismatches)
    problems = [
        *(f"{n} is not in the GGUF" for n in r.missing_in_gguf),
        *(f"{n} is not in the source" for n in r.extra_in_gguf),
        *(f"shape {m}" for m in r.shape_mismatches),
    ]
    per_type = ", ".join(f"{k} {_fmt(v.min_cosine)}" for k, v in by_type.items())
    if params.measure == "unmatched":
        return Measurement(
            unmatched,
            subject="unmatched tensors",
            summary=f"{len(r.tensors)} tensors matched in {g.label}"
            + (f"; {problems[0]}" if problems else ""),
            details=details,
            fix="the GGUF does not hold the same tensors as the release: re-export it",
        )
    if problems:
        return Measurement(
            math.nan,
            subject=params.measure.replace("_", " "),
            summary=f"{unmatched} tensors do not match between the source and {g.label}: "
            + "; ".join(problems[:3]),
            details=details,
            fix="the GGUF does not hold the same tensors as the release: re-export it",
        )
    if params.measure == "min_cosine":
        worst = ranked[0] if ranked else None
        where = f" at {worst.name} ({worst.ggml_type})" if worst else ""
        return Measurement(
            r.min_cosine,
            subject="min tensor cosine",
            summary=f"over {len(r.tensors)} tensors of {g.label}{where}; per type: {per_type}",
            details=details,
            fix="a quantised tensor drifted from its source: a wider quant (q8_0), or check "
            "the writer's layout for that tensor",
        )
    if params.measure == "max_l2_drift":
        worst_d = max(r.tensors, key=lambda t: (math.isnan(t.l2_drift), t.l2_drift), default=None)
        where = f" at {worst_d.name} ({worst_d.ggml_type})" if worst_d else ""
        return Measurement(
            r.max_l2_drift,
            subject="max relative L2 drift",
            summary=f"over {len(r.tensors)} tensors of {g.label}{where}",
            details=details,
            fix="a tensor drifted from its source by more than the quantisation allows",
        )
    lossless = sum(1 for t in r.tensors if t.lossless)
    return Measurement(
        len(r.inexact),
        subject="inexact lossless tensors",
        summary=f"{lossless} tensors stored in a type that holds the source exactly"
        + (f"; first inexact: {r.inexact[0]}" if r.inexact else ", all bit-identical"),
        details=details,
        fix="an F32/F16 tensor must round-trip bit for bit: the writer changed its values",
    )
