"""GGUF ↔ Hugging Face mapping: names, q/k permutation, config, tokenizer, state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest
import torch
from testlib.hf import SAMPLES

from albor_gates.artifacts.gguf import read_gguf
from albor_gates.errors import ArtifactError, UsageError
from albor_gates.formats.gguf_config import config_from_gguf
from albor_gates.formats.gguf_export import export_gguf
from albor_gates.formats.gguf_names import (
    gguf_to_hf_name,
    gguf_to_hf_state,
    hf_to_gguf_name,
    permute_qk,
    unpermute_qk,
)
from albor_gates.formats.gguf_tokenizer import tokenizer_from_gguf, vocab_from_tokenizer_json


@pytest.mark.parametrize(
    ("hf", "gg"),
    [
        ("model.embed_tokens.weight", "token_embd.weight"),
        ("model.norm.weight", "output_norm.weight"),
        ("lm_head.weight", "output.weight"),
        ("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"),
        ("model.layers.11.self_attn.k_proj.bias", "blk.11.attn_k.bias"),
        ("model.layers.2.self_attn.v_proj.weight", "blk.2.attn_v.weight"),
        ("model.layers.2.self_attn.o_proj.weight", "blk.2.attn_output.weight"),
        ("model.layers.3.self_attn.q_norm.weight", "blk.3.attn_q_norm.weight"),
        ("model.layers.3.self_attn.k_norm.weight", "blk.3.attn_k_norm.weight"),
        ("model.layers.23.mlp.gate_proj.weight", "blk.23.ffn_gate.weight"),
        ("model.layers.23.mlp.up_proj.weight", "blk.23.ffn_up.weight"),
        ("model.layers.23.mlp.down_proj.weight", "blk.23.ffn_down.weight"),
        ("model.layers.5.input_layernorm.weight", "blk.5.attn_norm.weight"),
        ("model.layers.5.post_attention_layernorm.weight", "blk.5.ffn_norm.weight"),
    ],
)
def test_name_pairs(hf: str, gg: str) -> None:
    assert hf_to_gguf_name(hf) == gg
    assert gguf_to_hf_name(gg) == hf


@pytest.mark.parametrize("name", ["rope_freqs.weight", "blk.x.attn_q.weight", "blk.0.nope", ""])
def test_unknown_names(name: str) -> None:
    assert gguf_to_hf_name(name) is None
    assert hf_to_gguf_name(name) is None


@pytest.mark.parametrize("family", ["qwen2", "qwen3", "llama", "mistral"])
def test_every_tensor_of_each_family_round_trips(
    family: str, hf_model: Callable[..., Path]
) -> None:
    from safetensors import safe_open

    folder = hf_model(family, tied=False)
    with safe_open(str(folder / "model.safetensors"), framework="pt") as st:
        names = list(st.keys())
    assert "lm_head.weight" in names
    for name in names:
        gg = hf_to_gguf_name(name)
        assert gg is not None, name
        assert gguf_to_hf_name(gg) == name
    if family == "qwen3":
        assert "model.layers.0.self_attn.q_norm.weight" in names
    if family == "qwen2":
        assert "model.layers.0.self_attn.q_proj.bias" in names


def test_permutation_matches_convert_hf_to_gguf_and_inverts() -> None:
    # One head of 4 rows: halves [0, 1] and [2, 3] interleave to [0, 2, 1, 3].
    w = np.arange(4 * 3).reshape(4, 3)
    assert permute_qk(w, 1)[:, 0].tolist() == [0, 6, 3, 9]
    rng = np.random.default_rng(0)
    for n_head, rows in ((4, 256), (2, 128), (14, 896)):
        a = rng.standard_normal((rows, 8))
        ref = a.reshape(n_head, 2, rows // n_head // 2, 8).swapaxes(1, 2).reshape(a.shape)
        np.testing.assert_array_equal(permute_qk(a, n_head), ref)
        np.testing.assert_array_equal(unpermute_qk(permute_qk(a, n_head), n_head), a)
        b = rng.standard_normal(rows)
        np.testing.assert_array_equal(unpermute_qk(permute_qk(b, n_head), n_head), b)
    t = torch.randn(128, 16)
    assert torch.equal(unpermute_qk(permute_qk(t, 2), 2), t)


def _tokenizer_gguf(
    path: Path, tok_json: dict[str, Any], vocab_size: int, *, merges: bool = True, **extra: Any
) -> Path:
    w = gguf.GGUFWriter(str(path), "qwen2")
    vocab_from_tokenizer_json(tok_json, vocab_size, "test").add_to(w, merges=merges)
    for key, value in extra.items():
        w.add_bool(key, value)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _assert_same_tokenization(src: Any, rebuilt: Any) -> None:
    for text in SAMPLES:
        a = src.encode(text)
        b = rebuilt.encode(text)
        assert b.ids == a.ids, text
        assert rebuilt.decode(b.ids, skip_special_tokens=False) == src.decode(
            a.ids, skip_special_tokens=False
        )
    # Special tokens keep their ids and specialness.
    assert rebuilt.get_vocab_size(with_added_tokens=True) == src.get_vocab_size(
        with_added_tokens=True
    )


@pytest.mark.parametrize("style", ["qwen2", "gpt2"])
def test_bpe_tokenizer_round_trips_through_gguf(tmp_path: Path, style: str) -> None:
    from testlib.hf import make_bpe_tokenizer

    src = make_bpe_tokenizer(style)
    tok_json = json.loads(src.to_str())
    path = _tokenizer_gguf(tmp_path / "t.gguf", tok_json, src.get_vocab_size() + 7)
    g = read_gguf(path)
    assert g.metadata["tokenizer.ggml.pre"] == ("qwen2" if style == "qwen2" else "gpt-2")
    tokens = g.metadata["tokenizer.ggml.tokens"]
    assert isinstance(tokens, tuple) and len(tokens) == src.get_vocab_size() + 7
    assert tokens[-1] == f"[PAD{len(tokens) - 1}]"
    types = g.metadata["tokenizer.ggml.token_type"]
    assert isinstance(types, tuple)
    assert types[src.token_to_id("<|im_start|>")] == 3  # CONTROL
    assert types[src.token_to_id("<tool_call>")] == 4  # USER_DEFINED
    assert types[-1] == 5  # UNUSED
    _assert_same_tokenization(src, tokenizer_from_gguf(g))


@pytest.mark.parametrize("with_merges", [True, False])
def test_sentencepiece_tokenizer_round_trips_through_gguf(
    tmp_path: Path, spm_tokenizer: Any, with_merges: bool
) -> None:
    tok_json = json.loads(spm_tokenizer.to_str())
    path = _tokenizer_gguf(
        tmp_path / "t.gguf", tok_json, spm_tokenizer.get_vocab_size() + 3, merges=with_merges
    )
    g = read_gguf(path)
    assert g.metadata["tokenizer.ggml.model"] == "llama"
    types = g.metadata["tokenizer.ggml.token_type"]
    assert isinstance(types, tuple)
    assert types[:4] == (2, 3, 3, 6)  # <unk> UNKNOWN, <s> </s> CONTROL, <0x00> BYTE
    _assert_same_tokenization(spm_tokenizer, tokenizer_from_gguf(g))


def test_add_bos_token_becomes_a_post_processor(tmp_path: Path, spm_tokenizer: Any) -> None:
    tok_json = json.loads(spm_tokenizer.to_str())
    w = gguf.GGUFWriter(str(tmp_path / "b.gguf"), "llama")
    vocab_from_tokenizer_json(tok_json, spm_tokenizer.get_vocab_size(), "llama").add_to(w)
    w.add_bos_token_id(1)
    w.add_add_bos_token(True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    tok = tokenizer_from_gguf(read_gguf(tmp_path / "b.gguf"))
    ids = tok.encode("def fibonacci(n):").ids
    assert ids[0] == 1
    assert ids[1:] == spm_tokenizer.encode("def fibonacci(n):").ids


def test_unknown_pre_tokenizer_is_refused_on_export() -> None:
    tok_json = {
        "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "x+"}, "behavior": "Isolated"},
    }
    with pytest.raises(UsageError) as e:
        vocab_from_tokenizer_json(tok_json, 4, "qwen2", "tok.json")
    assert str(e.value) == (
        "tok.json: the byte-level pre-tokenizer of this qwen2 tokenizer matches none of "
        "llama.cpp's gpt-2, qwen2, llama-bpe; llama.cpp would tokenize differently, so it is "
        "not exported"
    )


def test_tokenizer_ids_beyond_vocab_size_are_refused() -> None:
    tok_json = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 9}, "merges": []}}
    with pytest.raises(ArtifactError) as e:
        vocab_from_tokenizer_json(tok_json, 4, "qwen2", "tok.json")
    assert str(e.value) == (
        "tok.json: the tokenizer defines id 9 but config.json vocab_size is 4; the embedding "
        "has no row for it"
    )


@pytest.mark.parametrize("family", ["qwen2", "qwen3", "llama", "mistral"])
@pytest.mark.parametrize("tied", [True, False])
def test_config_and_state_from_an_f32_export_match_the_source(
    tmp_path: Path, hf_model: Callable[..., Path], family: str, tied: bool
) -> None:
    from safetensors.torch import load_file

    src = hf_model(family, tied=tied)
    out = export_gguf(src, tmp_path / "m.gguf", "f32")
    g = read_gguf(out.path)
    cfg = config_from_gguf(g)
    hf = json.loads((src / "config.json").read_text())
    expected_type = "llama" if family == "mistral" else family
    assert cfg["model_type"] == expected_type
    assert cfg["architectures"] == [
        {"qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}.get(family, "LlamaForCausalLM")
    ]
    for key in (
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_key_value_heads",
        "intermediate_size",
        "vocab_size",
        "max_position_embeddings",
        "tie_word_embeddings",
    ):
        assert cfg[key] == hf[key], key
    assert cfg["head_dim"] == hf.get("head_dim") or hf["hidden_size"] // hf["num_attention_heads"]
    assert cfg["rope_theta"] == pytest.approx(hf["rope_parameters"]["rope_theta"], rel=1e-6)
    assert cfg["rope_theta"] == (1e6 if family.startswith("qwen") else 1e4)
    assert cfg["rms_norm_eps"] == pytest.approx(hf["rms_norm_eps"], rel=1e-6)

    source = load_file(str(src / "model.safetensors"))
    state = dict(gguf_to_hf_state(g))
    assert set(state) == set(source)
    assert ("lm_head.weight" in state) is (not tied)
    for name, tensor in state.items():
        assert tensor.dtype == torch.float32
        assert torch.equal(tensor, source[name].float()), name


def test_unmapped_tensor_and_architecture_are_clean_errors(tmp_path: Path) -> None:
    w = gguf.GGUFWriter(str(tmp_path / "x.gguf"), "llama")
    w.add_tensor("rope_freqs.weight", np.ones(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    g = read_gguf(tmp_path / "x.gguf")
    with pytest.raises(ArtifactError) as e:
        next(gguf_to_hf_state(g))
    assert str(e.value) == (
        f"{g.path}: tensor 'rope_freqs.weight' has no Hugging Face counterpart in the llama "
        "mapping (known: token_embd, output_norm, output, blk.N.*)"
    )
    with pytest.raises(ArtifactError) as e:
        config_from_gguf(g)
    assert str(e.value) == (
        f"{g.path}: kv['llama.embedding_length'] is missing; it is needed for config.json "
        "(re-export the model with gates export or a current llama.cpp)"
    )
    w = gguf.GGUFWriter(str(tmp_path / "y.gguf"), "gpt2")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(ArtifactError) as e:
        config_from_gguf(read_gguf(tmp_path / "y.gguf"))
    assert str(e.value) == (
        f"{tmp_path / 'y.gguf'}: general.architecture is 'gpt2'; albor-gates maps only llama, "
        "qwen2, qwen3 GGUF files to Hugging Face"
    )
