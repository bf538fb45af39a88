"""Safe writes: every file albor-gates writes goes to a temp file and is renamed into place.

A crash or Ctrl-C therefore never leaves a half-written report, and an existing file is
replaced in one step (never truncated and rewritten in place). A run's reports and bundle are
one set (:func:`write_set`): all of them are written, or none.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Mapping
from pathlib import Path

from albor_gates.errors import UsageError


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


#: Signals held off while a staged set is renamed into place (see :func:`write_set`).
_HELD = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


def write_set(files: Mapping[Path, str | bytes]) -> None:
    """Write every file of a set or none of them (reports + bundle of one run).

    Each file is staged as a temp file beside its target and fsynced; only when the whole set
    is staged are they renamed into place, with SIGINT / SIGTERM / SIGHUP held off for the few
    renames (a signal that arrives then is dropped: the run is complete). An interrupt or an
    error while staging removes every temp file, so nothing new reads as complete.

    Raises:
        UsageError: a target cannot be written (read-only folder, full disk, a file where a
            folder must be), naming the path and the reason — exit 2, not an internal error.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            blob = data.encode("utf-8") if isinstance(data, str) else data
            if path.is_dir():
                raise UsageError(f"{path}: is a folder; name a file to write")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = temp_beside(path)
                staged.append((tmp, path))
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as e:
                raise UsageError(
                    f"{path}: cannot write: {e.strerror or e}; choose a writable output path"
                ) from e
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
        try:
            for tmp, path in staged:
                os.replace(tmp, path)
            staged.clear()
            while signal.sigtimedwait(_HELD, 0) is not None:  # drop what came meanwhile
                pass
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
