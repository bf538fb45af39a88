"""Parsers raise only their own error types on arbitrary input (hypothesis)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albor_gates.artifacts import config as artifacts_config
from albor_gates.errors import GatesError
from albor_gates.model.decoder import inspect_model
from albor_gates.model.tokens import load_tokens, make_windows
from albor_gates.model.weights import DecoderConfig, decoder_config


def read_config(path: Path) -> DecoderConfig:
    return decoder_config(artifacts_config.read_config(path))


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

KEYS = [
    "model_type", "architectures", "vocab_size", "hidden_size", "intermediate_size",
    "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
    "rms_norm_eps", "max_position_embeddings", "rope_theta", "rope_scaling", "rope_parameters",
    "hidden_act", "attention_bias", "mlp_bias", "tie_word_embeddings", "sliding_window",
    "use_sliding_window", "max_window_layers", "layer_types", "eos_token_id", "bos_token_id",
    "partial_rotary_factor", "original_max_position_embeddings",
]  # fmt: skip
scalars = st.none() | st.booleans() | st.integers(-5, 300) | st.floats(allow_nan=False)
json_values = st.recursive(
    scalars | st.text(max_size=8) | st.sampled_from(["qwen2", "llama", "yarn", "linear", "silu"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["rope_type", "type", "factor", "rope_theta", "low_freq_factor",
                         "high_freq_factor", "original_max_position_embeddings", "beta_fast"]),
        inner, max_size=4),
    max_leaves=8,
)  # fmt: skip


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="fuzz_"))


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=14))
def test_read_config_on_arbitrary_json(cfg: dict[str, Any]) -> None:
    p = _tmp() / "config.json"
    p.write_text(json.dumps(cfg))
    with contextlib.suppress(GatesError):
        read_config(p)


@FUZZ
@given(st.binary(max_size=300))
def test_read_config_on_arbitrary_bytes(data: bytes) -> None:
    p = _tmp() / "config.json"
    p.write_bytes(data)
    with pytest.raises(GatesError):
        read_config(p)


@FUZZ
@given(st.binary(max_size=300))
def test_safetensors_headers_on_arbitrary_bytes(data: bytes) -> None:
    d = _tmp()
    (d / "config.json").write_text("{}")
    (d / "model.safetensors").write_bytes(data)
    with contextlib.suppress(GatesError):
        inspect_model(d)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".npy", ".bin"]))
def test_token_files_on_arbitrary_bytes(data: bytes, suffix: str) -> None:
    p = _tmp() / ("tokens" + suffix)
    p.write_bytes(data)
    try:
        src = load_tokens(p, dtype="uint16" if suffix == ".bin" else None)
        make_windows(src, 2, vocab_size=1000)
    except GatesError:
        pass


@FUZZ
@given(st.binary(max_size=400))
def test_jsonl_on_arbitrary_bytes(tokenizer_file: Path, data: bytes) -> None:
    p = _tmp() / "docs.jsonl"
    p.write_bytes(data)
    with contextlib.suppress(GatesError):
        load_tokens(p, tokenizer=tokenizer_file)


@FUZZ
@given(st.binary(max_size=200))
def test_bin_sidecar_on_arbitrary_bytes(data: bytes) -> None:
    d = _tmp()
    (d / "v.bin").write_bytes(b"\x00\x01" * 4)
    (d / "v.bin.json").write_bytes(data)
    with contextlib.suppress(GatesError):
        load_tokens(d / "v.bin")


@FUZZ
@given(
    st.sampled_from(["u1", "i2", "<u2", ">u2", "<i4", ">u4", "<i8", "<u8", "<f4", "?", "<c8"]),
    st.lists(st.integers(0, 3), min_size=0, max_size=3),
    st.integers(0, 2**16),
    st.integers(1, 8),
)
def test_npy_of_any_dtype_and_shape(dtype: str, shape: list[int], fill: int, seq: int) -> None:
    import numpy as np

    p = _tmp() / "ids.npy"
    np.save(p, np.full(shape, fill % 250).astype(dtype))
    with contextlib.suppress(GatesError):
        make_windows(load_tokens(p), seq, vocab_size=200)
