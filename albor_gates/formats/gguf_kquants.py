"""The K-quants llama.cpp's presets use beside Q4_K and Q6_K: Q2_K, Q3_K and Q5_K writers.

Vectorised numpy translations of ggml's reference quantisers (``ggml-quants.c``), in float32
like the C code; they write ordinary blocks that gguf-py, llama.cpp and
:mod:`albor_gates.artifacts.gguf_dequant` decode (sums are pairwise in numpy, so near-ties may
resolve differently from ggml's sequential sums, as for :mod:`.gguf_quants`' Q4_K):

* ``quantize_row_q5_K_ref``: per 32-value sub-block an asymmetric scale/min search
  (``make_qkx2_quants(32, 31, x, w, L, &min, Laux, -0.5, 0.1, 15, false)``, weights
  ``sqrt(mean x²) + |x|``), 6-bit scales and mins packed as Q4_K's, 5-bit codes (low nibbles
  in ``qs``, the fifth bit in ``qh``). Block (176 bytes): ``d``, ``dmin`` fp16,
  ``scales[12]``, ``qh[32]``, ``qs[128]``.
* ``quantize_row_q3_K_ref``: per 16-value sub-block a symmetric search with coordinate descent
  (``make_q3_quants(16, 4, x, L, true)``, weights ``x²``), 6-bit signed scales relative to
  one fp16 ``d``, 3-bit codes (two bits in ``qs``, the third in ``hmask``). Block (110 bytes):
  ``hmask[32]``, ``qs[64]``, ``scales[12]``, ``d`` fp16.
* ``quantize_row_q2_K_ref``: per 16-value sub-block ``make_qkx2_quants(16, 3, x, |x|, L, &min,
  Laux, -0.5, 0.1, 15, true)`` (absolute-error metric), 4-bit scale and 4-bit min per
  sub-block, 2-bit codes. Block (84 bytes): ``scales[16]``, ``qs[64]``, ``d``, ``dmin`` fp16.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from albor_gates.formats.gguf_quants import (
    _GROUP_MAX_EPS,
    _quantize_k,
    lsq_scale_min,
    pack_k_header,
    super_scales,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

Q2_K_BLOCK_BYTES = 84
Q3_K_BLOCK_BYTES = 110
Q5_K_BLOCK_BYTES = 176


def _qkx2(
    x: npt.NDArray[np.float32],
    w: npt.NDArray[np.float32],
    nmax: int,
    *,
    rmin: float,
    nstep: int,
    use_mad: bool,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Vectorised ``make_qkx2_quants(n, nmax, x, w, L, &min, Laux, rmin, 0.1, nstep, use_mad)``.

    Args:
        x: (N, n) sub-blocks.
        w: (N, n) importance weights.
        nmax: largest code.
        rmin: first offset of the candidate scales ``(rmin + 0.1·k + nmax) / (max - min)``.
        nstep: candidates after the first (k = 0 … nstep).
        use_mad: weigh absolute rather than squared errors.

    Returns:
        (scale (N,), the positive offset ``-min`` (N,), codes (N, n) as float32).
    """
    import numpy as np

    f32 = np.float32
    top = f32(nmax)

    def error(scale: Any, mn: Any, codes: Any) -> Any:
        diff = scale[:, None] * codes + mn[:, None] - x
        return (w * (np.abs(diff) if use_mad else diff * diff)).sum(axis=1)

    mn = np.minimum(x.min(axis=1), f32(0))
    mx = x.max(axis=1)
    flat = mx == mn
    sum_w = w.sum(axis=1)
    sum_x = (w * x).sum(axis=1)
    iscale = top / np.where(flat, f32(1), mx - mn)
    codes = np.clip(np.rint(iscale[:, None] * (x - mn[:, None])), 0, top)
    scale = (f32(1) / iscale).astype(f32)
    best = error(scale, mn, codes)
    for step in range(nstep + 1):
        # ggml updates `min` in place when a candidate wins; the next candidate's codes use it
        span = mx - mn
        iscale = (f32(rmin) + f32(0.1) * f32(step) + top) / np.where(span == 0, f32(1), span)
        aux = np.clip(np.rint(iscale[:, None] * (x - mn[:, None])), 0, top)
        ok, this_scale, this_min = lsq_scale_min(x, w, aux, sum_w, sum_x)
        cur = error(this_scale, this_min, aux)
        better = ok & (cur < best)
        codes = np.where(better[:, None], aux, codes)
        best = np.where(better, cur, best)
        scale = np.where(better, this_scale, scale)
        mn = np.where(better, this_min, mn)
    scale_out = np.where(flat, f32(0), scale).astype(f32)
    codes_out = np.where(flat[:, None], f32(0), codes).astype(f32)
    return scale_out, (-mn).astype(f32), codes_out


def _q5_k_blocks(x: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise (B, 256) float32 blocks to (B, 176) Q5_K bytes (``quantize_row_q5_K_ref``)."""
    import numpy as np

    f32 = np.float32
    nb = x.shape[0]
    sub = x.reshape(nb * 8, 32)
    av_x = np.sqrt((sub * sub).sum(axis=1) / f32(32))
    scales, mins, codes = _qkx2(sub, av_x[:, None] + np.abs(sub), 31, rmin=-0.5, nstep=15,
                                use_mad=False)  # fmt: skip
    # the codes again, against the scales as they will be decoded (fp16 d × 6-bit sc)
    ls, lm, d16, dmin16, d, dm = super_scales(scales.reshape(nb, 8), mins.reshape(nb, 8))
    nonzero = d != 0
    requant = np.clip(
        np.rint((x.reshape(nb, 8, 32) + dm[:, :, None]) / np.where(nonzero, d, 1)[:, :, None]),
        0,
        31,
    )
    lv = np.where(nonzero[:, :, None], requant, codes.reshape(nb, 8, 32)).astype(np.uint8)

    out = np.empty((nb, Q5_K_BLOCK_BYTES), dtype=np.uint8)
    pack_k_header(out, d16, dmin16, ls, lm)  # get_scale_min_k4's packing, as in Q4_K
    # 64-value groups g: qs byte l holds values 64g + l (low nibble) and 64g + 32 + l (high);
    # qh byte l holds their fifth bits at bits 2g and 2g + 1
    pairs = lv.reshape(nb, 4, 2, 32)
    low = pairs & 0xF
    out[:, 48:] = (low[:, :, 0, :] | (low[:, :, 1, :] << 4)).reshape(nb, 128)
    high = (pairs >> 4).astype(np.uint8)
    shifts = (2 * np.arange(4, dtype=np.uint8))[None, :, None]
    qh = (high[:, :, 0, :] << shifts) | (high[:, :, 1, :] << (shifts + 1))
    out[:, 16:48] = np.bitwise_or.reduce(qh, axis=1)
    return out


def _q3_codes(x: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], ...]:
    """Vectorised ``make_q3_quants(16, 4, x, L, true)`` over (N, 16) sub-blocks.

    Returns:
        (scale (N,), codes ``l + 4`` (N, 16) as float32).
    """
    import numpy as np

    f32 = np.float32
    nmax = f32(4)
    n = x.shape[0]
    rows = np.arange(n)
    peak = x[rows, np.abs(x).argmax(axis=1)]
    zero = np.abs(peak) < f32(_GROUP_MAX_EPS)
    iscale = -nmax / np.where(zero, f32(1), peak)
    lv = np.clip(np.rint(iscale[:, None] * x), -nmax, nmax - 1)
    w = x * x
    sumlx = (w * x * lv).sum(axis=1)
    suml2 = (w * lv * lv).sum(axis=1)
    for _ in range(5):  # coordinate descent, element by element as in ggml
        changed = np.zeros(n, dtype=bool)
        for i in range(x.shape[1]):
            xi, wi, li = x[:, i], w[:, i], lv[:, i]
            slx = sumlx - wi * xi * li
            sl2 = suml2 - wi * li * li
            pos = slx > 0
            new = np.clip(np.rint(xi * sl2 / np.where(pos, slx, f32(1))), -nmax, nmax - 1)
            slx_new = slx + wi * xi * new
            sl2_new = sl2 + wi * new * new
            take = (
                pos
                & (new != li)
                & (sl2_new > 0)
                & (slx_new * slx_new * suml2 > sumlx * sumlx * sl2_new)
            )
            lv[:, i] = np.where(take, new, li)
            sumlx = np.where(take, slx_new, sumlx)
            suml2 = np.where(take, sl2_new, suml2)
            changed |= take
        if not changed.any():
            break
    scale = np.where(zero | (suml2 == 0), f32(0), sumlx / np.where(suml2 == 0, f32(1), suml2))
    return scale.astype(f32), np.where(zero[:, None], f32(0), lv + nmax).astype(f32)


def _q3_k_blocks(x: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise (B, 256) float32 blocks to (B, 110) Q3_K bytes (``quantize_row_q3_K_ref``)."""
    import numpy as np

    f32 = np.float32
    nb = x.shape[0]
    scales, codes = _q3_codes(x.reshape(nb * 16, 16))
    scales = scales.reshape(nb, 16)
    rows = np.arange(nb)
    max_scale = scales[rows, np.abs(scales).argmax(axis=1)]
    empty = max_scale == 0
    iscale = f32(-32) / np.where(empty, f32(1), max_scale)
    lsc = (np.clip(np.rint(iscale[:, None] * scales), -32, 31) + 32).astype(np.uint8)
    lsc = np.where(empty[:, None], np.uint8(0), lsc)
    d16 = np.where(empty, f32(0), f32(1) / iscale).astype(np.float16)
    # the codes again against the decoded scales; a zero scale keeps make_q3_quants' codes
    d = d16.astype(f32)[:, None] * (lsc.astype(f32) - f32(32))
    d = np.where(empty[:, None], f32(0), d)
    nonzero = d != 0
    xs = x.reshape(nb, 16, 16)
    requant = np.clip(np.rint(xs / np.where(nonzero, d, f32(1))[:, :, None]), -4, 3) + 4
    lv = np.where(nonzero[:, :, None], requant, codes.reshape(nb, 16, 16)).astype(np.uint8)
    lv = lv.reshape(nb, 256)

    out = np.zeros((nb, Q3_K_BLOCK_BYTES), dtype=np.uint8)
    # hmask: value j's third bit at bit j // 32 of byte j % 32
    hbits = (lv >> 2).reshape(nb, 8, 32) << np.arange(8, dtype=np.uint8)[None, :, None]
    out[:, 0:32] = np.bitwise_or.reduce(hbits, axis=1)
    low = (lv & 3).reshape(nb, 2, 4, 32) << (2 * np.arange(4, dtype=np.uint8))[None, None, :, None]
    out[:, 32:96] = np.bitwise_or.reduce(low, axis=2).reshape(nb, 64)
    # scales[12]: low nibbles of sc[0..7] and (<<4) sc[8..15] in bytes 0..7; the high two
    # bits of sc[j] at bits 2·(j // 4) of byte 8 + j % 4
    out[:, 96:104] = (lsc[:, 0:8] & 0xF) | ((lsc[:, 8:16] & 0xF) << 4)
    hi = (lsc >> 4).reshape(nb, 4, 4) << (2 * np.arange(4, dtype=np.uint8))[None, :, None]
    out[:, 104:108] = np.bitwise_or.reduce(hi, axis=1)
    out[:, 108:110] = d16.view(np.uint8).reshape(nb, 2)
    return out


def _q2_k_blocks(x: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise (B, 256) float32 blocks to (B, 84) Q2_K bytes (``quantize_row_q2_K_ref``)."""
    import numpy as np

    f32 = np.float32
    nb = x.shape[0]
    sub = x.reshape(nb * 16, 16)
    scales, mins, codes = _qkx2(sub, np.abs(sub), 3, rmin=-0.5, nstep=15, use_mad=True)
    scales, mins = scales.reshape(nb, 16), mins.reshape(nb, 16)
    max_scale = np.maximum(scales.max(axis=1), f32(0))
    max_min = np.maximum(mins.max(axis=1), f32(0))
    q4 = f32(15)
    ls = np.where(
        max_scale[:, None] > 0,
        np.rint(q4 / np.where(max_scale > 0, max_scale, 1)[:, None] * scales),
        0,
    ).astype(np.uint8)
    lm = np.where(
        max_min[:, None] > 0, np.rint(q4 / np.where(max_min > 0, max_min, 1)[:, None] * mins), 0
    ).astype(np.uint8)
    d16 = np.where(max_scale > 0, max_scale / q4, f32(0)).astype(np.float16)
    dmin16 = np.where(max_min > 0, max_min / q4, f32(0)).astype(np.float16)
    d = d16.astype(f32)[:, None] * (ls & 0xF).astype(f32)
    dm = dmin16.astype(f32)[:, None] * (lm & 0xF).astype(f32)
    nonzero = d != 0
    xs = x.reshape(nb, 16, 16)
    requant = np.clip(
        np.rint((xs + dm[:, :, None]) / np.where(nonzero, d, f32(1))[:, :, None]), 0, 3
    )
    lv = np.where(nonzero[:, :, None], requant, codes.reshape(nb, 16, 16)).astype(np.uint8)

    out = np.empty((nb, Q2_K_BLOCK_BYTES), dtype=np.uint8)
    out[:, 0:16] = (ls & 0xF) | (lm << 4)
    q = lv.reshape(nb, 2, 4, 32) << (2 * np.arange(4, dtype=np.uint8))[None, None, :, None]
    out[:, 16:80] = np.bitwise_or.reduce(q, axis=2).reshape(nb, 64)
    out[:, 80:82] = d16.view(np.uint8).reshape(nb, 2)
    out[:, 82:84] = dmin16.view(np.uint8).reshape(nb, 2)
    return out


def quantize_q2_k(data: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise a row-major fp32 array (rows a multiple of 256) to Q2_K bytes."""
    return _quantize_k(data, "Q2_K", Q2_K_BLOCK_BYTES, _q2_k_blocks)


def quantize_q3_k(data: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise a row-major fp32 array (rows a multiple of 256) to Q3_K bytes."""
    return _quantize_k(data, "Q3_K", Q3_K_BLOCK_BYTES, _q3_k_blocks)


def quantize_q5_k(data: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """Quantise a row-major fp32 array (rows a multiple of 256) to Q5_K bytes."""
    return _quantize_k(data, "Q5_K", Q5_K_BLOCK_BYTES, _q5_k_blocks)


#: llama.cpp's ``_M`` presets: the ``attn_v`` and ``ffn_down`` weights of the layers
#: :func:`use_more_bits` picks take this type (``llama_tensor_get_type``).
MIXES = {"q4_k_m": "Q6_K", "q5_k_m": "Q6_K"}


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    """llama.cpp's ``use_more_bits``: the first and last eighth, and every third in between."""
    return (
        i_layer < n_layers // 8
        or i_layer >= 7 * n_layers // 8
        or (i_layer - n_layers // 8) % 3 == 2
    )


def mixed_type(name: str, quant: str, n_layers: int) -> str | None:
    """The type a K-quant mix gives the GGUF tensor ``name``, or None to keep the preset's.

    Args:
        name: e.g. ``blk.3.attn_v.weight``.
        quant: the ``--quant`` preset (``q4_k_m``, ``q5_k_m``; any other has no mix).
        n_layers: the model's ``num_hidden_layers``.
    """
    more = MIXES.get(quant)
    parts = name.split(".")
    if more is None or len(parts) < 3 or parts[0] != "blk" or not parts[1].isdigit():
        return None
    if parts[2] in ("attn_v", "ffn_down") and use_more_bits(int(parts[1]), n_layers):
        return more
    return None
