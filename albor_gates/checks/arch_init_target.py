"""arch.init_target — an init checkpoint fits the training target exactly (init_load_semantics).

``apr pretrain --init`` semantics (contracts/apr-pretrain-from-init-v1.yaml, GATES.md §2.4):
the init architecture must equal the target on **exact** equality of vocab_size, hidden_size,
num_layers, num_heads, num_kv_heads, ffn_intermediate and max_position_embeddings, and every
parameter of the target model must exist in the init checkpoint with an equal element count
(extras are ignored — the tied ``lm_head`` case). The first 5 missing parameters and the total
are reported (FALSIFY-APR-PRETRAIN-INIT-007).

Roles: ``model`` (the init checkpoint), ``target`` (the target's config.json), and optionally
``config`` (the init checkpoint's own config.json; without it, dimensions are read off the
tensor shapes). The value is the number of problems (default band ``eq: 0``).

PASS: P2-E epoch 49 against the Qwen2-0.5B target → "0 problems: 7 dimensions equal, 290 of 290
target parameters present".
FAIL: a Llama370M target (hidden 1024) against Qwen2 weights → "hidden_size 896 ≠ 1024; ...;
missing 219 of 219 target parameters, first: model.layers.0.self_attn.q_proj.weight ...".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from albor_gates.checks.base import Context, Measurement, NoParams
from albor_gates.checks.evidence import ModelView, checkpoint, config, config_dict
from albor_gates.errors import EvidenceError

if TYPE_CHECKING:
    from albor_gates.artifacts.architecture import ArchDims

KIND = "arch.init_target"
VERSION = 1
TITLE = "An init checkpoint matches the target config exactly (dims and every parameter)"
ROLES = ("model", "target")
OPTIONAL_ROLES: tuple[str, ...] = ("config",)
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}
Params = NoParams

_LAYER = re.compile(r"model\.layers\.(\d+)\.")


def _from_shapes(view: ModelView, head_dim: int) -> dict[str, int | None]:
    s = view.shapes
    emb = s.get("model.embed_tokens.weight")
    layers = {int(m.group(1)) for n in s if (m := _LAYER.match(n))}
    q = s.get("model.layers.0.self_attn.q_proj.weight")
    k = s.get("model.layers.0.self_attn.k_proj.weight")
    gate = s.get("model.layers.0.mlp.gate_proj.weight")
    return {
        "vocab_size": emb[0] if emb else None,
        "hidden_size": emb[1] if emb else None,
        "num_layers": (max(layers) + 1) if layers else None,
        "num_heads": q[0] // head_dim if q and head_dim else None,
        "num_kv_heads": k[0] // head_dim if k and head_dim else None,
        "ffn_intermediate": gate[0] if gate else None,
        "max_position_embeddings": None,
    }


def _from_dims(d: ArchDims) -> dict[str, int | None]:
    return {
        "vocab_size": d.vocab,
        "hidden_size": d.hidden,
        "num_layers": d.layers,
        "num_heads": d.heads,
        "num_kv_heads": d.kv_heads,
        "ffn_intermediate": d.intermediate,
        "max_position_embeddings": d.max_positions,
    }


def measure(ctx: Context, params: NoParams) -> Measurement:
    """Compare dimensions and parameter coverage."""
    # artifacts.architecture (its dataclasses and tables) is imported to measure, not to lint
    from albor_gates.artifacts.architecture import dims_from_config, expected_shapes

    target_cfg = dict(config(ctx, "target").raw)
    tdims, missing = dims_from_config(target_cfg)
    if tdims is None:
        raise EvidenceError(f"{ctx.path('target')}: target config lacks {', '.join(missing)}")
    view = checkpoint(ctx)
    init_cfg = config_dict(ctx, view)
    source = "config.json"
    if init_cfg is not None:
        idims, _ = dims_from_config(init_cfg)
        init = _from_dims(idims) if idims else _from_shapes(view, tdims.head_dim)
    else:
        init = _from_shapes(view, tdims.head_dim)
        source = "tensor shapes"
    want = _from_dims(tdims)
    problems: list[str] = []
    for key, t in want.items():
        i = init.get(key)
        if i is None:
            if key == "max_position_embeddings" and init_cfg is None:
                continue  # not recoverable from tensors; reported in details
            problems.append(f"{key}: init has none, target {t}")
        elif i != t:
            problems.append(f"{key} {i} ≠ {t}")
    exp = expected_shapes(tdims, target_cfg)
    absent: list[str] = []
    for name, shape in exp.items():
        n = 1
        for d in shape:
            n *= d
        if name not in view.shapes:
            absent.append(name)
        elif view.numel(name) != n:
            problems.append(f"{name} has {view.numel(name)} elements, target {n}")
    if absent:
        problems.append(
            f"missing {len(absent)} of {len(exp)} target parameters, first: {', '.join(absent[:5])}"
        )
    ok_dims = sum(1 for k in want if init.get(k) == want[k])
    summary = (
        f"{len(problems)} problems: {ok_dims} of {len(want)} dimensions equal "
        f"(init from {source}), "
        f"{len(exp) - len(absent)} of {len(exp)} target parameters present"
    )
    if problems:
        summary += "; " + "; ".join(problems[:4])
    return Measurement(
        len(problems),
        subject="init/target problems",
        summary=summary,
        details={
            "init": init,
            "target": want,
            "missing_parameters": absent[:5],
            "missing_total": len(absent),
        },
        fix="initialise from a checkpoint of the target architecture, or change the target config",
    )
