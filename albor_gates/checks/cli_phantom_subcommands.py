"""cli.phantom_subcommands — every advertised subcommand exists (P9, FALSIFY-QA-001 and 008).

Reads the subcommands the tool advertises in its ``--help`` — the ``Commands:`` section of
click and clap v4 help, ``SUBCOMMANDS:`` of clap v2/v3, argparse's ``{a,b,c}`` choice list
(``section_pattern`` names other headers; ``commands`` gives the list explicitly) — then runs
``<args> <subcommand> --help`` for each. A subcommand is a phantom when that run exits non-zero
(FALSIFY-QA-001: every registered command exits 0 on ``--help``), hangs, or says "not
implemented" / "not yet implemented" / "unimplemented" / "coming soon" at the start of a
message (``error: not yet implemented``, a Rust ``todo!()`` panic, a Python NotImplementedError
— a catalogue that only mentions the phrase does not count; FALSIFY-QA-008, /dogfood P9
"PHANTOM"; ``phantom_pattern`` replaces the default). With ``bare: true`` each subcommand also
runs without arguments and its output is searched for the same phrases (many stubs only confess
when run). The value is the number of phantoms; the default band is ``eq: 0``. Finding fewer
than ``min_commands`` subcommands is an ERROR, so a help layout the parser does not understand
never passes as "no phantoms".

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``; ``args`` here is the prefix before the subcommand (for nested groups).

Example::

    check: cli.phantom_subcommands
    artifact: gates

PASS: check, explain, lint, list, schema all answer ``--help`` → "5 advertised subcommands
answer --help: check, explain, lint, list, schema".
FAIL: ``apr tune --help`` prints "tune: not yet implemented" → "phantom subcommands 1, must be
= 0" with "tune: says 'not yet implemented'" in the details.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError

KIND = "cli.phantom_subcommands"
VERSION = 1
TITLE = "Advertised subcommands that fail --help or say 'not implemented'"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}

SECTION_PATTERN = r"^\s*(?:available\s+)?(?:sub)?commands\s*:?\s*$"
# The phrase must open a message — at a line start after "prog: error:"-style prefixes, or as
# a Rust panic or a Python NotImplementedError — so a catalogue that merely mentions it (our own
# `gates list` and `gates schema` do) is not a confession.
PHANTOM_PATTERN = (
    r"(?m)^[^\w\n]*(?:[\w .-]*:[ \t]*)*"
    r"(?:not\s+(?:yet\s+)?implemented|unimplemented|coming\s+soon)\b"
    r"|panicked at '(?:not (?:yet )?implemented)|\bNotImplementedError\b"
)
_ENTRY = re.compile(
    r"^(?P<indent>[ \t]+)(?P<name>[A-Za-z0-9][\w.:-]*)(?:,\s*[\w.:-]+)*(?:\s{2,}\S.*)?\s*$"
)
_ARGPARSE = re.compile(r"^\s+\{(?P<names>[\w.:-]+(?:,[\w.:-]+)*)\}\s*$", re.MULTILINE)


class Params(_cli.CommandParams):
    """Options of cli.phantom_subcommands."""

    help_args: list[str] = ["--help"]
    section_pattern: _cli.Regex = SECTION_PATTERN
    phantom_pattern: _cli.Regex = PHANTOM_PATTERN
    commands: list[str] | None = None
    exclude: list[str] = []
    bare: bool = False
    min_commands: int = Field(1, ge=0)


def parse_subcommands(help_text: str, section_pattern: str = SECTION_PATTERN) -> list[str]:
    """The subcommand names a help text advertises, in order, without duplicates.

    Entries are the lines of a commands section indented like its first entry; deeper lines
    continue a description. Without such a section, argparse's ``{a,b,c}`` list is used.
    """
    header = re.compile(section_pattern, re.IGNORECASE)
    names: list[str] = []
    lines = help_text.splitlines()
    i = 0
    while i < len(lines):
        if not header.match(lines[i]):
            i += 1
            continue
        indent: str | None = None
        i += 1
        while i < len(lines) and lines[i].strip():
            line = lines[i]
            if not line[:1].isspace():
                break
            m = _ENTRY.match(line)
            if indent is None and m:
                indent = m.group("indent")
            if m and m.group("indent") == indent:
                names.append(m.group("name"))
            i += 1
    if not names:
        for m in _ARGPARSE.finditer(help_text):
            names += m.group("names").split(",")
    return list(dict.fromkeys(names))


def measure(ctx: Context, params: Params) -> Measurement:
    """List the subcommands and probe each one."""
    phantom_rx = re.compile(params.phantom_pattern, re.IGNORECASE)
    with _cli.invoker(ctx, params) as inv:
        top_args = [*params.args, *params.help_args]
        top_shown = inv.display(top_args)
        top = inv.run(top_args)
        _cli.require_finished(top, top_shown)
        if params.commands is not None:
            names = list(params.commands)
        else:
            if top.status != 0:
                raise EvidenceError(f"`{top_shown}` {top.describe_end()}: no subcommand list")
            names = parse_subcommands(top.stdout or top.stderr, params.section_pattern)
        names = [n for n in names if n not in params.exclude]
        if len(names) < params.min_commands:
            raise EvidenceError(
                f"`{top_shown}` lists {len(names)} subcommands (at least {params.min_commands} "
                "expected): set section_pattern or commands"
            )
        phantoms: list[str] = []
        runs: list[dict[str, Any]] = []
        for name in names:
            probes = [[*params.args, name, *params.help_args]]
            if params.bare:
                probes.append([*params.args, name])
            reason = None
            for j, probe in enumerate(probes):
                shown = inv.display(probe)
                r = inv.run(probe)
                runs.append(
                    {"command": shown, "ended": r.describe_end(), "wall_s": round(r.wall_s, 3)}
                )
                m = phantom_rx.search(r.output)
                if m is not None:
                    reason = f"{name}: says {m.group(0).strip()!r}"
                elif j == 0 and (r.timed_out or r.status != 0):
                    reason = f"{name}: `{shown}` {r.describe_end()}"
                    reason += (
                        f" ({_cli.tail(r.stderr).splitlines()[-1][:120]})"
                        if r.stderr.strip()
                        else ""
                    )
                if reason:
                    break
            if reason:
                phantoms.append(reason)
    probe_words = " ".join(params.help_args)
    if phantoms:
        summary = f"{len(phantoms)} of {len(names)} subcommands are phantoms: " + "; ".join(
            phantoms[:5]
        )
    else:
        summary = f"{len(names)} advertised subcommands answer {probe_words}: {', '.join(names)}"
    return Measurement(
        value=len(phantoms),
        subject="phantom subcommands",
        summary=summary,
        details={
            "commands": names,
            "phantoms": phantoms,
            "runs": runs,
            "help": _cli.record(top, top_shown),
        },
        fix="implement the subcommand or stop advertising it",
    )
