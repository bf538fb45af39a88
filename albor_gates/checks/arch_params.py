"""arch.param_count — the number of parameters, for a declared band.

Counts the elements of every floating-point tensor in the checkpoint (integer buffers such as
BERT's ``position_ids`` are not parameters). ``tied: count_twice`` counts a tied embedding
twice when no ``lm_head`` is stored (the Llama370M contract's "untied counting", band
366–374M); the default counts what is stored.

Example — the Llama370M contract band::

    check: arch.param_count
    artifact: model
    params: {tied: count_twice}
    expect: {between: [366000000, 374000000]}

PASS: "parameters 370,000,000 in [366000000, 374000000]". FAIL: albor-370m-v1's Qwen2 weights
(~494M) against that band → "parameters 494032768, must be in [366000000, 374000000]".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.checks.evidence import checkpoint, config_dict

KIND = "arch.param_count"
VERSION = 1
TITLE = "Number of parameters of the checkpoint (floating-point tensors)"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("config",)
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None

_EMBED = (
    "model.embed_tokens.weight",
    "transformer.wte.weight",
    "embeddings.word_embeddings.weight",
)
_HEAD = ("lm_head.weight",)


class Params(CheckParams):
    """Options of arch.param_count."""

    tied: Literal["as_stored", "count_twice"] = "as_stored"


def measure(ctx: Context, params: Params) -> Measurement:
    """Sum the element counts."""
    view = checkpoint(ctx)
    n = view.param_count()
    note = "as stored"
    if params.tied == "count_twice" and not any(h in view.shapes for h in _HEAD):
        cfg = config_dict(ctx, view) or {}
        embed = next((e for e in _EMBED if e in view.shapes), None)
        if embed is not None and cfg.get("tie_word_embeddings", True) is not False:
            n += view.numel(embed)
            note = f"tied {embed} counted twice"
    return Measurement(
        n,
        subject="parameters",
        summary=f"{n:,} parameters ({note})",
        details={"parameters": n, "counting": note, "tensors": len(view.shapes)},
    )
