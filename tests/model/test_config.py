"""config.json and safetensors-location errors: one line naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from albor_gates.artifacts import config as artifacts_config
from albor_gates.errors import ArtifactError
from albor_gates.model.decoder import inspect_model
from albor_gates.model.weights import DecoderConfig, decoder_config


def read_config(path: Path) -> DecoderConfig:
    """The decoder's view of a config.json, read by the one config reader."""
    return decoder_config(artifacts_config.read_config(path))


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
    assert (cfg.recipe, cfg.head_dim, cfg.attention_bias, cfg.qk_norm) == ("qwen2", 16, True, False)
    assert cfg.rope.rope_type == "default" and cfg.rope.theta == 10000.0
    assert cfg.defaults_used == ("head_dim", "rms_norm_eps")
    assert cfg.sliding_window is None and cfg.sliding_layers == (False, False)


def test_family_from_architectures(tmp_path: Path) -> None:
    cfg = read_config(_write(tmp_path, model_type=_DROP, architectures=["MistralForCausalLM"]))
    assert cfg.recipe == "mistral"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hidden_size": _DROP}, "required field 'hidden_size' is missing"),
        (
            {"vocab_size": "100"},
            "config.json key 'vocab_size' is \"100\" (a JSON string), expected a non-negative "
            "integer: fix config.json (it is what transformers reads to build the model)",
        ),
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
    with pytest.raises(ArtifactError, match=r"config.json:1:2: config.json is not valid JSON"):
        read_config(p)


def test_config_repeated_key_is_refused(tmp_path: Path) -> None:
    # json.loads keeps the last of two keys silently; the decoder used to build from it.
    p = tmp_path / "config.json"
    p.write_text(json.dumps(BASE)[:-1] + ', "hidden_size": 32}')
    with pytest.raises(ArtifactError) as err:
        read_config(p)
    assert str(err.value) == (
        f"{p}: config.json repeats the key 'hidden_size' in the top-level object: JSON readers "
        "disagree on which value wins; remove the repeat"
    )


def test_mistral_window_applies_to_all_layers(tmp_path: Path) -> None:
    cfg = read_config(_write(tmp_path, model_type="mistral", sliding_window=16))
    assert cfg.sliding_window == 16 and cfg.sliding_layers == (True, True)


def test_qwen_window_needs_use_sliding_window(tmp_path: Path) -> None:
    assert read_config(_write(tmp_path, sliding_window=16)).sliding_window is None
    cfg = read_config(
        _write(tmp_path, sliding_window=16, use_sliding_window=True, max_window_layers=1)
    )
    assert cfg.sliding_layers == (False, True)


def test_missing_weights_and_config(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as err:
        inspect_model(tmp_path / "missing")
    assert str(err.value) == (
        f"{tmp_path / 'missing'}: no such file or folder: name a .safetensors file, a "
        "model.safetensors.index.json or a release folder"
    )
    import torch
    from safetensors.torch import save_file

    save_file({"model.embed_tokens.weight": torch.zeros(2, 2)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ArtifactError) as aerr:
        inspect_model(tmp_path)
    assert str(aerr.value) == (
        f"{tmp_path / 'config.json'}: config.json is missing next to the weights (the reference "
        "decoder needs the architecture)"
    )


def test_index_must_not_escape_its_folder(tmp_path: Path) -> None:
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"a": "../../etc/passwd"}}))
    (tmp_path / "config.json").write_text(json.dumps(BASE))
    with pytest.raises(ArtifactError) as err:
        inspect_model(tmp_path)
    assert str(err.value) == (
        f"{index}: weight_map puts tensor 'a' in '../../etc/passwd', which is not a plain file "
        "name next to the index: regenerate the index with the tool that wrote the shards"
    )


def test_garbage_safetensors_is_an_artifact_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(BASE))
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 64)
    with pytest.raises(ArtifactError, match="model.safetensors: "):
        inspect_model(tmp_path)
