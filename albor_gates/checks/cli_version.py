"""cli.version — ``--version`` answers with a real version (P8 version sanity, FALSIFY-QA-005).

Runs the tool with ``args`` (``[--version]`` by default) and checks that it exits 0, prints a
line matching ``pattern`` (a ``X.Y.Z`` version by default) and none of the ``sentinels`` that
betray a broken build: ``(unknown)`` and ``0000000`` (a missing git hash, /dogfood P8 "P3
VERSION SENTINEL") and ``0.0.0``. ``contains`` lists texts that must appear as well — e.g. the
commit hash a release was built from (FALSIFY-QA-005: ``apr X.Y.Z (HASH)`` with HASH = HEAD).
The value is true when the answer is sane; the version line is in the details.

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example::

    check: cli.version
    artifact: gates
    params: {pattern: '^albor-gates \\d+\\.\\d+\\.\\d+$'}

PASS: "albor-gates 0.1.0", exit 0 → "`gates --version`: albor-gates 0.1.0".
FAIL: "apr 0.4.2 (0000000)" → "`apr --version`: 'apr 0.4.2 (0000000)' contains the sentinel
'0000000' (a build without its git hash)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement

KIND = "cli.version"
VERSION = 1
TITLE = "--version exits 0 with a real version (no (unknown) / 0000000 sentinels)"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}


class Params(_cli.CommandParams):
    """Options of cli.version."""

    args: list[str] = ["--version"]
    pattern: _cli.Regex = r"\b\d+\.\d+\.\d+"
    sentinels: list[str] = ["(unknown)", "0000000", "0.0.0"]
    contains: list[str] = []


def measure(ctx: Context, params: Params) -> Measurement:
    """Run ``--version`` and inspect the answer."""
    r, shown = _cli.run_once(ctx, params)
    text = r.stdout.strip() or r.stderr.strip()
    line = text.splitlines()[0].strip() if text else ""
    bad = [s for s in params.sentinels if s in text]
    absent = [c for c in params.contains if c not in text]
    matched = re.search(params.pattern, text, flags=re.MULTILINE)
    if r.status != 0:
        ok, summary = False, f"{r.describe_end()} (a version query must succeed)"
    elif not text:
        ok, summary = False, "printed nothing"
    elif bad:
        ok, summary = False, f"{line!r} contains the sentinel {bad[0]!r} (a broken build)"
    elif matched is None:
        ok, summary = False, f"{line!r} does not match {params.pattern!r}"
    elif absent:
        ok, summary = False, f"{line!r} lacks {absent[0]!r}"
    else:
        ok, summary = True, line
    details = _cli.record(r, shown)
    details["version"] = matched.group(0) if matched else None
    return Measurement(
        value=ok,
        subject=f"`{shown}`",
        summary=summary,
        details=details,
        fix="build with the version and commit embedded; --version must exit 0",
    )
