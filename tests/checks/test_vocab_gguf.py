"""tokenizer.vocab_fit on a GGUF without tokenizer.json: the GGUF's own vocabulary is used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")


def _gguf(path: Path, tokens: list[str], rows: int) -> Path:
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_uint32("llama.block_count", 0)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([1] * len(tokens))
    w.add_tensor("token_embd.weight", np.zeros((rows, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def _vocab_gate(gates, model: Path) -> dict:
    rec = json.loads(gates("verify", str(model), "-f", "json").out)
    return next(g for g in rec["gates"] if g["id"] == "ARCH-VOCAB-PREFLIGHT")


@pytest.mark.parametrize(("rows", "status", "margin"), [(12, "PASS", 2), (9, "FAIL", -1)])
def test_a_gguf_brings_its_own_tokenizer_to_the_vocab_preflight(
    gates, tmp_path: Path, rows: int, status: str, margin: int
) -> None:
    model = _gguf(tmp_path / "m.gguf", [f"t{i}" for i in range(10)], rows)
    g = _vocab_gate(gates, model)
    assert (g["status"], g["value"]) == (status, margin)
    assert g["summary"] == (
        f"model vocab {rows} (model.embed_tokens.weight) − tokenizer ids 10 = {margin} "
        "(the GGUF's own tokenizer: 10 tokens, gpt2)"
    )
