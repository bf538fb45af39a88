"""GGUF reader: gguf-py-written files read back, every listed type dequantises within bound."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from testlib.ggml_ref import REF_DEQUANT, SIMPLE_QUANTIZERS, random_blocks, ref_quantize_q4_k
from testlib.gguf_build import small_valid

from albor_gates.artifacts.gguf import GGML_TYPES, read_gguf
from albor_gates.artifacts.gguf_dequant import DEQUANT_TYPES, dequantize_tensor, iter_dequantized
from albor_gates.errors import ArtifactError
from albor_gates.formats.gguf_quants import quantize_q4_k

RNG_SEED = 5


def _write(path: Path, tensors: dict[str, tuple[np.ndarray, T | None]], **kv: object) -> Path:
    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_uint32("qwen2.block_count", 2)
    w.add_float32("qwen2.rope.freq_base", 1e6)
    w.add_token_list(["a", "Ġb", "<|x|>"])
    w.add_token_types([1, 1, 3])
    w.add_bool("tokenizer.ggml.add_bos_token", False)
    w.add_string("tokenizer.chat_template", "{% for m in messages %}{{ m }}\n{% endfor %}")
    for key, value in kv.items():
        w.add_string(key, str(value))
    for name, (arr, raw) in tensors.items():
        w.add_tensor(name, arr, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_type_table_matches_gguf_py() -> None:
    ours = {tid: (bs, ts) for tid, (_n, bs, ts) in GGML_TYPES.items()}
    theirs = {int(t): v for t, v in gguf.GGML_QUANT_SIZES.items()}
    assert ours == theirs
    assert {name for _id, (name, _b, _t) in GGML_TYPES.items()} >= DEQUANT_TYPES
    for tid, (name, _b, _t) in GGML_TYPES.items():
        assert T(tid).name == name


def test_header_metadata_and_tensor_infos_match_gguf_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((8, 64)).astype(np.float32)
    path = _write(
        tmp_path / "m.gguf",
        {
            "token_embd.weight": (x, None),
            "blk.0.attn_q.weight": (gguf.quants.quantize(x, T.Q8_0), T.Q8_0),
            "output_norm.weight": (x[0], None),
        },
    )
    g = read_gguf(path)
    assert g.version == 3
    assert g.alignment == 32
    assert g.architecture == "qwen2"
    assert g.hparams == {"block_count": 2, "rope.freq_base": pytest.approx(1e6)}
    assert g.metadata["tokenizer.ggml.tokens"] == ("a", "Ġb", "<|x|>")
    assert g.value_types["tokenizer.ggml.token_type"] == "array[int32]"
    assert g.value_types["tokenizer.ggml.add_bos_token"] == "bool"
    assert g.metadata["tokenizer.ggml.add_bos_token"] is False
    assert g.chat_template == "{% for m in messages %}{{ m }}\n{% endfor %}"
    assert g.type_counts == {"F32": 2, "Q8_0": 1}
    assert g.n_parameters == 8 * 64 * 2 + 64

    r = gguf.GGUFReader(path)
    assert g.data_offset == r.data_offset
    for info, rt in zip(g.tensors, r.tensors, strict=True):
        assert info.name == rt.name
        assert info.type_id == int(rt.tensor_type)
        assert info.dims == tuple(int(d) for d in rt.shape)
        assert info.data_offset == rt.data_offset
        assert info.nbytes == rt.n_bytes
    q = g.tensor("blk.0.attn_q.weight")
    assert (q.shape, q.dims, q.ggml_type, q.nbytes) == ((8, 64), (64, 8), "Q8_0", 8 * 2 * 34)
    # Evidence is frozen.
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        g.metadata["x"] = 1  # type: ignore[index]


# Relative RMS error bounds on N(0, 1) data (measured: see the module's report figures) and
# the maximum error per element in units of the format's quantisation step.
GGUF_PY_TYPES = {
    # type: (relative RMSE bound, max |err| / max |x| bound)
    "F32": (0.0, 0.0),
    "F16": (5e-4, 1e-3),
    "BF16": (4e-3, 8e-3),
    "Q8_0": (8e-3, 8e-3),
    "Q5_1": (5e-2, 4e-2),
    "Q5_0": (5e-2, 4e-2),
    "Q4_1": (0.1, 8e-2),
    "Q4_0": (0.12, 0.14),
}


@pytest.mark.parametrize("name", sorted(GGUF_PY_TYPES))
def test_gguf_py_quantised_types_round_trip(tmp_path: Path, name: str) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((32, 256)).astype(np.float32)
    qtype = T[name]
    data = gguf.quants.quantize(x, qtype)
    path = _write(tmp_path / f"{name}.gguf", {"w": (data, qtype)})
    g = read_gguf(path)
    info = g.tensor("w")
    assert (info.ggml_type, info.shape) == (name, (32, 256))
    got = dequantize_tensor(g, "w")
    assert got.dtype == np.float32 and got.shape == (32, 256) and got.flags.c_contiguous
    # Same values as gguf-py's own decoder on the same bytes...
    ref = gguf.quants.dequantize(data, qtype)
    np.testing.assert_array_equal(got, ref)
    # ... and within the format's error on the source data.
    rel_rmse, max_rel = GGUF_PY_TYPES[name]
    err = got - x
    assert np.sqrt((err**2).mean() / (x**2).mean()) <= rel_rmse
    assert np.abs(err).max() <= max_rel * np.abs(x).max()


K_RMSE = {"Q2_K": 0.36, "Q3_K": 0.22, "Q4_K": 0.09, "Q5_K": 0.045, "Q6_K": 0.022}


@pytest.mark.parametrize("name", sorted(K_RMSE))
def test_k_quants_hand_built_blocks_decode_exactly_and_within_bound(
    tmp_path: Path, name: str
) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = rng.standard_normal((16, 512)).astype(np.float32)
    packed, expected, step = SIMPLE_QUANTIZERS[name](x.reshape(-1, 256))
    raw = np.frombuffer(packed, dtype=np.uint8).reshape(16, -1)
    path = _write(tmp_path / f"{name}.gguf", {"w": (raw, T[name])})
    got = dequantize_tensor(read_gguf(path), "w")
    # Exactly the values the codes and scales stand for (ggml's layout, built by hand)...
    np.testing.assert_array_equal(got.reshape(-1, 256), expected)
    # ... which are within half a step of the data, plus a little where a rounded-down scale
    # clips the extreme code.
    err = np.abs(got.reshape(-1, 256) - x.reshape(-1, 256))
    assert (err <= 0.6 * step + 1e-6).all()
    assert np.sqrt(((got - x) ** 2).mean() / (x**2).mean()) <= K_RMSE[name]


@pytest.mark.parametrize("name", sorted(REF_DEQUANT))
def test_k_quants_random_blocks_match_ggml_scalar_decoder(tmp_path: Path, name: str) -> None:
    fn, size = REF_DEQUANT[name]
    raw = random_blocks(name, 8, np.random.default_rng(RNG_SEED))
    path = _write(
        tmp_path / "r.gguf", {"w": (np.frombuffer(raw, np.uint8).reshape(2, -1), T[name])}
    )
    got = dequantize_tensor(read_gguf(path), "w").reshape(-1)
    ref = [v for i in range(8) for v in fn(raw[i * size : (i + 1) * size])]
    np.testing.assert_array_equal(got, np.array(ref, dtype=np.float32))


def test_q4_k_quantiser_matches_ggml_reference_and_decodes(tmp_path: Path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x = (rng.standard_normal((4, 512)) * 0.02).astype(np.float32)
    x[0, :32] = 0.0  # a flat sub-block
    x[1, :256] = np.abs(x[1, :256])  # a block with no negative values (min clamps to 0)
    ours = quantize_q4_k(x)
    assert ours.shape == (4, 2 * 144)
    assert ours.tobytes() == b"".join(ref_quantize_q4_k(row) for row in x)
    path = _write(tmp_path / "q4k.gguf", {"w": (ours, T.Q4_K)})
    got = dequantize_tensor(read_gguf(path), "w")
    np.testing.assert_array_equal(got, gguf.quants.dequantize(ours, T.Q4_K))
    rel = np.sqrt(((got - x) ** 2).mean() / (x**2).mean())
    assert rel <= 0.08
    cos = float((got * x).sum() / np.linalg.norm(got) / np.linalg.norm(x))
    assert cos >= 0.996


def test_iter_dequantized_order_and_selection(tmp_path: Path) -> None:
    built = small_valid()
    path = tmp_path / "s.gguf"
    path.write_bytes(built.data)
    g = read_gguf(path)
    got = list(iter_dequantized(g))
    assert [i.name for i, _ in got] == ["token_embd.weight", "output_norm.weight"]
    np.testing.assert_array_equal(got[0][1], np.arange(12, dtype=np.float32).reshape(3, 4))
    np.testing.assert_array_equal(got[1][1], np.arange(100, 104, dtype=np.float32))
    only = list(iter_dequantized(g, ["output_norm.weight"]))
    assert [i.name for i, _ in only] == ["output_norm.weight"]


IQ_TYPES = sorted(
    DEQUANT_TYPES - {"F32", "F16", "BF16"} - set(GGUF_PY_TYPES) - {"Q2_K", "Q3_K", "Q4_K"}
    - {"Q5_K", "Q6_K"}
)  # fmt: skip


@pytest.mark.parametrize("name", IQ_TYPES)
def test_i_quants_and_other_gguf_py_types_decode_like_gguf_py(tmp_path: Path, name: str) -> None:
    # gguf-py cannot quantise these, so the blocks are random bytes; every block's fp16 scale
    # bytes are random too, hence NaN may appear: assert_array_equal treats NaN as equal.
    qtype = T[name]
    block, type_size = gguf.constants.GGML_QUANT_SIZES[qtype]
    cols = block * (1100 if block >= 128 else 4400) // 5  # > one decoding chunk in all
    cols -= cols % block
    rng = np.random.default_rng(RNG_SEED)
    raw = rng.integers(0, 256, (5, cols // block * type_size), dtype=np.uint8)
    path = _write(tmp_path / f"{name}.gguf", {"w": (raw, qtype)})
    with np.errstate(all="ignore"):  # random scales overflow in both decoders alike
        got = dequantize_tensor(read_gguf(path), "w")
        ref = gguf.quants.dequantize(raw, qtype)
    assert got.shape == (5, cols) and got.dtype == np.float32
    np.testing.assert_array_equal(got, ref)


def test_unsupported_type_and_missing_tensor_are_clean_errors(tmp_path: Path) -> None:
    raw = np.zeros((1, 292), dtype=np.uint8)
    path = _write(tmp_path / "q8k.gguf", {"q": (raw, T.Q8_K)})
    g = read_gguf(path)
    assert g.tensor("q").ggml_type == "Q8_K"
    with pytest.raises(ArtifactError) as e:
        dequantize_tensor(g, "q")
    assert str(e.value) == (
        f"{path}: tensor 'q' is Q8_K, which albor-gates cannot dequantise (it reads the floats "
        "and every type gguf-py decodes); re-export the model as f16, q8_0 or q4_k"
    )
    with pytest.raises(ArtifactError) as e:
        g.tensor("nope")
    assert str(e.value) == f"{path}: no tensor named 'nope' among its 1 tensors"


def test_file_that_changed_after_reading_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.gguf"
    path.write_bytes(small_valid().data)
    g = read_gguf(path)
    with open(path, "r+b") as fh:
        fh.truncate(g.data_offset + 8)
    with pytest.raises(ArtifactError) as e:
        dequantize_tensor(g, "token_embd.weight")
    assert str(e.value) == (
        f"{path}: the file changed size since its header was read "
        f"({g.file_size} -> {g.data_offset + 8} bytes); read it again"
    )


def test_unreadable_path_is_an_artifact_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as e:
        read_gguf(tmp_path / "missing.gguf")
    assert (
        str(e.value)
        == f"{tmp_path / 'missing.gguf'}: cannot read the GGUF file: No such file or directory"
    )
    if os.name == "posix":
        with pytest.raises(ArtifactError, match="cannot read the GGUF file: Is a directory"):
            read_gguf(tmp_path)


def test_header_reader_imports_no_numpy_gguf_or_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, albor_gates.artifacts.gguf, albor_gates.artifacts.gguf_dequant; "
        "print(sorted(k for k in ('numpy', 'gguf', 'torch') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_evidence_pickles(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "s.gguf"
    path.write_bytes(small_valid().data)
    g = read_gguf(path)
    back = pickle.loads(pickle.dumps(g))
    assert back == g
    assert back.tensor("output_norm.weight") == g.tensor("output_norm.weight")
    np.testing.assert_array_equal(
        dequantize_tensor(back, "output_norm.weight"), [100, 101, 102, 103]
    )
