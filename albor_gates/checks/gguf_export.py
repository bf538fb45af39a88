"""gguf.export — the safetensors release exports to GGUF (template §4, GATES.md §7.3 / §7.4).

Exports the ``model`` artifact (a release folder, or a safetensors file with config.json and
tokenizer.json beside it) with albor-gates' own GGUF writer (``gates export``) into a temporary
folder that lives for the run, once per ``quant``; the ``gguf.*`` and ``consumer.llama_cpp``
gates of the same run that name the same ``quant`` read that file. Nothing is written next to
the release.

``measure``:

* ``exported`` (default; band ``is_true: true``) — the export succeeded and its header reads
  back;
* ``size_ratio`` — GGUF bytes / safetensors bytes (template §4 "GGUF Q4_K smaller than the
  source": ``lt: 1``);
* ``tensor_count_delta`` — GGUF tensors − source tensors, buffers such as
  ``rotary_emb.inv_freq`` not counted (template §4 "tensor count equal to source": ``eq: 0``);
* ``fallbacks`` — weights written in another type than ``quant`` because their rows do not
  divide into its blocks (Q4_K → Q5_0 for Qwen2-0.5B's 896-wide rows; listed in details).

The numeric measures need an ``expect``. A failed export is *measured*: ``exported`` is false
and the numeric measures NaN (which always FAIL), with the exporter's one-line diagnosis — so
this gate FAILs where the gates that need the file ERROR.

PASS: "GGUF q4_k export: 1.4 MiB = 0.31 × the source (4.5 MiB), 27 tensors (27 in the
source), 4 fallbacks".
FAIL: "gguf q4_k size ratio 1.07, must be < 1" — a Q4_K export larger than its source (every
weight fell back to F16).
FAIL: "GGUF export: .../config.json: model_type is 'gpt_neox'; GGUF export supports llama,
mistral, qwen2, qwen3".
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any, Literal

from albor_gates.checks._gguf import Quant, require_safetensors, run_export
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import checkpoint
from albor_gates.errors import GatesError

KIND = "gguf.export"
VERSION = 1
TITLE = "The safetensors release exports to GGUF: success, size vs source, tensor count"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset({"torch"})
EXTRAS: tuple[str, ...] = ("model", "gguf")
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}


class Params(CheckParams):
    """Options of gguf.export."""

    quant: Quant = "q4_k"
    measure: Literal["exported", "size_ratio", "tensor_count_delta", "fallbacks"] = "exported"


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def measure(ctx: Context, params: Params) -> Measurement:
    """Export (or reuse the run's export) and report the chosen figure."""
    from albor_gates.formats.gguf_parity import SKIPPED_SOURCE_SUFFIXES

    require_safetensors(ctx, KIND)
    subjects = {
        "exported": "GGUF export",
        "size_ratio": f"gguf {params.quant} size ratio",
        "tensor_count_delta": "gguf − source tensor count",
        "fallbacks": f"tensors not written as {params.quant}",
    }
    t0 = time.perf_counter()
    try:
        r = run_export(ctx, params.quant)
    except GatesError as e:
        return Measurement(
            False if params.measure == "exported" else math.nan,
            subject=subjects[params.measure],
            summary=str(e),
            details={"quant": params.quant, "error": str(e)},
            fix="fix what the message names, then check with `gates export MODEL --to gguf "
            f"--quant {params.quant} -o model.gguf`",
        )
    seconds = time.perf_counter() - t0
    view = checkpoint(ctx)
    buffers = sorted(n for n in view.shapes if n.endswith(SKIPPED_SOURCE_SUFFIXES))
    source_count = r.source_tensor_count - len(buffers)
    ratio = r.file_size / r.source_bytes if r.source_bytes else math.inf
    summary = (
        f"GGUF {params.quant} export: {_mib(r.file_size)} = {ratio:.2f} × the source "
        f"({_mib(r.source_bytes)}), {r.tensor_count} tensors ({source_count} in the source), "
        f"{len(r.fallbacks)} fallbacks"
    )
    details: dict[str, Any] = {
        **r.summary(),
        # The source count without buffers (rotary inv_freq), as tensor_count_delta uses it.
        "source_tensor_count": source_count,
        "skipped_buffers": buffers,
        # 0 when another gate of the run already exported this quant.
        "export_seconds": round(seconds, 3),
    }
    if params.measure == "exported":
        return Measurement(True, subject="GGUF export", summary=summary, details=details)
    if params.measure == "size_ratio":
        return Measurement(
            ratio,
            subject=subjects["size_ratio"],
            summary=summary,
            details=details,
            fix="a quantised GGUF larger than its source means the weights fell back to a wider "
            "type: see details.fallbacks",
        )
    if params.measure == "tensor_count_delta":
        return Measurement(
            r.tensor_count - source_count,
            subject=subjects["tensor_count_delta"],
            summary=summary,
            details=details,
            fix="a tensor was dropped or duplicated on export: compare the names in both files",
        )
    return Measurement(
        len(r.fallbacks),
        subject=subjects["fallbacks"],
        summary=summary + (f": {r.fallbacks[0]}" if r.fallbacks else ""),
        details=details,
    )
