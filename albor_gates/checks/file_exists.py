"""file.exists — the artifact exists (and, if asked, is a non-empty file or a folder).

The measured value is a flag; the default band is ``is_true: true``. A missing artifact is
measured as ``false`` here (a FAIL, not an ERROR): this gate is *about* presence.

Example::

    check: file.exists
    artifact: card
    params: {nonempty: true}

PASS: README.md exists with 2,114 bytes → "README.md exists (2114 bytes)".
FAIL: no such file → "README.md is missing".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from albor_gates.checks.base import CheckParams, Context, Measurement

KIND = "file.exists"
VERSION = 1
TITLE = "The artifact exists (optionally: non-empty, a file or a folder)"
ROLES = ("path",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}


class Params(CheckParams):
    """Options of file.exists."""

    nonempty: bool = False
    type: Literal["any", "file", "dir"] = "any"


def measure(ctx: Context, params: Params) -> Measurement:
    """Stat the path."""
    art = ctx.artifact("path")
    path = art.path
    name = art.display()
    if path is None or not path.exists():
        return Measurement(False, subject=name, summary=f"{name} is missing")
    if params.type == "file" and not path.is_file():
        return Measurement(False, subject=name, summary=f"{name} is not a file")
    if params.type == "dir" and not path.is_dir():
        return Measurement(False, subject=name, summary=f"{name} is not a folder")
    if path.is_dir():
        count = sum(1 for _ in path.iterdir())
        ok = count > 0 or not params.nonempty
        return Measurement(
            ok, subject=name, summary=f"{name} exists ({count} entries)", details={"entries": count}
        )
    size = path.stat().st_size
    ok = size > 0 or not params.nonempty
    summary = f"{name} exists ({size} bytes)" if ok else f"{name} is empty"
    return Measurement(ok, subject=name, summary=summary, details={"size": size})
