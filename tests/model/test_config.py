"""config.json and safetensors-location errors: one line naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from albor_gates.errors import ArtifactError, UsageError
from albor_gates.model.weights import locate, read_config, read_index

BASE: dict[str, Any] = {
    "model_type": "qwen2",
    "vocab_size": 100,
    "hidden_size": 64,
    "intermediate_size": 96,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 128,
}


def _write(tmp_path: Path, **changes: Any) -> Path:
    cfg = {**BASE, **changes}
    for k in [k for k, v in changes.items() if v is _DROP]:
        del cfg[k]
    p = tmp_path / "config.json"
    p.write_text(json.dumps(cfg))
    return p


_DROP = object()


def test_minimal_config_and_defaults(tmp_path: Path) -> None:
    cfg = read_config(_write(tmp_path, rms_norm_eps=_DROP))
    assert (cfg.family, cfg.head_dim, cfg.attention_bias, cfg.qk_norm) == ("qwen2", 16, True, False)
    assert cfg.rope.rope_type == "default" and cfg.rope.theta == 10000.0
    assert cfg.defaults_used == ("head_dim", "rms_norm_eps")
    assert cfg.sliding_window is None and cfg.sliding_layers == (False, False)


def test_family_from_architectures(tmp_path: Path) -> None:
    cfg = read_config(_write(tmp_path, model_type=_DROP, architectures=["MistralForCausalLM"]))
    assert cfg.family == "mistral"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden_size": _DROP}, "required field 'hidden_size' is missing"),
        ({"vocab_size": "100"}, "field 'vocab_size' is '100', expected an integer"),
        ({"num_hidden_layers": 0}, "field 'num_hidden_layers' is 0, expected a positive value"),
        (
            {"model_type": "gpt2"},
            "model_type 'gpt2' is not supported by the reference decoder "
            "(supported: llama, mistral, qwen2, qwen3)",
        ),
        (
            {"num_key_value_heads": 3},
            "num_attention_heads 4 is not a multiple of num_key_value_heads 3",
        ),
        (
            {"hidden_act": "gelu"},
            "field 'hidden_act' is 'gelu'; the reference decoder implements SwiGLU (silu)",
        ),
        (
            {"rope_scaling": {"type": "longrope", "factor": 2.0}},
            "field "
            "'rope_scaling.rope_type' is 'longrope', not supported by the reference decoder "
            "(supported: default, linear, dynamic, yarn, llama3)",
        ),
        (
            {"rope_parameters": {"rope_type": "linear", "rope_theta": 1e4}},
            "field 'rope_parameters.factor' is missing (required for rope_type 'linear')",
        ),
        (
            {"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0}},
            "field 'rope_scaling.high_freq_factor' is missing (required for rope_type 'llama3')",
        ),
        (
            {"partial_rotary_factor": 0.5},
            "field 'partial_rotary_factor' is 0.5; only 1.0 is supported",
        ),
        ({"rope_theta": 0}, "field 'rope_theta' is 0, expected a number > 1"),
        ({"head_dim": 15}, "head_dim 15 must be even for rotary embeddings"),
    ],
)
def test_config_errors(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    p = _write(tmp_path, **changes)
    with pytest.raises(ArtifactError) as err:
        read_config(p)
    assert str(err.value) == f"{p}: {message}"


def test_config_not_json(tmp_path: Path) -> None:
    p = tmp_path / "config.json"
    p.write_text("{")
    with pytest.raises(ArtifactError, match=r"config.json: config.json is not valid JSON"):
        read_config(p)


def test_mistral_window_applies_to_all_layers(tmp_path: Path) -> None:
    cfg = read_config(_write(tmp_path, model_type="mistral", sliding_window=16))
    assert cfg.sliding_window == 16 and cfg.sliding_layers == (True, True)


def test_qwen_window_needs_use_sliding_window(tmp_path: Path) -> None:
    assert read_config(_write(tmp_path, sliding_window=16)).sliding_window is None
    cfg = read_config(
        _write(tmp_path, sliding_window=16, use_sliding_window=True, max_window_layers=1)
    )
    assert cfg.sliding_layers == (False, True)


def test_locate_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        locate(tmp_path / "missing")
    assert str(err.value) == f"{tmp_path / 'missing'}: no such file or folder"
    with pytest.raises(UsageError) as err:
        locate(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: expected model.safetensors, model.safetensors.index.json or exactly one "
        "*.safetensors file, found 0"
    )
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ArtifactError) as aerr:
        locate(tmp_path)
    assert str(aerr.value) == (
        f"{tmp_path / 'config.json'}: config.json is missing next to the weights (the reference "
        "decoder needs the architecture)"
    )


def test_index_must_not_escape_its_folder(tmp_path: Path) -> None:
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"a": "../../etc/passwd"}}))
    (tmp_path / "config.json").write_text(json.dumps(BASE))
    with pytest.raises(ArtifactError) as err:
        locate(tmp_path)
    assert str(err.value) == (
        f"{index}: weight_map['a'] = '../../etc/passwd' is not a file name in the index's folder"
    )


def test_garbage_safetensors_is_an_artifact_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(BASE))
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(ArtifactError, match="model.safetensors: not a readable safetensors file"):
        read_index(tmp_path)
