"""`gates export`: the summary line, --json, --force, atomic refusal and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from testlib.hf import make_bpe_tokenizer, make_hf_model

from albor_gates.artifacts.gguf import read_gguf


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tok = make_bpe_tokenizer("qwen2", vocab_size=300)
    return make_hf_model(
        "qwen2", tmp_path_factory.mktemp("exp") / "rel", tokenizer=tok, vocab_size=320
    )


def test_export_q4_k_prints_one_line_and_writes_a_readable_file(
    gates, release: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m-q4k.gguf"
    r = gates("export", str(release), "--to", "gguf", "--quant", "q4_k", "-o", str(out))
    assert r.code == 0, r.err
    g = read_gguf(out)
    size = out.stat().st_size
    src = (release / "model.safetensors").stat().st_size
    # 256-wide rows take Q4_K; ffn_down's 288-long rows fall back to Q5_0 (one per layer).
    assert r.out == (
        f"wrote {out}: qwen2 q4_k, {len(g.tensors)} tensors, {size:,} bytes "
        f"({size / src:.2f} × the source's {src:,}), 2 fallbacks (first: "
        "blk.0.ffn_down.weight: Q4_K -> Q5_0)\n"
    )
    # The tied embedding is the output tensor: Q6_K, as llama.cpp's Q4_K_S writes it.
    assert g.type_counts == {"F32": 11, "Q4_K": 12, "Q5_0": 2, "Q6_K": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m-q4k.gguf"]  # no temporary left


def test_export_json_and_a_weights_file_as_model(gates, release: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.gguf"
    r = gates("export", str(release / "model.safetensors"), "-o", str(out), "--json")
    assert r.code == 0, r.err
    rec = json.loads(r.out)
    assert rec["command"] == "export" and rec["quant"] == "f16"  # f16 is the default
    assert rec["input"] == str(release) and rec["output"] == str(out)
    assert rec["tensor_count"] == rec["source_tensor_count"] == len(read_gguf(out).tensors)
    assert rec["output_bytes"] == out.stat().st_size
    assert rec["size_ratio"] == rec["output_bytes"] / rec["source_bytes"]
    assert rec["types"] == {"F16": 15, "F32": 11} and rec["fallbacks"] == []
    assert rec["vocab_size"] == 320 and rec["tokenizer_model"] == "gpt2"


def test_export_refuses_to_overwrite_without_force(gates, release: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.gguf"
    out.write_bytes(b"keep me")
    r = gates("export", str(release), "--quant", "q8_0", "-o", str(out))
    assert r.code == 2
    assert r.err == (
        f"gates: error: {out}: already exists; refusing to overwrite it without --force\n"
    )
    assert out.read_bytes() == b"keep me"
    r = gates("export", str(release), "--quant", "q8_0", "-o", str(out), "--force")
    assert r.code == 0, r.err
    assert read_gguf(out).metadata["general.file_type"] == 7


def test_export_usage_and_source_errors(gates, release: Path, tmp_path: Path) -> None:
    r = gates("export", str(release), "--quant", "q3_k_l", "-o", str(tmp_path / "m.gguf"))
    assert r.code == 2 and "'q3_k_l' is not one of" in r.err
    r = gates("export", str(release), "--to", "onnx", "-o", str(tmp_path / "m.onnx"))
    assert r.code == 2 and "'onnx' is not 'gguf'" in r.err
    r = gates("export", str(release), "-o", str(tmp_path / "no" / "m.gguf"))
    assert r.code == 2
    assert r.err == (
        f"gates: error: {tmp_path / 'no' / 'm.gguf'}: the destination folder "
        f"{tmp_path / 'no'} does not exist\n"
    )
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps({"model_type": "gpt_neox"}))
    r = gates("export", str(bare), "-o", str(tmp_path / "m.gguf"))
    assert r.code == 1
    assert r.err == (
        f"gates: error: {bare / 'config.json'}: model_type is 'gpt_neox'; GGUF export "
        "supports llama, mistral, qwen2, qwen3\n"
    )
    assert not (tmp_path / "m.gguf").exists()


def test_the_cli_offers_exactly_the_exporters_quants() -> None:
    from albor_gates.cli.export import QUANT_NAMES
    from albor_gates.formats.gguf_names import QUANTS

    assert tuple(QUANTS) == QUANT_NAMES
