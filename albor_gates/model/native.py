"""Small C kernels compiled on first use with the system C compiler, loaded with ``ctypes``.

Used where numpy or torch need a dozen whole-array passes for what one loop in registers does:
the K-quant scale searches (``formats/_kquants.c``) and the one-pass tensor scan
(``model/_scan.c``). No build step is added to the package: a source is compiled once per source
text, flags, machine and host into the user cache (``$XDG_CACHE_HOME/albor-gates/native``,
written atomically) and loaded. Without a compiler, or with ``ALBOR_GATES_NATIVE=0``,
:func:`load` returns None and the callers' numpy / torch paths run; those paths stay the
oracles the tests compare the compiled ones with.
"""

from __future__ import annotations

import ctypes
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

# No -ffast-math and no contraction into fused multiply-adds: each lane must round as the
# numpy / torch oracle does, operation by operation.
_FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-fno-math-errno", "-shared", "-fPIC")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "albor-gates" / "native"


def load(source: Path) -> ctypes.CDLL | None:
    """Compile ``source`` (once) and load it; None where that is not possible here.

    Args:
        source: a C file of this package.

    Returns:
        The library (callers set argtypes), or None without a compiler, with
        ``ALBOR_GATES_NATIVE=0`` or when compiling or loading fails.
    """
    if os.environ.get("ALBOR_GATES_NATIVE", "1") == "0":
        return None
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        return None
    src = source.read_bytes()
    # -march=native ties the binary to this CPU: the host and machine name are part of the key.
    key = hashlib.sha256(
        src + " ".join(_FLAGS).encode() + platform.machine().encode() + platform.node().encode()
    ).hexdigest()[:16]
    lib = _cache_dir() / f"{source.stem.lstrip('_')}-{key}.so"
    if not lib.exists():
        try:
            lib.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
                out = Path(tmp) / lib.name
                subprocess.run(
                    [cc, *_FLAGS, "-o", str(out), str(source), "-lm"],
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
                os.replace(out, lib)  # atomic: a concurrent build never loads half a file
        except (OSError, subprocess.SubprocessError):
            return None
    try:
        return ctypes.CDLL(str(lib))
    except OSError:
        return None


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
