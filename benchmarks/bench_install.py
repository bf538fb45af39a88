"""Install size and time of the light core against the full install, the pre-commit hook's set-up,
and start-up against bare Python (issue 12 part 1, issue 14 part 5).

Rows, all measured in this run:

* **install**: the wheel of this checkout into a fresh venv, core only (dependencies from the
  index through pip's cache) vs ``[all]`` with the Makefile's ``torch==2.13.0`` (the CPU wheel
  on this machine's disk; llama-cpp-python from the wheel ``make llama`` caches, else left out
  and said so). Time, site-packages size, distributions.
* **pre-commit**: ``pre-commit try-repo`` of this checkout's ``gates-lint`` hook in a scratch
  repository with a fresh ``PRE_COMMIT_HOME`` (the hook's venv set-up plus one lint), and the
  same for ``--before REF`` when given (7f9a92a is the last commit before the extras split;
  ``PIP_CONSTRAINT`` pins its torch to the local CPU wheel, where the public index would serve
  the multi-GB CUDA build).
* **start-up**: ``gates --help`` and ``gates lint specs invariants`` over ``python -c pass``
  (best of N, wall and CPU; bytecode written first, as an installed package has it), for this
  checkout and for ``--before REF``. Targets: --help ≤ 60 ms, lint ≤ 200 ms over bare Python.

The machine this runs on may be shared: CPU time (user + system of the child) is the steadier
figure when the wall clock is noisy.

    python benchmarks/bench_install.py [--runs 11] [--before 7f9a92a] [--skip-install]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from testlib.core_install import REPO, build_wheel, fresh_venv, pip  # noqa: E402
from testlib.minilm import cache_root  # noqa: E402

TORCH = "torch==2.13.0"  # the Makefile's pin: the CPU wheel on this machine's disk
HOOK_FILE = "specs/quickstart.yaml"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # installed packages have their bytecode
    return env


def _site_size(python: Path) -> tuple[float, int]:
    """MB under the venv's site-packages and the number of distributions installed."""
    (site,) = python.parent.parent.glob("lib/python*/site-packages")
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file() and not f.is_symlink())
    return size / 1e6, len(list(site.glob("*.dist-info")))


def install_rows(tmp: Path) -> list[tuple[str, float, float, int]]:
    """(label, seconds, MB, distributions) for the core and the full install."""
    wheel = build_wheel(tmp / "dist")
    rows = []
    llama = sorted((cache_root() / "wheels").glob("llama_cpp_python-*.whl"))
    extras = "all" if llama else "gguf,hub,humaneval,model,sign,tokenizer,transformers"
    for label, req, more in (
        ("core: pip install albor-gates", str(wheel), []),
        (
            f"full: pip install 'albor-gates[{extras}]' {TORCH}",
            f"{wheel}[{extras}]",
            [TORCH, *(["--find-links", str(llama[-1].parent)] if llama else [])],
        ),
    ):
        python = fresh_venv(tmp / label.split(":")[0])
        seconds = pip("install", "-q", req, *more, python=python, timeout=1800)
        rows.append((label, seconds, *_site_size(python)))
    return rows


def hook_setup(tmp: Path, pre_commit: Path, ref: str | None) -> float:
    """Seconds of ``pre-commit try-repo REPO gates-lint`` in a fresh scratch repository."""
    name = ref or "HEAD+worktree"
    work = tmp / f"hook-{name}"
    (work / "specs").mkdir(parents=True)
    shutil.copy(REPO / "examples" / "quickstart" / "gates.yaml", work / HOOK_FILE)
    for cmd in (["init", "-q"], ["add", "."]):
        subprocess.run(["git", *cmd], cwd=work, check=True)
    constraints = tmp / "constraints.txt"  # the old core pulled torch: take the local CPU wheel
    constraints.write_text(TORCH + "\n", encoding="utf-8")
    env = {**_env(), "PRE_COMMIT_HOME": str(tmp / f"pc-home-{name}")}
    env["PIP_CONSTRAINT"] = str(constraints)
    cmd = [str(pre_commit), "try-repo", str(REPO), "gates-lint", "--files", HOOK_FILE]
    cmd += ["--ref", ref] if ref else []
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"pre-commit try-repo failed: {(proc.stdout + proc.stderr)[-600:]}")
    return seconds


def startup_rows(
    trees: list[tuple[str, Path, str | None]], runs: int
) -> list[tuple[str, str, float, float]]:
    """(tree, command, wall ms, CPU ms over bare python) for --help and lint, best of ``runs``.

    The runs go round-robin over every tree and command, so a change in the machine's load
    falls on all of them alike.
    """
    py = sys.executable
    cmds = {
        "python -c pass (absolute)": [py, "-c", "pass"],
        "gates --help": [py, "-m", "albor_gates", "--help"],
        "gates lint specs invariants": [py, "-m", "albor_gates", "lint", "specs", "invariants"],
    }
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for rnd in range(runs + 1):  # the first round writes the bytecode and is not counted
        for label, tree, pythonpath in trees:
            env = _env()
            if pythonpath:
                env["PYTHONPATH"] = pythonpath
            for name, cmd in cmds.items():
                t0 = time.perf_counter()
                child = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
                wall, cpu = time.perf_counter() - t0, usage.ru_utime + usage.ru_stime
                if status != 0:
                    raise RuntimeError(f"{name} in {tree} exited {status >> 8}")
                if rnd:
                    old = best.get((label, name), (wall, cpu))
                    best[(label, name)] = (min(old[0], wall), min(old[1], cpu))
    rows = []
    for label, _, _ in trees:
        bare = best[(label, "python -c pass (absolute)")]
        for name in cmds:
            wall, cpu = best[(label, name)]
            if not name.startswith("python"):
                wall, cpu = wall - bare[0], cpu - bare[1]
            rows.append((label, name, wall * 1e3, cpu * 1e3))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11, help="start-up runs per command (best of)")
    ap.add_argument("--before", help="a commit to compare with (start-up and the hook set-up)")
    ap.add_argument("--skip-install", action="store_true", help="start-up rows only")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-install-") as name:
        tmp = Path(name)
        if not args.skip_install:
            print("install into a fresh venv (time, site-packages, distributions):")
            rows = install_rows(tmp)
            for label, seconds, mb, dists in rows:
                print(f"  {label:<72} {seconds:7.1f} s {mb:8.1f} MB {dists:4d} dists")
            (_, core_s, core_mb, _), (_, full_s, full_mb, _) = rows
            print(
                f"  core / full: {core_s / full_s:.2f}x the time, {core_mb / full_mb:.3f}x the size"
            )
            tool = fresh_venv(tmp / "pre-commit-tool")
            pip("install", "-q", "pre-commit", python=tool)
            print("pre-commit hook gates-lint, environment set-up + one lint (try-repo):")
            light = hook_setup(tmp, tool.parent / "pre-commit", None)
            print(f"  {'this checkout':<40} {light:7.1f} s")
            if args.before:
                heavy = hook_setup(tmp, tool.parent / "pre-commit", args.before)
                print(f"  {args.before:<40} {heavy:7.1f} s")
                print(f"  this checkout / {args.before}: {light / heavy:.2f}x")
        print(f"start-up, best of {args.runs} (ms over bare python; wall, CPU):")
        trees = [("this checkout", REPO, None)]
        if args.before:
            base = tmp / "before"
            base.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", args.before], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            trees.append((args.before, base, str(base)))
        for label, cmd, wall, cpu in startup_rows(trees, args.runs):
            print(f"  {label:<14} {cmd:<30} wall {wall:6.0f} ms  CPU {cpu:6.0f} ms")


if __name__ == "__main__":
    main()
