from __future__ import annotations

import pytest

from albor_gates.artifacts.architecture import (
    collect_claims,
    dims_from_config,
    expected_shapes,
    family_from_tensor_names,
    normalize_family,
    optional_shapes,
    plausibility_violations,
    stamp_command,
)

QWEN2 = ["model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.q_proj.weight"]
LLAMA = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.input_layernorm.weight"]


def test_family_from_tensor_names_distinguishes_qwen2_from_llama() -> None:
    assert family_from_tensor_names(QWEN2) == "qwen2"
    assert family_from_tensor_names(LLAMA) == "llama"
    assert family_from_tensor_names(["model.layers.0.self_attn.qkv_proj.weight"]) == "qwen2"
    assert family_from_tensor_names([*LLAMA, "model.layers.0.self_attn.q_norm.weight"]) == "qwen3"


def test_section_86_6_discrepancy_a_lone_q_proj_weight_is_llama() -> None:
    # GATES.md §2.3.8: the spec's 1-tensor falsifier fixture would pass under the algorithm
    assert family_from_tensor_names(["model.layers.0.self_attn.q_proj.weight"]) == "llama"


@pytest.mark.parametrize(
    ("names", "family"),
    [
        (["backbone.layers.0.mixer.in_proj.weight"], "mamba"),
        (["rwkv.blocks.0.att.key.weight"], "rwkv"),
        (["gpt_neox.layers.0.attention.dense.weight"], "gpt-neox"),
        (["model.decoder.layers.0.self_attn.k_proj.weight"], "opt"),
        (["bert.encoder.layer.0.attention.self.query.weight"], "bert"),
        (["transformer.h.0.attn.c_attn.weight"], "gpt2"),
        (["h.0.attn.c_attn.weight"], "gpt2"),
        (["blk.0.attn_q.weight", "token_embd.weight"], "unknown"),
        (
            ["embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight"],
            "bert",
        ),
        (["foo"], "unknown"),
    ],
)
def test_ordered_rules(names, family) -> None:
    assert family_from_tensor_names(names) == family


def test_normalize_metadata_arch_family_handles_three_forms() -> None:
    for raw, fam in [
        ("Qwen2ForCausalLM", "qwen2"),
        ("Qwen2.5ForCausalLM", "qwen2"),
        ("qwen2.5", "qwen2"),
        ("Qwen", "qwen2"),
        ("Qwen3MoeForCausalLM", "qwen3"),
        ("qwen3_5", "qwen3"),
        ("MistralForCausalLM", "llama"),
        ("phi4", "llama"),
        ("Llama", "llama"),
        ("GPT2", "gpt2"),
        ("gpt_neox", "gpt-neox"),
        ("pythia", "gpt-neox"),
        ("BertForMaskedLM", "bert"),
        ("OPTForCausalLM", "opt"),
        ("unknown", None),
        ("", None),
        ("T5ForConditionalGeneration", None),
        (None, None),
    ]:
        assert normalize_family(raw) == fam, raw


def test_claims_and_stamp_command() -> None:
    claims = collect_claims(
        {"architecture": "LlamaForCausalLM", "format": "pt"},
        {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"},
    )
    assert [(c.source, c.family) for c in claims] == [
        ("__metadata__.architecture", "llama"),
        ("config.json architectures[0]", "qwen2"),
        ("config.json model_type", "qwen2"),
    ]
    assert stamp_command("ckpt/model.safetensors", "qwen2") == (
        "gates stamp ckpt/model.safetensors --architecture qwen2 --hf-architecture Qwen2ForCausalLM "
        "--hf-model-type qwen2 -o ckpt/model.stamped.safetensors"
    )


def test_plausibility() -> None:
    assert (
        plausibility_violations(
            {
                "model_type": "qwen2",
                "rope_theta": 1_000_000.0,
                "max_position_embeddings": 32768,
                "rms_norm_eps": 1e-6,
            }
        )
        == []
    )
    assert plausibility_violations({"model_type": "qwen2", "rope_theta": 10000.0}) == [
        "config.json: CRITICAL rope_theta 10000 is implausible for qwen2 (expected ≥ 100000)"
    ]
    assert plausibility_violations(
        {
            "model_type": "llama",
            "rope_theta": 500.0,
            "max_position_embeddings": 64,
            "rms_norm_eps": 0.1,
        }
    ) == [
        "config.json: rope_theta 500 outside [1000, 10000000] for llama",
        "config.json: max_position_embeddings 64 outside [128, 1048576]",
        "config.json: rms_norm_eps 0.1 outside (0, 0.01]",
    ]


transformers = pytest.importorskip(
    "transformers", reason="transformers is an optional test dependency"
)


def _tiny(family: str):
    common = dict(
        vocab_size=64,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=128,
    )
    if family == "llama":
        return transformers.LlamaConfig(
            num_key_value_heads=2, **common
        ), transformers.LlamaForCausalLM
    if family == "mistral":
        return transformers.MistralConfig(
            num_key_value_heads=2, **common
        ), transformers.MistralForCausalLM
    if family == "qwen2":
        return transformers.Qwen2Config(
            num_key_value_heads=2, tie_word_embeddings=True, **common
        ), transformers.Qwen2ForCausalLM
    if family == "qwen3":
        return transformers.Qwen3Config(
            num_key_value_heads=2, head_dim=16, tie_word_embeddings=False, **common
        ), transformers.Qwen3ForCausalLM
    if family == "gpt2":
        return transformers.GPT2Config(
            vocab_size=64, n_embd=32, n_layer=2, n_head=4, n_positions=128
        ), transformers.GPT2LMHeadModel
    return transformers.BertConfig(**common), transformers.BertModel


@pytest.mark.parametrize("family", ["llama", "mistral", "qwen2", "qwen3", "gpt2", "bert"])
def test_expected_shapes_match_transformers(family) -> None:
    import torch

    torch.manual_seed(0)
    cfg, cls = _tiny(family)
    model = cls(cfg)
    sd = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    dims, missing = dims_from_config(cfg.to_dict())
    assert missing == [] and dims is not None
    exp = expected_shapes(dims, cfg.to_dict())
    opt = optional_shapes(dims)
    stored = {k[len("bert.") :] if k.startswith("bert.") else k: v for k, v in sd.items()}
    stored = {
        k: v for k, v in stored.items() if not k.endswith((".attn.bias", ".attn.masked_bias"))
    }
    assert {k: v for k, v in stored.items() if k in exp} == exp
    extra = set(stored) - set(exp) - set(opt)
    assert extra == set(), extra
    assert family_from_tensor_names(sd) == {"mistral": "llama"}.get(family, family)
