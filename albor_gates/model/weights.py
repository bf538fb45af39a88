"""Read a decoder's ``config.json`` and locate its safetensors weights, header first.

What is read, in order, before a single weight byte is touched:

1. ``config.json`` → a frozen :class:`DecoderConfig` (family, shapes, RoPE variant, sliding
   window). Supported families: ``llama``, ``mistral``, ``qwen2``, ``qwen3`` (by
   ``model_type``, else by ``architectures[0]``). A missing required field or an unsupported
   family / RoPE variant is one :class:`~albor_gates.errors.ArtifactError` line naming the file
   and the field.
2. The safetensors headers (a single file, a sharded ``model.safetensors.index.json``, or a
   folder holding either) via ``safetensors.safe_open`` — names, shapes and dtypes only, so a
   model too large for the device is refused by :func:`~albor_gates.model.device.fits_on_device`
   before it is loaded, and every tensor's shape is checked against the config.

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

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from albor_gates import numbers
from albor_gates.errors import ArtifactError, UsageError

FAMILIES = ("llama", "mistral", "qwen2", "qwen3")
_ARCH_TO_FAMILY = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "mistral",
    "Qwen2ForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3",
}
# transformers' defaults for fields a config may omit (configuration_<family>.py, v5).
_MAX_POS_DEFAULT = {"llama": 2048, "mistral": 131072, "qwen2": 32768, "qwen3": 32768}
ROPE_TYPES = ("default", "linear", "dynamic", "yarn", "llama3")
_CONFIG_MAX_BYTES = 16 << 20  # a config.json is a few KiB; refuse to parse a hostile giant
_INDEX_MAX_BYTES = 64 << 20
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
        family: ``llama`` | ``mistral`` | ``qwen2`` | ``qwen3``.
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
    family: str
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


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as its safetensors header describes it (no data read)."""

    name: str
    file: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class WeightIndex:
    """Where each tensor lives, from the safetensors headers only.

    Attributes:
        root: the folder the model was found in.
        config_path: the ``config.json`` used.
        files: the safetensors files, in a stable order.
        tensors: name → :class:`TensorInfo`.
    """

    root: str
    config_path: str
    files: tuple[str, ...]
    tensors: Mapping[str, TensorInfo] = field(default_factory=dict)


# --------------------------------------------------------------------------------- config


def _read_json(path: Path, cap: int, what: str) -> Any:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ArtifactError(f"{path}: cannot read {what}: {e.strerror or e}") from e
    if size > cap:
        raise ArtifactError(f"{path}: {what} is {size} bytes, over the {cap}-byte limit")
    try:
        with path.open("rb") as fh:
            # a 401-digit integer is a malformed file, not an OverflowError later (issue 11 §5)
            return json.loads(
                fh.read(), parse_int=numbers.parse_int, parse_float=numbers.parse_float
            )
    except (UnicodeDecodeError, ValueError) as e:
        raise ArtifactError(f"{path}: {what} is not valid JSON: {e}") from e
    except OSError as e:
        raise ArtifactError(f"{path}: cannot read {what}: {e.strerror or e}") from e


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


def _family(cfg: Mapping[str, Any], path: Path) -> str:
    model_type = cfg.get("model_type")
    if isinstance(model_type, str) and model_type in FAMILIES:
        return model_type
    archs = cfg.get("architectures")
    first = archs[0] if isinstance(archs, list) and archs else None
    if isinstance(first, str) and first in _ARCH_TO_FAMILY:
        return _ARCH_TO_FAMILY[first]
    shown = model_type if model_type is not None else first
    raise ArtifactError(
        f"{path}: model_type {shown!r} is not supported by the reference decoder "
        f"(supported: {', '.join(FAMILIES)})"
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


def read_config(path: str | os.PathLike[str]) -> DecoderConfig:
    """Parse a Hugging Face ``config.json`` into a :class:`DecoderConfig`.

    Args:
        path: the config file.

    Returns:
        The normalised configuration.

    Raises:
        ArtifactError: unreadable file, missing/invalid required field, unsupported family,
            activation or RoPE variant (one line naming the file and field).
    """
    p = Path(path)
    cfg = _read_json(p, _CONFIG_MAX_BYTES, "config.json")
    if not isinstance(cfg, dict):
        raise ArtifactError(f"{p}: config.json must be a JSON object")
    return config_from_dict(cfg, p)


def config_from_dict(cfg: dict[str, Any], p: Path) -> DecoderConfig:
    """Normalise a config.json-shaped dict (``p`` names its source in error messages).

    Used for config.json files and for configs derived from a GGUF file's metadata.
    """
    family = _family(cfg, p)
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
        family=family,
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


def _shard_files(index_path: Path) -> list[Path]:
    data = _read_json(index_path, _INDEX_MAX_BYTES, "safetensors index")
    wm = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(wm, dict) or not wm:
        raise ArtifactError(f"{index_path}: 'weight_map' is missing or empty")
    names: list[str] = []
    for tensor, shard in wm.items():
        # A hostile index must not reach outside its folder (no separators, no '..').
        if (
            not isinstance(shard, str)
            or not shard
            or "/" in shard
            or "\\" in shard
            or shard in (".", "..")
        ):
            raise ArtifactError(
                f"{index_path}: weight_map[{tensor!r}] = {shard!r} is not a file name in the "
                "index's folder"
            )
        if shard not in names:
            names.append(shard)
    return [index_path.parent / n for n in sorted(names)]


def locate(path: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """Find ``config.json`` and the safetensors files for a model path.

    Args:
        path: a ``.safetensors`` file, a ``model.safetensors.index.json``, or a folder
            holding one of them (the index wins over a single file) and ``config.json``.

    Returns:
        (config path, safetensors files).

    Raises:
        UsageError: the path does not exist or holds no safetensors weights.
        ArtifactError: a malformed index or a missing config.json.
    """
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{p}: no such file or folder")
    if p.is_dir():
        index = p / "model.safetensors.index.json"
        single = p / "model.safetensors"
        if index.is_file():
            files = _shard_files(index)
        elif single.is_file():
            files = [single]
        else:
            found = sorted(x for x in p.glob("*.safetensors") if x.is_file())
            if len(found) != 1:
                raise UsageError(
                    f"{p}: expected model.safetensors, model.safetensors.index.json or exactly "
                    f"one *.safetensors file, found {len(found)}"
                )
            files = found
        root = p
    elif p.name.endswith(".index.json"):
        files, root = _shard_files(p), p.parent
    elif p.suffix == ".safetensors":
        files, root = [p], p.parent
    else:
        raise UsageError(f"{p}: not a .safetensors file, a safetensors index or a folder")
    config = root / "config.json"
    if not config.is_file():
        raise ArtifactError(
            f"{config}: config.json is missing next to the weights (the reference decoder "
            "needs the architecture)"
        )
    for f in files:
        if not f.is_file():
            raise ArtifactError(f"{f}: safetensors shard named by the index is missing")
    return config, files


def read_index(path: str | os.PathLike[str]) -> WeightIndex:
    """Read the safetensors headers of a model (names, shapes, dtypes; no tensor data).

    Args:
        path: as for :func:`locate`.

    Returns:
        The :class:`WeightIndex`.

    Raises:
        ArtifactError: a header safetensors cannot parse, or a tensor stored in two files.
    """
    from safetensors import SafetensorError, safe_open

    config, files = locate(path)
    tensors: dict[str, TensorInfo] = {}
    for f in files:
        try:
            with safe_open(str(f), framework="pt") as fh:
                for name in fh.keys():  # noqa: SIM118 - safe_open is not a Mapping
                    sl = fh.get_slice(name)
                    info = TensorInfo(
                        name, str(f), tuple(int(d) for d in sl.get_shape()), str(sl.get_dtype())
                    )
                    if name in tensors:
                        raise ArtifactError(
                            f"{f}: tensor '{name}' is also stored in {tensors[name].file}"
                        )
                    tensors[name] = info
        except SafetensorError as e:
            raise ArtifactError(f"{f}: not a readable safetensors file: {e}") from e
        except OSError as e:
            raise ArtifactError(f"{f}: cannot read: {e.strerror or e}") from e
    return WeightIndex(
        root=str(Path(config).parent),
        config_path=str(config),
        files=tuple(str(f) for f in files),
        tensors=tensors,
    )


@dataclass(frozen=True)
class TensorPlan:
    """Which stored tensor feeds which part of the decoder, with its expected shape."""

    prefix: str
    expected: Mapping[str, tuple[int, ...]]
    tied: bool
    unused: tuple[str, ...]


def plan_tensors(cfg: DecoderConfig, index: WeightIndex) -> TensorPlan:
    """Match the stored tensors against what ``cfg`` requires, before any data is read.

    Args:
        cfg: the decoder configuration.
        index: the safetensors headers.

    Returns:
        A :class:`TensorPlan` naming every tensor to load (without prefix handling left to do).

    Raises:
        ArtifactError: a required tensor is missing, has the wrong shape or a non-float dtype.
    """
    names = index.tensors
    if "model.embed_tokens.weight" in names:
        prefix = "model."
    elif "embed_tokens.weight" in names:
        prefix = ""
    else:
        raise ArtifactError(
            f"{index.files[0]}: tensor 'model.embed_tokens.weight' is missing (not a "
            f"{cfg.family} decoder checkpoint?)"
        )
    h, hd = cfg.hidden_size, cfg.head_dim
    q_out, kv_out = cfg.num_heads * hd, cfg.num_kv_heads * hd
    exp: dict[str, tuple[int, ...]] = {
        f"{prefix}embed_tokens.weight": (cfg.vocab_size, h),
        f"{prefix}norm.weight": (h,),
    }
    for i in range(cfg.num_layers):
        b = f"{prefix}layers.{i}."
        exp[b + "input_layernorm.weight"] = (h,)
        exp[b + "post_attention_layernorm.weight"] = (h,)
        exp[b + "self_attn.q_proj.weight"] = (q_out, h)
        exp[b + "self_attn.k_proj.weight"] = (kv_out, h)
        exp[b + "self_attn.v_proj.weight"] = (kv_out, h)
        exp[b + "self_attn.o_proj.weight"] = (h, q_out)
        exp[b + "mlp.gate_proj.weight"] = (cfg.intermediate_size, h)
        exp[b + "mlp.up_proj.weight"] = (cfg.intermediate_size, h)
        exp[b + "mlp.down_proj.weight"] = (h, cfg.intermediate_size)
        if cfg.attention_bias:
            exp[b + "self_attn.q_proj.bias"] = (q_out,)
            exp[b + "self_attn.k_proj.bias"] = (kv_out,)
            exp[b + "self_attn.v_proj.bias"] = (kv_out,)
        if cfg.o_bias:
            exp[b + "self_attn.o_proj.bias"] = (h,)
        if cfg.mlp_bias:
            exp[b + "mlp.gate_proj.bias"] = (cfg.intermediate_size,)
            exp[b + "mlp.up_proj.bias"] = (cfg.intermediate_size,)
            exp[b + "mlp.down_proj.bias"] = (h,)
        if cfg.qk_norm:
            exp[b + "self_attn.q_norm.weight"] = (hd,)
            exp[b + "self_attn.k_norm.weight"] = (hd,)
    tied = cfg.tie_word_embeddings or "lm_head.weight" not in names
    if not tied:
        exp["lm_head.weight"] = (cfg.vocab_size, h)
    for name, shape in exp.items():
        info = names.get(name)
        if info is None:
            raise ArtifactError(
                f"{index.files[0]}: tensor '{name}' is missing ({cfg.family} config "
                f"{cfg.source} requires it)"
            )
        if info.shape != shape:
            raise ArtifactError(
                f"{info.file}: tensor '{name}' has shape {list(info.shape)} but "
                f"{Path(cfg.source).name} implies {list(shape)}"
            )
        if info.dtype not in _FLOAT_DTYPES:
            raise ArtifactError(
                f"{info.file}: tensor '{name}' has dtype {info.dtype}; the reference decoder "
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
