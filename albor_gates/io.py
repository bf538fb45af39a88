"""Safe writes: every file albor-gates writes goes to a temp file and is renamed into place.

A crash or Ctrl-C therefore never leaves a half-written report, and an existing file is
replaced in one step (never truncated and rewritten in place).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temp_beside(path: Path) -> tuple[int, str]:
    """Open a temp file in ``path``'s folder for a later ``os.replace`` onto ``path``.

    ``mkstemp`` creates the file 0600; the result gets the mode ``path`` already has, else the
    mode a plain ``open()`` would give (0666 less the umask), so a report written atomically is
    as readable as one written in place.

    Returns:
        the open file descriptor and the temp file's name.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    os.fchmod(fd, mode)
    return fd, tmp


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
