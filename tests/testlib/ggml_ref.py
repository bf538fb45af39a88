"""Independent ggml block-format references for the GGUF tests.

* ``ref_dequant_*``: line-by-line Python translations of ggml's scalar C decoders
  (``dequantize_row_q2_K`` … ``dequantize_row_q6_K`` in ``ggml-quants.c``), one block at a time.
  They share no code with gguf-py's vectorised decoders, so agreement on random bytes checks
  the layout both ways.
* ``pack_*`` / ``quantize_*_simple``: build K-quant blocks by hand from integer codes and
  scales following the same layouts (gguf-py has no K-quant quantiser), with a plain
  round-to-nearest quantiser on top; ``expected`` values come straight from the codes.
* ``ref_quantize_q4_k`` / ``ref_quantize_q6_k``: scalar translations of
  ``quantize_row_q4_K_ref`` / ``make_qkx2_quants`` and ``quantize_row_q6_K_ref`` /
  ``make_qx_quants`` to compare the production numpy quantisers with.
* ``libggml_quantize``: ggml's own ``quantize_row_*_ref`` from the ``libggml-base`` that
  llama-cpp-python ships, through ctypes (None when llama-cpp-python is not installed).
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path

import numpy as np

QK_K = 256
f32 = np.float32


def _h(b: bytes, at: int) -> float:
    return float(np.frombuffer(b[at : at + 2], dtype="<f2")[0])


def _scale_min_k4(j: int, q: bytes) -> tuple[int, int]:
    if j < 4:
        return q[j] & 63, q[j + 4] & 63
    return (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)


# ----------------------------------------------------------------- scalar decoders (ggml C)


def ref_dequant_q2_k(b: bytes) -> list[float]:
    scales, qs = b[0:16], b[16:80]
    d, dmin = _h(b, 80), _h(b, 82)
    y: list[float] = []
    is_ = 0
    q = 0
    for _n in range(0, QK_K, 128):
        shift = 0
        for _j in range(4):
            sc = scales[is_]
            is_ += 1
            dl, ml = d * (sc & 0xF), dmin * (sc >> 4)
            y += [dl * ((qs[q + li] >> shift) & 3) - ml for li in range(16)]
            sc = scales[is_]
            is_ += 1
            dl, ml = d * (sc & 0xF), dmin * (sc >> 4)
            y += [dl * ((qs[q + li + 16] >> shift) & 3) - ml for li in range(16)]
            shift += 2
        q += 32
    return y


def ref_dequant_q3_k(b: bytes) -> list[float]:
    hm, qs, raw = b[0:32], b[32:96], b[96:108]
    d_all = _h(b, 108)
    aux = list(np.frombuffer(raw + b"\0\0\0\0", dtype="<u4")[:4].astype(np.uint64))
    kmask1, kmask2 = 0x03030303, 0x0F0F0F0F
    tmp = int(aux[2])
    a0, a1 = int(aux[0]), int(aux[1])
    aux = [
        (a0 & kmask2) | (((tmp >> 0) & kmask1) << 4),
        (a1 & kmask2) | (((tmp >> 2) & kmask1) << 4),
        ((a0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4),
        ((a1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4),
    ]
    scales = np.array(aux, dtype="<u4").view(np.int8)
    y: list[float] = []
    is_ = 0
    q = 0
    m = 1
    for _n in range(0, QK_K, 128):
        shift = 0
        for _j in range(4):
            dl = d_all * (int(scales[is_]) - 32)
            is_ += 1
            y += [dl * (((qs[q + li] >> shift) & 3) - (0 if hm[li] & m else 4)) for li in range(16)]
            dl = d_all * (int(scales[is_]) - 32)
            is_ += 1
            y += [
                dl * (((qs[q + li + 16] >> shift) & 3) - (0 if hm[li + 16] & m else 4))
                for li in range(16)
            ]
            shift += 2
            m <<= 1
        q += 32
    return y


def ref_dequant_q4_k(b: bytes) -> list[float]:
    d, dmin, scales, qs = _h(b, 0), _h(b, 2), b[4:16], b[16:144]
    y: list[float] = []
    is_ = 0
    q = 0
    for _j in range(0, QK_K, 64):
        sc, m = _scale_min_k4(is_, scales)
        d1, m1 = d * sc, dmin * m
        sc, m = _scale_min_k4(is_ + 1, scales)
        d2, m2 = d * sc, dmin * m
        y += [d1 * (qs[q + li] & 0xF) - m1 for li in range(32)]
        y += [d2 * (qs[q + li] >> 4) - m2 for li in range(32)]
        q += 32
        is_ += 2
    return y


def ref_dequant_q5_k(b: bytes) -> list[float]:
    d, dmin, scales, qh, ql = _h(b, 0), _h(b, 2), b[4:16], b[16:48], b[48:176]
    y: list[float] = []
    is_ = 0
    q = 0
    u1, u2 = 1, 2
    for _j in range(0, QK_K, 64):
        sc, m = _scale_min_k4(is_, scales)
        d1, m1 = d * sc, dmin * m
        sc, m = _scale_min_k4(is_ + 1, scales)
        d2, m2 = d * sc, dmin * m
        y += [d1 * ((ql[q + li] & 0xF) + (16 if qh[li] & u1 else 0)) - m1 for li in range(32)]
        y += [d2 * ((ql[q + li] >> 4) + (16 if qh[li] & u2 else 0)) - m2 for li in range(32)]
        q += 32
        is_ += 2
        u1 <<= 2
        u2 <<= 2
    return y


def ref_dequant_q6_k(b: bytes) -> list[float]:
    ql, qh = b[0:128], b[128:192]
    sc = np.frombuffer(b[192:208], dtype=np.int8)
    d = _h(b, 208)
    y = [0.0] * QK_K
    o, qlo, qho, sco = 0, 0, 0, 0
    for _n in range(0, QK_K, 128):
        for li in range(32):
            is_ = li // 16
            q1 = ((ql[qlo + li] & 0xF) | (((qh[qho + li] >> 0) & 3) << 4)) - 32
            q2 = ((ql[qlo + li + 32] & 0xF) | (((qh[qho + li] >> 2) & 3) << 4)) - 32
            q3 = ((ql[qlo + li] >> 4) | (((qh[qho + li] >> 4) & 3) << 4)) - 32
            q4 = ((ql[qlo + li + 32] >> 4) | (((qh[qho + li] >> 6) & 3) << 4)) - 32
            y[o + li] = d * int(sc[sco + is_]) * q1
            y[o + li + 32] = d * int(sc[sco + is_ + 2]) * q2
            y[o + li + 64] = d * int(sc[sco + is_ + 4]) * q3
            y[o + li + 96] = d * int(sc[sco + is_ + 6]) * q4
        o += 128
        qlo += 64
        qho += 32
        sco += 8
    return y


REF_DEQUANT = {
    "Q2_K": (ref_dequant_q2_k, 84),
    "Q3_K": (ref_dequant_q3_k, 110),
    "Q4_K": (ref_dequant_q4_k, 144),
    "Q5_K": (ref_dequant_q5_k, 176),
    "Q6_K": (ref_dequant_q6_k, 210),
}

# Byte ranges of each K type's fp16 super-block scales; random test blocks set them to sane
# finite values (random bytes would make NaN/inf scales and compare NaN != NaN).
FP16_FIELDS = {"Q2_K": (80, 82), "Q3_K": (108,), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,)}


def random_blocks(kind: str, n: int, rng: np.random.Generator) -> bytes:
    size = REF_DEQUANT[kind][1]
    raw = rng.integers(0, 256, size=(n, size), dtype=np.uint8)
    for at in FP16_FIELDS[kind]:
        raw[:, at : at + 2] = (
            rng.uniform(-0.05, 0.05, size=n).astype("<f2").view(np.uint8).reshape(n, 2)
        )
    return raw.tobytes()


# ------------------------------------------------------------ hand-built blocks (quantisers)


def _f16(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = v.astype("<f2")
    return h.view(np.uint8).reshape(-1, 2), h.astype(f32)


def _pack_scale_min_k4(ls: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Inverse of get_scale_min_k4 for (B, 8) 6-bit scales and mins → (B, 12) bytes."""
    out = np.zeros((ls.shape[0], 12), dtype=np.uint8)
    for j in range(8):
        if j < 4:
            out[:, j] |= ls[:, j]
            out[:, j + 4] |= lm[:, j]
        else:
            out[:, j + 4] = (ls[:, j] & 0xF) | ((lm[:, j] & 0xF) << 4)
            out[:, j - 4] |= (ls[:, j] >> 4) << 6
            out[:, j] |= (lm[:, j] >> 4) << 6
    return out


def _affine(x: np.ndarray, sub: int, nmax: int, sbits: int):
    """Round-to-nearest affine quantisation per sub-block with scale/min codes of ``sbits``."""
    nb = x.shape[0]
    xs = x.reshape(nb, QK_K // sub, sub)
    lo = np.minimum(xs.min(axis=2), 0)
    hi = xs.max(axis=2)
    scale = (hi - lo) / nmax
    mins = -lo
    top = (1 << sbits) - 1
    d_b, d = _f16(scale.max(axis=1) / top)
    m_b, dm = _f16(mins.max(axis=1) / top)
    ls = np.clip(np.rint(scale / np.where(d > 0, d, 1)[:, None]), 0, top).astype(np.uint8)
    lm = np.clip(np.rint(mins / np.where(dm > 0, dm, 1)[:, None]), 0, top).astype(np.uint8)
    step = d[:, None] * ls.astype(f32)
    off = dm[:, None] * lm.astype(f32)
    q = np.clip(np.rint((xs + off[:, :, None]) / np.where(step > 0, step, 1)[:, :, None]), 0, nmax)
    q = q.astype(np.uint8)
    expected = (step[:, :, None] * q.astype(f32) - off[:, :, None]).reshape(nb, QK_K)
    return d_b, m_b, ls, lm, q.reshape(nb, QK_K), expected, np.repeat(step, sub, axis=1)


def quantize_q2_k_simple(x: np.ndarray):
    d_b, m_b, ls, lm, q, expected, step = _affine(x, 16, 3, 4)
    nb = x.shape[0]
    scales = ls | (lm << 4)
    qs = np.zeros((nb, 64), dtype=np.uint8)
    for e in range(QK_K):
        qs[:, 32 * (e // 128) + e % 32] |= q[:, e] << (2 * ((e % 128) // 32))
    return np.concatenate([scales, qs, d_b, m_b], axis=1).tobytes(), expected, step


def quantize_q4_k_simple(x: np.ndarray):
    d_b, m_b, ls, lm, q, expected, step = _affine(x, 32, 15, 6)
    nb = x.shape[0]
    pairs = q.reshape(nb, 4, 2, 32)
    qs = (pairs[:, :, 0, :] | (pairs[:, :, 1, :] << 4)).reshape(nb, 128)
    out = np.concatenate([d_b, m_b, _pack_scale_min_k4(ls, lm), qs], axis=1)
    return out.tobytes(), expected, step


def quantize_q5_k_simple(x: np.ndarray):
    d_b, m_b, ls, lm, q, expected, step = _affine(x, 32, 31, 6)
    nb = x.shape[0]
    low = (q & 0xF).reshape(nb, 4, 2, 32)
    qs = (low[:, :, 0, :] | (low[:, :, 1, :] << 4)).reshape(nb, 128)
    qh = np.zeros((nb, 32), dtype=np.uint8)
    for e in range(QK_K):
        qh[:, e % 32] |= (q[:, e] >> 4) << (e // 32)
    out = np.concatenate([d_b, m_b, _pack_scale_min_k4(ls, lm), qh, qs], axis=1)
    return out.tobytes(), expected, step


def _symmetric(x: np.ndarray, lo: int, hi: int, sc_max: int):
    nb = x.shape[0]
    xs = x.reshape(nb, 16, 16)
    s = np.abs(xs).max(axis=2) / hi
    d_b, d = _f16(s.max(axis=1) / sc_max)
    sc = np.clip(np.rint(s / np.where(d > 0, d, 1)[:, None]), 0, sc_max).astype(np.int64)
    step = d[:, None] * sc.astype(f32)
    q = np.clip(np.rint(xs / np.where(step > 0, step, 1)[:, :, None]), lo, hi).astype(np.int64)
    expected = (step[:, :, None] * q.astype(f32)).reshape(nb, QK_K)
    return d_b, sc, q.reshape(nb, QK_K), expected, np.repeat(step, 16, axis=1)


def quantize_q3_k_simple(x: np.ndarray):
    d_b, sc, q, expected, step = _symmetric(x, -4, 3, 31)
    nb = x.shape[0]
    u = (q + 4).astype(np.uint8)
    hmask = np.zeros((nb, 32), dtype=np.uint8)
    qs = np.zeros((nb, 64), dtype=np.uint8)
    for e in range(QK_K):
        h, j, li = e // 128, (e % 128) // 32, e % 32
        qs[:, 32 * h + li] |= (u[:, e] & 3) << (2 * j)
        hmask[:, li] |= (u[:, e] >> 2) << (4 * h + j)
    stored = (sc + 32).astype(np.uint8)
    scales = np.zeros((nb, 12), dtype=np.uint8)
    for k in range(16):
        scales[:, k % 8] |= (stored[:, k] & 0xF) << (4 * (k // 8))
        scales[:, 8 + k % 4] |= (stored[:, k] >> 4) << (2 * (k // 4))
    return np.concatenate([hmask, qs, scales, d_b], axis=1).tobytes(), expected, step


def quantize_q6_k_simple(x: np.ndarray):
    d_b, sc, q, expected, step = _symmetric(x, -32, 31, 127)
    nb = x.shape[0]
    u = (q + 32).astype(np.uint8)
    ql = np.zeros((nb, 128), dtype=np.uint8)
    qh = np.zeros((nb, 64), dtype=np.uint8)
    for h in range(2):
        for li in range(32):
            q1, q2, q3, q4 = (u[:, 128 * h + li + 32 * k] for k in range(4))
            ql[:, 64 * h + li] = (q1 & 0xF) | ((q3 & 0xF) << 4)
            ql[:, 64 * h + li + 32] = (q2 & 0xF) | ((q4 & 0xF) << 4)
            qh[:, 32 * h + li] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)
    out = np.concatenate([ql, qh, sc.astype(np.int8).view(np.uint8), d_b], axis=1)
    return out.tobytes(), expected, step


SIMPLE_QUANTIZERS = {
    "Q2_K": quantize_q2_k_simple,
    "Q3_K": quantize_q3_k_simple,
    "Q4_K": quantize_q4_k_simple,
    "Q5_K": quantize_q5_k_simple,
    "Q6_K": quantize_q6_k_simple,
}


# --------------------------------------------------- scalar quantize_row_q4_K_ref (ggml C)


def _nearest_int(v: float) -> int:
    return int(np.rint(f32(v)))


def _make_qkx2_quants(x, weights, nmax=15, rmin=-1.0, rdelta=0.1, nstep=20):
    n = len(x)
    mn, mx = x[0], x[0]
    sum_w = weights[0]
    sum_x = sum_w * x[0]
    for i in range(1, n):
        mn = min(mn, x[i])
        mx = max(mx, x[i])
        sum_w += weights[i]
        sum_x += weights[i] * x[i]
    mn = min(mn, f32(0))
    if mx == mn:
        return f32(0), -mn, [0] * n
    iscale = f32(nmax) / (mx - mn)
    scale = f32(1) / iscale
    best = f32(0)
    L = [0] * n
    for i in range(n):
        L[i] = max(0, min(nmax, _nearest_int(iscale * (x[i] - mn))))
        diff = scale * L[i] + mn - x[i]
        best += weights[i] * diff * diff
    for is_ in range(nstep + 1):
        iscale = (f32(rmin) + f32(rdelta) * is_ + f32(nmax)) / (mx - mn)
        aux = [max(0, min(nmax, _nearest_int(iscale * (x[i] - mn)))) for i in range(n)]
        sum_l = sum_l2 = sum_xl = f32(0)
        for i in range(n):
            w = weights[i]
            sum_l += w * aux[i]
            sum_l2 += w * aux[i] * aux[i]
            sum_xl += w * aux[i] * x[i]
        det = sum_w * sum_l2 - sum_l * sum_l
        if det > 0:
            this_scale = (sum_w * sum_xl - sum_x * sum_l) / det
            this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det
            if this_min > 0:
                this_min = f32(0)
                this_scale = sum_xl / sum_l2
            cur = f32(0)
            for i in range(n):
                diff = this_scale * aux[i] + this_min - x[i]
                cur += weights[i] * diff * diff
            if cur < best:
                L = aux
                best = cur
                scale = this_scale
                mn = this_min
    return scale, -mn, L


def _ref_k4_block(blk: np.ndarray, nmax: int, rmin: float, nstep: int) -> tuple:
    """The scale search and codes Q4_K and Q5_K share: (d, dmin, packed scales, codes)."""
    L = [0] * QK_K
    scales, mins = [], []
    for j in range(8):
        xs = [f32(v) for v in blk[32 * j : 32 * j + 32]]
        av_x = np.sqrt(f32(sum(v * v for v in xs)) / f32(32))
        w = [av_x + abs(v) for v in xs]
        s, m, lj = _make_qkx2_quants(xs, w, nmax=nmax, rmin=rmin, nstep=nstep)
        scales.append(s)
        mins.append(m)
        L[32 * j : 32 * j + 32] = lj
    max_scale = max([f32(0)] + scales)
    max_min = max([f32(0)] + mins)
    inv_scale = f32(63) / max_scale if max_scale > 0 else f32(0)
    inv_min = f32(63) / max_min if max_min > 0 else f32(0)
    ls = np.array([min(63, _nearest_int(inv_scale * s)) for s in scales], dtype=np.uint8)
    lm = np.array([min(63, _nearest_int(inv_min * m)) for m in mins], dtype=np.uint8)
    packed = _pack_scale_min_k4(ls[None], lm[None])[0].tobytes()
    d = np.float16(max_scale / f32(63))
    dmin = np.float16(max_min / f32(63))
    for j in range(8):
        sc, m = _scale_min_k4(j, packed)
        dd = f32(d) * sc
        if not dd:
            continue
        dm = f32(dmin) * m
        for ii in range(32):
            L[32 * j + ii] = max(0, min(nmax, _nearest_int((blk[32 * j + ii] + dm) / dd)))
    return d, dmin, packed, L


def ref_quantize_q4_k(x: np.ndarray) -> bytes:
    """quantize_row_q4_K_ref over one row (length a multiple of 256), float32 scalars."""
    out = bytearray()
    for blk in x.astype(f32).reshape(-1, QK_K):
        d, dmin, packed, L = _ref_k4_block(blk, 15, -1.0, 20)
        qs = bytes(
            L[j + li] | (L[j + li + 32] << 4) for j in range(0, QK_K, 64) for li in range(32)
        )
        out += d.tobytes() + dmin.tobytes() + packed + qs
    return bytes(out)


def ref_quantize_q5_k(x: np.ndarray) -> bytes:
    """quantize_row_q5_K_ref over one row (length a multiple of 256), float32 scalars."""
    out = bytearray()
    for blk in x.astype(f32).reshape(-1, QK_K):
        d, dmin, packed, L = _ref_k4_block(blk, 31, -0.5, 15)
        qh = bytearray(32)
        ql = bytearray()
        for g, n in enumerate(range(0, QK_K, 64)):
            for j in range(32):
                l1, l2 = L[n + j], L[n + j + 32]
                if l1 > 15:
                    l1 -= 16
                    qh[j] |= 1 << (2 * g)
                if l2 > 15:
                    l2 -= 16
                    qh[j] |= 2 << (2 * g)
                ql.append(l1 | (l2 << 4))
        out += d.tobytes() + dmin.tobytes() + packed + bytes(qh) + bytes(ql)
    return bytes(out)


# --------------------------------------------------- scalar quantize_row_q6_K_ref (ggml C)

GROUP_MAX_EPS = f32(1e-15)


def _make_qx_quants(x: list, nmax: int = 32) -> tuple:
    """make_qx_quants(n, nmax, x, L, rmse_type=1, qw=NULL): (scale, codes l + nmax)."""
    mx, amax = f32(0), f32(0)
    for v in x:
        if abs(v) > amax:
            amax, mx = abs(v), v
    if amax < GROUP_MAX_EPS:
        return f32(0), [0] * len(x)

    def fit(iscale):
        ls = [max(-nmax, min(nmax - 1, _nearest_int(iscale * v))) for v in x]
        sumlx = suml2 = f32(0)
        for v, lv in zip(x, ls, strict=True):
            w = v * v
            sumlx += w * v * f32(lv)
            suml2 += w * f32(lv) * f32(lv)
        return ls, sumlx, suml2

    ls, sumlx, suml2 = fit(f32(-nmax) / mx)
    codes = [lv + nmax for lv in ls]
    scale = sumlx / suml2 if suml2 else f32(0)
    best = scale * sumlx
    for is_ in range(-9, 10):
        if is_ == 0:
            continue
        ls, sumlx, suml2 = fit(-(f32(nmax) + f32(0.1) * f32(is_)) / mx)
        if suml2 > 0 and sumlx * sumlx > best * suml2:
            codes = [lv + nmax for lv in ls]
            scale = sumlx / suml2
            best = scale * sumlx
    return scale, codes


def ref_quantize_q6_k(x: np.ndarray) -> bytes:
    """quantize_row_q6_K_ref over one row (length a multiple of 256), float32 scalars."""
    out = bytearray()
    for blk in x.astype(f32).reshape(-1, QK_K):
        L = [0] * QK_K
        scales = []
        for ib in range(16):
            s, codes = _make_qx_quants([f32(v) for v in blk[16 * ib : 16 * ib + 16]])
            scales.append(s)
            L[16 * ib : 16 * ib + 16] = codes
        max_scale, max_abs = f32(0), f32(0)
        for s in scales:
            if abs(s) > max_abs:
                max_abs, max_scale = abs(s), s
        if max_abs < GROUP_MAX_EPS:
            out += bytes(210)
            continue
        iscale = f32(-128) / max_scale
        d = np.float16(f32(1) / iscale)
        sc = [min(127, _nearest_int(iscale * s)) for s in scales]
        for j in range(16):
            dd = f32(d) * f32(sc[j])
            if not dd:
                continue
            for ii in range(16):
                L[16 * j + ii] = max(-32, min(31, _nearest_int(blk[16 * j + ii] / dd))) + 32
        ql, qh = bytearray(128), bytearray(64)
        for h in range(2):
            q = L[128 * h : 128 * h + 128]
            for li in range(32):
                ql[64 * h + li] = (q[li] & 0xF) | ((q[li + 64] & 0xF) << 4)
                ql[64 * h + li + 32] = (q[li + 32] & 0xF) | ((q[li + 96] & 0xF) << 4)
                qh[32 * h + li] = (
                    (q[li] >> 4)
                    | ((q[li + 32] >> 4) << 2)
                    | ((q[li + 64] >> 4) << 4)
                    | ((q[li + 96] >> 4) << 6)
                )
        out += bytes(ql) + bytes(qh) + np.array(sc, dtype=np.int8).tobytes() + d.tobytes()
    return bytes(out)


# ------------------------------------------------ ggml's own reference quantisers (ctypes)

_BLOCK_BYTES = {"Q4_K": 144, "Q6_K": 210}


def libggml_quantize(ggml_type: str, x: np.ndarray) -> bytes | None:
    """``quantize_row_<type>_ref`` of llama-cpp-python's libggml-base over ``x`` (row-major).

    Returns None when llama-cpp-python (and so the library) is not installed.
    """
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return None
    found = sorted((Path(spec.origin).parent / "lib").glob("*ggml-base*"))
    if not found:
        return None
    fn = getattr(
        ctypes.CDLL(str(found[0])), f"quantize_row_{ggml_type[0].lower()}{ggml_type[1:]}_ref"
    )
    fn.restype = None
    src = np.ascontiguousarray(x, dtype=np.float32)
    out = np.zeros(src.size // QK_K * _BLOCK_BYTES[ggml_type], dtype=np.uint8)
    fn(
        src.ctypes.data_as(ctypes.c_void_p),
        out.ctypes.data_as(ctypes.c_void_p),
        ctypes.c_int64(src.size),
    )
    return out.tobytes()
