"""cli.sigint — Ctrl-C stops a running tool cleanly with status 130 (chaos C3).

Starts ``args`` (a job that runs for longer than ``after_s``), sends SIGINT to its process
group ``after_s`` seconds later — what a terminal's Ctrl-C does — and waits up to ``grace_s``
for it to end before killing it with SIGKILL. The value is the shell status: the exit code,
or 128 + the signal when a signal ended it, so both ``sys.exit(130)`` and death by the default
SIGINT action read 130 (the convention the README's exit-code table promises). A process that
ignores SIGINT and is killed reads 137.

A crash is not a clean stop: when the output shows a traceback or a panic (``crash_pattern``:
Python's "Traceback (most recent call last)", Rust's "panicked at"), the value is **-1**
whatever the status was — an uncaught KeyboardInterrupt also "exits 130", with a stack dump.
The details say which (``ended``, ``crash``). The default band is ``eq: 130``.

If the tool exits before the signal is due, the gate is an ERROR: nothing was interrupted, so
choose a longer job (``files`` can generate a large input: ``{big.bin: {size_mib: 16384}}``
is a sparse 16 GiB file that costs no disk).

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example — C3 on a hash of a large generated file::

    check: cli.sigint
    artifact: gates
    params: {args: [check, slow.yaml], after_s: 2, files: {...}}

PASS: "gates: interrupted; no report was written", exit 130 → "SIGINT status 130 = 130".
FAIL: a Python traceback ending in KeyboardInterrupt → "SIGINT status -1, must be = 130"
with "killed by SIGINT, with a crash: 'Traceback (most recent call last):'".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "cli.sigint"
VERSION = 1
TITLE = "Status of a tool interrupted with SIGINT (-1 when it crashes with a traceback)"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 130}

CRASHED = -1


class Params(_cli.CommandParams):
    """Options of cli.sigint."""

    after_s: float = Field(1.0, gt=0, le=600)
    grace_s: float = Field(10.0, gt=0, le=600)
    crash_pattern: _cli.Regex = _cli.CRASH_PATTERN


def measure(ctx: Context, params: Params) -> Measurement:
    """Start the job, interrupt it, and record how it ends."""
    with _cli.invoker(ctx, params) as inv:
        shown = inv.display(params.args)
        r = inv.run(
            params.args,
            interrupt_after_s=params.after_s,
            interrupt_grace_s=params.grace_s,
            timeout_s=max(params.timeout_s, params.after_s + params.grace_s + 1),
        )
    details = _cli.record(r, shown)
    if r.interrupted_at_s is None:
        raise EvidenceError(
            f"`{shown}` {r.describe_end()} after {r.wall_s:.2f} s, before SIGINT at "
            f"{params.after_s} s: nothing was interrupted; choose a longer job or a smaller after_s"
        )
    crash = _cli.crash_evidence(r, params.crash_pattern)
    details["crash"] = crash
    details["interrupted_at_s"] = r.interrupted_at_s
    ended = r.describe_end()
    if r.timed_out:
        ended = f"ignored SIGINT for {params.grace_s:g} s and was killed (status {r.status})"
    value = CRASHED if crash is not None else r.status
    summary = f"{ended}, with a crash: {crash!r}" if crash is not None else ended
    return Measurement(
        value=value,
        subject="SIGINT status",
        summary=summary,
        details=details,
        fix="catch the interrupt at the top level: clean up, print one line, exit 130",
    )
