"""cli.no_nonfinite — no NaN / Inf tokens in a tool's output (P7 NaN/Inf sentinel, FALSIFY-QA-004).

Runs the tool once and counts the tokens ``NaN``, ``Inf``, ``Infinity`` (with an optional sign;
YAML's ``.nan`` / ``-.inf`` too) in stdout and stderr, as whole words: ``inference``, ``info``,
``nanosecond``, ``np.nan`` and ``nan.yaml`` do not count. Matching ignores case by default
(``nan`` and ``inf`` are what Python and Rust print for a broken float). The value is the
number of occurrences; the default band is ``eq: 0``. /dogfood treats a NaN in ``run`` /
``bench`` output as non-negotiable (P7, "P0 NaN"). ``pattern`` replaces the token regex;
``streams`` narrows the search.

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example — P7 on the JSON report::

    check: cli.no_nonfinite
    artifact: gates
    artifacts: {input: quickstart}
    params: {args: [check, --format, json, "{input}"]}

PASS: "val_loss 4.6226783 nats" → "0 non-finite tokens in stdout, stderr".
FAIL: "tok/s: NaN" on line 3 → "non-finite tokens 1, must be = 0" with ``stdout:3: tok/s: NaN``
in the details.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement

KIND = "cli.no_nonfinite"
VERSION = 1
TITLE = "Count of NaN / Inf tokens in a tool's output"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}

PATTERN = r"(?<![\w.])[+-]?\.?(?:nan|inf(?:inity)?)(?!\w|\.\w)"
_SHOWN = 10
BOTH: tuple[_cli.Stream, ...] = ("stdout", "stderr")


class Params(_cli.CommandParams):
    """Options of cli.no_nonfinite."""

    pattern: _cli.Regex = PATTERN
    ignore_case: bool = True
    streams: list[_cli.Stream] = Field(default_factory=lambda: list(BOTH), min_length=1)


def measure(ctx: Context, params: Params) -> Measurement:
    """Run once and count the non-finite tokens."""
    r, shown = _cli.run_once(ctx, params)
    rx = re.compile(params.pattern, re.IGNORECASE if params.ignore_case else 0)
    count = 0
    where: list[str] = []
    for stream in dict.fromkeys(params.streams):
        text = r.stdout if stream == "stdout" else r.stderr
        for lineno, line in enumerate(text.splitlines(), 1):
            hits = rx.findall(line)
            count += len(hits)
            if hits and len(where) < _SHOWN:
                where.append(f"{stream}:{lineno}: {line.strip()[:160]}")
    details = _cli.record(r, shown)
    details["occurrences"] = where
    searched = ", ".join(dict.fromkeys(params.streams))
    summary = f"{count} non-finite token{'s' if count != 1 else ''} in {searched}"
    if where:
        summary += f"; first at {where[0]}"
    return Measurement(
        value=count,
        subject="non-finite tokens",
        summary=summary,
        details=details,
        fix="find where the NaN/Inf comes from and report it as an error (or null), not a number",
    )
