"""File facts: size and sha256 digests of files and folders, streamed with bounded memory."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from albor_gates.errors import EvidenceError

CHUNK = 8 * 1024 * 1024


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """Return the hex sha256 of a file, read in 8 MiB chunks.

    Args:
        path: the file.
        progress: called with the number of bytes read after each chunk.

    Raises:
        EvidenceError: when the file cannot be read.
    """
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            buf = bytearray(CHUNK)
            view = memoryview(buf)
            while n := fh.readinto(buf):
                h.update(view[:n])
                if progress is not None:
                    progress(n)
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
    return h.hexdigest()


def tree_digests(path: Path) -> list[tuple[str, str]]:
    """``(relpath, sha256)`` of every file in a folder, sorted; a link as ``link:TARGET``.

    Symbolic links are recorded by their target text, not followed, so a link cannot pull
    files from outside the folder into the digest.
    """
    try:
        entries = sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink())
    except OSError as e:
        raise EvidenceError(f"{path}: cannot list: {e.strerror}") from e
    return [
        (
            p.relative_to(path).as_posix(),
            "link:" + str(p.readlink()) if p.is_symlink() else sha256_file(p),
        )
        for p in entries
    ]


def sha256_tree(path: Path) -> str:
    """Return a digest of a folder: sha256 over sorted ``relpath\\0sha256\\n`` lines."""
    h = hashlib.sha256()
    for rel, digest in tree_digests(path):
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


def sha256_path(path: Path) -> str:
    """Return :func:`sha256_file` for a file and :func:`sha256_tree` for a folder."""
    if path.is_dir():
        return sha256_tree(path)
    return sha256_file(path)
