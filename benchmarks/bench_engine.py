"""Start-up and lint/check latency of the `gates` CLI, against a bare interpreter in the same run.

Targets (issue 2): `gates --help` and `gates lint` start in < 0.3 s and never import torch.
Targets (issue 14): `gates --help` <= 60 ms and `gates lint` <= 200 ms over the baseline.
Prints medians of N runs and the overhead over `python -c pass` measured alongside.

The package's bytecode is compiled first, as a wheel install does: under
PYTHONDONTWRITEBYTECODE=1 (set on some CI and sandbox machines) every run would otherwise
recompile each imported source file, ~100 ms of `gates lint` that a user's install never pays.

    python benchmarks/bench_engine.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(argv: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    subprocess.run([py, "-m", "compileall", "-q", "albor_gates"], cwd=ROOT, check=True)
    cases = {
        "python -c pass (baseline)": [py, "-c", "pass"],
        "gates --help": [py, "-m", "albor_gates", "--help"],
        "gates --version": [py, "-m", "albor_gates", "--version"],
        "gates lint (bundled specs + invariants)": [
            py,
            "-m",
            "albor_gates",
            "lint",
            "specs",
            "invariants",
        ],
        "gates check examples/quickstart": [
            py,
            "-m",
            "albor_gates",
            "check",
            "examples/quickstart/gates.yaml",
            "-q",
            "--no-cache",  # the engine's own cost, every run (bench_cache.py times the cache)
        ],
    }
    base = None
    print(f"{'command':44} {'median':>8} {'min':>8} {'over baseline':>14}")
    for name, argv in cases.items():
        med, best = timed(argv, args.runs)
        if base is None:
            base = med
        print(f"{name:44} {med * 1000:7.0f}ms {best * 1000:7.0f}ms {(med - base) * 1000:12.0f}ms")
    probe = subprocess.run(
        [
            py,
            "-c",
            "import sys; from albor_gates.cli import main\ntry: main(['lint', 'specs', 'invariants'])\nexcept SystemExit: pass\nprint('torch imported' if 'torch' in sys.modules else 'torch not imported', file=sys.stderr)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(f"gates lint: {probe.stderr.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
