"""Where the bundled specs, invariants, templates and examples are.

In a wheel they are packaged under ``albor_gates/_data/`` (hatch ``force-include``); in a
source checkout or an editable install they are the repository-root folders. A user folder
named by ``--spec-path`` or the ``GATES_PATH`` environment variable (``:``-separated) is
searched first, so a user can override a bundled spec by short name.
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """Return the bundled folder ``name`` (specs, invariants, templates or examples)."""
    packaged = _PKG / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PKG.parent / name


def search_path(extra: list[Path] | None = None) -> list[Path]:
    """Return the folders searched for specs by short name, in priority order."""
    dirs = list(extra or [])
    env = os.environ.get("GATES_PATH", "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs += [data_dir("invariants"), data_dir("specs")]
    return dirs


def spec_files(folder: Path) -> list[Path]:
    """Return every ``*.yaml``/``*.yml`` file below ``folder``, sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def short_name(path: Path, root: Path) -> str:
    """Return a spec's short name: its path below ``root`` without the suffix."""
    return path.relative_to(root).with_suffix("").as_posix()
