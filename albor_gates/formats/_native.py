"""The compiled K-quant scale searches (``_kquants.c``; see :mod:`albor_gates.model.native`).

Why compiled: the numpy translations in :mod:`albor_gates.formats.gguf_quants` run 21 (Q4_K)
or 19 (Q6_K) candidate fits, each a dozen whole-array passes, and reached 12 and 43 MB/s on the
shared 2-core CPU; the same float32 arithmetic as C loops, 32 sub-blocks to a vector lane group,
is an order of magnitude faster (the quantiser rows of ``benchmarks/bench_perf.py``).
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

from albor_gates.model.native import load, parallel

__all__ = ["kquants", "parallel"]


@functools.lru_cache(maxsize=1)
def kquants() -> ctypes.CDLL | None:
    """The loaded library, or None when it cannot be built here (the numpy path runs then)."""
    dll = load(Path(__file__).with_name("_kquants.c"))
    if dll is None:
        return None
    f32p, u8p, i64, f32 = (
        ctypes.POINTER(ctypes.c_float),
        ctypes.POINTER(ctypes.c_uint8),
        ctypes.c_int64,
        ctypes.c_float,
    )
    dll.q4_k_search.argtypes = [f32p, i64, f32p, f32p, u8p]
    dll.q6_k_search.argtypes = [f32p, i64, f32, f32p, u8p]
    dll.requant.argtypes = [f32p, i64, ctypes.c_int, f32p, f32p, f32, f32, f32, u8p, u8p]
    for fn in (dll.q4_k_search, dll.q6_k_search, dll.requant):
        fn.restype = None
    return dll
