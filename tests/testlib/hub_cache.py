"""A Hugging Face Hub cache laid out the way huggingface_hub lays it out, built offline.

``HF_HOME/hub/models--ORG--NAME/`` holds ``blobs/<hash>`` (the file bytes), ``snapshots/<commit>/
<file>`` (relative symlinks into ``blobs/``) and ``refs/<branch>`` (the commit sha, no newline),
as ``huggingface_hub.file_download`` writes them. Tests set ``HF_HOME`` and ``HF_HUB_OFFLINE=1``
so every lookup is answered from this cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def add_to_hub_cache(
    hf_home: Path, repo_id: str, files: Path, *, commit: str, refs: tuple[str, ...] = ("main",)
) -> Path:
    """Put every file of the folder ``files`` into the cache as ``repo_id`` at ``commit``.

    Returns:
        The repo's cache root (``models--ORG--NAME``).
    """
    root = hf_home / "hub" / ("models--" + repo_id.replace("/", "--"))
    snap = root / "snapshots" / commit
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    snap.mkdir(parents=True, exist_ok=True)
    for f in sorted(files.iterdir()):
        data = f.read_bytes()
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snap / f.name
        if not link.exists():
            os.symlink(os.path.relpath(blob, snap), link)
    (root / "refs").mkdir(exist_ok=True)
    for ref in refs:
        (root / "refs" / ref).write_text(commit)
    return root
