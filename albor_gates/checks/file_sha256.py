"""file.sha256 — the sha256 of the artifact (a file's bytes, or a folder's manifest digest).

The value is the lowercase hex digest; compare it with ``expect: {eq: <hex>}`` (AC-SHIP1-010
"SHA-256 matches manifest") or ``in: [...]``. A folder's digest is sha256 over sorted
``relpath\\0sha256`` lines, so it changes when any file is added, removed or edited.

Example::

    check: file.sha256
    artifact: weights
    expect: {eq: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}

PASS: the bytes hash to the expected digest. FAIL: one flipped byte changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks.base import Context, Measurement, NoParams

KIND = "file.sha256"
VERSION = 1
TITLE = "sha256 of a file, or the manifest digest of a folder"
ROLES = ("path",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None
Params = NoParams


def measure(ctx: Context, params: NoParams) -> Measurement:
    """Hash the artifact (once per run; waivers reuse the digest)."""
    path = ctx.path("path")
    digest = ctx.digest("path")
    return Measurement(digest, subject=f"sha256({path.name})", details={"sha256": digest})
