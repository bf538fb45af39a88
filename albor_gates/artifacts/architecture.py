"""Architecture facts derived from tensor names, metadata and config.json — no judging here.

Family inference follows aprender's ``family_from_tensor_names`` and
``normalize_metadata_arch_family`` exactly (GATES.md §2.3), plus two documented extensions:

* names of a Hugging Face ``BertModel`` saved without the ``bert.`` prefix (as
  sentence-transformers saves them: ``embeddings.word_embeddings.weight``,
  ``encoder.layer.0.attention.self.query.weight``) → ``bert``; the seed's rules would say
  ``unknown`` and then trust the metadata, which is the §86 failure mode this tool exists for;
* GGUF ``blk.*`` names stay ``unknown`` as in the seed; the GGUF reader maps them to Hugging
  Face names first when it has the architecture key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# GATES.md §2.3.2: HF class names, slugs and capitalised legacy names → family slug.
_CLASS_FAMILY = {
    "qwen2forcausallm": "qwen2",
    "qwen2.5forcausallm": "qwen2",
    "qwen3forcausallm": "qwen3",
    "qwen3moeforcausallm": "qwen3",
    "llamaforcausallm": "llama",
    "mistralforcausallm": "llama",
    "phi3forcausallm": "llama",
    "phiforcausallm": "llama",
    "gpt2lmheadmodel": "gpt2",
    "gptneoxforcausallm": "gpt-neox",
    "mambaforcausallm": "mamba",
    "rwkvforcausallm": "rwkv",
    "rwkv6forcausallm": "rwkv",
    "bertmodel": "bert",
    "bertformaskedlm": "bert",
    "optforcausallm": "opt",
}
_SLUG_FAMILY = {
    "qwen2": "qwen2",
    "qwen2.5": "qwen2",
    "qwen": "qwen2",
    "qwen3": "qwen3",
    "qwen3_5": "qwen3",
    "qwen3.5": "qwen3",
    "llama": "llama",
    "mistral": "llama",
    "phi": "llama",
    "phi3": "llama",
    "phi4": "llama",
    "gpt2": "gpt2",
    "gpt-neox": "gpt-neox",
    "gpt_neox": "gpt-neox",
    "gptneox": "gpt-neox",
    "pythia": "gpt-neox",
    "mamba": "mamba",
    "rwkv": "rwkv",
    "bert": "bert",
    "opt": "opt",
}

# §2.3.6: the HF class the salvage command stamps for each family.
FAMILY_CLASS = {
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
    "llama": "LlamaForCausalLM",
    "gpt2": "GPT2LMHeadModel",
    "gpt-neox": "GPTNeoXForCausalLM",
    "mamba": "MambaForCausalLM",
    "rwkv": "RwkvForCausalLM",
    "bert": "BertModel",
    "opt": "OPTForCausalLM",
}


def normalize_family(raw: str | None) -> str | None:
    """Map a metadata architecture string to a family slug, or None (unknown/unmappable).

    Accepts HF class names (``Qwen2ForCausalLM``), slugs (``qwen2``, ``qwen2.5``) and the
    capitalised legacy forms (``Qwen2``, ``Llama``) — §2.3.2, case-insensitively.
    """
    if raw is None:
        return None
    key = raw.strip().lower()
    if not key or key == "unknown":
        return None
    return _CLASS_FAMILY.get(key) or _SLUG_FAMILY.get(key)


def family_from_tensor_names(names: Iterable[str]) -> str:
    """Infer the family from tensor names alone (§2.3.3, ordered rules + the bert extension).

    Returns a family slug or ``"unknown"``.
    """
    names = list(names)
    if any("mixer.in_proj" in n or "mixer.out_proj" in n for n in names):
        return "mamba"
    if any(n.startswith("rwkv.blocks.") or "blocks.0.att." in n for n in names):
        return "rwkv"
    if any(n.startswith("gpt_neox.") for n in names):
        return "gpt-neox"
    if any(n.startswith("model.decoder.layers.") for n in names):
        return "opt"
    if any(n.startswith("bert.") for n in names):
        return "bert"
    if any("model.layers" in n for n in names):
        if any("self_attn.q_norm.weight" in n for n in names):
            return "qwen3"
        if any("self_attn.q_proj.bias" in n or "qkv_proj.weight" in n for n in names):
            return "qwen2"
        return "llama"
    if any(n.startswith("transformer.h") or (n.startswith("h.") and ".attn." in n) for n in names):
        return "gpt2"
    # extension: BertModel saved without the "bert." prefix (sentence-transformers)
    if any(n.startswith("embeddings.word_embeddings") for n in names) and any(
        ".attention.self.query." in n for n in names
    ):
        return "bert"
    return "unknown"


@dataclass(frozen=True)
class FamilyClaim:
    """One place that names an architecture, and the family it normalises to."""

    source: str
    raw: str
    family: str | None


@dataclass(frozen=True)
class FamilyVerdictFacts:
    """The facts INV-INIT-ARCH-MATCH-001 compares (the check kind judges them)."""

    tensor_family: str
    claims: tuple[FamilyClaim, ...]

    @property
    def mappable(self) -> tuple[FamilyClaim, ...]:
        """Claims that normalise to a family."""
        return tuple(c for c in self.claims if c.family is not None)

    @property
    def conflicting(self) -> tuple[FamilyClaim, ...]:
        """Mappable claims that differ from the tensor evidence (when it is concrete)."""
        if self.tensor_family == "unknown":
            return ()
        return tuple(c for c in self.mappable if c.family != self.tensor_family)


def collect_claims(
    metadata: Mapping[str, str], config: Mapping[str, Any] | None
) -> tuple[FamilyClaim, ...]:
    """Gather architecture claims from safetensors ``__metadata__`` and config.json."""
    claims: list[FamilyClaim] = []
    for key in ("architecture", "hf_architecture", "hf_model_type", "general.architecture"):
        raw = metadata.get(key)
        if isinstance(raw, str) and raw.strip():
            claims.append(FamilyClaim(f"__metadata__.{key}", raw, normalize_family(raw)))
    if config:
        archs = config.get("architectures")
        if isinstance(archs, list) and archs and isinstance(archs[0], str):
            claims.append(
                FamilyClaim("config.json architectures[0]", archs[0], normalize_family(archs[0]))
            )
        mt = config.get("model_type")
        if isinstance(mt, str) and mt.strip():
            claims.append(FamilyClaim("config.json model_type", mt, normalize_family(mt)))
    return tuple(claims)


def stamp_command(path: str, family: str) -> str:
    """The ``gates stamp`` command that makes a checkpoint's metadata match its tensors."""
    cls = FAMILY_CLASS.get(family, f"{family.capitalize()}ForCausalLM")
    stem = path[: -len(".safetensors")] if path.endswith(".safetensors") else path
    return (
        f"gates stamp {path} --architecture {family} --hf-architecture {cls} "
        f"--hf-model-type {family} -o {stem}.stamped.safetensors"
    )


# ---------------------------------------------------------------------------------------------
# The reference decoder's recipes: a second, explicitly named vocabulary
#
# A *family* (above) is the §2.3 architecture family: mistral IS llama there, because the tensor
# layout is the same. The reference decoder also needs to know mistral apart (it applies
# ``sliding_window`` to every layer, and defaults differ), so it speaks of a *recipe*: the forward
# it builds, named by config.json's ``model_type``. Every recipe belongs to one family.

#: The decoder recipes, by config.json ``model_type`` → the §2.3 family it belongs to.
DECODER_RECIPES: Mapping[str, str] = {
    "llama": "llama",
    "mistral": "llama",
    "qwen2": "qwen2",
    "qwen3": "qwen3",
}
#: The families whose tensor layout the reference decoder reads.
DECODER_FAMILIES = frozenset(DECODER_RECIPES.values())
#: The Hugging Face causal-LM class of each recipe (config.json ``architectures[0]``).
RECIPE_CLASS: Mapping[str, str] = {
    "llama": "LlamaForCausalLM",
    "mistral": "MistralForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
}
_CLASS_RECIPE = {cls: recipe for recipe, cls in RECIPE_CLASS.items()}


def decoder_recipe(model_type: object, architectures: object) -> str | None:
    """The recipe of a config (``model_type``, else ``architectures[0]``), or None."""
    if isinstance(model_type, str) and model_type in DECODER_RECIPES:
        return model_type
    first = architectures[0] if isinstance(architectures, list | tuple) and architectures else None
    return _CLASS_RECIPE.get(first) if isinstance(first, str) else None


def decoder_shapes(
    *,
    vocab: int,
    hidden: int,
    intermediate: int,
    layers: int,
    heads: int,
    kv_heads: int,
    head_dim: int,
    qkv_bias: bool,
    qk_norm: bool,
    lm_head: bool,
    o_bias: bool = False,
    mlp_bias: bool = False,
    prefix: str = "model.",
) -> dict[str, tuple[int, ...]]:
    """Tensor name → shape of a llama / qwen2 / qwen3 decoder (the one table of that layout).

    Used by the architecture checks (:func:`expected_shapes`) and by the reference decoder's
    tensor plan; ``prefix`` is ``""`` for a checkpoint saved without the ``model.`` prefix.
    """
    h, i, hd = hidden, intermediate, head_dim
    q, kv = heads * hd, kv_heads * hd
    out: dict[str, tuple[int, ...]] = {
        f"{prefix}embed_tokens.weight": (vocab, h),
        f"{prefix}norm.weight": (h,),
    }
    for n in range(layers):
        p = f"{prefix}layers.{n}."
        out[p + "self_attn.q_proj.weight"] = (q, h)
        out[p + "self_attn.k_proj.weight"] = (kv, h)
        out[p + "self_attn.v_proj.weight"] = (kv, h)
        out[p + "self_attn.o_proj.weight"] = (h, q)
        out[p + "mlp.gate_proj.weight"] = (i, h)
        out[p + "mlp.up_proj.weight"] = (i, h)
        out[p + "mlp.down_proj.weight"] = (h, i)
        out[p + "input_layernorm.weight"] = (h,)
        out[p + "post_attention_layernorm.weight"] = (h,)
        if qkv_bias:
            out[p + "self_attn.q_proj.bias"] = (q,)
            out[p + "self_attn.k_proj.bias"] = (kv,)
            out[p + "self_attn.v_proj.bias"] = (kv,)
        if o_bias:
            out[p + "self_attn.o_proj.bias"] = (h,)
        if mlp_bias:
            out[p + "mlp.gate_proj.bias"] = (i,)
            out[p + "mlp.up_proj.bias"] = (i,)
            out[p + "mlp.down_proj.bias"] = (h,)
        if qk_norm:
            out[p + "self_attn.q_norm.weight"] = (hd,)
            out[p + "self_attn.k_norm.weight"] = (hd,)
    if lm_head:
        out["lm_head.weight"] = (vocab, h)
    return out


# ---------------------------------------------------------------------------------------------
# Expected tensor shapes from config.json (llama / mistral / qwen2 / qwen3 / gpt2 / bert)


@dataclass(frozen=True)
class ArchDims:
    """The dimensions the shape checks use, resolved from config.json."""

    family: str
    vocab: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    tied: bool
    max_positions: int | None


def _int(cfg: Mapping[str, Any], *keys: str) -> int | None:
    for k in keys:
        v = cfg.get(k)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def dims_from_config(cfg: Mapping[str, Any]) -> tuple[ArchDims | None, list[str]]:
    """Resolve :class:`ArchDims` from a config dict; return (dims, missing field names)."""
    mt = str(cfg.get("model_type", "")).lower()
    family = normalize_family(mt) or normalize_family(
        (cfg.get("architectures") or [""])[0] if isinstance(cfg.get("architectures"), list) else ""
    )
    if family is None:
        return None, ["model_type"]
    if family == "gpt2":
        keys = {
            "vocab": ("vocab_size",),
            "hidden": ("n_embd", "hidden_size"),
            "layers": ("n_layer", "num_hidden_layers"),
            "heads": ("n_head", "num_attention_heads"),
        }
    else:
        keys = {
            "vocab": ("vocab_size",),
            "hidden": ("hidden_size",),
            "layers": ("num_hidden_layers",),
            "heads": ("num_attention_heads",),
        }
    got = {k: _int(cfg, *v) for k, v in keys.items()}
    missing = [v[0] for k, v in keys.items() if got[k] is None]
    if missing:
        return None, missing
    vocab, hidden, layers, heads = (
        int(got[k] or 0) for k in ("vocab", "hidden", "layers", "heads")
    )
    kv = _int(cfg, "num_key_value_heads") or heads
    head_dim = _int(cfg, "head_dim") or (hidden // heads if heads else 0)
    if family == "gpt2":
        inter = _int(cfg, "n_inner") or 4 * hidden
    else:
        inter = _int(cfg, "intermediate_size") or 0
        if inter == 0:
            missing.append("intermediate_size")
            return None, missing
    tied_raw = cfg.get("tie_word_embeddings")
    tied = bool(tied_raw) if isinstance(tied_raw, bool) else family in ("gpt2", "bert")
    max_pos = _int(cfg, "max_position_embeddings", "n_positions")
    return ArchDims(family, vocab, hidden, layers, heads, kv, head_dim, inter, tied, max_pos), []


def expected_shapes(d: ArchDims, cfg: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Tensor name → expected shape for the family's Hugging Face layout (row-major [out, in]).

    Optional tensors (``lm_head.weight`` when tied, biases that a config may omit) are not
    listed; :func:`optional_shapes` gives them.
    """
    out: dict[str, tuple[int, ...]] = {}
    h, v, i, hd = d.hidden, d.vocab, d.intermediate, d.head_dim
    if d.family in DECODER_FAMILIES:
        out.update(
            decoder_shapes(
                vocab=v,
                hidden=h,
                intermediate=i,
                layers=d.layers,
                heads=d.heads,
                kv_heads=d.kv_heads,
                head_dim=hd,
                qkv_bias=d.family == "qwen2",
                qk_norm=d.family == "qwen3",
                lm_head=not d.tied,
            )
        )
    elif d.family == "gpt2":
        pre = "transformer."
        out[pre + "wte.weight"] = (v, h)
        if d.max_positions:
            out[pre + "wpe.weight"] = (d.max_positions, h)
        out[pre + "ln_f.weight"] = (h,)
        out[pre + "ln_f.bias"] = (h,)
        for n in range(d.layers):
            p = f"{pre}h.{n}."
            out[p + "ln_1.weight"] = (h,)
            out[p + "ln_1.bias"] = (h,)
            out[p + "attn.c_attn.weight"] = (h, 3 * h)  # Conv1D stores [in, out]
            out[p + "attn.c_attn.bias"] = (3 * h,)
            out[p + "attn.c_proj.weight"] = (h, h)
            out[p + "attn.c_proj.bias"] = (h,)
            out[p + "ln_2.weight"] = (h,)
            out[p + "ln_2.bias"] = (h,)
            out[p + "mlp.c_fc.weight"] = (h, i)
            out[p + "mlp.c_fc.bias"] = (i,)
            out[p + "mlp.c_proj.weight"] = (i, h)
            out[p + "mlp.c_proj.bias"] = (h,)
    elif d.family == "bert":
        out["embeddings.word_embeddings.weight"] = (v, h)
        if d.max_positions:
            out["embeddings.position_embeddings.weight"] = (d.max_positions, h)
        tv = _int(cfg, "type_vocab_size") or 2
        out["embeddings.token_type_embeddings.weight"] = (tv, h)
        out["embeddings.LayerNorm.weight"] = (h,)
        out["embeddings.LayerNorm.bias"] = (h,)
        for n in range(d.layers):
            p = f"encoder.layer.{n}."
            for m in ("query", "key", "value"):
                out[p + f"attention.self.{m}.weight"] = (h, h)
                out[p + f"attention.self.{m}.bias"] = (h,)
            out[p + "attention.output.dense.weight"] = (h, h)
            out[p + "attention.output.dense.bias"] = (h,)
            out[p + "attention.output.LayerNorm.weight"] = (h,)
            out[p + "attention.output.LayerNorm.bias"] = (h,)
            out[p + "intermediate.dense.weight"] = (i, h)
            out[p + "intermediate.dense.bias"] = (i,)
            out[p + "output.dense.weight"] = (h, i)
            out[p + "output.dense.bias"] = (h,)
            out[p + "output.LayerNorm.weight"] = (h,)
            out[p + "output.LayerNorm.bias"] = (h,)
    return out


def optional_shapes(d: ArchDims) -> dict[str, tuple[int, ...]]:
    """Tensors a checkpoint may carry or omit (tied lm_head copies, rotary buffers, pooler)."""
    out: dict[str, tuple[int, ...]] = {}
    if d.family in DECODER_FAMILIES and d.tied:
        out["lm_head.weight"] = (d.vocab, d.hidden)
    if d.family == "gpt2":
        out["lm_head.weight"] = (d.vocab, d.hidden)
    if d.family == "bert":
        out["pooler.dense.weight"] = (d.hidden, d.hidden)
        out["pooler.dense.bias"] = (d.hidden,)
        if d.max_positions:
            out["embeddings.position_ids"] = (1, d.max_positions)
    return out


def strip_prefix(names: Iterable[str], family: str) -> dict[str, str]:
    """Map stored names to canonical ones (``bert.`` prefix dropped), stored → canonical."""
    out = {}
    for n in names:
        canon = n[len("bert.") :] if family == "bert" and n.startswith("bert.") else n
        out[n] = canon
    return out


# ---------------------------------------------------------------------------------------------
# Metadata plausibility (apr qa ``metadata_plausibility``, Bug 210 / GH-222; GATES.md §3.1.2)


def plausibility_violations(cfg: Mapping[str, Any], *, source: str = "config.json") -> list[str]:
    """Sentences for each implausible rope_theta / max positions / rms eps, or [] when sound.

    Rules: rope_theta for qwen2 ≥ 100,000 (≈ 10,000 is the CRITICAL Bug-210 value); llama
    1,000–10,000,000; other families 100–100,000,000; a missing rope_theta is tolerated here
    (it is a violation only in APR files, where the seed requires it); max_position_embeddings
    in [128, 1,048,576]; rms_norm_eps in (0, 0.01].
    """
    out: list[str] = []
    fam = normalize_family(str(cfg.get("model_type", ""))) or "other"
    theta = cfg.get("rope_theta")
    if isinstance(theta, dict):  # newer transformers nest it under rope_parameters
        theta = theta.get("rope_theta")
    if theta is None and isinstance(cfg.get("rope_parameters"), dict):
        theta = cfg["rope_parameters"].get("rope_theta")
    if isinstance(theta, (int, float)) and not isinstance(theta, bool):
        t = float(theta)
        if fam == "qwen2":
            if not math.isfinite(t) or t < 100_000:
                sev = "CRITICAL " if abs(t - 10_000) < 1 else ""
                out.append(f"{sev}rope_theta {t:g} is implausible for qwen2 (expected ≥ 100000)")
        elif fam == "llama":
            if not (1_000 <= t <= 10_000_000):
                out.append(f"rope_theta {t:g} outside [1000, 10000000] for llama")
        elif fam in ("qwen3", "other") and not (100 <= t <= 100_000_000):
            out.append(f"rope_theta {t:g} outside [100, 100000000]")
    mp = cfg.get("max_position_embeddings", cfg.get("n_positions"))
    if isinstance(mp, int) and not isinstance(mp, bool) and not (128 <= mp <= 1_048_576):
        out.append(f"max_position_embeddings {mp} outside [128, 1048576]")
    eps = cfg.get("rms_norm_eps")
    if isinstance(eps, (int, float)) and not isinstance(eps, bool) and not (0 < eps <= 0.01):
        out.append(f"rms_norm_eps {eps:g} outside (0, 0.01]")
    return [f"{source}: {v}" for v in out]
