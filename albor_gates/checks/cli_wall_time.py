"""cli.wall_time — wall-clock seconds of one invocation (start-up and job latency).

Runs the tool once and measures the time from spawn to exit — for a ``--help`` or ``lint``
that is start-up cost, the thing users feel on every call (albor-gates keeps torch out of
``gates lint`` for this). The run must end with a status in ``ok_exit_codes`` (``[0]``): the
time of a failed run says nothing. Timing on a shared machine is noisy: give a generous band,
and prefer ``severity: advisory``. There is no default band: write ``expect``.

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example::

    check: cli.wall_time
    artifact: gates
    params: {args: [--help]}
    expect: {le: 2}
    severity: advisory

PASS: ``gates --help`` takes 0.16 s → "wall time 0.16 s ≤ 2".
FAIL: an eager ``import torch`` makes it 3.4 s → "wall time 3.4 s, must be ≤ 2".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement

KIND = "cli.wall_time"
VERSION = 1
TITLE = "Wall-clock seconds of one command-line invocation"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(_cli.CommandParams):
    """Options of cli.wall_time."""

    ok_exit_codes: list[int] = [0]


def measure(ctx: Context, params: Params) -> Measurement:
    """Run once and return the wall time in seconds."""
    r, shown = _cli.run_once(ctx, params)
    _cli.require_status(r, shown, params.ok_exit_codes, "time")
    return Measurement(
        value=round(r.wall_s, 3),
        subject="wall time",
        unit="s",
        summary=f"`{shown}` {r.describe_end()}",
        details=_cli.record(r, shown),
        fix="defer heavy imports and work until a command needs them",
    )
