"""File facts: size and sha256 digests of files and folders, streamed with bounded memory."""

from __future__ import annotations

import hashlib
import os
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


def tree_digests(
    path: Path, file_digest: Callable[[Path], str] = sha256_file
) -> list[tuple[str, str]]:
    """``(relpath, sha256)`` of every file in a folder, sorted; a link as ``link:TARGET``.

    Symbolic links are recorded by their target text, not followed, so a link cannot pull
    files from outside the folder into the digest. ``file_digest`` hashes one file (a run's
    :class:`Digests` passes its memo, so no file is hashed twice in a run).
    """
    try:
        entries = sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink())
    except OSError as e:
        raise EvidenceError(f"{path}: cannot list: {e.strerror}") from e
    return [
        (
            p.relative_to(path).as_posix(),
            "link:" + str(p.readlink()) if p.is_symlink() else file_digest(p),
        )
        for p in entries
    ]


def sha256_tree(path: Path, file_digest: Callable[[Path], str] = sha256_file) -> str:
    """Return a digest of a folder: sha256 over sorted ``relpath\\0sha256\\n`` lines."""
    return _lines_digest(tree_digests(path, file_digest))


def _lines_digest(entries: list[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for rel, digest in entries:
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


def sha256_path(path: Path) -> str:
    """Return :func:`sha256_file` for a file and :func:`sha256_tree` for a folder."""
    if path.is_dir():
        return sha256_tree(path)
    return sha256_file(path)


class Digests:
    """One run's digests: each file hashed once, whatever asks (gates, waivers, the cache).

    A file's sha256 is remembered under its resolved path *and* its ``(size, mtime_ns,
    inode)``, so a file rewritten during the run (a ``cli.*`` gate may write one) is hashed
    again, never answered from a stale entry. Nothing is kept across runs: a persistent
    stat-keyed index would have to re-verify each hit anyway, and hashing the bundled example
    costs well under a second (benchmarks/bench_cache.py prints it).
    """

    def __init__(self) -> None:
        self._files: dict[tuple[str, int, int, int], str] = {}

    def file(self, path: Path) -> str:
        """sha256 of a file's bytes.

        Raises:
            EvidenceError: when the file cannot be read.
        """
        try:
            resolved = path.resolve()
            st = resolved.stat()
        except OSError as e:
            raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
        key = (str(resolved), st.st_size, st.st_mtime_ns, st.st_ino)
        if key not in self._files:
            self._files[key] = sha256_file(resolved)
        return self._files[key]

    def path(self, path: Path) -> str:
        """:func:`sha256_path` of a file or folder, from the memo."""
        return sha256_tree(path, self.file) if path.is_dir() else self.file(path)

    def folder(self, path: Path) -> str:
        """A digest of the files directly in ``path`` (names and contents; links followed).

        What the loaders beside a weights file may read: config.json, tokenizer.json, the
        shards of an index. Subfolders are not part of it.
        """
        try:
            names = sorted(e.name for e in os.scandir(path) if e.is_file())
        except OSError as e:
            raise EvidenceError(f"{path}: cannot list: {e.strerror}") from e
        return _lines_digest([(n, self.file(path / n)) for n in names])
