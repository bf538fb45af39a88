from __future__ import annotations

import pytest

from albor_gates.artifacts.provenance import QualityInputs, quality_breakdown, spdx_problem


@pytest.mark.parametrize(
    "ok",
    [
        "Apache-2.0",
        "MIT",
        "PSF-2.0",
        "CC-BY-4.0",
        "MIT OR Apache-2.0",
        "Apache-2.0 WITH LLVM-exception",
    ],
)
def test_valid_spdx(ok) -> None:
    assert spdx_problem(ok) is None


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("Apache-2.0 / permissive-aggregate", "not an SPDX expression"),
        ("Foo-1.0", "Unknown license key"),
        ("apache-2.0", "not in canonical SPDX case: use 'Apache-2.0'"),
        ("", "empty licence"),
    ],
)
def test_invalid_spdx(bad, why) -> None:
    assert why in (spdx_problem(bad) or "")


def test_quality_score_reproduces_the_seed_observations() -> None:
    # pre-P0-K P2-E epoch 49: physics + structural only → 40
    pre = quality_breakdown(
        QualityInputs(
            True,
            {
                "architecture": "LlamaForCausalLM",
                "hidden_size": "896",
                "num_layers": "24",
                "num_heads": "14",
            },
            None,
            False,
        )
    )
    assert sum(pre.values()) == 40
    # after `apr stamp --architecture qwen2 --hf-architecture ... --hf-model-type qwen2`: 60
    stamped = quality_breakdown(
        QualityInputs(
            True,
            {
                "architecture": "qwen2",
                "hf_architecture": "Qwen2ForCausalLM",
                "hf_model_type": "qwen2",
                "hidden_size": "896",
                "num_layers": "24",
                "num_heads": "14",
            },
            None,
            False,
        )
    )
    assert sum(stamped.values()) == 60
    full = quality_breakdown(
        QualityInputs(
            True,
            {
                "architecture": "qwen2",
                "hf_architecture": "Qwen2ForCausalLM",
                "hf_model_type": "qwen2",
                "license": "Apache-2.0",
                "data_source": "x",
                "data_license": "Apache-2.0",
            },
            {"hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14},
            True,
        )
    )
    assert full == {
        "physics": 20,
        "structural": 20,
        "provenance": 25,
        "hf_identity": 20,
        "tokenizer": 15,
    }
    # missing both HF identity and provenance caps at 55
    cap = quality_breakdown(
        QualityInputs(
            True,
            {},
            {"model_type": "", "hidden_size": 1, "num_hidden_layers": 1, "num_attention_heads": 1},
            True,
        )
    )
    assert sum(cap.values()) <= 55
