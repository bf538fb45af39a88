"""Mutation fuzzing of everything a pull request controls (issue 11), outside the normal suite.

``make fuzz`` (or ``python tests/fuzz/fuzz_gates.py --count N``) drives mutated specs, evidence
files, safetensors headers and GGUF headers through the loader, the readers and
``evaluate()``. The invariant: only albor-gates' own errors escape (GatesError, CheckSkipped),
and no gate ends with ``internal_error`` (a check that crashed). Any other outcome is saved
under ``--crashes`` with its traceback, and the run exits 1.

Mutations are byte-level (flip, insert, delete, duplicate a span) and token-level (splice in
hostile values: 401-digit integers, 1e999, NaN, control characters, ``::error::``, ``../``,
absolute paths, deep nesting). Seeds: the quickstart spec and evidence, a valid safetensors
header and a valid GGUF from tests/testlib. Deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from testlib.gguf_build import small_valid  # noqa: E402

from albor_gates.api import evaluate  # noqa: E402
from albor_gates.artifacts.gguf import read_gguf  # noqa: E402
from albor_gates.artifacts.safetensors import read_safetensors_header  # noqa: E402
from albor_gates.errors import CheckSkipped, GatesError  # noqa: E402

QUICKSTART = REPO / "examples" / "quickstart"
HOSTILE = [
    b"9" * 401,
    b"-" + b"9" * 401,
    b"1e999",
    b"NaN",
    b"-Infinity",
    b'"nan"',
    b"\x1b]52;c;Y2F0\x07",
    b"\n::error::x\n",
    b"\r",
    b"\x00",
    b"../../../../etc/passwd",
    b"/etc/passwd",
    b"[" * 200,
    b"{" * 200,
    b"&a [*a, *a]",
    b"!!python/object:os.system",
    b"\xff\xfe",
    b'"' + b"A" * 5000 + b'"',
    b"18446744073709551616",
    b"-1",
    b"0",
    b"[]",
    b"{}",
    b"null",
    b"true",
]


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """One to four random byte- or token-level edits of ``data``."""
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(6)
        pos = rnd.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rnd.randrange(256)
        elif op == 1:
            buf[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        elif op == 2 and buf:
            del buf[pos : pos + rnd.randint(1, 16)]
        elif op == 3 and buf:
            span = buf[pos : pos + rnd.randint(1, 64)]
            buf[pos:pos] = span
        elif op == 4:
            buf[pos:pos] = rnd.choice(HOSTILE)
        else:  # replace a number or a token with a hostile value
            end = pos
            while end < len(buf) and chr(buf[end]).isalnum():
                end += 1
            buf[pos:end] = rnd.choice(HOSTILE)
    return bytes(buf)


def _safetensors_seed() -> bytes:
    header = {
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [8, 16]},
    }
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + bytes(16)


class Fuzzer:
    """Runs one target per input and keeps the tally."""

    def __init__(self, work: Path, crashes: Path) -> None:
        self.work = work
        self.crashes = crashes
        self.counts: dict[str, int] = {}
        self.failures = 0
        (work / "evidence").mkdir(parents=True, exist_ok=True)
        for p in (QUICKSTART / "evidence").iterdir():
            (work / "evidence" / p.name).write_bytes(p.read_bytes())
        self.spec_seed = (QUICKSTART / "gates.yaml").read_bytes()
        self.evidence = sorted((work / "evidence").iterdir())
        self.evidence_seeds = {p: p.read_bytes() for p in self.evidence}
        (work / "gates.yaml").write_bytes(self.spec_seed)
        self.st_seed = _safetensors_seed()
        self.gguf_seed = small_valid().data

    def _run(self, target: str, data: bytes, fn: Callable[[], object]) -> None:
        self.counts[target] = self.counts.get(target, 0) + 1
        try:
            result = fn()
        except (GatesError, CheckSkipped):
            return
        except RecursionError:
            self._save(target, data, "RecursionError escaped\n" + traceback.format_exc())
            return
        except Exception:  # noqa: BLE001 - the fuzz target's whole point
            self._save(target, data, traceback.format_exc())
            return
        bad = [r for r in getattr(result, "results", ()) if r.internal_error]
        if bad:
            self._save(target, data, "\n".join(f"{r.gate_id}: {r.message}" for r in bad))

    def _save(self, target: str, data: bytes, why: str) -> None:
        self.failures += 1
        self.crashes.mkdir(parents=True, exist_ok=True)
        n = self.failures
        (self.crashes / f"{target}-{n}.bin").write_bytes(data)
        (self.crashes / f"{target}-{n}.txt").write_text(why, encoding="utf-8")
        print(f"FAIL {target} #{n}: {why.strip().splitlines()[-1][:200]}", flush=True)

    def spec(self, rnd: random.Random) -> None:
        data = mutate(self.spec_seed, rnd)
        path = self.work / "fuzzed.yaml"
        path.write_bytes(data)
        self._run("spec", data, lambda: evaluate(path, cache_dir=self.work / "cache"))

    def evidence_file(self, rnd: random.Random) -> None:
        target = rnd.choice(self.evidence)
        data = mutate(self.evidence_seeds[target], rnd)
        target.write_bytes(data)
        try:
            # the evidence cache too: one entry per gate, rewritten as the bytes change
            self._run(
                "evidence",
                data,
                lambda: evaluate(self.work / "gates.yaml", cache_dir=self.work / "cache"),
            )
        finally:
            target.write_bytes(self.evidence_seeds[target])

    def safetensors(self, rnd: random.Random) -> None:
        data = mutate(self.st_seed, rnd)
        path = self.work / "m.safetensors"
        path.write_bytes(data)
        self._run("safetensors", data, lambda: read_safetensors_header(path))

    def gguf(self, rnd: random.Random) -> None:
        data = mutate(self.gguf_seed, rnd)
        path = self.work / "m.gguf"
        path.write_bytes(data)
        self._run("gguf", data, lambda: read_gguf(path))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--crashes", type=Path, default=REPO / ".fuzz-crashes")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    # evaluate() is ~100× slower than a header parse: weight the cheap targets up
    plan = ["safetensors"] * 40 + ["gguf"] * 40 + ["evidence"] * 12 + ["spec"] * 8
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gates-fuzz-") as tmp:
        os.chdir(tmp)  # the confinement boundary: the fuzzed spec's folder
        fz = Fuzzer(Path(tmp), args.crashes.resolve())
        targets = {
            "safetensors": fz.safetensors,
            "gguf": fz.gguf,
            "evidence": fz.evidence_file,
            "spec": fz.spec,
        }
        for i in range(1, args.count + 1):
            targets[rnd.choice(plan)](rnd)
            if i % 10_000 == 0:
                print(f"{i} inputs, {time.perf_counter() - t0:.0f} s", flush=True)
    took = time.perf_counter() - t0
    tally = ", ".join(f"{k} {v}" for k, v in sorted(fz.counts.items()))
    print(
        f"{args.count} mutated inputs ({tally}) in {took:.0f} s: "
        f"{fz.failures} escaped errors other than albor-gates' own"
    )
    return 1 if fz.failures else 0


if __name__ == "__main__":
    sys.exit(main())
