"""PASS and FAIL of each model check kind on a tiny real Qwen2 release (edited per case)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import Status


@pytest.fixture
def rel(tiny_release, tmp_path) -> Path:
    d = tmp_path / "rel"
    shutil.copytree(tiny_release, d)
    return d


def run(
    rel: Path,
    check: str,
    params: dict | None = None,
    expect: dict | None = None,
    artifacts: dict | None = None,
):
    arts = {
        "model": {"kind": "model", "path": str(rel / "model.safetensors")},
        "config": {"kind": "config", "path": str(rel / "config.json"), "optional": True},
        "tokenizer": {"kind": "tokenizer", "path": str(rel / "tokenizer.json"), "optional": True},
        "card": {"kind": "model-card", "path": str(rel / "README.md"), "optional": True},
    }
    gate = {
        "id": "G",
        "title": "T.",
        "check": check,
        "artifacts": artifacts or {"model": "model"},
        "params": params or {},
    }
    if expect:
        gate["expect"] = expect
    spec = rel.parent / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            {"id": "s", "version": "1", "title": "S", "artifacts": arts, "gates": [gate]}
        )
    )
    (r,) = evaluate(spec).results
    return r


def edit_config(rel: Path, **changes) -> None:
    cfg = json.loads((rel / "config.json").read_text())
    cfg.update(changes)
    (rel / "config.json").write_text(json.dumps(cfg))


def edit_tensors(rel: Path, fn) -> None:
    from safetensors.torch import load_file, save_file

    t = load_file(str(rel / "model.safetensors"))
    fn(t)
    save_file(t, str(rel / "model.safetensors"), metadata={"format": "pt"})


def test_config_shapes_pass_and_transposed_lm_head(rel) -> None:
    both = {"model": "model", "config": "config"}
    assert run(rel, "arch.config_shapes", artifacts=both).status is Status.PASS
    edit_tensors(rel, lambda t: t.__setitem__("lm_head.weight", t["lm_head.weight"].T.contiguous()))
    r = run(rel, "arch.config_shapes", artifacts=both)
    assert r.status is Status.FAIL
    assert "lm_head.weight is [256, 320], config.json implies [320, 256]" in r.summary


def test_config_shapes_missing_config_is_skipped(rel) -> None:
    (rel / "config.json").unlink()
    r = run(rel, "arch.config_shapes", artifacts={"model": "model", "config": "config"})
    assert r.status is Status.SKIPPED
    assert r.message == "no config.json next to the weights (and none inside them)"


def test_plausibility(rel) -> None:
    assert (
        run(rel, "arch.metadata_plausibility", artifacts={"config": "config"}).status is Status.PASS
    )
    edit_config(rel, rope_theta=10000.0)
    r = run(rel, "arch.metadata_plausibility", artifacts={"config": "config"})
    assert r.status is Status.FAIL and "CRITICAL rope_theta 10000" in r.summary


def test_vocab_fit_relaxed_and_strict(rel) -> None:
    arts = {"tokenizer": "tokenizer", "model": "model"}
    r = run(rel, "tokenizer.vocab_fit", artifacts=arts)
    assert r.status is Status.PASS and r.value == 320 - r.details["tokenizer_ids"]
    assert run(rel, "tokenizer.vocab_fit", artifacts=arts, expect={"eq": 0}).status is Status.FAIL
    edit_tensors(
        rel,
        lambda t: t.__setitem__(
            "model.embed_tokens.weight", t["model.embed_tokens.weight"][:100].contiguous()
        ),
    )
    r = run(rel, "tokenizer.vocab_fit", artifacts=arts)
    assert r.status is Status.FAIL and r.value < 0


def test_param_count_band(rel) -> None:
    r = run(rel, "arch.param_count", expect={"ge": 1})
    assert r.status is Status.PASS and r.value == r.details["parameters"]
    assert run(rel, "arch.param_count", expect={"between": [366e6, 374e6]}).status is Status.FAIL


def test_constant_and_lag1(rel) -> None:
    import torch

    def placeholder(t):
        w = t["model.layers.0.mlp.up_proj.weight"]
        t["model.layers.0.mlp.up_proj.weight"] = torch.sin(
            torch.arange(w.numel(), dtype=torch.float32) / 50
        ).reshape(w.shape)
        t["model.layers.1.mlp.up_proj.weight"] = torch.full_like(w, 0.5)

    assert run(rel, "weights.stats", {"measure": "max_lag1"}, {"le": 0.1}).status is Status.PASS
    edit_tensors(rel, placeholder)
    r = run(rel, "weights.stats", {"measure": "max_lag1"}, {"le": 0.1})
    assert r.status is Status.FAIL and r.summary.endswith(
        "worst: model.layers.0.mlp.up_proj.weight"
    )
    r = run(rel, "weights.stats", {"measure": "constant"}, {"eq": 0})
    assert (
        r.status is Status.FAIL and "model.layers.1.mlp.up_proj.weight: constant 0.5" in r.summary
    )
    assert "plot" in r.details and r.details["plot"]["x"] == [0, 1]


def test_licenses_and_card(rel) -> None:
    (rel / "README.md").write_text(
        "---\nlicense: apache-2.0\nlibrary_name: transformers\nmodel-index: []\n---\n# m\n"
    )
    arts = {"model": "model", "card": "card"}
    r = run(rel, "provenance.licenses", {"require": ["card_license"]}, artifacts=arts)
    assert r.status is Status.PASS
    r = run(rel, "provenance.licenses", {"require": ["license", "card_license"]}, artifacts=arts)
    assert r.status is Status.FAIL and "license is missing (__metadata__)" in r.summary
    r = run(
        rel,
        "card.front_matter",
        {"equals": {"library_name": "aprender"}, "tags_include": ["pytorch-free"]},
        artifacts={"card": "card"},
    )
    assert r.status is Status.FAIL and r.value == 4
    assert r.details["problems"] == [
        "pipeline_tag is missing or empty",
        "library_name is 'transformers', must be 'aprender'",
        "tags lack 'pytorch-free'",
        "model-index has no results (the Hub rejects it: omit the key)",
    ]


def test_quality_components(rel) -> None:
    arts = {"model": "model", "config": "config", "tokenizer": "tokenizer"}
    r = run(
        rel, "provenance.quality_score", {"component": "hf_identity"}, {"eq": 20}, artifacts=arts
    )
    assert r.status is Status.PASS
    r = run(rel, "provenance.quality_score", artifacts=arts)
    assert (r.status, r.value) == (Status.FAIL, 75)
    assert not math.isnan(r.value)
