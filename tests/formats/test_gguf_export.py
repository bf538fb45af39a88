"""export_gguf: metadata llama.cpp needs, per-quant fidelity, fallbacks, atomic writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from albor_gates.artifacts.gguf import read_gguf
from albor_gates.errors import ArtifactError, UsageError
from albor_gates.formats import gguf_export
from albor_gates.formats.gguf_export import QUANTS, export_gguf, plan_tensor_type
from albor_gates.formats.gguf_names import gguf_to_hf_state

# Per-tensor cosine floors by quant over the random test models (weights ~ N(0, 0.02)).
COSINE_FLOOR = {"f16": 0.99999, "bf16": 0.9999, "q8_0": 0.999, "q4_k": 0.99}


def _cosines(src: Path, gguf_path: Path) -> dict[str, float]:
    from safetensors.torch import load_file

    source = load_file(str(src / "model.safetensors"))
    out: dict[str, float] = {}
    for name, t in gguf_to_hf_state(read_gguf(gguf_path)):
        a = source[name].double().flatten()
        b = t.double().flatten()
        out[name] = float(a @ b / (a.norm() * b.norm()))
    return out


@pytest.mark.parametrize("family", ["qwen2", "llama"])
@pytest.mark.parametrize("quant", ["f16", "bf16", "q8_0", "q4_k"])
def test_export_reads_back_with_tensor_count_and_cosine(
    tmp_path: Path, hf_model: Callable[..., Path], family: str, quant: str
) -> None:
    src = hf_model(family)
    res = export_gguf(src, tmp_path / f"m-{quant}.gguf", quant)
    g = read_gguf(res.path)
    assert res.tensor_count == res.source_tensor_count == len(g.tensors)
    assert res.file_size == res.path.stat().st_size
    cos = _cosines(src, res.path)
    assert len(cos) == res.tensor_count
    assert min(cos.values()) >= COSINE_FLOOR[quant], sorted(cos.items(), key=lambda kv: kv[1])[:3]


def test_f16_export_is_exact_to_fp16_rounding(
    tmp_path: Path, hf_model: Callable[..., Path]
) -> None:
    from safetensors.torch import load_file

    src = hf_model("qwen2")
    res = export_gguf(src, tmp_path / "m.gguf", "f16")
    source = load_file(str(src / "model.safetensors"))
    for name, t in gguf_to_hf_state(read_gguf(res.path)):
        expected = source[name].float()
        if t.ndim == 2:
            expected = expected.half().float()
        assert torch.equal(t, expected), name


def test_metadata_llama_cpp_needs(tmp_path: Path, hf_model: Callable[..., Path]) -> None:
    src = hf_model("qwen2")
    cfg = json.loads((src / "config.json").read_text())
    res = export_gguf(src, tmp_path / "m.gguf", "q8_0")
    g = read_gguf(res.path)
    md = g.metadata
    assert md["general.architecture"] == "qwen2" == res.architecture
    assert md["general.type"] == "model"
    assert md["general.file_type"] == 7
    assert md["general.quantization_version"] == 2
    assert g.hparams == {
        "context_length": cfg["max_position_embeddings"],
        "embedding_length": 256,
        "block_count": 2,
        "feed_forward_length": 288,
        "attention.head_count": 4,
        "attention.head_count_kv": 2,
        "rope.freq_base": pytest.approx(1e6),
        "attention.layer_norm_rms_epsilon": pytest.approx(1e-6),
        "vocab_size": cfg["vocab_size"],
    }
    tokens = md["tokenizer.ggml.tokens"]
    types = md["tokenizer.ggml.token_type"]
    assert isinstance(tokens, tuple) and isinstance(types, tuple)
    # Padded to the model vocabulary with [PAD{id}] placeholders (P0-G).
    assert len(tokens) == len(types) == cfg["vocab_size"] == res.vocab_size
    assert res.tokenizer_tokens == cfg["vocab_size"] - 29
    assert tokens[-29:] == tuple(
        f"[PAD{i}]" for i in range(cfg["vocab_size"] - 29, cfg["vocab_size"])
    )
    assert set(types[-29:]) == {5}
    assert md["tokenizer.ggml.model"] == "gpt2"
    assert md["tokenizer.ggml.pre"] == "qwen2"
    assert md["tokenizer.ggml.eos_token_id"] == tokens.index("<|endoftext|>")
    assert md["tokenizer.ggml.padding_token_id"] == tokens.index("<|endoftext|>")
    assert md["tokenizer.ggml.add_bos_token"] is False
    assert (
        isinstance(md["tokenizer.chat_template"], str)
        and "<|im_start|>" in md["tokenizer.chat_template"]
    )
    assert isinstance(md["tokenizer.ggml.merges"], tuple) and md["tokenizer.ggml.merges"]
    # Norms and biases stay F32; weights take the requested type.
    assert g.tensor("blk.0.attn_norm.weight").ggml_type == "F32"
    assert g.tensor("blk.0.attn_q.bias").ggml_type == "F32"
    assert g.tensor("blk.0.attn_q.weight").ggml_type == "Q8_0"
    assert g.tensor("token_embd.weight").ggml_type == "Q8_0"
    assert "output.weight" not in g.by_name  # tied


def test_q4_k_falls_back_where_the_row_does_not_fit(
    tmp_path: Path, hf_model: Callable[..., Path]
) -> None:
    src = hf_model("llama")
    res = export_gguf(src, tmp_path / "m.gguf", "q4_k")
    g = read_gguf(res.path)
    assert g.metadata["general.file_type"] == 14
    # ffn_down rows are intermediate_size = 288 long: 288 % 256 != 0 but 288 % 32 == 0.
    assert g.tensor("blk.0.ffn_down.weight").ggml_type == "Q5_0"
    assert g.tensor("blk.0.ffn_up.weight").ggml_type == "Q4_K"
    assert g.tensor("blk.1.attn_k.weight").ggml_type == "Q4_K"
    assert res.fallbacks == (
        "blk.0.ffn_down.weight: Q4_K -> Q5_0",
        "blk.1.ffn_down.weight: Q4_K -> Q5_0",
    )
    assert g.tensor("token_embd.weight").ggml_type == "Q6_K"  # tied: the output tensor
    assert g.metadata["llama.rope.dimension_count"] == 64
    assert g.metadata["tokenizer.ggml.model"] == "llama"
    assert g.metadata["tokenizer.ggml.bos_token_id"] == 1
    assert res.file_size < res.source_bytes  # GGUF Q4_K smaller than the source (template §4)


@pytest.mark.parametrize(
    ("name", "shape", "requested", "expected"),
    [
        ("blk.0.attn_norm.weight", (896,), "Q4_K", ("F32", "")),
        ("blk.0.attn_q.bias", (896,), "Q8_0", ("F32", "")),
        ("blk.0.attn_q_norm.weight", (64,), "Q4_K", ("F32", "")),
        ("blk.0.ffn_down.weight", (896, 4864), "Q4_K", ("Q4_K", "")),
        (
            "blk.0.attn_q.weight",
            (896, 896),
            "Q4_K",
            ("Q5_0", "row length 896 is not a multiple of the Q4_K block 256"),
        ),
        (
            "x.weight",
            (8, 100),
            "Q4_K",
            ("F16", "row length 100 is not a multiple of the Q4_K block 256"),
        ),
        (
            "x.weight",
            (8, 100),
            "Q8_0",
            ("F16", "row length 100 is not a multiple of the Q8_0 block 32"),
        ),
        ("x.weight", (8, 100), "BF16", ("BF16", "")),
    ],
)
def test_tensor_type_plan(
    name: str, shape: tuple[int, ...], requested: str, expected: tuple[str, str]
) -> None:
    assert plan_tensor_type(name, shape, requested) == expected


@pytest.mark.parametrize(
    ("name", "shape", "requested", "tied", "expected"),
    [
        # llama_tensor_get_type: the output tensor of a Q4_K_S file is Q6_K ...
        ("output.weight", (4096, 256), "Q4_K", False, ("Q6_K", "")),
        ("token_embd.weight", (4096, 256), "Q4_K", True, ("Q6_K", "")),
        # ... the embedding is not when the model has its own output.weight ...
        ("token_embd.weight", (4096, 256), "Q4_K", False, ("Q4_K", "")),
        # ... and Q8_0 when its rows are not whole Q4_K blocks (Qwen2-0.5B's 896).
        (
            "token_embd.weight",
            (151936, 896),
            "Q4_K",
            True,
            (
                "Q8_0",
                "row length 896 is not a multiple of the Q4_K block 256 "
                "(the output tensor takes Q8_0)",
            ),
        ),
        (
            "token_embd.weight",
            (151936, 896),
            "Q4_K",
            False,
            ("Q5_0", "row length 896 is not a multiple of the Q4_K block 256"),
        ),
        (
            "output.weight",
            (8, 100),
            "Q4_K",
            False,
            ("F16", "row length 100 is not a multiple of the Q4_K block 256"),
        ),
        ("output_norm.weight", (256,), "Q4_K", False, ("F32", "")),
        ("blk.0.attn_v.weight", (128, 256), "Q4_K", True, ("Q4_K", "")),
        # Other requested types are written pure (llama-quantize --pure).
        ("output.weight", (4096, 256), "Q8_0", False, ("Q8_0", "")),
        ("token_embd.weight", (4096, 256), "Q4_0", True, ("Q4_0", "")),
        ("token_embd.weight", (4096, 256), "F16", True, ("F16", "")),
    ],
)
def test_output_tensor_type_plan(
    name: str, shape: tuple[int, ...], requested: str, tied: bool, expected: tuple[str, str]
) -> None:
    assert plan_tensor_type(name, shape, requested, tied=tied) == expected


@pytest.mark.parametrize("tied", [True, False])
def test_q4_k_export_writes_the_output_tensor_as_q6_k(
    tmp_path: Path, hf_model: Callable[..., Path], tied: bool
) -> None:
    res = export_gguf(hf_model("qwen2", tied=tied), tmp_path / "m.gguf", "q4_k")
    g = read_gguf(res.path)
    types = {t.name: t.ggml_type for t in g.tensors}
    if tied:
        assert "output.weight" not in types
        assert types["token_embd.weight"] == "Q6_K"
        assert res.type_counts == {"F32": 11, "Q4_K": 12, "Q5_0": 2, "Q6_K": 1}
    else:
        assert (types["token_embd.weight"], types["output.weight"]) == ("Q4_K", "Q6_K")
        assert res.type_counts == {"F32": 11, "Q4_K": 13, "Q5_0": 2, "Q6_K": 1}
    assert g.metadata["general.file_type"] == 14  # MOSTLY_Q4_K_S
    assert g.tensor("output.weight" if not tied else "token_embd.weight").nbytes == 430 * 210
    assert [f.split(":")[0] for f in res.fallbacks] == [
        "blk.0.ffn_down.weight",
        "blk.1.ffn_down.weight",
    ]
    # The Q6_K tensor reads back closer to the source than the Q4_K matrices do.
    cos = _cosines(hf_model("qwen2", tied=tied), res.path)
    head = "lm_head.weight" if not tied else "model.embed_tokens.weight"
    assert cos[head] > 0.9998 > max(v for k, v in cos.items() if k.endswith("q_proj.weight"))


def test_refuses_to_overwrite_without_force(tmp_path: Path, hf_model: Callable[..., Path]) -> None:
    src = hf_model("qwen2")
    dst = tmp_path / "m.gguf"
    dst.write_bytes(b"keep me")
    with pytest.raises(UsageError) as e:
        export_gguf(src, dst, "f16")
    assert str(e.value) == f"{dst}: already exists; refusing to overwrite it without --force"
    assert dst.read_bytes() == b"keep me"
    export_gguf(src, dst, "f16", force=True)
    assert read_gguf(dst).architecture == "qwen2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gguf"]


def test_failure_midway_leaves_nothing_behind(
    tmp_path: Path, hf_model: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = hf_model("qwen2")
    calls = {"n": 0}
    real = gguf_export.quantize

    def flaky(data: np.ndarray, ggml_type: str) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(data, ggml_type)

    monkeypatch.setattr(gguf_export, "quantize", flaky)
    with pytest.raises(KeyboardInterrupt):
        export_gguf(src, tmp_path / "m.gguf", "q8_0")
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_and_sources(tmp_path: Path, hf_model: Callable[..., Path]) -> None:
    src = hf_model("qwen2")
    with pytest.raises(UsageError) as e:
        export_gguf(src, tmp_path / "m.gguf", "q3_k_l")
    assert str(e.value) == (
        "unknown quant 'q3_k_l'; choose one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, "
        "q4_k, q2_k, q3_k, q5_k, q6_k, q4_k_m, q5_k_m"
    )
    with pytest.raises(UsageError) as e:
        export_gguf(tmp_path / "nope", tmp_path / "m.gguf", "f16")
    assert (
        str(e.value)
        == f"{tmp_path / 'nope'}: not a folder; export needs a Hugging Face model folder"
    )
    with pytest.raises(UsageError) as e:
        export_gguf(src, tmp_path / "no" / "m.gguf", "f16")
    assert str(e.value) == (
        f"{tmp_path / 'no' / 'm.gguf'}: the destination folder {tmp_path / 'no'} does not exist"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ArtifactError) as e:
        export_gguf(empty, tmp_path / "m.gguf", "f16")
    assert str(e.value) == f"{empty / 'config.json'}: missing; config.json is needed to export GGUF"
    (empty / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(ArtifactError) as e:
        export_gguf(empty, tmp_path / "m.gguf", "f16")
    assert str(e.value) == (
        f"{empty / 'config.json'}: model_type is 'gpt2'; GGUF export supports llama, mistral, "
        "qwen2, qwen3"
    )


@pytest.mark.parametrize(
    ("rope", "expected"),
    [
        (
            {"rope_scaling": {"type": "linear", "factor": 2.0}},
            {"rope_type": "linear", "factor": 2.0},
        ),
        (
            {
                "rope_parameters": {
                    "rope_theta": 5e5,
                    "rope_type": "yarn",
                    "factor": 4.0,
                    "original_max_position_embeddings": 128,
                }
            },
            {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128},
        ),
    ],
)
def test_rope_scaling_round_trips_into_config(
    tmp_path: Path, hf_model: Callable[..., Path], rope: dict, expected: dict
) -> None:
    import shutil

    from albor_gates.formats.gguf_config import config_from_gguf

    src = tmp_path / "src"
    shutil.copytree(hf_model("qwen2"), src)
    cfg = json.loads((src / "config.json").read_text())
    cfg.update(rope)
    (src / "config.json").write_text(json.dumps(cfg))
    res = export_gguf(src, tmp_path / "m.gguf", "f16")
    out = config_from_gguf(read_gguf(res.path))
    assert out["rope_scaling"] == expected
    theta = rope.get("rope_parameters", {}).get("rope_theta", 1e6)
    assert out["rope_theta"] == pytest.approx(theta)


def test_formats_modules_import_without_numpy_torch_gguf_tokenizers() -> None:
    import subprocess
    import sys

    code = (
        "import sys, albor_gates.formats.gguf_export, albor_gates.formats.gguf_config, "
        "albor_gates.formats.gguf_names, albor_gates.formats.gguf_tokenizer; "
        "print(sorted(k for k in ('numpy', 'gguf', 'torch', 'tokenizers', 'safetensors') "
        "if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("name", "quant", "expected"),
    [
        # use_more_bits(i, 8): layers 0 (< 8/8) and 7 (>= 7·8/8), and (i - 1) % 3 == 2: 3, 6
        ("blk.0.attn_v.weight", "q4_k_m", ("Q6_K", "")),
        ("blk.1.attn_v.weight", "q4_k_m", ("Q4_K", "")),
        ("blk.3.ffn_down.weight", "q5_k_m", ("Q6_K", "")),
        ("blk.4.ffn_down.weight", "q5_k_m", ("Q5_K", "")),
        ("blk.7.attn_v.weight", "q5_k_m", ("Q6_K", "")),
        ("blk.0.attn_q.weight", "q4_k_m", ("Q4_K", "")),
        ("blk.0.attn_v.weight", "q4_k", ("Q4_K", "")),  # Q4_K_S: no mix
    ],
)
def test_k_quant_mix_plan(name: str, quant: str, expected: tuple[str, str]) -> None:
    requested = QUANTS[quant][0]
    assert plan_tensor_type(name, (256, 512), requested, quant=quant, n_layers=8) == expected


def test_a_mixed_tensor_whose_rows_are_not_whole_blocks_falls_back_from_the_mixed_type() -> None:
    assert plan_tensor_type("blk.0.ffn_down.weight", (256, 288), "Q4_K", quant="q4_k_m",
                            n_layers=8) == (
        "Q8_0", "row length 288 is not a multiple of the Q6_K block 256"
    )  # fmt: skip


K_PRESETS = ("q2_k", "q3_k", "q4_k", "q4_k_m", "q5_k", "q5_k_m", "q6_k")


def test_k_quant_presets_export_and_read_back_ordered_by_bits(
    tmp_path: Path, hf_model: Callable[..., Path]
) -> None:
    from albor_gates.formats.gguf_parity import compare_tensors

    src = hf_model("qwen2", tied=False)
    worst: dict[str, dict[str, float]] = {}
    for quant in K_PRESETS:
        res = export_gguf(src, tmp_path / f"m-{quant}.gguf", quant)
        g = read_gguf(res.path)
        assert g.metadata["general.file_type"] == QUANTS[quant][1]
        assert g.tensor("output.weight").ggml_type == "Q6_K"
        by_type = compare_tensors(src, res.path).by_type()
        worst[quant] = {t: s.min_cosine for t, s in by_type.items()}
    base = {q: worst[q][QUANTS[q][0]] for q in ("q2_k", "q3_k", "q4_k", "q5_k", "q6_k")}
    assert list(base.values()) == sorted(base.values())  # more bits, closer to the source
    assert base["q2_k"] > 0.9 and base["q6_k"] > 0.9995
    # the _M mixes give 2 layers' attn_v (and no ffn_down: 288-wide rows fall back) Q6_K
    assert worst["q4_k_m"]["Q6_K"] >= base["q4_k"]
