"""The Q2_K, Q3_K and Q5_K writers: ggml's block layouts, decoded by gguf-py and the reference."""

from __future__ import annotations

import gguf
import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from testlib.ggml_ref import REF_DEQUANT, ref_quantize_q5_k

from albor_gates.errors import UsageError
from albor_gates.formats.gguf_kquants import quantize_q2_k, quantize_q3_k, quantize_q5_k
from albor_gates.formats.gguf_quants import quantize_q4_k, quantize_q6_k

WRITERS = {"Q2_K": quantize_q2_k, "Q3_K": quantize_q3_k, "Q5_K": quantize_q5_k}
# relative RMSE on N(0, 1) data: each bit roughly halves it (Q4_K 0.072, Q6_K 0.018 alike)
RMSE = {"Q2_K": (0.25, 0.33), "Q3_K": (0.13, 0.17), "Q5_K": (0.03, 0.04)}


def _data() -> np.ndarray:
    x = (np.random.default_rng(11).standard_normal((8, 512)) * 0.02).astype(np.float32)
    x[0, :32] = 0.0  # a flat sub-block
    x[1, :256] = 0.0  # an all-zero block
    x[2, :256] = np.abs(x[2, :256])  # no negative values: the min clamps to 0
    x[3, 9] = 0.5  # an outlier sets the block's scale
    return x


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_blocks_decode_the_same_in_gguf_py_and_the_scalar_reference(name: str) -> None:
    x = _data()
    q = WRITERS[name](x)
    block = gguf.GGML_QUANT_SIZES[T[name]][1]
    assert q.dtype == np.uint8 and q.shape == (8, 2 * block)
    got = gguf.quants.dequantize(q, T[name]).reshape(x.shape)
    fn, size = REF_DEQUANT[name]
    raw = q.tobytes()
    ref = [v for i in range(len(raw) // size) for v in fn(raw[i * size : (i + 1) * size])]
    np.testing.assert_array_equal(got.reshape(-1), np.array(ref, dtype=np.float32))
    assert not got[1, :256].any()  # an all-zero block stays zero


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_error_is_the_k_quant_error_and_ordered_by_bits(name: str) -> None:
    x = np.random.default_rng(0).standard_normal((64, 1024)).astype(np.float32)
    y = gguf.quants.dequantize(WRITERS[name](x), T[name])
    rmse = float(np.sqrt(((y - x) ** 2).mean() / (x**2).mean()))
    lo, hi = RMSE[name]
    assert lo <= rmse <= hi
    q4 = gguf.quants.dequantize(quantize_q4_k(x), T.Q4_K)
    q6 = gguf.quants.dequantize(quantize_q6_k(x), T.Q6_K)
    ordered = [float(np.abs(v - x).mean()) for v in (q6, q4)]
    if name == "Q5_K":
        assert ordered[0] < float(np.abs(y - x).mean()) < ordered[1]
    else:
        assert float(np.abs(y - x).mean()) > ordered[1]


def test_q5_k_matches_the_scalar_translation_of_ggml() -> None:
    x = _data()
    ours = quantize_q5_k(x).reshape(-1, 176)
    ref = np.frombuffer(ref_quantize_q5_k(x.reshape(-1)), dtype=np.uint8).reshape(-1, 176)
    same = (ours == ref).all(axis=1)
    # numpy sums pairwise, the C code sequentially: a near-tie may pick another candidate
    assert same.mean() >= 0.9, same
    np.testing.assert_array_equal(ours[1], ref[1])


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_rows_that_are_not_whole_blocks_are_refused(name: str) -> None:
    with pytest.raises(UsageError) as e:
        WRITERS[name](np.zeros((2, 300), dtype=np.float32))
    assert str(e.value) == (
        f"cannot quantise a row of 300 values to {name}: the row length must be a multiple of 256"
    )
