"""Token sources, windows, validation and their exact error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from albor_gates.errors import ArtifactError, UsageError
from albor_gates.model.tokens import (
    IGNORE_INDEX,
    load_tokenizer,
    load_tokens,
    make_windows,
    validate_tokens,
)

pytest.importorskip("torch")


def _npy(tmp_path: Path, values: Any, dtype: str = "int64") -> Path:
    p = tmp_path / "ids.npy"
    np.save(p, np.asarray(values, dtype=dtype))
    return p


def test_npy_windows_without_bos_score_each_token_once(tmp_path: Path) -> None:
    src = load_tokens(_npy(tmp_path, range(23)))
    w = make_windows(src, 5)
    # windows read [0,6) [5,11) [10,16) [15,21): 4 windows, tokens 21, 22 are left over
    assert (w.count, w.scored_tokens, w.dropped_tokens) == (4, 20, 2)
    inputs, targets = w.batch([0, 1, 3])
    assert inputs.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [15, 16, 17, 18, 19]]
    assert targets.tolist() == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [16, 17, 18, 19, 20]]


def test_overlapping_stride_scores_only_new_targets(tmp_path: Path) -> None:
    src = load_tokens(_npy(tmp_path, range(12)))
    w = make_windows(src, 6, stride=2)
    assert (w.count, w.scored_tokens, w.dropped_tokens) == (3, 10, 1)
    inputs, targets = w.batch([0, 1])
    assert inputs.tolist() == [[0, 1, 2, 3, 4, 5], [2, 3, 4, 5, 6, 7]]
    x = IGNORE_INDEX
    assert targets.tolist() == [[1, 2, 3, 4, 5, 6], [x, x, x, x, 7, 8]]
    scored = sorted(t for row in w.batch(range(w.count))[1].tolist() for t in row if t != x)
    assert scored == list(range(1, 11))  # each target exactly once


def test_bos_windows_score_every_token_including_the_first(tmp_path: Path) -> None:
    src = load_tokens(_npy(tmp_path, np.arange(10, 20)))
    w = make_windows(src, 5, bos_id=0)
    assert (w.count, w.scored_tokens, w.dropped_tokens) == (2, 10, 0)
    inputs, targets = w.batch([0, 1])
    assert inputs.tolist() == [[0, 10, 11, 12, 13], [0, 15, 16, 17, 18]]
    assert targets.tolist() == [[10, 11, 12, 13, 14], [15, 16, 17, 18, 19]]


def test_max_tokens_keeps_the_first_n(tmp_path: Path) -> None:
    src = load_tokens(_npy(tmp_path, range(100)), max_tokens=11)
    assert (src.n_tokens, src.total_tokens) == (11, 100)
    assert make_windows(src, 5).count == 2


def test_bin_with_sidecar_and_explicit_dtype(tmp_path: Path) -> None:
    p = tmp_path / "val.bin"
    np.arange(40000, 40010, dtype="<u2").tofile(p)
    with pytest.raises(UsageError) as err:
        load_tokens(p)
    assert str(err.value) == (
        f"{p}: raw .bin tokens need a dtype: pass uint16 or uint32, or write val.bin.json "
        'with {"dtype": "uint16"}'
    )
    assert load_tokens(p, dtype="uint16").ids.tolist() == list(range(40000, 40010))
    (tmp_path / "val.bin.json").write_text(json.dumps({"dtype": "uint32"}))
    assert load_tokens(p).n_tokens == 5  # the sidecar's (wrong) dtype is honoured
    (tmp_path / "val.bin.json").write_text(json.dumps({"dtype": "int8"}))
    with pytest.raises(ArtifactError, match="field 'dtype' is 'int8', expected 'uint16' or"):
        load_tokens(p)


def test_bin_with_trailing_bytes(tmp_path: Path) -> None:
    p = tmp_path / "odd.bin"
    p.write_bytes(b"\x01\x00\x02")
    with pytest.raises(ArtifactError) as err:
        load_tokens(p, dtype="uint16")
    assert str(err.value) == (
        f"{p}: 3 bytes is not a whole number of uint16 tokens (1 trailing bytes); wrong dtype?"
    )


def test_out_of_vocab_id_names_file_index_and_id(tmp_path: Path) -> None:
    p = _npy(tmp_path, [1, 2, 3, 500, 4])
    with pytest.raises(ArtifactError) as err:
        make_windows(load_tokens(p), 2, vocab_size=384)
    assert str(err.value) == (
        f"{p}: token at index 3 has id 500, outside the model vocabulary [0, 384) "
        "(tokenizer and model do not match?)"
    )
    with pytest.raises(ArtifactError, match="token at index 1 has id -1"):
        validate_tokens(load_tokens(_npy(tmp_path, [1, -1])), 384)


def test_empty_token_set(tmp_path: Path) -> None:
    p = _npy(tmp_path, [])
    with pytest.raises(ArtifactError) as err:
        make_windows(load_tokens(p), 4, vocab_size=10)
    assert str(err.value) == f"{p}: the token set is empty (nothing to evaluate)"


def test_too_few_tokens_for_one_window(tmp_path: Path) -> None:
    p = _npy(tmp_path, range(8))
    with pytest.raises(ArtifactError) as err:
        make_windows(load_tokens(p), 8)
    assert str(err.value) == (
        f"{p}: 8 tokens is fewer than one window of 9 (seq_len 8 + 1); lower --seq-len or give "
        "more tokens"
    )


def test_seq_len_beyond_max_positions(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        make_windows(load_tokens(_npy(tmp_path, range(9000))), 4096, max_position_embeddings=2048)
    assert str(err.value) == (
        "--seq-len 4096 exceeds the model's max_position_embeddings 2048 (config.json); use "
        "--seq-len ≤ 2048"
    )


@pytest.mark.parametrize("stride", [0, 9, -1])
def test_bad_stride(tmp_path: Path, stride: int) -> None:
    with pytest.raises(UsageError, match="--stride must be between 1 and --seq-len 8"):
        make_windows(load_tokens(_npy(tmp_path, range(100))), 8, stride=stride)


def test_npy_must_be_1d_integers(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"token array has shape \[2, 2\], expected 1-D"):
        load_tokens(_npy(tmp_path, [[1, 2], [3, 4]]))
    with pytest.raises(ArtifactError, match="token array has dtype float32, expected an integer"):
        load_tokens(_npy(tmp_path, [1.0], "float32"))
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not numpy")
    with pytest.raises(ArtifactError, match=r"bad.npy: not a readable .npy array"):
        load_tokens(bad)


def test_text_file_tokens_and_byte_counts(tmp_path: Path, tokenizer_file: Path) -> None:
    text = "def f(x):\n    return x  # café ✓\n" * 40
    p = tmp_path / "code.py"
    p.write_text(text, encoding="utf-8")
    tok = load_tokenizer(tokenizer_file)
    src = load_tokens(p, tokenizer=tokenizer_file)
    assert src.ids.tolist() == tok.encode(text).ids
    assert src.byte_counts is not None and int(src.byte_counts.sum()) == len(text.encode())
    w = make_windows(src, 16, bos_id=0)
    assert w.scored_bytes() == int(src.byte_counts[: w.scored_tokens].sum())


def test_text_max_tokens_stops_early(tmp_path: Path, tokenizer_file: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_text("hello world\n" * 100)
    src = load_tokens(p, tokenizer=tokenizer_file, max_tokens=7)
    assert src.n_tokens == 7 and src.byte_counts is not None and len(src.byte_counts) == 7


def test_text_not_utf8_names_offset(tmp_path: Path, tokenizer_file: Path) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(b"ok ok\n\xff\xfe")
    with pytest.raises(ArtifactError) as err:
        load_tokens(p, tokenizer=tokenizer_file)
    assert str(err.value) == f"{p}: not UTF-8 text at byte offset 6: invalid start byte"


def test_text_needs_tokenizer(tmp_path: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_text("x")
    with pytest.raises(UsageError) as err:
        load_tokens(p)
    assert str(err.value) == f"{p}: text and JSONL token sources need a tokenizer.json"


def test_jsonl_documents_and_separator(tmp_path: Path, tokenizer_file: Path) -> None:
    p = tmp_path / "docs.jsonl"
    p.write_text(json.dumps({"text": "a = 1"}) + "\n\n" + json.dumps({"text": "b = 2"}) + "\n")
    tok = load_tokenizer(tokenizer_file)
    src = load_tokens(p, tokenizer=tok, separator_id=0)
    assert src.ids.tolist() == tok.encode("a = 1").ids + [0] + tok.encode("b = 2").ids + [0]
    assert src.documents == 2
    assert src.byte_counts is not None and int(src.byte_counts.sum()) == 10


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "2: not valid JSON: Expecting property name enclosed in double quotes"),
        ("[1]", "2: expected a JSON object, got list"),
        ('{"body": "x"}', "2: field 'text' is missing"),
        ('{"text": 3}', "2: field 'text' is int, expected a string"),
    ],
)
def test_jsonl_errors_name_the_line(
    tmp_path: Path, tokenizer_file: Path, line: str, message: str
) -> None:
    p = tmp_path / "docs.jsonl"
    p.write_text('{"text": "ok"}\n' + line + "\n")
    with pytest.raises(ArtifactError) as err:
        load_tokens(p, tokenizer=tokenizer_file)
    assert str(err.value).startswith(f"{p}:{message}")


def test_bad_tokenizer_file(tmp_path: Path) -> None:
    p = tmp_path / "tokenizer.json"
    p.write_text("{}")
    with pytest.raises(ArtifactError) as err:
        load_tokenizer(p)
    # The one tokenizer reader (artifacts/tokenizer.py) checks the JSON before tokenizers does.
    assert str(err.value) == (
        f"{p}: tokenizer.json key 'model' is a JSON null, not an object: re-save the tokenizer "
        "with tokenizers or transformers (save_pretrained)"
    )


def test_missing_token_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        load_tokens(tmp_path / "nope.npy")
    assert str(err.value) == f"{tmp_path / 'nope.npy'}: no such token file"
