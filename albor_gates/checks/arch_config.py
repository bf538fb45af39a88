"""arch.config_shapes — config.json and the tensors describe the same network.

From config.json (or a GGUF's own metadata) the check derives the family's Hugging Face tensor
layout — vocab, hidden, layers, heads, kv heads, head_dim, intermediate, q/k/v biases (qwen2),
q/k norms (qwen3), tied embeddings — for llama, mistral, qwen2, qwen3, gpt2 and bert, and
compares it with the checkpoint: every expected tensor present with its exact shape, no
unexpected tensor (a tied ``lm_head`` copy, rotary buffers and BERT's pooler are allowed).
Row-major ``[out, in]`` is checked, so a transposed ``lm_head`` (the GH-202 defect) fails.

The value is the number of mismatches (default band ``eq: 0``); the first ten are listed.

PASS: Qwen2-0.5B config and 290 tensors → "0 mismatches against qwen2 (hidden 896, 24 layers,
14/2 heads, head_dim 64, intermediate 4864, vocab 151936)".
FAIL: ``lm_head.weight`` stored as [896, 151936] → "1 mismatch: lm_head.weight is [896, 151936],
config.json implies [151936, 896]".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks.base import Context, Measurement, NoParams
from albor_gates.checks.evidence import checkpoint, config_dict
from albor_gates.errors import CheckSkipped, EvidenceError

KIND = "arch.config_shapes"
VERSION = 1
TITLE = "config.json and the tensor shapes describe the same network (six families)"
ROLES = ("model",)
OPTIONAL_ROLES: tuple[str, ...] = ("config",)
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}
Params = NoParams

SUPPORTED = ("llama", "qwen2", "qwen3", "gpt2", "bert")


def _fmt(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def measure(ctx: Context, params: NoParams) -> Measurement:
    """Compare the expected layout with the stored one."""
    # artifacts.architecture (its dataclasses and tables) is imported to measure, not to lint
    from albor_gates.artifacts.architecture import (
        dims_from_config,
        expected_shapes,
        optional_shapes,
    )

    view = checkpoint(ctx)
    cfg = config_dict(ctx, view)
    if cfg is None:
        raise CheckSkipped("no config.json next to the weights (and none inside them)")
    dims, missing = dims_from_config(cfg)
    if dims is None:
        if missing == ["model_type"]:
            raise CheckSkipped(
                f"config.json model_type {cfg.get('model_type')!r} is not one of "
                f"{', '.join(SUPPORTED)}"
            )
        raise EvidenceError(f"config.json lacks {', '.join(missing)}: add them")
    expected = expected_shapes(dims, cfg)
    optional = optional_shapes(dims)
    stored = {
        (n[len("bert.") :] if dims.family == "bert" and n.startswith("bert.") else n): s
        for n, s in view.shapes.items()
    }
    problems: list[str] = []
    for name, shape in expected.items():
        got = stored.get(name)
        if got is None:
            problems.append(f"{name} is missing (config.json implies {_fmt(shape)})")
        elif tuple(got) != shape:
            problems.append(f"{name} is {_fmt(tuple(got))}, config.json implies {_fmt(shape)}")
    for name, got in sorted(stored.items()):
        if name in expected:
            continue
        if name in optional:
            if tuple(got) != optional[name]:
                problems.append(f"{name} is {_fmt(tuple(got))}, expected {_fmt(optional[name])}")
            continue
        if name.endswith("rotary_emb.inv_freq"):
            continue
        problems.append(f"{name} is not part of a {dims.family} network with this config")
    problems.sort()
    desc = (
        f"{dims.family} (hidden {dims.hidden}, {dims.layers} layers, {dims.heads}/{dims.kv_heads} "
        f"heads, head_dim {dims.head_dim}, intermediate {dims.intermediate}, vocab {dims.vocab}, "
        f"{'tied' if dims.tied else 'untied'} embeddings)"
    )
    summary = f"{len(problems)} mismatches against {desc}"
    if problems:
        summary += (
            ": "
            + "; ".join(problems[:3])
            + (f"; … {len(problems) - 3} more" if len(problems) > 3 else "")
        )
    return Measurement(
        len(problems),
        subject="shape mismatches",
        summary=summary,
        details={"family": dims.family, "mismatches": problems[:10], "total": len(problems)},
        fix="re-export config.json from the model that wrote these weights, or fix the weights",
    )
