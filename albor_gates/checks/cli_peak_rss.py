"""cli.peak_rss — peak resident memory of one invocation, in MiB (chaos C1).

Runs the tool once and reads the kernel's high-water mark of its resident set size from
``wait4`` — measured, not sampled, for the process spawned (and the largest descendant it
waited for). The chaos contract bounds it at 3 × the model size + 512 MB (C1); write that
number into ``expect`` for the model the gate runs on. The default band, ``le: 512``, is the
constant term: a tool that loads no model has no reason to exceed it.

Memory of a failed run says nothing, so the run must end with a status in ``ok_exit_codes``
(``[0]`` by default) or the gate is an ERROR.

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example — C1 for a 1 GiB input (3 × 1024 + 512 = 3584 MiB)::

    check: cli.peak_rss
    artifact: tool
    artifacts: {input: weights}
    params: {args: [inspect, "{input}"]}
    expect: {le: 3584}

PASS: streamed hashing of the 1 GiB file peaks at 44.2 MiB → "peak RSS 44.2 MiB ≤ 3584".
FAIL: the tool reads the whole file into memory twice → "peak RSS 2093.1 MiB, must be ≤ 512".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "cli.peak_rss"
VERSION = 1
TITLE = "Peak resident memory (MiB) of one command-line invocation"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"le": 512}


class Params(_cli.CommandParams):
    """Options of cli.peak_rss."""

    ok_exit_codes: list[int] = [0]


def measure(ctx: Context, params: Params) -> Measurement:
    """Run once and return the child's peak RSS in MiB."""
    r, shown = _cli.run_once(ctx, params)
    _cli.require_status(r, shown, params.ok_exit_codes, "memory")
    if r.peak_rss_mib is None:  # pragma: no cover - a finished run always reports it
        raise EvidenceError(f"`{shown}`: the peak RSS was not reported")
    mib = round(r.peak_rss_mib, 1)
    return Measurement(
        value=mib,
        subject="peak RSS",
        unit="MiB",
        summary=f"`{shown}` {r.describe_end()} in {r.wall_s:.2f} s",
        details=_cli.record(r, shown),
        fix="stream the input (mmap, chunked reads) instead of materialising it",
    )
