"""GGUF ↔ Hugging Face tensor names, q/k row layout and the decoder recipes GGUF maps.

* **Recipes.** A GGUF's ``general.architecture`` names a llama.cpp architecture; the recipes of
  the reference decoder (:data:`~albor_gates.artifacts.architecture.DECODER_RECIPES`) are
  written as :data:`RECIPES` say. Mistral is written as ``general.architecture = llama`` and
  therefore reads back as the llama recipe.
* **Names** (GATES.md §6.3): ``token_embd.weight`` ↔ ``model.embed_tokens.weight``,
  ``output_norm.weight`` ↔ ``model.norm.weight``, ``output.weight`` ↔ ``lm_head.weight`` and per
  block ``blk.{n}.attn_q/attn_k/attn_v/attn_output``, ``attn_q/k/v.bias``,
  ``attn_q_norm/attn_k_norm`` (qwen3), ``ffn_gate/ffn_up/ffn_down``, ``attn_norm`` ↔
  ``input_layernorm``, ``ffn_norm`` ↔ ``post_attention_layernorm`` under ``model.layers.{n}.``.
* **q/k row permutation.** llama.cpp's ``llama`` architecture applies RoPE to interleaved pairs,
  Hugging Face's Llama to the two halves of each head, so ``convert_hf_to_gguf.py``
  (``LlamaModel.modify_tensors``, registered for ``LlamaForCausalLM``, ``MistralForCausalLM``
  and ``MixtralForCausalLM``) permutes the rows of ``q_proj`` / ``k_proj`` weights and biases:
  ``w.reshape(n_head, 2, rows // n_head // 2, ...).swapaxes(1, 2)`` (``n_head`` = kv heads for
  k). ``Qwen2Model`` / ``Qwen3Model`` keep HF's layout (their GGUF RoPE is NEOX-style), so
  qwen2 / qwen3 tensors are not permuted.
* **Tied output.** A GGUF without ``output.weight`` ties the output to ``token_embd``; the HF
  state (:func:`gguf_to_hf_state`) then has no ``lm_head.weight``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from albor_gates.artifacts.architecture import RECIPE_CLASS
from albor_gates.artifacts.gguf import GGUFFile, GGUFValue
from albor_gates.artifacts.gguf_dequant import iter_dequantized
from albor_gates.errors import ArtifactError
from albor_gates.formats.quant_names import QUANTS as QUANTS

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class GGUFRecipe:
    """How one decoder recipe is written to GGUF.

    Attributes:
        recipe: the decoder recipe (config.json ``model_type``).
        gguf_arch: the lowercase ``general.architecture`` (P0-F).
        permute_qk: whether llama.cpp's converter permutes q/k rows for this recipe.
    """

    recipe: str
    gguf_arch: str
    permute_qk: bool

    @property
    def hf_class(self) -> str:
        """The config.json ``architectures[0]`` of the recipe's causal LM."""
        return RECIPE_CLASS[self.recipe]


#: The recipes this package maps, keyed by config.json ``model_type``.
RECIPES: Mapping[str, GGUFRecipe] = {
    "llama": GGUFRecipe("llama", "llama", True),
    "mistral": GGUFRecipe("mistral", "llama", True),
    "qwen2": GGUFRecipe("qwen2", "qwen2", False),
    "qwen3": GGUFRecipe("qwen3", "qwen3", False),
}
# GGUF architecture -> the recipe it reads back as (mistral is written as llama).
_RECIPE_FOR_ARCH = {"llama": RECIPES["llama"], "qwen2": RECIPES["qwen2"], "qwen3": RECIPES["qwen3"]}


def gguf_recipe(g: GGUFFile) -> GGUFRecipe:
    """The recipe a GGUF file reads back as, from ``general.architecture``.

    Raises:
        ArtifactError: an architecture this package does not map.
    """
    arch = g.architecture
    recipe = _RECIPE_FOR_ARCH.get(arch or "")
    if recipe is None:
        raise ArtifactError(
            f"{g.path}: general.architecture is {arch!r}; albor-gates maps only "
            f"{', '.join(sorted(_RECIPE_FOR_ARCH))} GGUF files to Hugging Face"
        )
    return recipe


_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
_BLOCK_NAMES = {
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.bias": "self_attn.v_proj.bias",
    "attn_output.bias": "self_attn.o_proj.bias",
    "attn_q_norm.weight": "self_attn.q_norm.weight",
    "attn_k_norm.weight": "self_attn.k_norm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
}
_HF_GLOBAL = {v: k for k, v in _GLOBAL_NAMES.items()}
_HF_BLOCK = {v: k for k, v in _BLOCK_NAMES.items()}
_GGUF_BLOCK_RE = re.compile(r"blk\.(\d+)\.(.+)")
_HF_BLOCK_RE = re.compile(r"model\.layers\.(\d+)\.(.+)")


def _rename(
    name: str,
    whole: Mapping[str, str],
    block_re: re.Pattern[str],
    parts: Mapping[str, str],
    to: str,
) -> str | None:
    if name in whole:
        return whole[name]
    m = block_re.fullmatch(name)
    if m and m.group(2) in parts:
        return to.format(n=int(m.group(1)), part=parts[m.group(2)])
    return None


def gguf_to_hf_name(name: str) -> str | None:
    """Map a GGUF tensor name to its Hugging Face name, or None when it has none.

    >>> gguf_to_hf_name("blk.3.attn_q.weight")
    'model.layers.3.self_attn.q_proj.weight'
    """
    return _rename(name, _GLOBAL_NAMES, _GGUF_BLOCK_RE, _BLOCK_NAMES, "model.layers.{n}.{part}")


def hf_to_gguf_name(name: str) -> str | None:
    """Map a Hugging Face tensor name to its GGUF name, or None when it has none.

    >>> hf_to_gguf_name("model.layers.0.mlp.down_proj.weight")
    'blk.0.ffn_down.weight'
    """
    return _rename(name, _HF_GLOBAL, _HF_BLOCK_RE, _HF_BLOCK, "blk.{n}.{part}")


_A = TypeVar("_A", "np.ndarray[Any, Any]", "torch.Tensor")


def permute_qk(w: _A, n_head: int) -> _A:
    """HF → GGUF row order of a llama-family q or k projection (weight or bias).

    Exactly ``LlamaModel.permute`` of ``convert_hf_to_gguf.py``: within each head, the rows of
    the two rotary halves are interleaved. ``n_head`` is the number of heads the tensor holds
    (attention heads for q, kv heads for k).
    """
    rows = w.shape[0]
    split = w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:])
    return split.swapaxes(1, 2).reshape(w.shape)


def unpermute_qk(w: _A, n_head: int) -> _A:
    """GGUF → HF row order; the inverse of :func:`permute_qk`."""
    rows = w.shape[0]
    split = w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:])
    return split.swapaxes(1, 2).reshape(w.shape)


def kv_value(g: GGUFFile, key: str, what: str, *, required: bool = True) -> GGUFValue | None:
    """``kv[key]``; a missing required key is an error naming ``what`` needs it."""
    value = g.metadata.get(key)
    if value is None and required:
        raise ArtifactError(
            f"{g.path}: kv[{key!r}] is missing; it is needed for {what} (re-export the model "
            "with gates export or a current llama.cpp)"
        )
    return value


def kv_int(g: GGUFFile, key: str, what: str, *, required: bool = True) -> int | None:
    """``kv[key]`` as a positive integer (None when absent and not required)."""
    value = kv_value(g, key, what, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ArtifactError(f"{g.path}: kv[{key!r}] is {value!r}; {what} needs a positive integer")
    return value


def kv_float(g: GGUFFile, key: str, what: str, *, required: bool = True) -> float | None:
    """``kv[key]`` as a number (None when absent and not required)."""
    value = kv_value(g, key, what, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArtifactError(f"{g.path}: kv[{key!r}] is {value!r}; {what} needs a number")
    return float(value)


def gguf_to_hf_state(evidence: GGUFFile) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(hf_name, fp32 torch tensor)`` for every GGUF tensor, one at a time.

    Tensors are dequantised on the fly (peak memory: one tensor plus overhead), renamed, and
    for the llama family the q/k rows are un-permuted back to Hugging Face's layout. A tied
    model yields no ``lm_head.weight`` (see :func:`config_from_gguf`'s
    ``tie_word_embeddings``).

    Raises:
        ArtifactError: for an unmapped architecture or tensor name, a missing head count, or
            a q/k tensor whose rows do not split into its heads.
    """
    import torch

    g = evidence
    family = gguf_recipe(g)
    for info in g.tensors:
        if gguf_to_hf_name(info.name) is None:
            raise ArtifactError(
                f"{g.path}: tensor {info.name!r} has no Hugging Face counterpart in the "
                f"{family.gguf_arch} mapping (known: token_embd, output_norm, output, blk.N.*)"
            )
    heads = kv_heads = 0
    if family.permute_qk:
        a = family.gguf_arch
        heads = kv_int(g, f"{a}.attention.head_count", "the q/k un-permutation") or 0
        kv_heads = kv_int(g, f"{a}.attention.head_count_kv", "", required=False) or heads
    for info, arr in iter_dequantized(g):
        hf_name = gguf_to_hf_name(info.name)
        assert hf_name is not None
        if family.permute_qk and info.name.endswith(
            ("attn_q.weight", "attn_q.bias", "attn_k.weight", "attn_k.bias")
        ):
            n = heads if ".attn_q." in info.name else kv_heads
            if arr.shape[0] % (2 * n):
                raise ArtifactError(
                    f"{g.path}: tensor {info.name!r} has {arr.shape[0]} rows, not a multiple of "
                    f"2 × {n} heads; it cannot be un-permuted to the Hugging Face layout"
                )
            arr = unpermute_qk(arr, n).copy()
        yield hf_name, torch.from_numpy(arr)
