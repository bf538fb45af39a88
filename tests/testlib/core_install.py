"""albor-gates installed the way a user gets it: the wheel into a fresh venv (issue 12).

Shared by ``tests/test_light_core.py`` (the core install works without torch) and
``benchmarks/bench_install.py`` (how long the core and the full install take). The core
dependencies and the build backend are downloaded once from the index into
``$ALBOR_GATES_CACHE/core-wheels`` (``pip download``), so a warm run builds and installs with
``--no-index`` and needs no network at all.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

from testlib.minilm import cache_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the package's own fallback
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


class IndexUnreachable(RuntimeError):
    """pip could not download from the package index (the caller skips)."""


def pip(*args: str, python: Path | None = None, timeout: float = 900) -> float:
    """Run ``pip ARGS`` (into the environment of ``python`` when given); return the seconds.

    Raises:
        RuntimeError: pip failed (its last line of output).
    """
    target = ("--python", str(python)) if python else ()
    cmd = [sys.executable, "-m", "pip", *target, *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = [
            line
            for line in (proc.stderr + proc.stdout).splitlines()
            if line.strip() and "is ignored: it is neither a file" not in line
        ]
        raise RuntimeError(f"pip {args[0]} failed: {tail[-1] if tail else proc.returncode}")
    return time.perf_counter() - t0


def core_requirements() -> list[str]:
    """The core dependencies and the build backend, as pyproject.toml declares them."""
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return [*meta["build-system"]["requires"], *meta["project"]["dependencies"]]


def core_wheels() -> Path:
    """The folder of wheels a core install and a wheel build need (downloaded once).

    Raises:
        IndexUnreachable: the index cannot be reached and the folder is not filled yet.
    """
    reqs = core_requirements()
    folder = cache_root() / "core-wheels"
    done = folder / (hashlib.sha256("\n".join(reqs).encode()).hexdigest()[:16] + ".complete")
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    try:
        pip("download", "-q", "--only-binary", ":all:", "-d", str(folder), *reqs)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        raise IndexUnreachable(f"cannot download the core dependencies with pip: {e}") from e
    done.write_text("\n".join(reqs), encoding="utf-8")
    return folder


def build_wheel(dst: Path) -> Path:
    """Build the albor-gates wheel of this checkout into ``dst`` (offline, from the cache)."""
    wheels = str(core_wheels())
    pip("wheel", "-q", "--no-deps", "--no-index", "--find-links", wheels, "-w", str(dst), str(REPO))
    (wheel,) = dst.glob("albor_gates-*.whl")
    return wheel


def fresh_venv(path: Path) -> Path:
    """A new virtual environment without pip (the outer pip installs into it); its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"
