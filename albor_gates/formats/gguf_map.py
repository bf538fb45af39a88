"""GGUF ↔ Hugging Face: tensor names, q/k layout, config.json and tokenizer.

Everything a gate needs to treat a GGUF file like a Hugging Face release folder:

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
  qwen2 / qwen3 tensors are not permuted. Mistral is written as ``general.architecture =
  llama`` and therefore reads back as a llama config.
* **Tied output.** A GGUF without ``output.weight`` ties the output to ``token_embd``; the HF
  state then has no ``lm_head.weight`` and the config says ``tie_word_embeddings: true``.
* **config.json** from the ``<arch>.*`` hyper-parameters (:func:`config_from_gguf`).
* **Tokenizer.** :func:`tokenizer_from_gguf` rebuilds a ``tokenizers.Tokenizer`` from
  ``tokenizer.ggml.*``: ``gpt2`` (byte-level BPE: tokens + merges, pre-tokenizer regex from
  ``tokenizer.ggml.pre``) and ``llama`` (SentencePiece-style BPE with byte fallback: tokens,
  scores, token types, merges if present else merges derived from the scores).
  :func:`vocab_from_tokenizer_json` goes the other way for the exporter, padding the vocabulary
  to the model's ``vocab_size`` with ``[PAD{id}]`` placeholder tokens of type UNUSED, as
  ``convert_hf_to_gguf.py`` does (GATES.md §7.3, P0-G).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from albor_gates.artifacts.gguf import GGUFFile, GGUFValue, iter_dequantized
from albor_gates.errors import ArtifactError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import tokenizers
    import torch

__all__ = [
    "FAMILIES",
    "GGUFVocab",
    "config_from_gguf",
    "gguf_to_hf_name",
    "gguf_to_hf_state",
    "hf_to_gguf_name",
    "permute_qk",
    "tokenizer_from_gguf",
    "unpermute_qk",
    "vocab_from_tokenizer_json",
]


@dataclass(frozen=True)
class Family:
    """How one Hugging Face model family is written to GGUF.

    Attributes:
        model_type: the config.json ``model_type``.
        hf_class: the config.json ``architectures[0]`` for a causal LM.
        gguf_arch: the lowercase ``general.architecture`` (P0-F).
        permute_qk: whether llama.cpp's converter permutes q/k rows for this family.
    """

    model_type: str
    hf_class: str
    gguf_arch: str
    permute_qk: bool


#: The families this module maps, keyed by config.json ``model_type``.
FAMILIES: Mapping[str, Family] = {
    "llama": Family("llama", "LlamaForCausalLM", "llama", True),
    "mistral": Family("mistral", "MistralForCausalLM", "llama", True),
    "qwen2": Family("qwen2", "Qwen2ForCausalLM", "qwen2", False),
    "qwen3": Family("qwen3", "Qwen3ForCausalLM", "qwen3", False),
}
# GGUF architecture -> the family it reads back as (mistral is written as llama).
_FAMILY_FOR_ARCH = {
    "llama": FAMILIES["llama"],
    "qwen2": FAMILIES["qwen2"],
    "qwen3": FAMILIES["qwen3"],
}

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


# --------------------------------------------------------------------------- config.json


def _kv(g: GGUFFile, key: str, what: str, *, required: bool = True) -> GGUFValue | None:
    value = g.metadata.get(key)
    if value is None and required:
        raise ArtifactError(
            f"{g.path}: kv[{key!r}] is missing; it is needed for {what} (re-export the model "
            "with gates export or a current llama.cpp)"
        )
    return value


def _int(g: GGUFFile, key: str, what: str, *, required: bool = True) -> int | None:
    value = _kv(g, key, what, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ArtifactError(f"{g.path}: kv[{key!r}] is {value!r}; {what} needs a positive integer")
    return value


def _float(g: GGUFFile, key: str, what: str, *, required: bool = True) -> float | None:
    value = _kv(g, key, what, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArtifactError(f"{g.path}: kv[{key!r}] is {value!r}; {what} needs a number")
    return float(value)


def _family(g: GGUFFile) -> Family:
    arch = g.architecture
    family = _FAMILY_FOR_ARCH.get(arch or "")
    if family is None:
        raise ArtifactError(
            f"{g.path}: general.architecture is {arch!r}; albor-gates maps only "
            f"{', '.join(sorted(_FAMILY_FOR_ARCH))} GGUF files to Hugging Face"
        )
    return family


def config_from_gguf(evidence: GGUFFile) -> dict[str, Any]:
    """Build a Hugging Face ``config.json`` dict from a GGUF file's metadata.

    Args:
        evidence: from :func:`~albor_gates.artifacts.gguf.read_gguf`.

    Returns:
        ``architectures``, ``model_type``, ``hidden_size``, ``num_hidden_layers``,
        ``num_attention_heads``, ``num_key_value_heads``, ``head_dim``, ``intermediate_size``,
        ``vocab_size`` (rows of ``token_embd.weight``), ``max_position_embeddings``,
        ``rope_theta``, ``rms_norm_eps``, ``tie_word_embeddings`` (no ``output.weight``),
        ``hidden_act``, ``attention_bias``, ``bos_token_id`` / ``eos_token_id`` when present and
        ``rope_scaling`` when ``<arch>.rope.scaling.type`` is linear or yarn.

    Raises:
        ArtifactError: for an unmapped architecture or a missing / malformed hyper-parameter.
    """
    g = evidence
    family = _family(g)
    a = family.gguf_arch
    what = "config.json"
    hidden = _int(g, f"{a}.embedding_length", what)
    layers = _int(g, f"{a}.block_count", what)
    heads = _int(g, f"{a}.attention.head_count", what)
    assert hidden is not None and layers is not None and heads is not None
    kv_heads = _int(g, f"{a}.attention.head_count_kv", what, required=False) or heads
    head_dim = _int(g, f"{a}.attention.key_length", what, required=False) or hidden // heads
    ffn = _int(g, f"{a}.feed_forward_length", what)
    embd = g.by_name.get("token_embd.weight")
    if embd is None:
        raise ArtifactError(f"{g.path}: no tensor 'token_embd.weight'; every decoder needs one")
    config: dict[str, Any] = {
        "architectures": [family.hf_class],
        "model_type": family.model_type,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": ffn,
        "vocab_size": embd.shape[0],
        "max_position_embeddings": _int(g, f"{a}.context_length", what, required=False) or 2048,
        "rope_theta": _float(g, f"{a}.rope.freq_base", what, required=False) or 10000.0,
        "rms_norm_eps": _float(g, f"{a}.attention.layer_norm_rms_epsilon", what),
        "tie_word_embeddings": "output.weight" not in g.by_name,
        "hidden_act": "silu",
    }
    if family.model_type != "qwen2":  # Qwen2 always has q/k/v biases; others say so.
        config["attention_bias"] = "blk.0.attn_q.bias" in g.by_name
    for key, name in (("bos_token_id", "bos"), ("eos_token_id", "eos")):
        value = g.metadata.get(f"tokenizer.ggml.{name}_token_id")
        if isinstance(value, int) and not isinstance(value, bool):
            config[key] = value
    scaling = g.metadata.get(f"{a}.rope.scaling.type")
    if scaling in ("linear", "yarn"):
        factor = _float(g, f"{a}.rope.scaling.factor", "rope_scaling")
        rope: dict[str, Any] = {"rope_type": scaling, "factor": factor}
        orig = _int(g, f"{a}.rope.scaling.original_context_length", what, required=False)
        if orig is not None:
            rope["original_max_position_embeddings"] = orig
        config["rope_scaling"] = rope
    return config


# --------------------------------------------------------------------------- weights


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
    family = _family(g)
    for info in g.tensors:
        if gguf_to_hf_name(info.name) is None:
            raise ArtifactError(
                f"{g.path}: tensor {info.name!r} has no Hugging Face counterpart in the "
                f"{family.gguf_arch} mapping (known: token_embd, output_norm, output, blk.N.*)"
            )
    heads = kv_heads = 0
    if family.permute_qk:
        a = family.gguf_arch
        heads = _int(g, f"{a}.attention.head_count", "the q/k un-permutation") or 0
        kv_heads = _int(g, f"{a}.attention.head_count_kv", "", required=False) or heads
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


# --------------------------------------------------------------------------- tokenizer

# tokenizer.ggml.token_type values (llama.cpp's llama_token_type / gguf.TokenType).
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

# Pre-tokenizer regexes as Hugging Face's tokenizer.json spells them, keyed by the
# tokenizer.ggml.pre name llama.cpp gives the same split (llama-vocab.cpp).
_QWEN2_RE = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_LLAMA3_RE = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
#: tokenizer.ggml.pre -> Split regex (None: GPT-2's built-in ByteLevel regex).
PRE_TOKENIZERS: Mapping[str, str | None] = {
    "default": None,
    "gpt-2": None,
    "qwen2": _QWEN2_RE,
    "llama-bpe": _LLAMA3_RE,
}
# llama.cpp matches whole tokens first for these (llama3's ignore_merges).
_IGNORE_MERGES = {"llama-bpe"}


def _str_tuple(g: GGUFFile, key: str) -> tuple[str, ...]:
    value = g.metadata.get(key)
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise ArtifactError(
            f"{g.path}: kv[{key!r}] is {'missing' if value is None else 'not an array of strings'}"
            "; a tokenizer cannot be built without it"
        )
    return value  # type: ignore[return-value]


def _num_tuple(g: GGUFFile, key: str, n: int) -> tuple[float, ...] | None:
    value = g.metadata.get(key)
    if value is None:
        return None
    if not isinstance(value, tuple) or len(value) != n or any(isinstance(v, str) for v in value):
        raise ArtifactError(f"{g.path}: kv[{key!r}] must be an array of {n} numbers, one per token")
    return value  # type: ignore[return-value]


def _added(content: str, ttype: int) -> tokenizers.AddedToken:
    import tokenizers

    return tokenizers.AddedToken(content, special=ttype == CONTROL, normalized=False)


def tokenizer_from_gguf(evidence: GGUFFile) -> tokenizers.Tokenizer:
    """Rebuild a ``tokenizers.Tokenizer`` from the GGUF vocabulary alone.

    ``gpt2`` files become a byte-level BPE (merges from ``tokenizer.ggml.merges``, the
    pre-tokenizer from ``tokenizer.ggml.pre``: qwen2, llama-bpe, gpt-2 / default; an NFC
    normaliser for qwen2 as in Qwen's tokenizer.json). ``llama`` files become a
    SentencePiece-style BPE with byte fallback (``▁`` for spaces, a ``▁`` prefix unless
    ``tokenizer.ggml.add_space_prefix`` is false), merges from ``tokenizer.ggml.merges`` when
    present and otherwise derived from the scores (a merge per split of each token into two
    tokens, ranked by the merged token's score). CONTROL tokens become special added tokens,
    USER_DEFINED ones non-special added tokens; ``[PAD{id}]`` placeholders (UNUSED) are left
    out, so the id space keeps its gaps. ``add_bos_token`` / ``add_eos_token`` become a
    post-processor.

    Raises:
        ArtifactError: for a missing or malformed vocabulary, an unknown tokenizer model or
            pre-tokenizer.
    """
    import tokenizers
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

    g = evidence
    kind = g.metadata.get("tokenizer.ggml.model")
    tokens = _str_tuple(g, "tokenizer.ggml.tokens")
    n = len(tokens)
    types = _num_tuple(g, "tokenizer.ggml.token_type", n) or (NORMAL,) * n
    vocab: dict[str, int] = {}
    added: list[tuple[int, str, int]] = []
    for i, (text, ttype) in enumerate(zip(tokens, types, strict=True)):
        t = int(ttype)
        if t == UNUSED and text == f"[PAD{i}]":
            continue
        if t in (CONTROL, USER_DEFINED, UNKNOWN):
            added.append((i, text, CONTROL if t == UNKNOWN else t))
        if text not in vocab:
            vocab[text] = i
    merges_raw = g.metadata.get("tokenizer.ggml.merges")
    merges: list[tuple[str, str]] | None = None
    if merges_raw is not None:
        merge_strs = _str_tuple(g, "tokenizer.ggml.merges")
        merges = []
        for j, m in enumerate(merge_strs):
            left, sep, right = m.partition(" ")
            if not sep:
                raise ArtifactError(
                    f"{g.path}: kv['tokenizer.ggml.merges'][{j}] is {m[:40]!r}, not 'left right'"
                )
            merges.append((left, right))

    if kind == "gpt2":
        pre = g.metadata.get("tokenizer.ggml.pre", "default")
        if not isinstance(pre, str) or pre not in PRE_TOKENIZERS:
            raise ArtifactError(
                f"{g.path}: tokenizer.ggml.pre is {pre!r}; albor-gates rebuilds only "
                f"{', '.join(sorted(PRE_TOKENIZERS))}"
            )
        if merges is None:
            raise ArtifactError(
                f"{g.path}: kv['tokenizer.ggml.merges'] is missing; a gpt2 (BPE) tokenizer "
                "cannot be built without its merges"
            )
        tok = tokenizers.Tokenizer(
            models.BPE(vocab=vocab, merges=merges, ignore_merges=pre in _IGNORE_MERGES)
        )
        regex = PRE_TOKENIZERS[pre]
        if regex is None:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        else:
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [
                    pre_tokenizers.Split(tokenizers.Regex(regex), behavior="isolated"),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
                ]
            )
        if pre == "qwen2":
            tok.normalizer = normalizers.NFC()
        tok.decoder = decoders.ByteLevel()
    elif kind == "llama":
        if merges is None:
            scores = _num_tuple(g, "tokenizer.ggml.scores", n)
            if scores is None:
                raise ArtifactError(
                    f"{g.path}: a llama (SentencePiece) tokenizer needs tokenizer.ggml.scores or "
                    "tokenizer.ggml.merges; the file has neither"
                )
            merges = _merges_from_scores(vocab, tokens, types, scores)
        unk = next((tokens[i] for i, t in enumerate(types) if int(t) == UNKNOWN), None)
        tok = tokenizers.Tokenizer(
            models.BPE(vocab=vocab, merges=merges, unk_token=unk, byte_fallback=True, fuse_unk=True)
        )
        steps: list[normalizers.Normalizer] = []
        if g.metadata.get("tokenizer.ggml.add_space_prefix", True) is not False:
            steps.append(normalizers.Prepend("▁"))
        steps.append(normalizers.Replace(" ", "▁"))
        tok.normalizer = normalizers.Sequence(steps)
        tok.decoder = decoders.Sequence(
            [
                decoders.Replace("▁", " "),
                decoders.ByteFallback(),
                decoders.Fuse(),
                decoders.Strip(" ", 1, 0),
            ]
        )
    else:
        raise ArtifactError(
            f"{g.path}: tokenizer.ggml.model is {kind!r}; albor-gates rebuilds only 'gpt2' "
            "(byte-level BPE) and 'llama' (SentencePiece) tokenizers"
        )

    tok.add_tokens([_added(text, t) for _i, text, t in added if t == USER_DEFINED])
    tok.add_special_tokens([_added(text, t) for _i, text, t in added if t == CONTROL])
    template = _post_processor(g, tokens)
    if template is not None:
        tok.post_processor = processors.TemplateProcessing(**template)
    return tok


def _post_processor(g: GGUFFile, tokens: tuple[str, ...]) -> dict[str, Any] | None:
    parts: dict[str, tuple[str, int]] = {}
    for name in ("bos", "eos"):
        wanted = g.metadata.get(f"tokenizer.ggml.add_{name}_token")
        tid = g.metadata.get(f"tokenizer.ggml.{name}_token_id")
        if wanted is True and isinstance(tid, int) and 0 <= tid < len(tokens):
            parts[name] = (tokens[tid], tid)
    if not parts:
        return None
    single = ([f"{parts['bos'][0]}:0"] if "bos" in parts else []) + ["$A:0"]
    single += [f"{parts['eos'][0]}:0"] if "eos" in parts else []
    pair = single + [s.replace("$A", "$B").replace(":0", ":1") for s in single]
    return {"single": single, "pair": pair, "special_tokens": list(parts.values())}


def _merges_from_scores(
    vocab: dict[str, int],
    tokens: tuple[str, ...],
    types: tuple[float, ...],
    scores: tuple[float, ...],
) -> list[tuple[str, str]]:
    """SentencePiece scores → BPE merges (transformers' ``SentencePieceExtractor`` rule)."""
    ranked = sorted(
        (i for i, t in enumerate(types) if int(t) in (NORMAL, USER_DEFINED)),
        key=lambda i: (-scores[i], i),
    )
    merges: list[tuple[str, str]] = []
    for i in ranked:
        piece = tokens[i]
        local = [
            (piece[:k], piece[k:])
            for k in range(1, len(piece))
            if piece[:k] in vocab and piece[k:] in vocab
        ]
        local.sort(key=lambda lr: (vocab[lr[0]], vocab[lr[1]]))
        merges.extend(local)
    return merges


@dataclass(frozen=True)
class GGUFVocab:
    """A Hugging Face tokenizer.json turned into GGUF ``tokenizer.ggml.*`` values.

    Attributes:
        model: ``gpt2`` or ``llama``.
        pre: ``tokenizer.ggml.pre``.
        tokens: one string per id, padded to the model vocabulary with ``[PAD{id}]``.
        token_types: llama.cpp token types, one per token.
        scores: one per token for ``llama`` (``-rank`` of the merge that makes the token, 0
            for tokens no merge makes), None for ``gpt2``.
        merges: ``"left right"`` strings in rank order.
        n_tokenizer: how many ids the tokenizer itself defines (before padding).
    """

    model: str
    pre: str
    tokens: tuple[str, ...]
    token_types: tuple[int, ...]
    scores: tuple[float, ...] | None
    merges: tuple[str, ...]
    n_tokenizer: int

    def add_to(self, writer: Any, *, merges: bool = True) -> None:
        """Add the ``tokenizer.ggml.*`` values to a ``gguf.GGUFWriter``.

        Args:
            writer: the writer, before its header is written.
            merges: also write ``tokenizer.ggml.merges`` (a ``llama`` file works without).
        """
        writer.add_tokenizer_model(self.model)
        writer.add_tokenizer_pre(self.pre)
        writer.add_token_list(list(self.tokens))
        writer.add_token_types(list(self.token_types))
        if self.scores is not None:
            writer.add_token_scores(list(self.scores))
        if merges and self.merges:
            writer.add_token_merges(list(self.merges))


def _merge_pairs(raw: Any, where: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        raise ArtifactError(f"{where}: model.merges is not a list")
    for m in raw:
        if isinstance(m, str) and " " in m:
            left, _, right = m.partition(" ")
        elif isinstance(m, list) and len(m) == 2 and all(isinstance(p, str) for p in m):
            left, right = m
        else:
            raise ArtifactError(f"{where}: model.merges entry {str(m)[:40]!r} is not a pair")
        pairs.append((left, right))
    return pairs


def _detect_pre(pre_tok: Any, model_type: str, where: str) -> str:
    """Name llama.cpp's pre-tokenizer for a byte-level tokenizer.json ``pre_tokenizer``."""
    steps = pre_tok.get("pretokenizers", [pre_tok]) if isinstance(pre_tok, dict) else []
    regexes = [
        s.get("pattern", {}).get("Regex")
        for s in steps
        if isinstance(s, dict) and s.get("type") == "Split"
    ]
    byte_level = [s for s in steps if isinstance(s, dict) and s.get("type") == "ByteLevel"]
    for name, regex in PRE_TOKENIZERS.items():
        if regex is not None and regexes == [regex]:
            return name
    if not regexes and len(byte_level) == 1 and byte_level[0].get("use_regex", True):
        return "gpt-2"
    raise UsageError(
        f"{where}: the byte-level pre-tokenizer of this {model_type} tokenizer matches none of "
        f"llama.cpp's {', '.join(n for n in PRE_TOKENIZERS if n != 'default')}; llama.cpp "
        "would tokenize differently, so it is not exported"
    )


def vocab_from_tokenizer_json(
    tokenizer_json: Mapping[str, Any],
    vocab_size: int,
    model_type: str,
    where: str = "tokenizer.json",
) -> GGUFVocab:
    """Turn a parsed Hugging Face ``tokenizer.json`` into GGUF vocabulary values.

    A byte-level BPE (``ByteLevel`` decoder) becomes ``gpt2``; a BPE with ``byte_fallback``
    (Llama 2 / Mistral style) becomes ``llama``. Added tokens marked special, or looking
    special (``<|...|>``), become CONTROL, other added tokens USER_DEFINED; ids the tokenizer
    does not define up to ``vocab_size`` become ``[PAD{id}]`` UNUSED placeholders.

    Args:
        tokenizer_json: the parsed file.
        vocab_size: the model's embedding rows (config.json ``vocab_size``).
        model_type: config.json ``model_type`` (for messages).
        where: the file, for messages.

    Raises:
        ArtifactError: for a tokenizer.json that is not a BPE, or ids beyond ``vocab_size``.
        UsageError: for a byte-level pre-tokenizer llama.cpp does not know.
    """
    model = tokenizer_json.get("model")
    if not isinstance(model, dict) or model.get("type") != "BPE":
        raise ArtifactError(
            f"{where}: model.type is {model.get('type') if isinstance(model, dict) else None!r}; "
            "only BPE tokenizers (byte-level or SentencePiece-style with byte fallback) export "
            "to GGUF"
        )
    raw_vocab = model.get("vocab")
    if not isinstance(raw_vocab, dict):
        raise ArtifactError(f"{where}: model.vocab is not an object")
    by_id: dict[int, str] = {}
    for text, tid in raw_vocab.items():
        if not isinstance(tid, int) or tid < 0:
            raise ArtifactError(f"{where}: model.vocab[{text[:40]!r}] is {tid!r}, not an id")
        by_id[tid] = text
    special: dict[int, bool] = {}
    for entry in tokenizer_json.get("added_tokens") or []:
        tid, content = entry.get("id"), entry.get("content")
        if not isinstance(tid, int) or not isinstance(content, str):
            raise ArtifactError(f"{where}: added_tokens entry {str(entry)[:60]!r} is malformed")
        by_id[tid] = content
        special[tid] = bool(entry.get("special")) or (
            content.startswith("<|") and content.endswith("|>")
        )
    n_tok = max(by_id) + 1 if by_id else 0
    if n_tok > vocab_size:
        raise ArtifactError(
            f"{where}: the tokenizer defines id {n_tok - 1} but config.json vocab_size is "
            f"{vocab_size}; the embedding has no row for it"
        )
    merges = _merge_pairs(model.get("merges", []), where)
    byte_fallback = bool(model.get("byte_fallback"))
    if byte_fallback:
        kind, pre = "llama", "default"
    else:
        kind, pre = "gpt2", _detect_pre(tokenizer_json.get("pre_tokenizer"), model_type, where)

    tokens: list[str] = []
    types: list[int] = []
    for i in range(vocab_size):
        text = by_id.get(i)
        if text is None:
            tokens.append(f"[PAD{i}]")
            types.append(UNUSED)
        elif kind == "llama" and text == model.get("unk_token"):
            tokens.append(text)
            types.append(UNKNOWN)
        elif i in special:
            tokens.append(text)
            types.append(CONTROL if special[i] else USER_DEFINED)
        elif kind == "llama" and re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", text):
            tokens.append(text)
            types.append(BYTE)
        else:
            tokens.append(text)
            types.append(NORMAL)
    scores: tuple[float, ...] | None = None
    if kind == "llama":
        # llama.cpp's SentencePiece tokenizer merges the adjacent pair whose concatenation has
        # the highest score; -rank of the merge that makes a token reproduces the BPE order.
        rank: dict[str, int] = {}
        for r, (left, right) in enumerate(merges):
            rank.setdefault(left + right, r)
        scores = tuple(
            -float(rank[t]) if ty == NORMAL and t in rank else 0.0
            for t, ty in zip(tokens, types, strict=True)
        )
    # gguf-py's SpecialVocab writes a space inside a merge part as U+0120 so "a b" stays
    # splittable; byte-level parts never contain a space.
    merge_strs = tuple(
        " ".join("".join(chr(ord(c) + 256) if c == " " else c for c in part) for part in pair)
        for pair in merges
    )
    return GGUFVocab(
        model=kind,
        pre=pre,
        tokens=tuple(tokens),
        token_types=tuple(types),
        scores=scores,
        merges=merge_strs,
        n_tokenizer=n_tok,
    )
