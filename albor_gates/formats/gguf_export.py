"""Export a Hugging Face folder (config.json, safetensors, tokenizer.json) to GGUF.

The file is written through gguf-py's ``GGUFWriter`` with what llama.cpp needs to load it
(GATES.md §7.3):

* ``general.architecture`` the lowercase family (llama for llama and mistral, qwen2, qwen3;
  P0-F), ``general.name``, ``general.file_type``, ``general.quantization_version``;
* ``<arch>.context_length``, ``embedding_length``, ``block_count``, ``feed_forward_length``,
  ``attention.head_count``, ``attention.head_count_kv``, ``rope.freq_base``,
  ``attention.layer_norm_rms_epsilon``, ``vocab_size``; ``attention.key_length`` /
  ``value_length`` when config.json names a ``head_dim``; ``rope.dimension_count`` for llama;
  linear / yarn ``rope.scaling.*`` when config.json has them (P0-E's hyper-parameters);
* the tokenizer embedded (P0-D): ``tokenizer.ggml.model`` (gpt2 or llama), ``pre``, tokens
  padded with ``[PAD{id}]`` placeholders to the model's ``vocab_size`` (151,936 vs 151,643 for
  Qwen; P0-G), token types, scores (llama), merges, and through gguf-py's ``SpecialVocab`` the
  bos / eos / unk / pad ids, ``add_bos_token`` / ``add_eos_token`` and the chat template from
  tokenizer_config.json.

Tensor types (what llama.cpp's converter and ``llama-quantize`` do; :func:`plan_tensor_type`):
1-D tensors, norms and biases stay F32; every other weight takes the requested type, except
that ``q4_k`` writes the output tensor (``output.weight``, or ``token_embd.weight`` when the
model ties its embeddings and has no ``output.weight``) as Q6_K, as llama.cpp's Q4_K_S does. A
row length (the last torch dimension, ggml's ``ne[0]``) that is not a multiple of the type's
block falls back as in ``llama_tensor_get_type``: Q4_K → Q5_0 (Qwen2-0.5B's 896-wide rows:
q/k/v/o, gate and up; only ``ffn_down``, 4864 = 19 × 256, stays Q4_K), the output tensor →
Q8_0 (Qwen2-0.5B's tied 896-wide embedding), and any type whose block still does not divide the
row → F16. Every fallback is listed in :attr:`ExportResult.fallbacks`. For the
llama family the q/k rows are permuted as ``convert_hf_to_gguf.py`` does
(:func:`~albor_gates.formats.gguf_names.permute_qk`).

Tensors are read, converted and written one at a time (peak memory ≈ the largest tensor in
fp32 plus its quantised copy). The file is written to a temporary file in the destination
folder and moved into place with ``os.replace`` only when complete; an existing destination
is refused unless ``force`` is set.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from albor_gates.artifacts.gguf import GGML_TYPES, read_gguf
from albor_gates.errors import ArtifactError, UsageError
from albor_gates.formats.gguf_kquants import mixed_type
from albor_gates.formats.gguf_names import QUANTS, RECIPES, hf_to_gguf_name, permute_qk
from albor_gates.formats.gguf_quants import quantize
from albor_gates.formats.gguf_tokenizer import vocab_from_tokenizer_json
from albor_gates.io import temp_beside

__all__ = ["QUANTS", "ExportResult", "ExportedTensor", "export_gguf", "plan_tensor_type"]

# llama_tensor_get_type's fallback when ne[0] is not a multiple of the K-quant block (Q2_K and
# Q3_K fall back to IQ4_NL there, which no writer here produces: Q4_0 has the same block).
_FALLBACK = {"Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"}
# The output tensor's type in llama_tensor_get_type for the requested types this exporter mixes,
# and its fallback when ne[0] is not a multiple of the requested type's block.
_OUTPUT_TYPE = dict.fromkeys(("Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"), "Q6_K")
_OUTPUT_FALLBACK = "Q8_0"
_TYPE = {name: (block, size) for name, block, size in GGML_TYPES.values()}


@dataclass(frozen=True)
class ExportedTensor:
    """One tensor as written.

    Attributes:
        name: the GGUF name.
        hf_name: the source (Hugging Face) name.
        ggml_type: the type written.
        shape: row-major (torch) shape.
        nbytes: bytes of tensor data.
        fallback: why the requested type was not used (empty when it was, or when the tensor
            is a norm / bias that always stays F32).
    """

    name: str
    hf_name: str
    ggml_type: str
    shape: tuple[int, ...]
    nbytes: int
    fallback: str


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_gguf` wrote.

    Attributes:
        path: the GGUF file.
        quant: the requested ``--quant``.
        architecture: ``general.architecture``.
        file_type: ``general.file_type``.
        tensor_count: tensors written (equals the source's, minus ``rotary_emb.inv_freq``).
        source_tensor_count: tensors in the safetensors source.
        file_size: bytes of the GGUF file.
        source_bytes: bytes of the safetensors file(s).
        vocab_size: tokens written (the model's embedding rows).
        tokenizer_tokens: ids the tokenizer itself defines; the rest are ``[PAD{id}]``.
        tokenizer_model: ``gpt2`` or ``llama``.
        tokenizer_pre: ``tokenizer.ggml.pre``.
        tensors: every tensor as written, in file order.
        fallbacks: ``name: REQUESTED -> WRITTEN`` for each tensor that fell back.
    """

    path: Path
    quant: str
    architecture: str
    file_type: int
    tensor_count: int
    source_tensor_count: int
    file_size: int
    source_bytes: int
    vocab_size: int
    tokenizer_tokens: int
    tokenizer_model: str
    tokenizer_pre: str
    tensors: tuple[ExportedTensor, ...]
    fallbacks: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        """The JSON-safe facts of the export (``gates export --json``, gguf.export details)."""
        return {
            "quant": self.quant,
            "architecture": self.architecture,
            "file_type": self.file_type,
            "tensor_count": self.tensor_count,
            "source_tensor_count": self.source_tensor_count,
            "output_bytes": self.file_size,
            "source_bytes": self.source_bytes,
            "size_ratio": self.file_size / self.source_bytes if self.source_bytes else None,
            "types": self.type_counts,
            "fallbacks": list(self.fallbacks),
            "vocab_size": self.vocab_size,
            "tokenizer_tokens": self.tokenizer_tokens,
            "tokenizer_model": self.tokenizer_model,
            "tokenizer_pre": self.tokenizer_pre,
        }

    @property
    def type_counts(self) -> dict[str, int]:
        """How many tensors were written in each ggml type, sorted by type name."""
        counts: dict[str, int] = {}
        for t in self.tensors:
            counts[t.ggml_type] = counts.get(t.ggml_type, 0) + 1
        return dict(sorted(counts.items()))


def plan_tensor_type(
    name: str,
    shape: tuple[int, ...],
    requested: str,
    *,
    tied: bool = False,
    quant: str = "",
    n_layers: int = 0,
) -> tuple[str, str]:
    """Choose the ggml type of one tensor; return ``(type, fallback reason or "")``.

    The rules of llama.cpp's ``llama_tensor_get_type`` (``src/llama-quant.cpp``) that this
    exporter follows:

    * 1-D tensors, norms and biases stay F32 (``tensor_allows_quantization``).
    * The output tensor — ``output.weight``, or ``token_embd.weight`` when the model ties its
      embeddings (no ``output.weight``: llama.cpp then multiplies by the embedding) — is Q6_K
      for a Q4_K export, as in llama.cpp's Q4_K_S and Q4_K_M, and Q8_0 when its row length is
      not a multiple of the Q4_K block (``nx % qk_k != 0``).
    * Every other weight takes the requested type; a row length that is not a multiple of its
      block falls back as in ``tensor_type_fallback`` (Q4_K → Q5_0), then to F16.

    * ``q4_k_m`` / ``q5_k_m``: the ``attn_v`` and ``ffn_down`` weights of the layers
      ``use_more_bits`` picks are Q6_K (:func:`~albor_gates.formats.gguf_kquants.mixed_type`).

    Not followed: the rest of llama.cpp's K-quant mixes (Q4_K_S also writes the first four
    ``attn_v`` and the first ``n_layer / 8`` ``ffn_down`` as Q5_K; Q2_K gives ``attn_v``,
    ``attn_output`` and ``ffn_down`` more bits), Q2_K / Q3_K's IQ4_NL fallback (Q4_0 here); and
    llama.cpp also gives the output tensor Q6_K in Q4_0 / Q4_1 / Q5_0 / Q5_1 files, which this
    exporter writes pure, like ``llama-quantize --pure``.

    Args:
        name: the GGUF tensor name.
        shape: its row-major shape.
        requested: the ggml type of the export (``QUANTS[quant][0]``).
        tied: the model has no ``output.weight``, so ``token_embd.weight`` is the output tensor.
        quant: the ``--quant`` preset (selects a K-quant mix).
        n_layers: ``num_hidden_layers`` (the mix picks layers by position).
    """
    if len(shape) <= 1 or name.endswith("_norm.weight") or not name.endswith(".weight"):
        # convert_hf_to_gguf.py: "Most of the codebase that takes in 1D tensors or norms only
        # handles F32 tensors"; biases (not ".weight") likewise.
        return "F32", ""
    row = shape[-1]
    is_output = name == "output.weight" or (tied and name == "token_embd.weight")
    if is_output and requested in _OUTPUT_TYPE:
        if row % _TYPE[requested][0] == 0:
            return _OUTPUT_TYPE[requested], ""
        if row % _TYPE[_OUTPUT_FALLBACK][0] == 0:
            return _OUTPUT_FALLBACK, (
                f"row length {row} is not a multiple of the {requested} block "
                f"{_TYPE[requested][0]} (the output tensor takes {_OUTPUT_FALLBACK})"
            )
    wanted = mixed_type(name, quant, n_layers) or requested
    chosen = wanted
    if row % _TYPE[chosen][0]:
        chosen = _FALLBACK.get(wanted, "F16")
        if row % _TYPE[chosen][0]:
            chosen = "F16"
        return chosen, (
            f"row length {row} is not a multiple of the {wanted} block {_TYPE[wanted][0]}"
        )
    return chosen, ""


def _load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing; {what} is needed to export GGUF") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtifactError(f"{path}: cannot read {what}: {e}") from e


def _weight_files(src: Path) -> list[Path]:
    index = src / "model.safetensors.index.json"
    if index.is_file():
        data = _load_json(index, "the safetensors index")
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise ArtifactError(f"{index}: weight_map is missing or empty")
        files = sorted({str(v) for v in weight_map.values()})
        for f in files:
            if Path(f).name != f:
                raise ArtifactError(f"{index}: weight_map names {f!r}, which is not in the folder")
        return [src / f for f in files]
    single = src / "model.safetensors"
    if not single.is_file():
        raise ArtifactError(
            f"{src}: no model.safetensors or model.safetensors.index.json; nothing to export"
        )
    return [single]


def _order_key(gguf_name: str) -> tuple[int, int, str]:
    if gguf_name == "token_embd.weight":
        return (0, 0, "")
    if gguf_name.startswith("blk."):
        block, _, rest = gguf_name[4:].partition(".")
        return (1, int(block), rest)
    return (2, 0, gguf_name)


def export_gguf(src: Path, dst: Path, quant: str, *, force: bool = False) -> ExportResult:
    """Export a Hugging Face model folder to one GGUF file.

    Args:
        src: folder with config.json, model.safetensors (or a sharded index) and
            tokenizer.json (tokenizer_config.json is used when present).
        dst: the ``.gguf`` file to write.
        quant: one of :data:`QUANTS` (``f32``, ``f16``, ``bf16``, ``q8_0``, ``q4_0``, ``q4_1``,
            ``q5_0``, ``q5_1``, ``q2_k``, ``q3_k``, ``q4_k``, ``q5_k``, ``q6_k``, ``q4_k_m``,
            ``q5_k_m``).
        force: overwrite ``dst`` if it exists.

    Returns:
        An :class:`ExportResult` checked against the written file's header.

    Raises:
        UsageError: unknown quant, missing source folder or destination folder, existing
            destination without ``force``, a tokenizer llama.cpp would not reproduce.
        ArtifactError: a missing or malformed source file, an unsupported family or tensor.
    """
    import gguf
    import numpy as np
    from safetensors import SafetensorError, safe_open

    if quant not in QUANTS:
        raise UsageError(f"unknown quant {quant!r}; choose one of {', '.join(QUANTS)}")
    requested, file_type = QUANTS[quant]
    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise UsageError(f"{src}: not a folder; export needs a Hugging Face model folder")
    if not dst.parent.is_dir():
        raise UsageError(f"{dst}: the destination folder {dst.parent} does not exist")
    if dst.exists() and not force:
        raise UsageError(f"{dst}: already exists; refusing to overwrite it without --force")

    config = _load_json(src / "config.json", "config.json")
    if not isinstance(config, dict):
        raise ArtifactError(f"{src / 'config.json'}: not a JSON object")
    model_type = config.get("model_type")
    family = RECIPES.get(model_type) if isinstance(model_type, str) else None
    if family is None:
        raise ArtifactError(
            f"{src / 'config.json'}: model_type is {model_type!r}; GGUF export supports "
            f"{', '.join(sorted(RECIPES))}"
        )

    def hp(key: str, default: Any = None) -> Any:
        value = config.get(key, default)
        if value is None:
            raise ArtifactError(f"{src / 'config.json'}: {key} is missing; GGUF needs it")
        return value

    hidden = int(hp("hidden_size"))
    heads = int(hp("num_attention_heads"))
    kv_heads = int(config.get("num_key_value_heads") or heads)
    vocab_size = int(hp("vocab_size"))
    tok_json = _load_json(src / "tokenizer.json", "tokenizer.json")
    if not isinstance(tok_json, dict):
        raise ArtifactError(f"{src / 'tokenizer.json'}: not a JSON object")
    vocab = vocab_from_tokenizer_json(
        tok_json, vocab_size, family.recipe, str(src / "tokenizer.json")
    )

    # Plan every tensor from the safetensors headers before writing a byte.
    files = _weight_files(src)
    found: list[tuple[str, str, Path, tuple[int, ...]]] = []
    source_count = 0
    try:
        for f in files:
            with safe_open(str(f), framework="pt") as st:
                for hf_name in st.keys():  # noqa: SIM118 - safe_open is not a dict
                    source_count += 1
                    if hf_name.endswith("rotary_emb.inv_freq"):
                        continue
                    name = hf_to_gguf_name(hf_name)
                    if name is None:
                        raise ArtifactError(
                            f"{f}: tensor {hf_name!r} has no GGUF name in the "
                            f"{family.recipe} mapping"
                        )
                    shape = tuple(int(d) for d in st.get_slice(hf_name).get_shape())
                    found.append((name, hf_name, f, shape))
    except SafetensorError as e:
        raise ArtifactError(f"{src}: cannot read the safetensors weights: {e}") from e
    except OSError as e:
        raise ArtifactError(f"{src}: cannot read the safetensors weights: {e.strerror or e}") from e
    tied = not any(name == "output.weight" for name, *_ in found)
    plan = [
        (
            name,
            hf_name,
            f,
            shape,
            *plan_tensor_type(
                name,
                shape,
                requested,
                tied=tied,
                quant=quant,
                n_layers=int(config.get("num_hidden_layers") or 0),
            ),
        )
        for name, hf_name, f, shape in found
    ]
    plan.sort(key=lambda p: _order_key(p[0]))
    if not any(p[0] == "token_embd.weight" for p in plan):
        raise ArtifactError(f"{src}: no model.embed_tokens.weight; not a causal LM checkpoint")

    fd, tmp_name = temp_beside(dst)
    os.close(fd)
    tmp = Path(tmp_name)
    written: list[ExportedTensor] = []
    done = False
    try:
        w = gguf.GGUFWriter(str(tmp), family.gguf_arch)
        w.add_type("model")
        w.add_name(
            str(config.get("_name_or_path") or src.name).rstrip("/").split("/")[-1] or src.name
        )
        w.add_file_type(file_type)
        w.add_quantization_version(gguf.GGML_QUANT_VERSION)
        w.add_context_length(int(config.get("max_position_embeddings") or 2048))
        w.add_embedding_length(hidden)
        w.add_block_count(int(hp("num_hidden_layers")))
        w.add_feed_forward_length(int(hp("intermediate_size")))
        w.add_head_count(heads)
        w.add_head_count_kv(kv_heads)
        w.add_rope_freq_base(_rope_theta(config))
        w.add_layer_norm_rms_eps(float(hp("rms_norm_eps")))
        w.add_vocab_size(vocab_size)
        if config.get("head_dim"):
            w.add_key_length(int(config["head_dim"]))
            w.add_value_length(int(config["head_dim"]))
        if family.permute_qk:
            w.add_rope_dimension_count(int(config.get("head_dim") or hidden // heads))
        _add_rope_scaling(w, config)
        vocab.add_to(w)
        if vocab.model == "llama" and not _prepends_space(tok_json):
            w.add_add_space_prefix(False)
        gguf.SpecialVocab(src, load_merges=False, n_vocab=vocab_size).add_to_gguf(w, quiet=True)

        for name, hf_name, _f, shape, chosen, why in plan:
            block, size = _TYPE[chosen]
            n = int(np.prod(shape))
            nbytes = n // block * size
            w.add_tensor_info(
                name,
                shape,
                np.dtype(np.float32),
                nbytes,
                raw_dtype=gguf.GGMLQuantizationType[chosen],
            )
            written.append(ExportedTensor(name, hf_name, chosen, shape, nbytes, why))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        handles: dict[Path, Any] = {}
        try:
            for name, hf_name, f, _shape, chosen, _why in plan:
                if f not in handles:
                    handles[f] = safe_open(str(f), framework="pt").__enter__()
                data = handles[f].get_tensor(hf_name).float().numpy()
                if family.permute_qk and name.endswith(("attn_q.weight", "attn_q.bias")):
                    data = permute_qk(data, heads)
                elif family.permute_qk and name.endswith(("attn_k.weight", "attn_k.bias")):
                    data = permute_qk(data, kv_heads)
                w.write_tensor_data(quantize(np.ascontiguousarray(data), chosen))
                del data
        finally:
            for h in handles.values():
                h.__exit__(None, None, None)
        w.close()
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
        done = True
    finally:
        if not done:
            tmp.unlink(missing_ok=True)

    check = read_gguf(dst)
    if len(check.tensors) != len(written):
        raise ArtifactError(
            f"{dst}: wrote {len(written)} tensors but the file's header lists {len(check.tensors)}"
        )
    return ExportResult(
        path=dst,
        quant=quant,
        architecture=family.gguf_arch,
        file_type=file_type,
        tensor_count=len(written),
        source_tensor_count=source_count,
        file_size=check.file_size,
        source_bytes=sum(f.stat().st_size for f in files),
        vocab_size=vocab_size,
        tokenizer_tokens=vocab.n_tokenizer,
        tokenizer_model=vocab.model,
        tokenizer_pre=vocab.pre,
        tensors=tuple(written),
        fallbacks=tuple(f"{t.name}: {requested} -> {t.ggml_type}" for t in written if t.fallback),
    )


def _rope_params(config: dict[str, Any]) -> dict[str, Any]:
    # transformers >= 5 writes rope_theta and the scaling into one "rope_parameters" object;
    # earlier versions use top-level rope_theta and "rope_scaling".
    params = config.get("rope_parameters")
    merged: dict[str, Any] = dict(params) if isinstance(params, dict) else {}
    scaling = config.get("rope_scaling")
    if isinstance(scaling, dict):
        merged.update(scaling)
        if "type" in scaling and "rope_type" not in scaling:  # the pre-4.45 spelling
            merged["rope_type"] = scaling["type"]
    if config.get("rope_theta") is not None:
        merged["rope_theta"] = config["rope_theta"]
    return merged


def _rope_theta(config: dict[str, Any]) -> float:
    return float(_rope_params(config).get("rope_theta") or 10000.0)


def _add_rope_scaling(w: Any, config: dict[str, Any]) -> None:
    import gguf

    scaling = _rope_params(config)
    if "factor" not in scaling:
        return
    kind = scaling.get("rope_type")
    if kind == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(float(scaling["factor"]))
    elif kind == "yarn":
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(float(scaling["factor"]))
        if "original_max_position_embeddings" in scaling:
            w.add_rope_scaling_orig_ctx_len(int(scaling["original_max_position_embeddings"]))


def _prepends_space(tok_json: dict[str, Any]) -> bool:
    """Whether a SentencePiece-style tokenizer.json adds the ``▁`` word prefix."""
    text = json.dumps([tok_json.get("normalizer"), tok_json.get("pre_tokenizer")])
    return (
        '"Prepend"' in text
        or '"prepend_scheme": "always"' in text
        or '"prepend_scheme": "first"' in text
    )
