"""The numpy Q6_K quantiser: ggml's bytes, ggml's layout, Q6_K's error between Q8_0's and Q4_K's."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from testlib.ggml_ref import libggml_quantize, ref_dequant_q6_k, ref_quantize_q6_k

from albor_gates.errors import UsageError
from albor_gates.formats.gguf_quants import QUANTIZABLE, quantize, quantize_q6_k

RELEASE = Path(__file__).resolve().parents[2] / "examples" / "albor-tiny-v1"
LIBGGML = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("llama_cpp") is None,
    reason="llama-cpp-python is not installed (pip install 'albor-gates[llama]'): no libggml-base",
)


def _edge_cases() -> np.ndarray:
    """Weights ~ N(0, 0.02) with the branches of quantize_row_q6_K_ref in them."""
    x = (np.random.default_rng(5).standard_normal((6, 512)) * 0.02).astype(np.float32)
    x[0, :16] = 0.0  # an all-zero sub-block: scale 0, codes 0
    x[1, :256] = 0.0  # an all-zero block: 210 zero bytes
    x[2, 16:32] = 1e-20  # below GROUP_MAX_EPS: treated as zero
    x[3, 32:48] *= 1e-4  # its int8 scale rounds to 0: make_qx_quants' codes are kept
    x[4, 7] = 1.0  # one outlier sets the block's d
    x[5, 256:] = np.abs(x[5, 256:])  # a block with no negative values
    return x


def _embedding() -> np.ndarray:
    from safetensors.numpy import load_file

    weights = load_file(str(RELEASE / "model.safetensors"))
    return weights["model.embed_tokens.weight"].astype(np.float32)


def _fidelity(x: np.ndarray, ggml_type: str) -> tuple[float, float]:
    """(relative L2 error, cosine) of ``x`` after a round trip through gguf-py's decoder."""
    y = gguf.quants.dequantize(quantize(x, ggml_type), T[ggml_type]).reshape(x.shape)
    a, b = x.astype(np.float64).ravel(), y.astype(np.float64).ravel()
    return (
        float(np.linalg.norm(a - b) / np.linalg.norm(a)),
        float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))),
    )


def test_q6_k_is_quantizable_and_has_ggml_block_layout() -> None:
    assert "Q6_K" in QUANTIZABLE
    x = _edge_cases()
    q = quantize(x, "Q6_K")
    assert q.dtype == np.uint8
    assert q.shape == (6, 2 * 210) == (6, 512 // 256 * gguf.GGML_QUANT_SIZES[T.Q6_K][1])
    assert quantize(x.reshape(2, 3, 512), "Q6_K").shape == (2, 3, 420)
    blocks = q.reshape(12, 210)
    assert not blocks[2].any()  # the all-zero block, d included
    # scales[16] at 192..207 (int8), d at 208 (fp16): the outlier's block has |scale| 128 once.
    scales = blocks[8, 192:208].view(np.int8)
    assert np.abs(scales.astype(int)).max() == 128
    assert scales[0] == -128  # the outlier's sub-block sets d: -128 · d = its scale
    assert blocks[4, 192 + 1] == 0  # the 1e-20 sub-block's scale
    assert blocks[6, 192 + 2] == 0  # the 1e-4 sub-block's scale rounds to 0


def test_q6_k_matches_the_scalar_ggml_reference_and_both_decoders() -> None:
    x = _edge_cases()
    ours = quantize_q6_k(x)
    assert ours.tobytes() == b"".join(ref_quantize_q6_k(row) for row in x)
    # gguf-py's vectorised decoder and the scalar translation of dequantize_row_q6_K agree.
    decoded = gguf.quants.dequantize(ours, T.Q6_K)
    raw = ours.tobytes()
    scalar = [v for i in range(12) for v in ref_dequant_q6_k(raw[i * 210 : (i + 1) * 210])]
    np.testing.assert_array_equal(decoded.reshape(-1), np.array(scalar, dtype=np.float32))
    # Each value within one step d·sc of its source (half a step but where a code clips at 31),
    # except in the outlier's block, whose other sub-blocks get int8 scales of 4-6 and clip;
    # a sub-block whose scale rounds to 0 decodes to zeros.
    blocks = ours.reshape(-1, 210)
    d = blocks[:, 208:210].copy().view(np.float16).astype(np.float32)
    step = np.abs(d * blocks[:, 192:208].view(np.int8).astype(np.float32))[:, :, None]
    got = decoded.reshape(-1, 16, 16)
    err = np.abs(got - x.reshape(-1, 16, 16))
    within = (err <= step) | (step == 0)
    assert within.all(axis=(1, 2)).tolist() == [i != 8 for i in range(12)]
    assert err[8, 0, 7] <= step[8, 0, 0] / 2  # the outlier itself
    assert (step == 0).sum() == 1 + 16 + 1 + 1  # zero sub-block, zero block, 1e-20, 1e-4
    assert not got[np.broadcast_to(step == 0, got.shape)].any()


def test_q6_k_matches_the_scalar_reference_on_real_weights() -> None:
    x = _embedding()[:64]  # 64 blocks: the scalar reference is slow
    assert quantize_q6_k(x).tobytes() == b"".join(ref_quantize_q6_k(row) for row in x)


@LIBGGML
def test_q6_k_is_byte_identical_to_libggml_quantize_row_q6_k_ref() -> None:
    rng = np.random.default_rng(11)
    cases = {
        "edge cases": _edge_cases(),
        "laplace": rng.laplace(size=(32, 1024)).astype(np.float32),
        "student-t(3)": rng.standard_t(3, size=(32, 1024)).astype(np.float32),
        "small integers": rng.integers(-5, 6, size=(32, 1024)).astype(np.float32),
        "albor-tiny-v1 embed_tokens": _embedding(),
    }
    for what, x in cases.items():
        assert quantize_q6_k(x).tobytes() == libggml_quantize("Q6_K", x), what


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # (relative L2 error, cosine) for Q4_K, Q6_K, Q8_0, measured.
        (
            "normal",
            {"Q4_K": (0.07102, 0.99748), "Q6_K": (0.01770, 0.99984), "Q8_0": (0.00534, 0.99999)},
        ),
        (
            "embedding",
            {"Q4_K": (0.06977, 0.99757), "Q6_K": (0.01772, 0.99984), "Q8_0": (0.00536, 0.99999)},
        ),
    ],
)
def test_q6_k_error_sits_between_q8_0_and_q4_k(data: str, expected: dict[str, tuple]) -> None:
    if data == "normal":
        x = np.random.default_rng(5).standard_normal((64, 1024)).astype(np.float32)
    else:
        x = _embedding()
    got = {t: _fidelity(x, t) for t in expected}
    for t, (rel, cos) in expected.items():
        assert got[t][0] == pytest.approx(rel, abs=5e-5), (t, got[t])
        assert got[t][1] == pytest.approx(cos, abs=5e-6), (t, got[t])
    assert got["Q8_0"][0] < got["Q6_K"][0] < got["Q4_K"][0] / 3.5


def test_q6_k_refuses_rows_that_are_not_whole_blocks() -> None:
    with pytest.raises(UsageError, match="row of 896 values to Q6_K: the row length must be a "):
        quantize(np.zeros((2, 896), np.float32), "Q6_K")
    with pytest.raises(UsageError, match="row of 1 values to Q6_K"):
        quantize_q6_k(np.float32(1.0))  # type: ignore[arg-type]


NATIVE = pytest.mark.skipif(
    __import__("albor_gates.formats._native", fromlist=["kquants"]).kquants() is None,
    reason="no C compiler here: the compiled K-quant searches are not built (numpy runs)",
)


def _oracle_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    sparse = rng.standard_normal((16, 4096)) * (rng.random((16, 4096)) < 0.05)
    signed_zero = np.where(rng.random((16, 4096)) < 0.5, -0.0, sparse)
    return {
        "normal": rng.standard_normal((64, 4096)) * 0.02,
        "laplace": rng.laplace(size=(64, 4096)),
        "student-t": rng.standard_t(2, size=(64, 4096)) * 3,
        "sparse": sparse,
        "signed zeros": signed_zero,
        "zeros": np.zeros((4, 4096)),
        "constant": np.full((4, 4096), 0.37),
        "negative constant": np.full((4, 4096), -2.5),
        "below eps": rng.standard_normal((4, 4096)) * 1e-20,
        "positive": np.abs(rng.standard_normal((8, 4096))) + 1,
        "edge cases": _edge_cases(),
        "real weights": _embedding()[:256],
        "one block": rng.standard_normal((1, 256)),  # fewer sub-blocks than vector lanes
    }


@NATIVE
@pytest.mark.parametrize("ggml_type", ["Q4_K", "Q6_K"])
def test_compiled_k_quants_are_byte_identical_to_the_numpy_path(
    ggml_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from albor_gates.formats import gguf_quants

    cases = {k: v.astype(np.float32) for k, v in _oracle_cases().items()}
    compiled = {k: quantize(v, ggml_type) for k, v in cases.items()}
    monkeypatch.setattr(gguf_quants, "kquants", lambda: None)
    for name, x in cases.items():
        assert compiled[name].tobytes() == quantize(x, ggml_type).tobytes(), name


@NATIVE
def test_compiled_k_quants_split_across_threads_give_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from albor_gates.model import native as _native

    x = (np.random.default_rng(3).standard_normal((72, 4096)) * 0.02).astype(np.float32)
    threaded = {t: quantize(x, t) for t in ("Q4_K", "Q6_K")}
    assert x.size // 32 > 2 * _native._MIN_PER_THREAD  # the split really happens
    monkeypatch.setattr(_native, "_MIN_PER_THREAD", 1 << 62)
    for t, got in threaded.items():
        assert got.tobytes() == quantize(x, t).tobytes()


def test_the_numpy_path_runs_without_the_compiled_library(monkeypatch: pytest.MonkeyPatch) -> None:
    from albor_gates.formats import _native

    monkeypatch.setenv("ALBOR_GATES_NATIVE", "0")
    _native.kquants.cache_clear()
    try:
        assert _native.kquants() is None
        x = _edge_cases()
        assert quantize_q6_k(x).tobytes() == b"".join(ref_quantize_q6_k(row) for row in x)
    finally:
        _native.kquants.cache_clear()
