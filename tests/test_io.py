"""Atomic writes keep the permissions a plain write would give."""

from __future__ import annotations

import os
from pathlib import Path

from albor_gates.io import atomic_write_text


def test_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    p = tmp_path / "r.md"
    p.write_text("old")
    p.chmod(0o640)
    atomic_write_text(p, "new")
    assert p.read_text() == "new" and p.stat().st_mode & 0o777 == 0o640
