"""The reference decoder matches transformers' logits on every supported family."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from albor_gates.errors import ArtifactError, UsageError
from albor_gates.model.decoder import load_model

torch = pytest.importorskip("torch")

TOL = 1e-4  # fp32 max abs difference (issue 4, "Done when")

ROPE_CASES = {
    "linear": {"rope_type": "linear", "factor": 2.0},
    "dynamic": {"rope_type": "dynamic", "factor": 2.0},
    "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32},
    "llama3": {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 32,
    },
}

FAMILY_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "llama": ("llama", {}),
    "llama-gqa-bias": ("llama", {"attention_bias": True, "mlp_bias": True}),
    "llama-tied": ("llama", {"tie_word_embeddings": True}),
    "mistral-window": ("mistral", {"sliding_window": 8}),
    "qwen2-tied": ("qwen2", {"tie_word_embeddings": True}),
    "qwen2-untied": ("qwen2", {"tie_word_embeddings": False}),
    "qwen2-sliding": (
        "qwen2",
        {"use_sliding_window": True, "sliding_window": 8, "max_window_layers": 1},
    ),
    "qwen3": ("qwen3", {}),
    "qwen3-bias-mha": ("qwen3", {"attention_bias": True, "num_key_value_heads": 4}),
}


def _reference(hf: Any, ids: Any) -> Any:
    with torch.no_grad():
        return hf(ids).logits


def _max_diff(a: Any, b: Any) -> float:
    return float((a - b).abs().max())


@pytest.mark.parametrize("case", sorted(FAMILY_CASES))
def test_logits_match_transformers(random_model: Any, case: str) -> None:
    family, overrides = FAMILY_CASES[case]
    path, hf = random_model(family, **overrides)
    ours = load_model(path, "cpu")
    ids = torch.randint(0, 97, (2, 40), generator=torch.Generator().manual_seed(1))
    assert _max_diff(ours.logits(ids), _reference(hf, ids)) <= TOL


@pytest.mark.parametrize("rope", sorted(ROPE_CASES))
def test_rope_scaling_matches_transformers(random_model: Any, rope: str) -> None:
    path, hf = random_model("llama", rope_scaling=dict(ROPE_CASES[rope]))
    ours = load_model(path, "cpu")
    assert ours.config.rope.rope_type == rope
    ids = torch.randint(0, 97, (1, 100), generator=torch.Generator().manual_seed(2))
    assert _max_diff(ours.logits(ids), _reference(hf, ids)) <= TOL


def test_dynamic_rope_beyond_max_positions_matches(random_model: Any) -> None:
    path, hf = random_model("qwen2", rope_scaling={"rope_type": "dynamic", "factor": 2.0})
    ours = load_model(path, "cpu")
    ids = torch.randint(0, 97, (1, 200), generator=torch.Generator().manual_seed(3))
    assert _max_diff(ours.logits(ids), _reference(hf, ids)) <= TOL


def test_old_style_rope_scaling_config_is_read(random_model: Any) -> None:
    path, hf = random_model("llama", rope_scaling=dict(ROPE_CASES["yarn"]))
    cfg_path = path / "config.json"
    cfg = json.loads(cfg_path.read_text())
    params = cfg.pop("rope_parameters")
    cfg["rope_theta"] = params.pop("rope_theta")
    cfg["rope_scaling"] = {"type": params.pop("rope_type"), **params}
    cfg_path.write_text(json.dumps(cfg))
    ours = load_model(path, "cpu")
    assert ours.config.rope.rope_type == "yarn"
    ids = torch.randint(0, 97, (1, 64), generator=torch.Generator().manual_seed(4))
    assert _max_diff(ours.logits(ids), _reference(hf, ids)) <= TOL


@pytest.mark.parametrize("case", ["qwen2-tied", "mistral-window", "qwen3", "qwen2-sliding"])
def test_kv_cache_prefill_then_steps_equals_full_forward(random_model: Any, case: str) -> None:
    family, overrides = FAMILY_CASES[case]
    path, _ = random_model(family, **overrides)
    ours = load_model(path, "cpu")
    ids = torch.randint(0, 97, (2, 36), generator=torch.Generator().manual_seed(5))
    full = ours.logits(ids)
    cache = ours.new_cache(2, 40)
    parts = [ours.logits(ids[:, :20], cache)]
    parts.append(ours.logits(ids[:, 20:23], cache))  # a multi-token chunk after the prefill
    parts += [ours.logits(ids[:, i : i + 1], cache) for i in range(23, 36)]
    assert cache.length == 36
    assert _max_diff(torch.cat(parts, dim=1), full) <= TOL


def test_sharded_checkpoint_loads_the_same(random_model: Any, tmp_path: Path) -> None:
    path, hf = random_model("qwen2")
    sharded = tmp_path / "sharded"
    hf.save_pretrained(sharded, max_shard_size="20KB")
    assert (sharded / "model.safetensors.index.json").is_file()
    ids = torch.randint(0, 97, (1, 16), generator=torch.Generator().manual_seed(6))
    a = load_model(path, "cpu").logits(ids)
    b = load_model(sharded / "model.safetensors.index.json", "cpu").logits(ids)
    c = load_model(sharded, "cpu").logits(ids)
    assert torch.equal(a, b) and torch.equal(a, c)


def test_single_file_path_and_unprefixed_names(random_model: Any, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    path, hf = random_model("llama")
    tensors = load_file(path / "model.safetensors")
    bare = tmp_path / "bare"
    bare.mkdir()
    save_file(
        {k.removeprefix("model."): v for k, v in tensors.items()}, bare / "weights.safetensors"
    )
    (bare / "config.json").write_text((path / "config.json").read_text())
    ids = torch.randint(0, 97, (1, 12), generator=torch.Generator().manual_seed(7))
    ours = load_model(bare / "weights.safetensors", "cpu")
    assert _max_diff(ours.logits(ids), _reference(hf, ids)) <= TOL


def test_missing_lm_head_means_tied(random_model: Any) -> None:
    path, _ = random_model("qwen2", tie_word_embeddings=True)
    assert load_model(path, "cpu").tied


def test_model_too_large_is_refused_before_loading(
    random_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import albor_gates.model.device as device

    path, _ = random_model("qwen2")
    monkeypatch.setattr(device, "available_bytes", lambda _dev: 1000)
    with pytest.raises(UsageError) as err:
        load_model(path, "cpu")
    assert str(err.value).startswith(f"{path} needs 0.00 GiB of weights on cpu but only 0.00 GiB")
    assert "choose a larger device, a smaller --dtype, or free memory" in str(err.value)


def test_shape_mismatch_names_tensor(random_model: Any) -> None:
    path, _ = random_model("qwen2")
    cfg = json.loads((path / "config.json").read_text())
    cfg["intermediate_size"] = 128
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ArtifactError) as err:
        load_model(path, "cpu")
    assert str(err.value) == (
        f"{path / 'model.safetensors'}: tensor 'model.layers.0.mlp.gate_proj.weight' has shape "
        "[96, 64] but config.json implies [128, 64]"
    )


def test_qwen2_without_qkv_bias_is_refused(random_model: Any, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    path, _ = random_model("qwen2")
    tensors = {k: v for k, v in load_file(path / "model.safetensors").items() if ".bias" not in k}
    save_file(tensors, path / "model.safetensors")
    with pytest.raises(ArtifactError) as err:
        load_model(path, "cpu")
    assert str(err.value) == (
        f"{path / 'model.safetensors'}: tensor 'model.layers.0.self_attn.q_proj.bias' is missing "
        f"(qwen2 config {path / 'config.json'} requires it)"
    )


def test_out_of_vocab_input_is_refused(random_model: Any) -> None:
    path, _ = random_model("llama")
    ours = load_model(path, "cpu")
    with pytest.raises(UsageError, match=r"token id 97 is outside the model vocabulary \[0, 97\)"):
        ours.logits(torch.tensor([[1, 97]]))


def test_bf16_weights_load_as_fp32_on_cpu(random_model: Any, tmp_path: Path) -> None:
    path, hf = random_model("qwen2")
    half = tmp_path / "bf16"
    hf.to(torch.bfloat16).save_pretrained(half)
    ours = load_model(half, "cpu")
    assert ours.dtype == torch.float32 and ours.embed.dtype == torch.float32


def test_roll_rotation_rounds_as_rotate_half() -> None:
    from albor_gates.model.decoder import DecoderModel, _signed

    g = torch.Generator().manual_seed(11)
    x = torch.randn(2, 5, 4, 16, generator=g)
    cos, sin = torch.randn(5, 1, 16, generator=g), torch.randn(5, 1, 16, generator=g)
    rotate_half = torch.cat((-x[..., 8:], x[..., :8]), dim=-1)
    want = x * cos + rotate_half * sin  # transformers' apply_rotary_pos_emb
    got = DecoderModel._rotate(x, cos, _signed(sin.clone()))
    assert torch.equal(got, want)  # bit for bit: negation is exact


@pytest.mark.parametrize("case", ["llama-gqa-bias", "qwen2-tied", "qwen3"])
def test_fused_fp32_kernels_agree_with_the_step_by_step_forward(
    random_model: Any, case: str
) -> None:
    # fp32 takes F.rms_norm and addmm residuals; the dtype-generic path is the oracle
    family, overrides = FAMILY_CASES[case]
    path, _ = random_model(family, **overrides)
    ours = load_model(path, "cpu")
    assert ours._fp32
    ids = torch.randint(0, 97, (2, 40), generator=torch.Generator().manual_seed(6))
    fused = ours.logits(ids)
    ours._fp32 = False
    assert _max_diff(ours.logits(ids), fused) <= 1e-5


def test_the_fused_bf16_rms_norm_rounds_as_transformers_three_steps(random_model: Any) -> None:
    path, _ = random_model("llama")
    model = load_model(path, "cpu", torch.bfloat16)
    assert model._cpu_bf16
    g = torch.Generator().manual_seed(0)
    for scale in (0.01, 1.0, 30.0):
        x = (torch.randn(512, model.config.hidden_size, generator=g) * scale).to(torch.bfloat16)
        w = torch.randn(model.config.hidden_size, generator=g).to(torch.bfloat16)
        xf = x.float()
        eps = model.config.rms_norm_eps
        three_steps = w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)
        assert torch.equal(model._rms(x, w), three_steps)
