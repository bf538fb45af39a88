"""``config.json`` and ``generation_config.json``: the one reader of a model's configuration.

Each file is read once, size-capped, as strict JSON (a repeated key anywhere is refused, see
:func:`~albor_gates.artifacts._text.load_json_document`), into frozen evidence:

- ``config.json`` → :class:`ModelConfig`: the raw object plus typed fields the architecture
  checks need, read under their Hugging Face names or the GPT-2 aliases (``n_embd``, ``n_layer``,
  ``n_head``, ``n_positions``, ``n_inner``, ``layer_norm_epsilon``). The reference decoder's
  typed view (:class:`~albor_gates.model.weights.DecoderConfig`) is derived from this object;
  it never parses the file itself;
- ``generation_config.json`` → :class:`GenerationConfig`.

Malformed input raises :class:`~albor_gates.errors.ArtifactError` with one line naming the
file, the key and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._text import JsonFields, frozen, read_json_object

#: Size cap, in bytes, checked before reading.
MAX_CONFIG_BYTES = 10_000_000

_CONFIG_FIX = "fix config.json (it is what transformers reads to build the model)"


@dataclass(frozen=True)
class ModelConfig:
    """A model's ``config.json``: the raw object and the fields the architecture checks need.

    Every typed field is ``None`` when the file does not declare it (no transformers default is
    filled in; the ``resolved_*`` properties apply the documented defaults). ``keys`` says under
    which key each field was found, so a message can quote the user's own key (``n_embd``).

    Attributes:
        path: the file.
        raw: the whole JSON object, read-only at the top level.
        architectures: ``architectures`` (e.g. ``("Qwen2ForCausalLM",)``).
        model_type: ``model_type`` (e.g. ``"qwen2"``).
        vocab_size: ``vocab_size``.
        hidden_size: ``hidden_size`` / ``n_embd`` / ``d_model``.
        num_hidden_layers: ``num_hidden_layers`` / ``n_layer`` / ``num_layers``.
        num_attention_heads: ``num_attention_heads`` / ``n_head`` / ``num_heads``.
        num_key_value_heads: ``num_key_value_heads``.
        head_dim: ``head_dim``.
        intermediate_size: ``intermediate_size`` / ``n_inner``.
        max_position_embeddings: ``max_position_embeddings`` / ``n_positions``.
        rope_theta: ``rope_theta`` (or ``rope_parameters.rope_theta``, the transformers v5 form).
        rms_norm_eps: ``rms_norm_eps``.
        layer_norm_eps: ``layer_norm_eps`` / ``layer_norm_epsilon`` (BERT, GPT-2).
        tie_word_embeddings: ``tie_word_embeddings``.
        type_vocab_size: ``type_vocab_size`` (BERT).
        torch_dtype: ``torch_dtype`` / ``dtype``.
        keys: field name → the key it was read from.
    """

    path: Path
    raw: Mapping[str, Any]
    architectures: tuple[str, ...]
    model_type: str | None
    vocab_size: int | None
    hidden_size: int | None
    num_hidden_layers: int | None
    num_attention_heads: int | None
    num_key_value_heads: int | None
    head_dim: int | None
    intermediate_size: int | None
    max_position_embeddings: int | None
    rope_theta: float | None
    rms_norm_eps: float | None
    layer_norm_eps: float | None
    tie_word_embeddings: bool | None
    type_vocab_size: int | None
    torch_dtype: str | None
    keys: Mapping[str, str]

    @property
    def resolved_num_key_value_heads(self) -> int | None:
        """KV heads, defaulting to ``num_attention_heads`` (multi-head attention), as HF does."""
        if self.num_key_value_heads is not None:
            return self.num_key_value_heads
        return self.num_attention_heads

    @property
    def resolved_head_dim(self) -> int | None:
        """``head_dim``, else ``hidden_size // num_attention_heads`` when that divides exactly."""
        if self.head_dim is not None:
            return self.head_dim
        h, n = self.hidden_size, self.num_attention_heads
        if h is None or not n or h % n:
            return None
        return h // n

    @property
    def resolved_intermediate_size(self) -> int | None:
        """``intermediate_size``; for GPT-2 a null ``n_inner`` means ``4 * n_embd``."""
        if self.intermediate_size is not None:
            return self.intermediate_size
        if self.model_type == "gpt2" and self.hidden_size is not None:
            return 4 * self.hidden_size
        return None

    @property
    def resolved_tie_word_embeddings(self) -> bool:
        """``tie_word_embeddings``, defaulting to ``True`` (``PretrainedConfig``'s default)."""
        return True if self.tie_word_embeddings is None else self.tie_word_embeddings


def read_config(path: str | os.PathLike[str]) -> ModelConfig:
    """Read ``config.json``.

    Args:
        path: the file.

    Raises:
        ArtifactError: missing, too large, not a JSON object, a repeated key, or a typed field
            with the wrong JSON type (the message names the key).
    """
    p = Path(path)
    obj = read_json_object(p, MAX_CONFIG_BYTES, "config.json", _CONFIG_FIX)
    f = JsonFields(p, obj, "config.json", _CONFIG_FIX)
    rope_theta = f.number("rope_theta")
    if rope_theta is None and isinstance(obj.get("rope_parameters"), dict):
        nested = JsonFields(p, obj["rope_parameters"], "config.json", _CONFIG_FIX)
        rope_theta = nested.number("rope_theta")
        if rope_theta is not None:
            f.used["rope_theta"] = "rope_parameters.rope_theta"
    return ModelConfig(
        path=p,
        raw=frozen(obj),
        architectures=f.texts("architectures"),
        model_type=f.text("model_type"),
        vocab_size=f.count("vocab_size"),
        hidden_size=f.count("hidden_size", "n_embd", "d_model"),
        num_hidden_layers=f.count("num_hidden_layers", "n_layer", "num_layers"),
        num_attention_heads=f.count("num_attention_heads", "n_head", "num_heads"),
        num_key_value_heads=f.count("num_key_value_heads"),
        head_dim=f.count("head_dim"),
        intermediate_size=f.count("intermediate_size", "n_inner"),
        max_position_embeddings=f.count("max_position_embeddings", "n_positions"),
        rope_theta=rope_theta,
        rms_norm_eps=f.number("rms_norm_eps"),
        layer_norm_eps=f.number("layer_norm_eps", "layer_norm_epsilon"),
        tie_word_embeddings=f.flag("tie_word_embeddings"),
        type_vocab_size=f.count("type_vocab_size"),
        torch_dtype=f.text("torch_dtype") if "torch_dtype" in obj else f.text("dtype"),
        keys=MappingProxyType(dict(f.used)),
    )


@dataclass(frozen=True)
class GenerationConfig:
    """``generation_config.json``: raw object plus the decoding fields checks look at.

    Attributes:
        path: the file.
        raw: the whole JSON object (top level read-only).
        bos_token_ids: ``bos_token_id`` as a tuple (empty when absent).
        eos_token_ids: ``eos_token_id`` (an id or a list of ids) as a tuple.
        pad_token_ids: ``pad_token_id`` as a tuple.
        max_length: ``max_length``.
        max_new_tokens: ``max_new_tokens``.
        do_sample: ``do_sample``.
        temperature: ``temperature``.
        top_p: ``top_p``.
        top_k: ``top_k``.
        repetition_penalty: ``repetition_penalty``.
    """

    path: Path
    raw: Mapping[str, Any]
    bos_token_ids: tuple[int, ...]
    eos_token_ids: tuple[int, ...]
    pad_token_ids: tuple[int, ...]
    max_length: int | None
    max_new_tokens: int | None
    do_sample: bool | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    repetition_penalty: float | None


def read_generation_config(path: str | os.PathLike[str]) -> GenerationConfig:
    """Read ``generation_config.json``.

    Raises:
        ArtifactError: missing, too large, malformed, or a field of the wrong type.
    """
    p = Path(path)
    fix = "fix generation_config.json"
    obj = read_json_object(p, MAX_CONFIG_BYTES, "generation_config.json", fix)
    f = JsonFields(p, obj, "generation_config.json", fix)
    return GenerationConfig(
        path=p,
        raw=frozen(obj),
        bos_token_ids=f.token_ids("bos_token_id"),
        eos_token_ids=f.token_ids("eos_token_id"),
        pad_token_ids=f.token_ids("pad_token_id"),
        max_length=f.count("max_length"),
        max_new_tokens=f.count("max_new_tokens"),
        do_sample=f.flag("do_sample"),
        temperature=f.number("temperature"),
        top_p=f.number("top_p"),
        top_k=f.count("top_k"),
        repetition_penalty=f.number("repetition_penalty"),
    )
