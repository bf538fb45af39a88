"""The compiled K-quant scale searches (``_kquants.c``), built on first use with the C compiler.

Why compiled: the numpy translations in :mod:`albor_gates.formats.gguf_quants` run 21 (Q4_K)
or 19 (Q6_K) candidate fits, each a dozen whole-array passes, and reached 12 and 43 MB/s on the
shared 2-core CPU; the same float32 arithmetic as C loops over one sub-block at a time, held in
registers and vectorised by the compiler, is an order of magnitude faster (the quantiser rows of
``benchmarks/bench_perf.py``). No build step is added to the package: the source is compiled
once per source and flags into the user cache (``$XDG_CACHE_HOME/albor-gates/native``, written
atomically) and loaded with ``ctypes``. Without a compiler, or with ``ALBOR_GATES_NATIVE=0``,
:func:`kquants` returns None and the numpy path runs; that path is also the oracle the tests
compare the compiled one with, byte for byte.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Sub-blocks per thread below which a second thread costs more than it saves.
_MIN_PER_THREAD = 4096

_SOURCE = Path(__file__).with_name("_kquants.c")
# No -ffast-math and no contraction into fused multiply-adds: each lane must round as numpy.
_FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "albor-gates" / "native"


@functools.lru_cache(maxsize=1)
def kquants() -> ctypes.CDLL | None:
    """The loaded library, or None when it cannot be built here (the numpy path runs then)."""
    if os.environ.get("ALBOR_GATES_NATIVE", "1") == "0":
        return None
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        return None
    src = _SOURCE.read_bytes()
    # -march=native ties the binary to this CPU: the host and machine name are part of the key.
    key = hashlib.sha256(
        src + " ".join(_FLAGS).encode() + platform.machine().encode() + platform.node().encode()
    ).hexdigest()[:16]
    lib = _cache_dir() / f"kquants-{key}.so"
    if not lib.exists():
        try:
            lib.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
                out = Path(tmp) / lib.name
                subprocess.run(
                    [cc, *_FLAGS, "-o", str(out), str(_SOURCE), "-lm"],
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
                os.replace(out, lib)  # atomic: a concurrent build never loads half a file
        except (OSError, subprocess.SubprocessError):
            return None
    try:
        dll = ctypes.CDLL(str(lib))
    except OSError:
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


def parallel(n: int, call: Callable[[int, int], None]) -> None:
    """Run ``call(start, stop)`` over ``[0, n)`` split across this process's CPUs.

    The compiled searches release the GIL (ctypes does) and every sub-block is independent, so
    the split changes nothing but the time.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(1, min(cpus or 1, n // _MIN_PER_THREAD))
    if workers == 1:
        call(0, n)
        return
    bounds = [n * i // workers for i in range(workers + 1)]
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(call, bounds[:-1], bounds[1:]))
