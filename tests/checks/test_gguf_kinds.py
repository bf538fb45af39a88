"""gguf.* and consumer.* kinds on a small REAL model: a Qwen2 trained in-process on stdlib Python.

The model (hidden 256 so Q4_K applies to most matrices, intermediate 288 so ffn_down falls back
to Q5_0, tied embeddings, a 384-id byte-level BPE trained on the same text) is exported in
f16 / q8_0 / q4_k by the gates themselves; the parity figures per quant are asserted with the
bundle's thresholds and printed by ``test_parity_figures_per_quant`` (``pytest -s``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from testlib.corpus import TRAIN_FILES, VAL_FILE, stdlib_text, train_byte_bpe

from albor_gates.api import evaluate
from albor_gates.engine.results import Decision, Status

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers", reason="transformers is not installed")

PROMPTS = ["def fibonacci(n):", "import os\n", "class Stack:\n", "for i in range(10):\n"]


def _train(root: Path) -> Path:
    text = stdlib_text(TRAIN_FILES)
    tok = train_byte_bpe(text)
    ids = torch.tensor(tok.encode(text).ids, dtype=torch.long)
    torch.manual_seed(1234)
    cfg = transformers.Qwen2Config(
        vocab_size=tok.get_vocab_size(),
        hidden_size=256,
        intermediate_size=288,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        eos_token_id=0,
        bos_token_id=0,
    )
    model = transformers.Qwen2ForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    seq = 64
    model.train()
    for _ in range(150):
        starts = torch.randint(0, ids.numel() - seq - 1, (8,), generator=gen)
        batch = torch.stack([ids[s : s + seq] for s in starts.tolist()])
        loss = model(batch, labels=batch.clone()).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    model.save_pretrained(root)
    tok.save(str(root / "tokenizer.json"))
    (root / "tokenizer_config.json").write_text(
        json.dumps({"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": None})
    )
    (root.parent / "val.py").write_text(stdlib_text([VAL_FILE]), encoding="utf-8")
    return root


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Any:
    """Tiny matmuls: a second thread only adds contention on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("gk") / "release")


def spec(rel: Path, gates: list[dict[str, Any]], gguf: Path | None = None) -> Path:
    """A spec over the release ``rel``; ``gguf`` binds a GGUF file (else the run exports)."""
    arts: dict[str, Any] = {
        "model": {"kind": "model", "path": str(rel)},
        "tokens": {"kind": "tokens", "path": str(rel.parent / "val.py")},
        "tokenizer": {"kind": "tokenizer", "path": str(rel / "tokenizer.json")},
        "gguf": {
            "kind": "gguf",
            "path": str(gguf or rel.parent / "absent.gguf"),
            "optional": True,
        },
    }
    body = {"id": "s", "version": "1", "title": "S", "artifacts": arts, "gates": gates}
    path = rel.parent / f"spec-{abs(hash(json.dumps(gates, sort_keys=True)))}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def gate(
    gid: str,
    check: str,
    params: dict[str, Any],
    expect: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    **roles: str,
) -> dict[str, Any]:
    g: dict[str, Any] = {
        **(extra or {}),
        "id": gid,
        "title": "T.",
        "check": check,
        "params": params,
        "artifacts": roles or {"model": "model"},
    }
    if expect is not None:
        g["expect"] = expect
    return g


def results(path: Path) -> dict[str, Any]:
    # the specs bind GGUF files the tests wrote in another temp folder: outside the spec's root
    return {r.gate_id: r for r in evaluate(path, allow_outside_root=True).results}


PARITY_ROLES = {"model": "model", "gguf": "gguf", "tokenizer": "tokenizer"}


def parity_gates(quant: str) -> list[dict[str, Any]]:
    q = quant.upper()
    return [
        gate(f"{q}-EXPORT", "gguf.export", {"quant": quant}),
        gate(f"{q}-SIZE", "gguf.export", {"quant": quant, "measure": "size_ratio"}, {"gt": 0}),
        gate(
            f"{q}-COUNT",
            "gguf.export",
            {"quant": quant, "measure": "tensor_count_delta"},
            {"eq": 0},
        ),
        gate(
            f"{q}-COS",
            "gguf.tensor_parity",
            {"quant": quant},
            {"ge": 0.99},
            model="model",
            gguf="gguf",
        ),
        gate(
            f"{q}-DRIFT",
            "gguf.tensor_parity",
            {"quant": quant, "measure": "max_l2_drift"},
            {"lt": 0.2},
            model="model",
            gguf="gguf",
        ),
        gate(
            f"{q}-INEXACT",
            "gguf.tensor_parity",
            {"quant": quant, "measure": "inexact"},
            {"eq": 0},
            model="model",
            gguf="gguf",
        ),
        gate(
            f"{q}-FIRST",
            "gguf.logit_parity",
            {"quant": quant, "prompts": PROMPTS},
            {"ge": 0.99},
            **PARITY_ROLES,
        ),
        gate(
            f"{q}-TOP1",
            "gguf.logit_parity",
            {"quant": quant, "prompts": PROMPTS, "measure": "top1_disagreements"},
            {"eq": 0},
            **PARITY_ROLES,
        ),
        gate(
            f"{q}-PPL",
            "gguf.ppl_ratio",
            {"quant": quant, "seq_len": 128, "max_tokens": 2049},
            {"lt": 1.1},
            model="model",
            tokens="tokens",
            gguf="gguf",
            tokenizer="tokenizer",
        ),
    ]


FIGURES: dict[str, dict[str, Any]] = {}


@pytest.mark.parametrize("quant", ["f16", "q8_0", "q4_k"])
def test_parity_figures_per_quant(release: Path, quant: str) -> None:
    r = results(spec(release, parity_gates(quant)))
    q = quant.upper()
    for gid, res in r.items():
        assert res.status is Status.PASS, (gid, res.message, res.summary)
    top1 = r[f"{q}-TOP1"].details
    FIGURES[quant] = {
        "size_ratio": round(r[f"{q}-SIZE"].value, 4),
        "min_tensor_cosine": r[f"{q}-COS"].value,
        "by_type": {k: v["min_cosine"] for k, v in r[f"{q}-COS"].details["by_type"].items()},
        "max_l2_drift": r[f"{q}-DRIFT"].value,
        "first_token_cosine": r[f"{q}-FIRST"].value,
        "top1": f"{top1['top1_agreement']:.4f} of {top1['steps']} "
        f"({top1['top1_disagreements']} real, {top1['near_ties']} near-ties)",
        "ppl_ratio": r[f"{q}-PPL"].value,
    }
    print(f"\n{quant}: {json.dumps(FIGURES[quant], indent=1)}")
    assert top1["steps"] == 64 * len(PROMPTS)
    assert r[f"{q}-FIRST"].details["gguf_tokenizer_mismatches"] == 0
    if quant == "f16":
        # f16 from an fp32 source: norms stay F32 and are bit-identical, matrices round.
        assert r[f"{q}-INEXACT"].details["by_type"]["F32"]["inexact"] == 0
        assert r[f"{q}-COS"].value > 0.99999
    if quant == "q4_k":
        types = r[f"{q}-COS"].details["by_type"]
        # ffn_down's 288-long rows fall back; the tied embedding is the output tensor: Q6_K.
        assert set(types) == {"F32", "Q4_K", "Q5_0", "Q6_K"}
        assert types["Q6_K"]["min_cosine"] > 0.9998 > types["Q4_K"]["min_cosine"]
        assert r[f"{q}-SIZE"].value < 0.25


def variant(release: Path, dst: Path, tensors: Any = None, **config: Any) -> Path:
    """A copy of the release with its tensors edited by ``tensors(dict)`` and config changes."""
    from safetensors.torch import load_file, save_file

    rel = dst / "release"
    shutil.copytree(release, rel)
    shutil.copy(release.parent / "val.py", dst / "val.py")
    if tensors is not None:
        t = load_file(str(rel / "model.safetensors"))
        tensors(t)
        save_file(t, str(rel / "model.safetensors"), metadata={"format": "pt"})
    if config:
        cfg = json.loads((rel / "config.json").read_text())
        cfg.update(config)
        (rel / "config.json").write_text(json.dumps(cfg))
    return rel


def exported(rel: Path, quant: str, dst: Path) -> Path:
    from albor_gates.formats.gguf_export import export_gguf

    return export_gguf(rel, dst / f"{rel.name}-{quant}.gguf", quant).path


def test_a_failed_export_fails_its_gate_and_errors_the_gates_that_need_it(
    release: Path, tmp_path: Path
) -> None:
    rel = variant(release, tmp_path, model_type="gpt_neox")
    why = (
        f"{rel / 'config.json'}: model_type is 'gpt_neox'; GGUF export supports llama, "
        "mistral, qwen2, qwen3"
    )
    r = results(
        spec(
            rel,
            [
                gate("EXPORT", "gguf.export", {}),
                gate("SIZE", "gguf.export", {"measure": "size_ratio"}, {"lt": 1}),
                gate("COS", "gguf.tensor_parity", {}, {"ge": 0.99}, model="model", gguf="gguf"),
            ],
        )
    )
    assert r["EXPORT"].status is Status.FAIL
    assert r["EXPORT"].message == f"GGUF export: {why}, must be true"
    assert r["SIZE"].status is Status.FAIL and r["SIZE"].summary == why
    assert r["COS"].status is Status.ERROR and r["COS"].message == why


def test_tensor_parity_finds_a_changed_norm_and_a_missing_tensor(
    release: Path, tmp_path: Path
) -> None:
    import numpy as np

    from albor_gates.artifacts.gguf import read_gguf

    # One F32 norm value changed inside the file: lossless, so it must be bit-identical.
    f32 = exported(release, "q8_0", tmp_path)
    info = read_gguf(f32).by_name["output_norm.weight"]
    with f32.open("r+b") as fh:
        fh.seek(info.data_offset)
        fh.write(np.float32(7.0).tobytes())
    gates = [
        gate(
            "INEXACT",
            "gguf.tensor_parity",
            {"measure": "inexact"},
            {"eq": 0},
            gguf="gguf",
            model="model",
        ),
        gate("COS", "gguf.tensor_parity", {}, {"ge": 0.999}, gguf="gguf", model="model"),
    ]
    r = results(spec(release, gates, gguf=f32))
    assert r["INEXACT"].status is Status.FAIL
    assert r["INEXACT"].value == 1
    assert r["INEXACT"].summary.endswith("first inexact: model.norm.weight")
    assert r["COS"].details["by_type"]["F32"]["worst_cosine"] == "model.norm.weight"

    # A GGUF exported from a release that lost a tensor, compared with the full release.
    name = "model.layers.1.mlp.down_proj.weight"
    partial = variant(release, tmp_path / "partial", lambda t: t.pop(name))
    gates.append(
        gate(
            "UNMATCHED",
            "gguf.tensor_parity",
            {"measure": "unmatched"},
            {"eq": 0},
            gguf="gguf",
            model="model",
        )
    )
    r = results(spec(release, gates, gguf=exported(partial, "q8_0", tmp_path / "partial")))
    assert r["COS"].status is Status.FAIL
    assert r["COS"].summary.startswith(
        f"1 tensors do not match between the source and {partial.name}-q8_0.gguf: "
        f"{name} is not in the GGUF"
    )
    assert r["UNMATCHED"].status is Status.FAIL and r["UNMATCHED"].value == 1


def test_logit_and_ppl_parity_fail_on_a_damaged_gguf(release: Path, tmp_path: Path) -> None:
    def damage(t: dict[str, Any]) -> None:
        g = torch.Generator().manual_seed(0)
        for n, w in t.items():
            if n.endswith("proj.weight") or n == "model.embed_tokens.weight":
                t[n] = w + torch.randn(w.shape, generator=g) * w.std() * 1.5

    bad = exported(variant(release, tmp_path, damage), "q8_0", tmp_path)
    r = results(spec(release, parity_gates("q8_0"), gguf=bad))
    assert r["Q8_0-FIRST"].status is Status.FAIL and r["Q8_0-FIRST"].value < 0.99
    assert r["Q8_0-TOP1"].status is Status.FAIL and r["Q8_0-TOP1"].value > 0
    assert r["Q8_0-TOP1"].details["disagreements"][0]["near_tie"] is False
    assert r["Q8_0-PPL"].status is Status.FAIL and r["Q8_0-PPL"].value > 1.1
    assert r["Q8_0-COS"].status is Status.FAIL
    assert r["Q8_0-COS"].details["gguf"] == bad.name


def test_transformers_consumer_passes_and_catches_an_untied_head(
    release: Path, tmp_path: Path
) -> None:
    ok = results(spec(release, [gate("HF", "consumer.transformers", {"prompts": PROMPTS})]))["HF"]
    assert ok.status is Status.PASS, ok.message
    assert ok.details["top1_agree"] == ok.details["positions"]
    # config.json says untied but no lm_head is stored: transformers initialises a random
    # head (with a warning), the reference decoder ties — the logits disagree.
    rel = variant(release, tmp_path, tie_word_embeddings=False)
    bad = results(spec(rel, [gate("HF", "consumer.transformers", {"prompts": PROMPTS})]))["HF"]
    assert bad.status is Status.FAIL and bad.value > 1.0
    assert bad.details["missing_keys"] == ["lm_head.weight"]
    assert bad.summary.endswith("; transformers initialised lm_head.weight itself (missing)")


def test_transformers_consumer_reports_a_release_it_cannot_load(
    release: Path, tmp_path: Path
) -> None:
    rel = variant(release, tmp_path, model_type="nope-lm", architectures=["NopeForCausalLM"])
    r = results(spec(rel, [gate("HF", "consumer.transformers", {"prompts": PROMPTS})]))["HF"]
    assert r.status is Status.FAIL
    assert r.summary.startswith(f"transformers {transformers.__version__} cannot load {rel}: ")
    assert "nope-lm" in r.summary


def _hide(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name: str, *a: Any, **k: Any) -> Any:
        return None if name == module else real(name, *a, **k)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(
    ("kind", "module", "install"),
    [
        ("consumer.llama_cpp", "llama_cpp", "pip install 'albor-gates[llama]'"),
        ("consumer.transformers", "transformers", "pip install 'albor-gates[transformers]'"),
    ],
)
def test_a_missing_consumer_is_skipped_with_the_install_command(
    release: Path, monkeypatch: pytest.MonkeyPatch, kind: str, module: str, install: str
) -> None:
    _hide(monkeypatch, module)
    path = spec(
        release,
        [
            gate("REQUIRED", kind, {}),
            gate("OPTIONAL", kind, {}, extra={"required": False}),
        ],
    )
    verdict = evaluate(path)
    r = {x.gate_id: x for x in verdict.results}
    assert r["REQUIRED"].status is Status.SKIPPED
    assert r["REQUIRED"].message.startswith(f"{module.replace('_', '-')}")
    assert install in r["REQUIRED"].message
    assert verdict.decision is Decision.NO_GO
    verdict = evaluate(spec(release, [gate("OPTIONAL", kind, {}, extra={"required": False})]))
    assert verdict.decision is Decision.WARN


LLAMA = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed (pip install 'albor-gates[llama]')",
)


@LLAMA
@pytest.mark.parametrize("quant", ["f16", "q8_0", "q4_k"])
def test_llama_cpp_loads_the_export_and_agrees_with_the_reference(
    release: Path, quant: str
) -> None:
    gates = [
        gate("LLAMA", "consumer.llama_cpp", {"quant": quant}, model="model"),
        gate(
            "LLAMA-COS",
            "consumer.llama_cpp",
            {"quant": quant, "measure": "first_token_cosine", "prompts": PROMPTS},
            {"ge": 0.999},
            model="model",
        ),
    ]
    r = results(spec(release, gates))
    assert r["LLAMA"].status is Status.PASS, r["LLAMA"].summary
    assert r["LLAMA"].details["tokenizer_mismatches"] == 0
    assert r["LLAMA-COS"].status is Status.PASS, r["LLAMA-COS"].summary
    assert r["LLAMA-COS"].details["first_token_top1_agree"] == len(PROMPTS)
    print(f"\n{quant}: llama.cpp first-token cosine {r['LLAMA-COS'].value}")


@LLAMA
def test_llama_cpp_reads_the_q6_k_output_tensor_as_the_reference_decoder_does(
    release: Path, tmp_path: Path
) -> None:
    from albor_gates.artifacts.gguf import read_gguf

    path = exported(release, "q4_k", tmp_path)
    assert read_gguf(path).tensor("token_embd.weight").ggml_type == "Q6_K"
    params = {"measure": "first_token_cosine", "prompts": PROMPTS}
    check = gate("LLAMA-COS", "consumer.llama_cpp", params, {"ge": 0.9999}, gguf="gguf")
    r = results(spec(release, [check], gguf=path))["LLAMA-COS"]
    assert r.status is Status.PASS, r.summary
    assert r.details["first_token_top1_agree"] == len(PROMPTS)


@LLAMA
def test_llama_cpp_load_error_is_a_fail_with_its_message(release: Path, tmp_path: Path) -> None:
    partial = variant(release, tmp_path, lambda t: t.pop("model.layers.0.mlp.down_proj.weight"))
    bad = exported(partial, "q8_0", tmp_path)
    r = results(spec(release, [gate("LLAMA", "consumer.llama_cpp", {}, gguf="gguf")], gguf=bad))
    r = r["LLAMA"]
    assert r.status is Status.FAIL and r.value == 1
    assert r.summary.startswith(f"llama.cpp cannot load {bad.name}: ")
    assert "blk.0.ffn_down.weight" in r.summary


def test_the_export_lives_in_a_temporary_folder_for_the_run_only(
    release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    before = sorted(p.name for p in release.iterdir())
    verdict = evaluate(spec(release, [gate("EXPORT", "gguf.export", {"quant": "q8_0"})]))
    assert verdict.results[0].status is Status.PASS
    del verdict
    gc.collect()
    assert sorted(p.name for p in release.iterdir()) == before
    assert list(scratch.iterdir()) == []


def test_the_gguf_roundtrip_bundle_on_a_real_model(release: Path) -> None:
    child = {
        "id": "release",
        "version": "1",
        "title": "A release that extends the GGUF round-trip bundle",
        "extends": ["gguf-roundtrip"],
        "artifacts": {
            "model": {"kind": "model", "path": str(release)},
            "tokens": {"kind": "tokens", "path": str(release.parent / "val.py")},
            "tokenizer": {"kind": "tokenizer", "path": str(release / "tokenizer.json")},
            "gguf": {"kind": "gguf", "path": str(release.parent / "absent.gguf"), "optional": True},
        },
        "overrides": [
            {
                "gate": "GGUF-PPL-RATIO",
                "reason": "the test model has 256 positions",
                "params": {"seq_len": 128, "max_tokens": 2049},
            },
            {
                "gate": "GGUF-Q4K-FIRST-TOKEN-COSINE",
                "reason": "an F16-grade tolerance, to see an advisory gate fail",
                "expect": {"ge": 0.99999},
            },
        ],
    }
    path = release.parent / "bundle-child.yaml"
    path.write_text(yaml.safe_dump(child))
    verdict = evaluate(path)
    r = {x.gate_id: x for x in verdict.results}
    assert len(r) == 14
    bad = {k: v.status.value for k, v in r.items() if v.status is not Status.PASS}
    # The AC-SHIP2-009 tolerance on the Q4_K file is advisory: this sound Q4_K (0 real top-1
    # flips, perplexity ratio ~1.002, Q6_K output tensor) passes the bundle's 1 − 1e-3 but not
    # the child's 1 − 1e-5, and that failure warns instead of blocking.
    expected = {"GGUF-Q4K-FIRST-TOKEN-COSINE": "FAIL"}
    if __import__("importlib.util").util.find_spec("llama_cpp") is None:
        expected |= {"CONSUMER-LLAMA-CPP": "SKIPPED", "CONSUMER-LLAMA-CPP-LOGITS": "SKIPPED"}
    assert bad == expected
    # within the bundle's 1 − 1e-3 (0.99975 on one CPU, 0.9998+ on another: training numerics differ)
    assert 0.999 <= r["GGUF-Q4K-FIRST-TOKEN-COSINE"].value < 0.99999
    assert r["GGUF-PPL-RATIO"].value < 1.005
    assert r["GGUF-FIRST-TOKEN-COSINE"].value > 0.99999
    assert verdict.decision is Decision.WARN


def test_an_unknown_quant_is_a_spec_error(release: Path) -> None:
    from albor_gates.errors import SpecError

    with pytest.raises(SpecError) as e:
        evaluate(spec(release, [gate("T", "gguf.tensor_parity", {"quant": "q3_k_l"})]))
    assert "unknown quant 'q3_k_l'; choose one of f32, f16, bf16, q8_0, q4_0" in str(e.value)
