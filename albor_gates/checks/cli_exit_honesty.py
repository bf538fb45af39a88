"""cli.exit_honesty — error text in the output implies a non-zero exit (P2, FALSIFY-QA-006).

Runs the tool once and searches stdout and stderr for ``error_pattern`` (case-insensitive;
by default error / fail / failed / not found / no such / invalid / cannot / unable / panic /
traceback), after removing the phrases ``ignore_pattern`` matches ("0 errors", "no failures").
Error text with exit status 0 is an exit-code lie: scripts and CI trust the status, people read
the text (/dogfood P2; the skill's "P1 EXIT-CODE LIE"). The value is true when honest.

With ``expect_error: true`` the invocation is known to be bad (a missing model, a nonexistent
id, FALSIFY-QA-002): it must exit non-zero **and** say why in words, without a crash (a Python
traceback or a Rust panic is not a human-readable error).

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example — P2 on a missing spec::

    check: cli.exit_honesty
    artifact: gates
    params: {args: [check, /nonexistent/spec.yaml], expect_error: true}

PASS: "gates: error: /nonexistent/spec.yaml: no such file or folder", exit 2 → "exited 2 with
an error message".
FAIL: "Error: model not found" on stderr and exit 0 → "says 'Error: model not found' but exited
0 (exit-code lie)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement

KIND = "cli.exit_honesty"
VERSION = 1
TITLE = "Error text in a tool's output comes with a non-zero exit (no exit-code lies)"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}

ERROR_PATTERN = (
    r"\b(?:errors?|fail(?:s|ed|ure|ures)?|not found|no such|invalid|cannot|can't|unable to"
    r"|panic(?:ked)?|traceback|fatal)\b"
)
IGNORE_PATTERN = (
    r"\b(?:0|no|zero|without)\s+(?:errors?|fail(?:s|ed|ures?)?|problems?)\b|--fail\S*|-Werror"
)


class Params(_cli.CommandParams):
    """Options of cli.exit_honesty."""

    error_pattern: _cli.Regex = ERROR_PATTERN
    ignore_pattern: _cli.Regex = IGNORE_PATTERN
    expect_error: bool = False
    crash_pattern: _cli.Regex = _cli.CRASH_PATTERN


def _error_line(text: str, params: Params) -> str | None:
    cleaned = re.sub(params.ignore_pattern, " ", text, flags=re.IGNORECASE)
    m = re.search(params.error_pattern, cleaned, flags=re.IGNORECASE)
    if m is None:
        return None
    start = cleaned.rfind("\n", 0, m.start()) + 1
    end = cleaned.find("\n", m.end())
    return cleaned[start : end if end >= 0 else None].strip()[:160]


def measure(ctx: Context, params: Params) -> Measurement:
    """Run once; compare what the output says with the exit status."""
    r, shown = _cli.run_once(ctx, params)
    said = _error_line(r.output, params)
    crash = _cli.crash_evidence(r, params.crash_pattern)
    ended = r.describe_end()
    if said is not None and r.status == 0:
        ok, summary = False, f"says {said!r} but exited 0 (exit-code lie)"
    elif params.expect_error and r.status == 0:
        ok, summary = False, "exited 0 on an invocation that must fail"
    elif params.expect_error and crash is not None:
        ok, summary = False, f"{ended} with a crash, not an error message: {crash!r}"
    elif params.expect_error and said is None:
        ok, summary = False, f"{ended} without saying what is wrong"
    elif said is not None:
        ok, summary = True, f"{ended} with an error message ({said!r})"
    else:
        ok, summary = True, f"{ended}; no error text in the output"
    details = _cli.record(r, shown)
    details["error_text"] = said
    details["crash"] = crash
    return Measurement(
        value=ok,
        subject=f"`{shown}`",
        summary=summary,
        details=details,
        fix="exit non-zero whenever the output reports an error, and print one clear line why",
    )
