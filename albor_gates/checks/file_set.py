"""file.set — a release folder holds every required file (the publish file set).

SPEC-HF-PUBLISH-001 asks for a 12-file minimum (README.md, LICENSE, config.json,
generation_config.json, tokenizer.json, ...). The value is the number of required entries that
are missing or empty; the default band is ``eq: 0``. Entries may be glob patterns
(``*.safetensors``): a pattern is satisfied by at least one non-empty match.

Example::

    check: file.set
    artifact: release
    params: {files: [README.md, LICENSE, config.json, tokenizer.json, "*.safetensors"]}

PASS: all present → "5 of 5 required files present".
FAIL: "4 of 5 required files present; missing: LICENSE".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "file.set"
VERSION = 1
TITLE = "A folder holds every required file (globs allowed); value = number missing"
ROLES = ("folder",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class Params(CheckParams):
    """Options of file.set."""

    files: list[str] = Field(min_length=1)
    allow_empty: bool = False


def measure(ctx: Context, params: Params) -> Measurement:
    """List what is missing."""
    root = ctx.path("folder")
    if not root.is_dir():
        raise EvidenceError(f"{root}: not a folder (file.set needs the release folder)")
    missing: list[str] = []
    for entry in params.files:
        matches = sorted(root.glob(entry)) if any(c in entry for c in "*?[") else [root / entry]
        ok = [p for p in matches if p.is_file() and (params.allow_empty or p.stat().st_size > 0)]
        if not ok:
            missing.append(entry)
    n = len(params.files)
    summary = f"{n - len(missing)} of {n} required files present"
    if missing:
        summary += "; missing or empty: " + ", ".join(missing)
    return Measurement(
        len(missing), subject="missing files", summary=summary, details={"missing": missing}
    )
