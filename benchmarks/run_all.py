"""Run every benchmark script once, in sequence (`make bench`).

Each script prints its own ratios against a baseline measured in the same run; see the
module docstrings for targets. The heavy ones build cached inputs on first use
(.benchmarks/ or ~/.cache/albor-gates).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["bench_engine.py", "--runs", "9"],
    ["bench_verify.py", "--rounds", "3"],
    ["bench_checker.py", "--reps", "3"],
    ["bench_gguf.py", "--repeats", "3"],
    ["bench_header_parse.py"],
    ["bench_perf.py", "--reps", "5"],
    ["bench_cache.py"],
    # start-up only: the install and pre-commit rows download from the index (run it by hand)
    ["bench_install.py", "--skip-install"],
]


def main() -> int:
    failed = 0
    for script, *args in SCRIPTS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        rc = subprocess.run([sys.executable, str(HERE / script), *args], check=False).returncode
        if rc != 0:
            print(f"{script} exited {rc}")
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
