"""The reference decoder's typed view of a checkpoint: config and tensor plan, header first.

Nothing here parses a file: it consumes the evidence of ``artifacts``. What is derived, in
order, before a single weight byte is touched:

1. :class:`~albor_gates.artifacts.config.ModelConfig` (the one ``config.json`` reader) → a
   frozen :class:`DecoderConfig` (recipe, shapes, RoPE variant, sliding window). Supported
   recipes (:data:`~albor_gates.artifacts.architecture.DECODER_RECIPES`): ``llama``,
   ``mistral``, ``qwen2``, ``qwen3`` (by ``model_type``, else by ``architectures[0]``). A
   missing required field or an unsupported recipe / RoPE variant is one
   :class:`~albor_gates.errors.ArtifactError` line naming the file and the field.
2. The validated safetensors headers of
   :func:`~albor_gates.artifacts.safetensors.open_checkpoint` (a single file, a sharded index,
   or a folder holding either) — names, shapes and dtypes only, so a model too large for the
   device is refused by :func:`~albor_gates.model.device.fits_on_device` before it is loaded,
   and every tensor's shape is checked against the config's
   :func:`~albor_gates.artifacts.architecture.decoder_shapes`.

Tensor names are the Hugging Face ones (``model.layers.N.self_attn.q_proj.weight``…); a
checkpoint saved without the ``model.`` prefix is accepted too. Tied embeddings: when
``tie_word_embeddings`` is true, or when no ``lm_head.weight`` is stored, the output projection
is the embedding matrix.

RoPE variants (formulas as in transformers' ``modeling_rope_utils.py``): ``default``,
``linear``, ``dynamic`` (NTK; frequencies recomputed from the current length only beyond
``max_position_embeddings``), ``yarn`` and ``llama3``. ``longrope``, ``proportional``,
``partial_rotary_factor`` < 1 and per-layer-type RoPE dicts are refused.

Sliding window: mistral applies ``sliding_window`` to every layer when it is set; qwen2 / qwen3
apply it only when ``use_sliding_window`` is true, to the layers ``layer_types`` marks
``sliding_attention`` (else layers ≥ ``max_window_layers``). A query at position *p* attends to
keys at positions ``p - sliding_window < j ≤ p`` (transformers' ``sliding_window_overlay``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from albor_gates.artifacts.architecture import DECODER_RECIPES, decoder_recipe, decoder_shapes
from albor_gates.artifacts.checkpoint import Checkpoint
from albor_gates.artifacts.config import ModelConfig
from albor_gates.errors import ArtifactError

# transformers' defaults for fields a config may omit (configuration_<family>.py, v5).
_MAX_POS_DEFAULT = {"llama": 2048, "mistral": 131072, "qwen2": 32768, "qwen3": 32768}
ROPE_TYPES = ("default", "linear", "dynamic", "yarn", "llama3")
_FLOAT_DTYPES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8}


@dataclass(frozen=True)
class RopeConfig:
    """Rotary embedding parameters, old (``rope_scaling``) and new (``rope_parameters``) styles.

    Attributes:
        rope_type: one of :data:`ROPE_TYPES`.
        theta: the base wavelength (``rope_theta``).
        factor: scaling factor (1.0 for ``default``).
        original_max_position_embeddings: pre-extension context (yarn, llama3), else None.
        low_freq_factor: llama3 only.
        high_freq_factor: llama3 only.
        beta_fast: yarn only (default 32).
        beta_slow: yarn only (default 1).
        attention_factor: yarn's cos/sin multiplier (None → derived from factor / mscale).
        mscale: yarn only.
        mscale_all_dim: yarn only.
        truncate: yarn only (default True).
    """

    rope_type: str = "default"
    theta: float = 10000.0
    factor: float = 1.0
    original_max_position_embeddings: int | None = None
    low_freq_factor: float | None = None
    high_freq_factor: float | None = None
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    attention_factor: float | None = None
    mscale: float | None = None
    mscale_all_dim: float | None = None
    truncate: bool = True


@dataclass(frozen=True)
class DecoderConfig:
    """The architecture the reference decoder is built from (read from ``config.json``).

    Attributes:
        source: path of the config file.
        recipe: the decoder recipe, ``llama`` | ``mistral`` | ``qwen2`` | ``qwen3`` (not the
            §2.3 family, in which mistral is llama).
        vocab_size: rows of the embedding.
        hidden_size: model width.
        intermediate_size: SwiGLU width.
        num_layers: decoder layers.
        num_heads: query heads.
        num_kv_heads: key/value heads (GQA when fewer than ``num_heads``).
        head_dim: per-head width.
        rms_norm_eps: RMSNorm epsilon.
        max_position_embeddings: longest sequence the model declares.
        rope: rotary parameters.
        attention_bias: q/k/v projections carry biases (qwen2 always; llama/qwen3 by config).
        o_bias: the output projection carries a bias (llama/qwen3 ``attention_bias``).
        mlp_bias: llama ``mlp_bias``.
        qk_norm: per-head RMSNorm on q and k (qwen3).
        tie_word_embeddings: the config asks for tied input/output embeddings.
        sliding_window: window length, or None.
        sliding_layers: per layer, whether the sliding window applies.
        bos_token_id: from config, or None.
        eos_token_ids: from config (an int or a list), possibly empty.
        defaults_used: names of fields the config omitted and that took transformers' default.
    """

    source: str
    recipe: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rms_norm_eps: float
    max_position_embeddings: int
    rope: RopeConfig
    attention_bias: bool
    o_bias: bool
    mlp_bias: bool
    qk_norm: bool
    tie_word_embeddings: bool
    sliding_window: int | None
    sliding_layers: tuple[bool, ...]
    bos_token_id: int | None
    eos_token_ids: tuple[int, ...]
    defaults_used: tuple[str, ...] = ()


# --------------------------------------------------------------------------------- config


def _field(
    cfg: Mapping[str, Any], key: str, path: Path, kind: type, *, positive: bool = True
) -> Any:
    if key not in cfg or cfg[key] is None:
        raise ArtifactError(f"{path}: required field '{key}' is missing")
    value = cfg[key]
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise ArtifactError(
            f"{path}: field '{key}' is {value!r}, expected "
            f"{'an integer' if kind is int else 'a number'}"
        )
    if positive and not value > 0:
        raise ArtifactError(f"{path}: field '{key}' is {value!r}, expected a positive value")
    return kind(value)


def _optional(
    cfg: Mapping[str, Any],
    key: str,
    path: Path,
    kind: type,
    default: Any,
    defaults_used: list[str],
) -> Any:
    if key not in cfg or cfg[key] is None:
        defaults_used.append(key)
        return default
    return _field(cfg, key, path, kind)


def _recipe(cfg: Mapping[str, Any], path: Path) -> str:
    recipe = decoder_recipe(cfg.get("model_type"), cfg.get("architectures"))
    if recipe is not None:
        return recipe
    model_type = cfg.get("model_type")
    archs = cfg.get("architectures")
    first = archs[0] if isinstance(archs, list) and archs else None
    shown = model_type if model_type is not None else first
    raise ArtifactError(
        f"{path}: model_type {shown!r} is not supported by the reference decoder "
        f"(supported: {', '.join(DECODER_RECIPES)})"
    )


def _rope_config(cfg: Mapping[str, Any], path: Path, max_pos: int) -> RopeConfig:
    scaling = cfg.get("rope_scaling")
    params_new = cfg.get("rope_parameters")
    for key, value in (("rope_scaling", scaling), ("rope_parameters", params_new)):
        if value is not None and not isinstance(value, dict):
            raise ArtifactError(f"{path}: field '{key}' is {value!r}, expected an object")
    params: dict[str, Any] = dict(scaling or {})
    params.update(params_new or {})
    key_name = "rope_parameters" if params_new else "rope_scaling"
    if any(isinstance(v, dict) for v in params.values()):
        raise ArtifactError(
            f"{path}: per-layer-type '{key_name}' is not supported by the reference decoder"
        )
    theta = params.get("rope_theta", cfg.get("rope_theta", 10000.0))
    if not isinstance(theta, (int, float)) or isinstance(theta, bool) or not theta > 1.0:
        raise ArtifactError(f"{path}: field 'rope_theta' is {theta!r}, expected a number > 1")
    rope_type = params.get("rope_type", params.get("type", "default"))
    if rope_type not in ROPE_TYPES:
        raise ArtifactError(
            f"{path}: field '{key_name}.rope_type' is {rope_type!r}, not supported by the "
            f"reference decoder (supported: {', '.join(ROPE_TYPES)})"
        )
    prf = params.get("partial_rotary_factor", cfg.get("partial_rotary_factor", 1.0))
    if prf not in (None, 1, 1.0):
        raise ArtifactError(
            f"{path}: field 'partial_rotary_factor' is {prf!r}; only 1.0 is supported"
        )

    def num(name: str, default: float | None = None) -> float | None:
        value = params.get(name, default)
        if value is None:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ArtifactError(
                f"{path}: field '{key_name}.{name}' is {value!r}, expected a number"
            )
        return float(value)

    def need(name: str) -> float:
        value = num(name)
        if value is None:
            raise ArtifactError(
                f"{path}: field '{key_name}.{name}' is missing (required for rope_type "
                f"'{rope_type}')"
            )
        return value

    if rope_type == "default":
        return RopeConfig(theta=float(theta))
    original: int | None = None
    if rope_type in ("yarn", "llama3"):
        # transformers gives a top-level original_max_position_embeddings priority
        # (standardize_rope_params), then the dict's, then max_position_embeddings.
        raw = cfg.get(
            "original_max_position_embeddings", params.get("original_max_position_embeddings")
        )
        if raw is None:
            raw = max_pos
        if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
            raise ArtifactError(
                f"{path}: field 'original_max_position_embeddings' is {raw!r}, expected a "
                "positive integer"
            )
        original = raw
    if rope_type == "yarn":
        factor = num("factor")
        if factor is None:
            factor = max_pos / float(original or max_pos)
        truncate = params.get("truncate", True)
        return RopeConfig(
            rope_type="yarn",
            theta=float(theta),
            factor=factor,
            original_max_position_embeddings=original,
            beta_fast=num("beta_fast") or 32.0,
            beta_slow=num("beta_slow") or 1.0,
            attention_factor=num("attention_factor"),
            mscale=num("mscale"),
            mscale_all_dim=num("mscale_all_dim"),
            truncate=bool(truncate),
        )
    factor = need("factor")
    if rope_type == "llama3":
        return RopeConfig(
            rope_type="llama3",
            theta=float(theta),
            factor=factor,
            original_max_position_embeddings=original,
            low_freq_factor=need("low_freq_factor"),
            high_freq_factor=need("high_freq_factor"),
        )
    return RopeConfig(rope_type=rope_type, theta=float(theta), factor=factor)


def _sliding(
    cfg: Mapping[str, Any], path: Path, family: str, n_layers: int
) -> tuple[int | None, tuple[bool, ...]]:
    window = cfg.get("sliding_window")
    if family in ("llama",):
        return None, (False,) * n_layers
    if family in ("qwen2", "qwen3") and not cfg.get("use_sliding_window", False):
        return None, (False,) * n_layers
    if window is None:
        return None, (False,) * n_layers
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        raise ArtifactError(
            f"{path}: field 'sliding_window' is {window!r}, expected a positive integer"
        )
    if family == "mistral":
        return window, (True,) * n_layers
    layer_types = cfg.get("layer_types")
    if layer_types is not None:
        if (
            not isinstance(layer_types, list)
            or len(layer_types) != n_layers
            or not all(t in ("full_attention", "sliding_attention") for t in layer_types)
        ):
            raise ArtifactError(
                f"{path}: field 'layer_types' must list {n_layers} entries of "
                "'full_attention' / 'sliding_attention'"
            )
        return window, tuple(t == "sliding_attention" for t in layer_types)
    mwl = cfg.get("max_window_layers", 28)
    if not isinstance(mwl, int) or isinstance(mwl, bool):
        raise ArtifactError(f"{path}: field 'max_window_layers' is {mwl!r}, expected an integer")
    return window, tuple(i >= mwl for i in range(n_layers))


def decoder_config(config: ModelConfig) -> DecoderConfig:
    """The reference decoder's view of a ``config.json`` read by the one config reader.

    Args:
        config: from :func:`albor_gates.artifacts.config.read_config`.

    Raises:
        ArtifactError: missing/invalid required field, unsupported recipe, activation or RoPE
            variant (one line naming the file and field).
    """
    return config_from_dict(config.raw, config.path)


def config_from_dict(cfg: Mapping[str, Any], p: Path) -> DecoderConfig:
    """Normalise a config.json-shaped dict (``p`` names its source in error messages).

    Used for config.json files and for configs derived from a GGUF file's metadata.
    """
    family = _recipe(cfg, p)
    defaults: list[str] = []
    vocab = _field(cfg, "vocab_size", p, int)
    hidden = _field(cfg, "hidden_size", p, int)
    inter = _field(cfg, "intermediate_size", p, int)
    layers = _field(cfg, "num_hidden_layers", p, int)
    heads = _field(cfg, "num_attention_heads", p, int)
    kv = _optional(cfg, "num_key_value_heads", p, int, heads, defaults)
    if heads % kv:
        raise ArtifactError(
            f"{p}: num_attention_heads {heads} is not a multiple of num_key_value_heads {kv}"
        )
    head_default = 128 if family == "qwen3" else hidden // heads
    head_dim = _optional(cfg, "head_dim", p, int, head_default, defaults)
    if head_dim % 2:
        raise ArtifactError(f"{p}: head_dim {head_dim} must be even for rotary embeddings")
    eps = _optional(cfg, "rms_norm_eps", p, float, 1e-6, defaults)
    max_pos = _optional(cfg, "max_position_embeddings", p, int, _MAX_POS_DEFAULT[family], defaults)
    act = cfg.get("hidden_act", "silu")
    if act not in ("silu", "swish"):
        raise ArtifactError(
            f"{p}: field 'hidden_act' is {act!r}; the reference decoder implements SwiGLU (silu)"
        )
    bias_flag = bool(cfg.get("attention_bias", False))
    attention_bias = (
        True if family == "qwen2" else (bias_flag if family in ("llama", "qwen3") else False)
    )
    o_bias = bias_flag if family in ("llama", "qwen3") else False
    mlp_bias = bool(cfg.get("mlp_bias", False)) if family == "llama" else False
    window, sliding_layers = _sliding(cfg, p, family, layers)
    eos_raw = cfg.get("eos_token_id")
    eos: tuple[int, ...]
    if isinstance(eos_raw, int) and not isinstance(eos_raw, bool):
        eos = (eos_raw,)
    elif isinstance(eos_raw, list) and all(isinstance(e, int) for e in eos_raw):
        eos = tuple(eos_raw)
    else:
        eos = ()
    bos_raw = cfg.get("bos_token_id")
    bos = bos_raw if isinstance(bos_raw, int) and not isinstance(bos_raw, bool) else None
    return DecoderConfig(
        source=str(p),
        recipe=family,
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=inter,
        num_layers=layers,
        num_heads=heads,
        num_kv_heads=kv,
        head_dim=head_dim,
        rms_norm_eps=eps,
        max_position_embeddings=max_pos,
        rope=_rope_config(cfg, p, max_pos),
        attention_bias=attention_bias,
        o_bias=o_bias,
        mlp_bias=mlp_bias,
        qk_norm=family == "qwen3",
        tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)),
        sliding_window=window,
        sliding_layers=sliding_layers,
        bos_token_id=bos,
        eos_token_ids=eos,
        defaults_used=tuple(defaults),
    )


# --------------------------------------------------------------------------------- weights


def config_path(ckpt: Checkpoint) -> Path:
    """The ``config.json`` beside a checkpoint (the reference decoder needs the architecture).

    Raises:
        ArtifactError: there is none.
    """
    config = ckpt.path.parent / "config.json"
    if not config.is_file():
        raise ArtifactError(
            f"{config}: config.json is missing next to the weights (the reference decoder "
            "needs the architecture)"
        )
    return config


@dataclass(frozen=True)
class TensorPlan:
    """Which stored tensor feeds which part of the decoder, with its expected shape."""

    prefix: str
    expected: Mapping[str, tuple[int, ...]]
    tied: bool
    unused: tuple[str, ...]


def plan_tensors(cfg: DecoderConfig, ckpt: Checkpoint) -> TensorPlan:
    """Match the stored tensors against what ``cfg`` requires, before any data is read.

    Args:
        cfg: the decoder configuration.
        ckpt: the validated safetensors headers.

    Returns:
        A :class:`TensorPlan` naming every tensor to load (without prefix handling left to do).

    Raises:
        ArtifactError: a required tensor is missing, has the wrong shape or a non-float dtype.
    """
    names = ckpt.by_name
    first = ckpt.files[0]
    if "model.embed_tokens.weight" in names:
        prefix = "model."
    elif "embed_tokens.weight" in names:
        prefix = ""
    else:
        raise ArtifactError(
            f"{first}: tensor 'model.embed_tokens.weight' is missing (not a "
            f"{cfg.recipe} decoder checkpoint?)"
        )
    tied = cfg.tie_word_embeddings or "lm_head.weight" not in names
    exp = decoder_shapes(
        vocab=cfg.vocab_size,
        hidden=cfg.hidden_size,
        intermediate=cfg.intermediate_size,
        layers=cfg.num_layers,
        heads=cfg.num_heads,
        kv_heads=cfg.num_kv_heads,
        head_dim=cfg.head_dim,
        qkv_bias=cfg.attention_bias,
        qk_norm=cfg.qk_norm,
        lm_head=not tied,
        o_bias=cfg.o_bias,
        mlp_bias=cfg.mlp_bias,
        prefix=prefix,
    )
    for name, shape in exp.items():
        if name not in names:
            raise ArtifactError(
                f"{first}: tensor '{name}' is missing ({cfg.recipe} config "
                f"{cfg.source} requires it)"
            )
        file, info = ckpt.locate(name)
        if info.shape != shape:
            raise ArtifactError(
                f"{file}: tensor '{name}' has shape {list(info.shape)} but "
                f"{Path(cfg.source).name} implies {list(shape)}"
            )
        if info.dtype not in _FLOAT_DTYPES:
            raise ArtifactError(
                f"{file}: tensor '{name}' has dtype {info.dtype}; the reference decoder "
                "reads F16, BF16, F32 or F64 weights"
            )
    unused = tuple(sorted(n for n in names if n not in exp))
    return TensorPlan(prefix=prefix, expected=exp, tied=tied, unused=unused)


def weight_bytes(plan: TensorPlan, element_size: int) -> int:
    """Bytes the planned tensors need once loaded at ``element_size`` bytes per element.

    Args:
        plan: the tensor plan.
        element_size: bytes per element of the compute dtype.

    Returns:
        The byte count (a Python int, so hostile shapes cannot overflow it).
    """
    return sum(math.prod(shape) for shape in plan.expected.values()) * element_size
