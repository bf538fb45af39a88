"""Quantisation to ggml block formats: gguf-py's quantisers plus numpy Q4_K and Q6_K ones.

gguf-py (0.19) quantises BF16, Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 (bit-exact with ggml's
reference C for Q8_0) but none of the K-quants; :func:`quantize_q4_k` and
:func:`quantize_q6_k` fill that gap.

:func:`quantize_q4_k` is a vectorised translation of ggml's ``quantize_row_q4_K_ref``
(``ggml-quants.c``): per 32-element sub-block a weighted min/scale search
(``make_qkx2_quants``: weights ``sqrt(mean x²) + |x|``, 21 candidate scales from
``(15 + (-1 + 0.1·i)) / (max - min)``, least-squares refit of scale and min per candidate, keep
the best), then 6-bit scales and mins relative to the block's fp16 ``d`` / ``dmin``, then 4-bit
codes recomputed against the rounded scales. It runs in float32 like the C code; sums are
pairwise in numpy rather than sequential, so near-ties resolve differently from ggml's: against
libggml-base's ``quantize_row_q4_K_ref`` 0.4–3.5 % of blocks differ in a few bytes (measured on
normal, Laplace, Student-t and the example release's weights) — the block layout and the error
(relative RMSE within 1e-7 of ggml's) are the same, and gguf-py / llama.cpp decode the result as
ordinary Q4_K.

Speed: both searches (and the re-quantisation against the rounded scales) also exist in C,
``_kquants.c``, compiled on first use by :mod:`albor_gates.formats._native` and split across
the CPUs; it performs the numpy code's float32 operations in the numpy code's order, so its
bytes are identical (a test compares the two on normal, heavy-tailed, sparse, signed-zero,
constant and real weights). Measured by ``benchmarks/bench_perf.py`` on the shared 2-core CPU:
Q4_K 12 → ~200 MB/s, Q6_K 43 → ~260 MB/s (median of 5, load 1.3; the searches alone
reach 336 and 425 MB/s on one core). Without a C compiler the numpy path runs.

Q4_K block (144 bytes per 256 weights): ``d`` fp16, ``dmin`` fp16, ``scales[12]`` (eight 6-bit
scales and eight 6-bit mins packed), ``qs[128]`` (nibbles: byte ``l`` of 32-byte group ``g``
holds weight ``64g + l`` in its low and ``64g + 32 + l`` in its high half).

:func:`quantize_q6_k` translates ``quantize_row_q6_K_ref``: per 16-element sub-block a symmetric
scale search (``make_qx_quants(16, 32, x, L, 1, NULL)``: the element of largest magnitude sets
``iscale = -32 / max``, codes ``clamp(round(iscale·x), -32, 31)``, weights ``x²``, the
least-squares scale ``Σwxl / Σwl²`` refitted for 18 more ``iscale = -(32 + 0.1·k) / max``,
``k = ±1 … ±9``, keeping the one with the largest ``(Σwxl)² / Σwl²``), then one fp16 ``d`` per
block from the scale of largest magnitude (``d = max_scale / -128``) and signed 8-bit scales
``min(127, round(-128 · scale / max_scale))``, then 6-bit codes ``clamp(round(x / (d·sc)), -32,
31) + 32`` against the rounded scales. The per-sub-block sums run sequentially in float32 as in
the C code (numpy reduces over a non-contiguous axis in order), so the bytes match ggml's
reference byte for byte (``tests/formats/test_gguf_quants.py`` compares them with the
``quantize_row_q6_K_ref`` of llama-cpp-python's ``libggml-base`` where it is installed).

Q6_K block (210 bytes per 256 weights): ``ql[128]`` (low 4 bits: byte ``l`` of 64-byte half
``h`` holds weight ``128h + l`` in its low and ``128h + 64 + l`` in its high nibble, byte
``32 + l`` weights ``128h + 32 + l`` and ``128h + 96 + l``), ``qh[64]`` (high 2 bits: byte ``l``
of half ``h`` holds weights ``128h + 32k + l``, k = 0…3, at bits ``2k``), ``scales[16]`` (int8),
``d`` fp16.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from albor_gates.errors import UsageError
from albor_gates.formats._native import kquants, parallel

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import numpy.typing as npt

QK_K = 256
Q4_K_BLOCK_BYTES = 144
Q6_K_BLOCK_BYTES = 210
# ggml's GROUP_MAX_EPS: a group whose largest magnitude is below it quantises to zeros.
_GROUP_MAX_EPS = 1e-15

# Blocks quantised per numpy pass: ~8 MiB of float32 temporaries per (N, 32) array.
_BLOCKS_PER_PASS = 8192

#: ggml types this module (with gguf-py) can produce.
QUANTIZABLE = frozenset(
    {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q6_K"}
    | {"Q2_K", "Q3_K", "Q5_K"}  # gguf_kquants.py
)


def quantize(data: npt.NDArray[np.float32], ggml_type: str) -> npt.NDArray[np.generic]:
    """Quantise a row-major fp32 array to ``ggml_type``.

    Args:
        data: the tensor in row-major (torch) order; its last dimension is ggml's row.
        ggml_type: one of :data:`QUANTIZABLE`.

    Returns:
        float32 / float16 arrays for F32 / F16; for every other type a uint8 array whose last
        dimension holds the row's blocks (gguf-py's byte-shape convention, which
        ``GGUFWriter.add_tensor(..., raw_dtype=...)`` expects).

    Raises:
        UsageError: for a type outside :data:`QUANTIZABLE` or a row length that is not a
            multiple of the type's block size.
    """
    import gguf
    import numpy as np

    if ggml_type not in QUANTIZABLE:
        raise UsageError(
            f"cannot quantise to {ggml_type}; supported: {', '.join(sorted(QUANTIZABLE))}"
        )
    data = np.ascontiguousarray(data, dtype=np.float32)
    if ggml_type == "Q4_K":
        return quantize_q4_k(data)
    if ggml_type == "Q6_K":
        return quantize_q6_k(data)
    if ggml_type in ("Q2_K", "Q3_K", "Q5_K"):
        from albor_gates.formats import gguf_kquants

        return getattr(gguf_kquants, f"quantize_{ggml_type.lower()}")(data)
    qtype = gguf.GGMLQuantizationType[ggml_type]
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if data.shape[-1] % block:
        raise UsageError(
            f"cannot quantise a row of {data.shape[-1]} values to {ggml_type}: the row length "
            f"must be a multiple of {block}"
        )
    return gguf.quants.quantize(data, qtype)


_U8 = ctypes.c_uint8


def _ptr(a: npt.NDArray[Any], ctype: type[Any] = ctypes.c_float) -> Any:
    """A ctypes pointer to a contiguous array's data (for the compiled searches)."""
    return a.ctypes.data_as(ctypes.POINTER(ctype))


def _requant(
    lib: Any,
    subs: npt.NDArray[np.float32],
    d: npt.NDArray[np.float32],
    dm: npt.NDArray[np.float32] | None,
    clip_bias: tuple[int, int, int],
    codes: npt.NDArray[np.uint8],
) -> npt.NDArray[np.uint8]:
    """The compiled re-quantisation of (N, k) sub-blocks against decoded scales ``d`` (+ ``dm``).

    ``clip_bias``: (low, high, offset) of the stored codes; ``codes`` are the search's, kept
    where ``d`` is 0.
    """
    import numpy as np

    n, k = subs.shape
    flat_d = d.reshape(-1)
    flat_dm = None if dm is None else dm.reshape(-1)
    lo, hi, bias = clip_bias
    out = np.empty((n, k), dtype=np.uint8)
    parallel(
        n,
        lambda s, e: lib.requant(
            _ptr(subs[s:e]),
            e - s,
            k,
            _ptr(flat_d[s:e]),
            None if flat_dm is None else _ptr(flat_dm[s:e]),
            lo,
            hi,
            bias,
            _ptr(codes[s:e], _U8),
            _ptr(out[s:e], _U8),
        ),
    )
    return out


def lsq_scale_min(x: Any, w: Any, aux: Any, sum_w: Any, sum_x: Any) -> tuple[Any, Any, Any]:
    """One candidate of ggml's ``make_qkx2_quants``: the weighted least-squares scale and min.

    For codes ``aux`` (N, n) of rows ``x`` with weights ``w`` (``sum_w``, ``sum_x`` their row
    sums), the scale and min minimising ``Σ w (scale·aux + min − x)²``; a positive min is clamped
    to 0 and the scale refitted alone, as ggml does. Shared by Q4_K and the other K-quants
    (formats/gguf_kquants.py) so both keep ggml's float32 operation order.

    Returns:
        (ok: the fit is defined (det > 0), scale (N,), min (N,)), float32.
    """
    import numpy as np

    f32 = np.float32
    wl = w * aux
    sum_l = wl.sum(axis=1)
    sum_l2 = (wl * aux).sum(axis=1)
    sum_xl = (wl * x).sum(axis=1)
    det = sum_w * sum_l2 - sum_l * sum_l
    ok = det > 0
    det = np.where(ok, det, f32(1))
    this_scale = (sum_w * sum_xl - sum_x * sum_l) / det
    this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det
    positive = this_min > 0
    this_min = np.where(positive, f32(0), this_min).astype(f32)
    this_scale = np.where(
        positive, sum_xl / np.where(sum_l2 > 0, sum_l2, f32(1)), this_scale
    ).astype(f32)
    return ok, this_scale, this_min


def _make_qkx2(
    x: npt.NDArray[np.float32], w: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Vectorised ``make_qkx2_quants(32, 15, x, w, L, &the_min, Laux, -1, 0.1, 20, false)``.

    Args:
        x: (N, 32) sub-blocks.
        w: (N, 32) importance weights.

    Returns:
        (scale (N,), the_min (N,) — the positive offset, codes L (N, 32) as float32).
    """
    import numpy as np

    nmax = np.float32(15)
    f32 = np.float32
    mn = np.minimum(x.min(axis=1), f32(0))
    mx = x.max(axis=1)
    flat = mx == mn
    sum_w = w.sum(axis=1)
    sum_x = (w * x).sum(axis=1)
    span = np.where(flat, f32(1), mx - mn)
    iscale = nmax / span
    codes = np.clip(np.rint(iscale[:, None] * (x - mn[:, None])), 0, nmax)
    scale = f32(1) / iscale
    diff = scale[:, None] * codes + mn[:, None] - x
    best = (w * diff * diff).sum(axis=1)
    for step in range(21):
        # ggml updates `min` in place when a candidate wins, and the next candidate's codes use it.
        span = mx - mn
        iscale = (f32(-1) + f32(0.1) * f32(step) + nmax) / np.where(span == 0, f32(1), span)
        aux = np.clip(np.rint(iscale[:, None] * (x - mn[:, None])), 0, nmax)
        ok, this_scale, this_min = lsq_scale_min(x, w, aux, sum_w, sum_x)
        diff = this_scale[:, None] * aux + this_min[:, None] - x
        cur = (w * diff * diff).sum(axis=1)
        better = ok & (cur < best)
        codes = np.where(better[:, None], aux, codes)
        best = np.where(better, cur, best)
        scale = np.where(better, this_scale, scale)
        mn = np.where(better, this_min, mn)
    scale_out: npt.NDArray[np.float32] = np.where(flat, f32(0), scale).astype(np.float32)
    codes_out: npt.NDArray[np.float32] = np.where(flat[:, None], f32(0), codes).astype(np.float32)
    return scale_out, (-mn).astype(np.float32), codes_out


def super_scales(scales: Any, mins: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Q4_K / Q5_K super-block scales: eight sub-block scales and mins to 6 bits each.

    Args:
        scales: (B, 8) sub-block scales.
        mins: (B, 8) their positive offsets.

    Returns:
        (ls, lm: 6-bit codes (B, 8) uint8; d16, dmin16: the fp16 super scales (B,); d, dm: the
        scales and mins as they will be decoded, fp16 d × 6-bit code, (B, 8) float32 — the codes
        are recomputed against these).
    """
    import numpy as np

    f32 = np.float32
    max_scale = np.maximum(scales.max(axis=1), f32(0))
    max_min = np.maximum(mins.max(axis=1), f32(0))
    inv_scale = np.where(max_scale > 0, f32(63) / np.where(max_scale > 0, max_scale, 1), f32(0))
    inv_min = np.where(max_min > 0, f32(63) / np.where(max_min > 0, max_min, 1), f32(0))
    ls = np.clip(np.rint(inv_scale[:, None] * scales), 0, 63).astype(np.uint8)
    lm = np.clip(np.rint(inv_min[:, None] * mins), 0, 63).astype(np.uint8)
    d16 = (max_scale / f32(63)).astype(np.float16)
    dmin16 = (max_min / f32(63)).astype(np.float16)
    d = d16.astype(f32)[:, None] * ls.astype(f32)
    dm = dmin16.astype(f32)[:, None] * lm.astype(f32)
    return ls, lm, d16, dmin16, d, dm


def _q4_k_blocks(x: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise (B, 256) float32 blocks to (B, 144) Q4_K bytes (``quantize_row_q4_K_ref``)."""
    import numpy as np

    f32 = np.float32
    nb = x.shape[0]
    sub = np.ascontiguousarray(x.reshape(nb * 8, 32))
    lib = kquants()
    if lib is not None:
        scales = np.empty(nb * 8, dtype=f32)
        mins = np.empty(nb * 8, dtype=f32)
        codes = np.empty((nb * 8, 32), dtype=np.uint8)
        parallel(
            nb * 8,
            lambda s, e: lib.q4_k_search(
                _ptr(sub[s:e]), e - s, _ptr(scales[s:e]), _ptr(mins[s:e]), _ptr(codes[s:e], _U8)
            ),
        )
    else:
        av_x = np.sqrt((sub * sub).sum(axis=1) / f32(32))
        weights = av_x[:, None] + np.abs(sub)
        scales, mins, codes = _make_qkx2(sub, weights)
    ls, lm, d16, dmin16, d, dm = super_scales(scales.reshape(nb, 8), mins.reshape(nb, 8))
    if lib is not None:
        codes8 = _requant(lib, sub, d, dm, (0, 15, 0), codes)
    else:
        xs = x.reshape(nb, 8, 32)
        nonzero = d != 0
        requant = np.clip(
            np.rint((xs + dm[:, :, None]) / np.where(nonzero, d, f32(1))[:, :, None]), 0, 15
        )
        codes8 = np.where(nonzero[:, :, None], requant, codes.reshape(nb, 8, 32)).astype(np.uint8)

    out = np.empty((nb, Q4_K_BLOCK_BYTES), dtype=np.uint8)
    pack_k_header(out, d16, dmin16, ls, lm)
    pairs = codes8.reshape(nb, 4, 2, 32)
    out[:, 16:] = (pairs[:, :, 0, :] | (pairs[:, :, 1, :] << 4)).reshape(nb, 128)
    return out


def pack_k_header(
    out: npt.NDArray[np.uint8],
    d16: npt.NDArray[np.float16],
    dmin16: npt.NDArray[np.float16],
    ls: npt.NDArray[np.uint8],
    lm: npt.NDArray[np.uint8],
) -> None:
    """Write a Q4_K / Q5_K block's first 16 bytes: fp16 d, fp16 dmin, the 6-bit scales and mins.

    scales[0..3]: sc[0..3] | high 2 bits of sc[4..7]; scales[4..7]: m[0..3] | high bits of
    m[4..7]; scales[8..11]: low nibbles of sc[4..7] and m[4..7] (ggml's get_scale_min_k4).
    """
    import numpy as np

    nb = out.shape[0]
    out[:, 0:2] = d16.view(np.uint8).reshape(nb, 2)
    out[:, 2:4] = dmin16.view(np.uint8).reshape(nb, 2)
    out[:, 4:8] = ls[:, 0:4] | ((ls[:, 4:8] >> 4) << 6)
    out[:, 8:12] = lm[:, 0:4] | ((lm[:, 4:8] >> 4) << 6)
    out[:, 12:16] = (ls[:, 4:8] & 0xF) | ((lm[:, 4:8] & 0xF) << 4)


def _quantize_k(
    data: npt.NDArray[np.float32],
    ggml_type: str,
    block_bytes: int,
    blocks: Callable[[npt.NDArray[np.float32]], npt.NDArray[np.uint8]],
) -> npt.NDArray[np.uint8]:
    """Run ``blocks`` over the 256-value blocks of ``data`` in passes of bounded memory."""
    import numpy as np

    if data.ndim == 0 or data.shape[-1] % QK_K:
        raise UsageError(
            f"cannot quantise a row of {data.shape[-1] if data.ndim else 1} values to "
            f"{ggml_type}: the row length must be a multiple of {QK_K}"
        )
    flat = np.ascontiguousarray(data, dtype=np.float32).reshape(-1, QK_K)
    out = np.empty((flat.shape[0], block_bytes), dtype=np.uint8)
    for s in range(0, flat.shape[0], _BLOCKS_PER_PASS):
        e = min(flat.shape[0], s + _BLOCKS_PER_PASS)
        out[s:e] = blocks(flat[s:e])
    return out.reshape(*data.shape[:-1], data.shape[-1] // QK_K * block_bytes)


def quantize_q4_k(data: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise a row-major fp32 array to Q4_K bytes (gguf-py's byte-shape convention).

    Args:
        data: any shape whose last dimension (the ggml row) is a multiple of 256.

    Returns:
        uint8 array of shape ``(*data.shape[:-1], data.shape[-1] // 256 * 144)``.

    Raises:
        UsageError: when the row length is not a multiple of 256.
    """
    return _quantize_k(data, "Q4_K", Q4_K_BLOCK_BYTES, _q4_k_blocks)


def _make_qx(
    x: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """Vectorised ``make_qx_quants(16, 32, x, L, 1, NULL)`` over sub-blocks laid out as columns.

    Args:
        x: (16, N) — sub-block ``i`` is column ``i``, so sums over axis 0 run in element order
            like the C loop.

    Returns:
        (scale (N,), codes ``l + 32`` (16, N) as uint8); a sub-block whose largest magnitude
        is below ``GROUP_MAX_EPS`` gets scale 0 and codes 0.
    """
    import numpy as np

    f32 = np.float32
    nmax = f32(32)
    n = x.shape[1]
    cols = np.arange(n)
    peak = x[np.abs(x).argmax(axis=0), cols]  # the first element of largest magnitude
    zero = np.abs(peak) < f32(_GROUP_MAX_EPS)
    peak = np.where(zero, f32(1), peak)
    w = x * x
    wx = w * x

    def fit(iscale: npt.NDArray[Any]) -> tuple[npt.NDArray[np.float32], ...]:
        lv = np.clip(np.rint(iscale * x), -nmax, nmax - 1)
        return (wx * lv).sum(axis=0), (w * lv * lv).sum(axis=0)

    best_iscale = -nmax / peak
    sumlx, suml2 = fit(best_iscale)
    scale = np.where(suml2 != 0, sumlx / np.where(suml2 != 0, suml2, f32(1)), f32(0))
    best = scale * sumlx
    for step in (*range(-9, 0), *range(1, 10)):
        iscale = -(nmax + f32(0.1) * f32(step)) / peak
        sumlx, suml2 = fit(iscale)
        better = (suml2 > 0) & (sumlx * sumlx > best * suml2)
        this_scale = sumlx / np.where(better, suml2, f32(1))
        scale = np.where(better, this_scale, scale)
        best = np.where(better, this_scale * sumlx, best)
        best_iscale = np.where(better, iscale, best_iscale)
    codes = np.clip(np.rint(best_iscale * x), -nmax, nmax - 1) + nmax
    codes_out: npt.NDArray[np.uint8] = np.where(zero, f32(0), codes).astype(np.uint8)
    scale_out: npt.NDArray[np.float32] = np.where(zero, f32(0), scale).astype(f32)
    return scale_out, codes_out


def _q6_k_blocks(x: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise (B, 256) float32 blocks to (B, 210) Q6_K bytes (``quantize_row_q6_K_ref``)."""
    import numpy as np

    f32 = np.float32
    nb = x.shape[0]
    lib = kquants()
    if lib is not None:
        subs = np.ascontiguousarray(x.reshape(nb * 16, 16))
        scales = np.empty(nb * 16, dtype=f32)
        codes = np.empty((nb * 16, 16), dtype=np.uint8)
        eps = f32(_GROUP_MAX_EPS)
        parallel(
            nb * 16,
            lambda s, e: lib.q6_k_search(
                _ptr(subs[s:e]), e - s, eps, _ptr(scales[s:e]), _ptr(codes[s:e], _U8)
            ),
        )
    else:
        scales, codes = _make_qx(np.ascontiguousarray(x.reshape(nb * 16, 16).T))
        codes = codes.T.reshape(nb, 16, 16)
    scales = scales.reshape(nb, 16)
    rows = np.arange(nb)
    max_scale = scales[rows, np.abs(scales).argmax(axis=1)]  # signed, first of largest |scale|
    empty = np.abs(max_scale) < f32(_GROUP_MAX_EPS)
    iscale = f32(-128) / np.where(empty, f32(1), max_scale)
    d16 = np.where(empty, f32(0), f32(1) / iscale).astype(np.float16)
    sc = np.minimum(np.rint(iscale[:, None] * scales), 127).astype(np.int8)

    # Recompute the codes against the scales as they will be decoded (fp16 d × int8 sc); a
    # sub-block whose rounded scale is 0 keeps make_qx_quants' codes, as in ggml.
    d = d16.astype(f32)[:, None] * sc.astype(f32)
    if lib is not None:
        lv = _requant(lib, subs, d, None, (-32, 31, 32), codes)
        lv = lv.reshape(nb, 2, 4, 32)
    else:
        nonzero = d != 0
        xs = x.reshape(nb, 16, 16)
        requant = np.clip(np.rint(xs / np.where(nonzero, d, f32(1))[:, :, None]), -32, 31) + 32
        lv = np.where(nonzero[:, :, None], requant, codes).astype(np.uint8).reshape(nb, 2, 4, 32)

    out = np.zeros((nb, Q6_K_BLOCK_BYTES), dtype=np.uint8)
    lo, hi = lv & 0xF, lv >> 4
    ql = np.stack((lo[:, :, 0] | (lo[:, :, 2] << 4), lo[:, :, 1] | (lo[:, :, 3] << 4)), axis=2)
    out[:, 0:128] = ql.reshape(nb, 128)
    qh = hi[:, :, 0] | (hi[:, :, 1] << 2) | (hi[:, :, 2] << 4) | (hi[:, :, 3] << 6)
    out[:, 128:192] = qh.reshape(nb, 64)
    out[:, 192:208] = sc.view(np.uint8)
    out[:, 208:210] = d16.view(np.uint8).reshape(nb, 2)
    out[empty] = 0  # ggml zeroes the whole block when every scale is (near) zero
    return out


def quantize_q6_k(data: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise a row-major fp32 array to Q6_K bytes (gguf-py's byte-shape convention).

    Args:
        data: any shape whose last dimension (the ggml row) is a multiple of 256.

    Returns:
        uint8 array of shape ``(*data.shape[:-1], data.shape[-1] // 256 * 210)``.

    Raises:
        UsageError: when the row length is not a multiple of 256.
    """
    return _quantize_k(data, "Q6_K", Q6_K_BLOCK_BYTES, _q6_k_blocks)
