"""cli.rejects_bad_input — bad inputs a tool does not reject (silent-fallback S1–S5).

The silent-fallback contract gate of /dogfood (GATES.md §3.2.2). Generates bad inputs in the
run's scratch folder (never touching the user's file) and runs ``args`` with ``{bad}`` replaced
by each one's path:

* ``truncated`` — the first half of the ``input`` artifact (S1, F-SILENT-001, GH-707);
* ``zeroed`` — a copy of ``input`` with 64 zero bytes written at offset 8, where most binary
  headers keep their lengths and counts (S4 as /dogfood runs it; a file shorter than 72 bytes
  is zeroed from offset 8 to its end);
* ``missing`` — a path that does not exist (S5: ``apr inspect /nonexistent``);
* ``empty`` — a 0-byte file;
* ``devnull`` — ``/dev/null`` (S2 as /dogfood runs it: ``apr bench /dev/null``).

Copies keep the input's file name after a prefix (``truncated-model.gguf``), so a tool that
dispatches on the extension still sees the format. An input is *rejected* when the tool exits
non-zero in time without a crash; exit 0 is a silent accept (the contract's "any silent accept
= FAIL"), and with ``count_crashes: true`` (default) a traceback, panic, fatal signal or hang
counts too: hostile input must get a clean error. The value is the number of bad inputs not
rejected; the default band is ``eq: 0``.

A control run with the real ``input`` must succeed first (exit 0): a tool that rejects
everything — or ``args`` that are wrong — would otherwise pass. ``control: false`` skips it;
``truncated`` and ``zeroed`` need the ``input`` role.

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example — S1–S5 for ``gates lint``::

    check: cli.rejects_bad_input
    artifact: gates
    artifacts: {input: quickstart}
    params: {args: [lint, "{bad}"]}

PASS: every bad spec exits 2 with a located message → "5 of 5 bad inputs rejected".
FAIL: the truncated file exits 0 → "bad inputs not rejected 1, must be = 0" with "truncated:
exited 0 (silently accepted)".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "cli.rejects_bad_input"
VERSION = 1
TITLE = "Bad inputs (truncated, zeroed, missing, empty, /dev/null) that a tool does not reject"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}

BadKind = Literal["truncated", "zeroed", "missing", "empty", "devnull"]
ALL_KINDS: tuple[BadKind, ...] = ("truncated", "zeroed", "missing", "empty", "devnull")
ZERO_OFFSET = 8
ZERO_LENGTH = 64
# Copies stream in chunks: the input may be a multi-GB model.
_CHUNK = 8 * 1024 * 1024


class Params(_cli.CommandParams):
    """Options of cli.rejects_bad_input."""

    args: list[str] = ["{bad}"]
    inputs: list[BadKind] = Field(default_factory=lambda: list(ALL_KINDS), min_length=1)
    count_crashes: bool = True
    control: bool = True
    crash_pattern: _cli.Regex = _cli.CRASH_PATTERN

    @field_validator("args")
    @classmethod
    def _uses_bad(cls, v: list[str]) -> list[str]:
        if not any("{bad}" in a for a in v):
            raise ValueError("args must contain {bad}, the path of each bad input")
        return v


def _copy_prefix(src: Path, dst: Path, size: int) -> None:
    with src.open("rb") as fi, dst.open("wb") as fo:
        left = size
        while left > 0:
            chunk = fi.read(min(_CHUNK, left))
            if not chunk:
                break
            fo.write(chunk)
            left -= len(chunk)


def make_bad_input(kind: BadKind, source: Path | None, workdir: Path) -> str:
    """Write one bad input into ``workdir`` and return the path to pass (see the docstring).

    Raises:
        EvidenceError: when ``kind`` needs the ``input`` artifact and none is bound.
    """
    name = source.name if source is not None else "input"
    if kind == "devnull":
        return "/dev/null"
    if kind == "missing":
        return str(workdir / f"missing-{name}")
    if kind == "empty":
        path = workdir / f"empty-{name}"
        path.write_bytes(b"")
        return str(path)
    if source is None:
        raise EvidenceError(f"the {kind} input is made from the 'input' artifact: bind one")
    size = source.stat().st_size
    path = workdir / f"{kind}-{name}"
    if kind == "truncated":
        _copy_prefix(source, path, size // 2)
    else:
        _copy_prefix(source, path, size)
        with path.open("r+b") as fh:
            fh.seek(ZERO_OFFSET)
            fh.write(bytes(max(0, min(ZERO_LENGTH, size - ZERO_OFFSET))))
    return str(path)


def measure(ctx: Context, params: Params) -> Measurement:
    """Run the tool on each bad input (after a control run on the good one)."""
    source = _cli.input_path(ctx)
    accepted: list[str] = []
    runs: dict[str, Any] = {}
    with _cli.invoker(ctx, params) as inv:
        if params.control and source is not None:
            good = [a.replace("{bad}", "{input}") for a in params.args]
            shown = inv.display(good)
            r = inv.run(good)
            if r.timed_out or r.status != 0:
                raise EvidenceError(
                    f"control run `{shown}` {r.describe_end()} on the good input: the bad-input "
                    "test would prove nothing; fix args (or set control: false)"
                )
            runs["control"] = _cli.record(r, shown)
        for kind in dict.fromkeys(params.inputs):
            bad = make_bad_input(kind, source, inv.workdir)
            args = [a.replace("{bad}", bad) for a in params.args]
            shown = inv.display(args)
            r = inv.run(args)
            runs[kind] = _cli.record(r, shown)
            crash = _cli.crash_evidence(r, params.crash_pattern) if params.count_crashes else None
            if r.status == 0 and not r.timed_out:
                accepted.append(f"{kind}: exited 0 (silently accepted)")
            elif params.count_crashes and r.timed_out:
                accepted.append(f"{kind}: {r.describe_end()} (a hang, not a rejection)")
            elif crash is not None:
                accepted.append(f"{kind}: {r.describe_end()} with a crash: {crash!r}")
    n = len(runs) - ("control" in runs)
    summary = f"{n - len(accepted)} of {n} bad inputs rejected" + (
        ": " + "; ".join(accepted) if accepted else ""
    )
    return Measurement(
        value=len(accepted),
        subject="bad inputs not rejected",
        summary=summary,
        details={"not_rejected": accepted, "runs": runs},
        fix="validate inputs before use: exit non-zero with one line naming the file and defect",
    )
