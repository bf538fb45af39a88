"""The evidence cache (issue 12 part 2): ``gates dogfood`` on the bundled example, cold vs warm.

On a copy of ``examples/albor-tiny-v1`` with an empty cache folder, in one run:

1. cold — every gate measured (val loss, smoke prompts, GGUF export, ...), entries written;
2. warm — the same command again: its wall time as a fraction of the cold one (target ≤ 5 %),
   and every gate the cold run measured must say ``cached`` in the report;
3. the cost of hashing the whole release once (what a run pays to check its entries);
4. one byte of the weights flipped: the gates measured again must be exactly the gates bound to
   the weights file or to a folder holding it; every other gate stays cached.

Rows that are never cached are listed apart: SKIPPED / ERROR outcomes (retried every run) and
the ``logged.agreement`` rows the engine derives from two other gates.

    python benchmarks/bench_cache.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "albor-tiny-v1"
REPORTS = ("gates-report.json", "ship-model-2-report.json")


def _run(release: Path, out: Path, cache: Path) -> tuple[float, dict[str, dict[str, Any]]]:
    """Time one ``gates dogfood`` and return its gates by id (both reports)."""
    cmd = [sys.executable, "-m", "albor_gates", "dogfood", str(release), "-o", str(out)]
    cmd += ["--force", "-q", "--cache-dir", str(cache)]
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, check=False, env={**os.environ, "NO_COLOR": "1"}).returncode
    wall = time.perf_counter() - t0
    if rc > 1:  # 1 is the example's NO-GO verdict, a completed run
        raise SystemExit(f"gates dogfood exited {rc}")
    gates: dict[str, dict[str, Any]] = {}
    for name in REPORTS:
        for g in json.loads((out / name).read_text(encoding="utf-8"))["gates"]:
            gates[f"{g['spec']}:{g['id']}"] = g
    return wall, gates


def _measured(g: dict[str, Any]) -> bool:
    """Whether a row is a measurement the cache can hold (see the module docstring)."""
    return g["status"] not in ("SKIPPED", "ERROR") and g["check"] != "logged.agreement"


def _weights_gates(release: Path) -> set[str]:
    """Gates bound to the weights file, or to a folder that holds it (from the plans alone)."""
    from albor_gates.engine.plan import build_plan
    from albor_gates.spec.loader import SpecResolver

    weights = (release / "model.safetensors").resolve()
    resolver = SpecResolver()
    out = set()
    for name in ("albor-370m-v1/dogfood", "albor-370m-v1/ship-model-2"):
        plan = build_plan(resolver.resolve(resolver.locate(name)))
        for pg in plan.gates:
            for art_name in pg.bindings.values():
                ref = plan.artifacts[art_name].ref
                if ref.path is None:
                    continue
                p = (release / ref.path).resolve()
                if p == weights or (p.is_dir() and weights.is_relative_to(p)):
                    out.add(f"{plan.spec_id}:{pg.id}")
    return out


def main() -> int:
    from albor_gates.artifacts.files import Digests

    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        base = Path(tmp)
        release = Path(shutil.copytree(EXAMPLE, base / "release"))
        cache = base / "cache"
        cold_s, cold = _run(release, base / "cold", cache)
        warm_s, warm = _run(release, base / "warm", cache)
        t0 = time.perf_counter()
        Digests().path(release)
        hash_s = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in release.rglob("*") if p.is_file())

        measured = sorted(k for k, g in cold.items() if _measured(g))
        not_cached = sorted(k for k in measured if "cache" not in warm[k])
        print(f"cold run:  {cold_s:7.2f} s  ({len(cold)} rows, {len(measured)} measured)")
        print(f"warm run:  {warm_s:7.2f} s  ({sum('cache' in g for g in warm.values())} cached)")
        print(f"warm/cold: {warm_s / cold_s:7.2%}  (target ≤ 5 %)")
        print(f"hashing the release once: {hash_s * 1000:.0f} ms for {size / 2**20:.1f} MiB")
        print(f"cache folder: {len(list(cache.glob('*.json')))} entries")
        print("never cached (skipped, error, derived):")
        for k, g in sorted(cold.items()):
            if not _measured(g):
                print(f"  {k}  {g['status']} {g['check']}")

        data = bytearray((release / "model.safetensors").read_bytes())
        data[-1] ^= 0x01  # the last byte of the last tensor: the header stays valid
        (release / "model.safetensors").write_bytes(bytes(data))
        flip_s, flipped = _run(release, base / "flipped", cache)
        redone = {k for k in measured if "cache" not in flipped[k]}
        expected = _weights_gates(release) & set(measured)
        print(f"\none weights byte flipped: {flip_s:7.2f} s, {len(redone)} gates measured again:")
        for k in sorted(redone):
            print(f"  {k}  {flipped[k]['check']}")
        kept = len(measured) - len(redone)
        print(f"{kept} measured gates stayed cached (none of them reads the weights)")

        ok = True
        if not_cached:
            print(f"FAIL: measured gates not cached on the warm run: {', '.join(not_cached)}")
            ok = False
        if warm_s > 0.05 * cold_s:
            print("FAIL: the warm run took more than 5 % of the cold run")
            ok = False
        if redone != expected:
            print(f"FAIL: measured again {sorted(redone - expected)} unexpectedly; "
                  f"cached although they read the weights: {sorted(expected - redone)}")  # fmt: skip
            ok = False
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
