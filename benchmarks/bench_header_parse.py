"""Safetensors header parse time and peak memory against the tensor count (issue 11 §10).

Writes headers of N, 2N, 4N, 8N tensors (names ~40 bytes, the shape of a real shard) and parses
each with ``read_safetensors_header`` in a fresh process, printing wall time, peak RSS growth
and the ratios to the smallest size: linear parsing keeps each doubling near 2×. The last row
is the largest header the default cap (16 MiB) admits.

    python benchmarks/bench_header_parse.py [--base 17000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from testlib.many_tensors import write_many_tensors  # noqa: E402

CHILD = r"""
import resource, sys, time
from pathlib import Path
from albor_gates.artifacts.safetensors import read_safetensors_header
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
h = read_safetensors_header(Path(sys.argv[1]))
dt = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(h.tensors), dt, (after - before) / 1024)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=17000)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in (1, 2, 4, 8):
            n = args.base * k
            path = Path(tmp) / f"h{n}.safetensors"
            size = write_many_tensors(path, n)
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
            ).stdout.split()
            rows.append((n, size, float(out[1]), float(out[2])))
    n0, _, t0, m0 = rows[0]
    print(f"{'tensors':>9} {'header MB':>10} {'parse s':>8} {'RSS MB':>8} {'t/t0':>6} {'m/m0':>6}")
    for n, size, t, m in rows:
        print(
            f"{n:>9} {size / 1e6:>10.1f} {t:>8.2f} {m:>8.0f} {t / t0:>6.2f} {m / max(m0, 1):>6.2f}"
        )


if __name__ == "__main__":
    main()
