"""provenance.quality_score — the `apr inspect --quality` score (0–100) of a release.

Five sub-scores (GATES.md §7.1; mapping to safetensors releases in
:func:`albor_gates.artifacts.provenance.quality_breakdown`): physics 20 (the weights' layout
is valid), structural 20 (architecture, hidden size, layers, heads), provenance 25 (license 9,
data_source 8, data_license 8 stamped in the header), hf_identity 20 (hf_architecture 12,
hf_model_type 8), tokenizer 15 (embedded, or a sibling tokenizer.json that loads).
``ship_ready`` is total ≥ 90. ``component`` selects what the gate judges (default ``total``);
the dogfood template's §1 asks for ``hf_identity`` = 20 and ``provenance`` = 25 as well.

PASS: a stamped release with tokenizer.json → "Quality (0-100) 100: physics 20/20, structural
20/20, provenance 25/25, hf_identity 20/20, tokenizer 15/15".
FAIL: P2-E epoch 49 before P0-K → "quality 40, must be ≥ 90" (hf_identity 0/20, provenance 0/25).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from albor_gates.artifacts.provenance import SHIP_READY, QualityInputs, quality_breakdown
from albor_gates.checks import evidence
from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import checkpoint, config_dict
from albor_gates.errors import ArtifactError

KIND = "provenance.quality_score"
VERSION = 1
TITLE = "The apr inspect --quality score (0-100) or one of its five components"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("config", "tokenizer")
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ("tokenizer",)
DEFAULT_EXPECT: Mapping[str, Any] | None = {"ge": SHIP_READY}

MAXIMA = {"physics": 20, "structural": 20, "provenance": 25, "hf_identity": 20, "tokenizer": 15}


class Params(CheckParams):
    """Options of provenance.quality_score."""

    component: Literal[
        "total", "physics", "structural", "provenance", "hf_identity", "tokenizer"
    ] = "total"


def measure(ctx: Context, params: Params) -> Measurement:
    """Score the release."""
    try:
        view = checkpoint(ctx)
        valid, metadata = True, dict(view.metadata)
    except ArtifactError:
        view, valid, metadata = None, False, {}
    cfg = config_dict(ctx, view) if valid or ctx.has("config") else None
    tokenizer = any(k.startswith("tokenizer.") for k in metadata)
    if not tokenizer and ctx.has("tokenizer"):
        try:
            evidence.tokenizer(ctx)
            tokenizer = True
        except ArtifactError:
            tokenizer = False
    if view is not None and view.format == "gguf":
        tokenizer = tokenizer or bool(view.raw.tokenizer)
    parts = quality_breakdown(QualityInputs(valid, metadata, cfg, tokenizer))
    total = sum(parts.values())
    block = ", ".join(f"{k} {v}/{MAXIMA[k]}" for k, v in parts.items())
    value = total if params.component == "total" else parts[params.component]
    missing = [k for k, v in parts.items() if v < MAXIMA[k]]
    flags = []
    if "hf_identity" in missing:
        flags.append("--hf-architecture CLASS --hf-model-type TYPE")
    if "provenance" in missing:
        flags.append("--license SPDX --data-source SOURCE --data-license SPDX")
    fix = ""
    if flags and view is not None and view.format == "safetensors":
        fix = f"gates stamp {view.path} {' '.join(flags)} -o STAMPED.safetensors"
    elif "tokenizer" in missing:
        fix = "ship tokenizer.json next to the weights"
    return Measurement(
        value,
        subject="quality" if params.component == "total" else f"quality.{params.component}",
        summary=f"Quality (0-100) {total}: {block}; ship_ready {str(total >= SHIP_READY).lower()}",
        details={
            "score": total,
            "ship_ready": total >= SHIP_READY,
            "threshold": SHIP_READY,
            "breakdown": parts,
        },
        fix=fix,
    )
