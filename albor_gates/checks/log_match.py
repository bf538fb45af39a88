"""log.match — how many lines of a text log match a regular expression.

Counts matching lines in the ``log`` artifact (read line by line, so a multi-GB log costs no
memory; lines longer than 1 MiB are split). The value is the count; bound it with the band:

* the Chinchilla bypass must be logged (contracts/chinchilla-gate-v1, P0-J)::

      check: log.match
      artifact: train_log
      params: {pattern: '\\[P0-J\\] Chinchilla gate BYPASSED'}
      expect: {ge: 1}

  PASS: the line is present once → "matches of '[P0-J] ...' 1 ≥ 1".
  FAIL: the run bypassed the gate silently → "matches ... 0, must be ≥ 1".

* no NaN/Inf tokens in generated output (P7): ``params: {pattern: '\\b(nan|inf)\\b',
  ignore_case: true}`` with ``expect: {eq: 0}``.

The first few matching lines (with line numbers) are kept in the report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import field_validator

from albor_gates.checks.base import CheckParams, Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "log.match"
VERSION = 1
TITLE = "Number of lines of a text log that match a regular expression"
ROLES = ("log",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None

MAX_LINE = 1024 * 1024
KEEP = 5


class Params(CheckParams):
    """Options of log.match."""

    pattern: str
    ignore_case: bool = False
    name: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regular expression: {e}") from e
        return v


def measure(ctx: Context, params: Params) -> Measurement:
    """Scan the log once, counting matching lines."""
    path = ctx.path("log")
    rx = re.compile(params.pattern, re.IGNORECASE if params.ignore_case else 0)
    count = 0
    lines = 0
    examples: list[str] = []
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            while chunk := fh.readline(MAX_LINE):
                lines += 1
                if rx.search(chunk):
                    count += 1
                    if len(examples) < KEEP:
                        examples.append(f"{lines}: {chunk.rstrip()[:200]}")
    except OSError as e:
        raise EvidenceError(f"{path}: cannot read: {e.strerror}") from e
    return Measurement(
        value=count,
        subject=params.name or f"matches of {params.pattern!r}",
        summary=f"{count} of {lines} lines of {path.name} match",
        details={"lines": lines, "examples": examples},
    )
