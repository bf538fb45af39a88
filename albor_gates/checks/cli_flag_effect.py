"""cli.flag_effect — a flag changes what the tool does (P1 silent flag, FALSIFY-QA-007).

Runs the tool with ``args`` and with ``with_args`` (the same invocation plus the flag, in the
position the tool expects) and compares what ``compare`` names — stdout, stderr and the exit
status by default. Identical behaviour means the flag is a no-op: it is accepted and ignored,
which /dogfood P1 counts as a FAIL (``--json`` that prints the table, ``--strict`` that changes
nothing). The value is true when the two runs differ.

A control run repeats ``args``: when two identical invocations already differ (timestamps,
durations, random ids), any flag would seem to work, so the gate is an ERROR asking for
``ignore_patterns`` (regexes removed from both outputs before comparing) or for ``env`` that
makes the tool deterministic (``SOURCE_DATE_EPOCH``). Set ``control: false`` to skip it.

Common params (args, placeholders, timeout_s, env, pass_env, files): see ``gates explain
cli.exit_code``.

Example — P1 on ``--format json``::

    check: cli.flag_effect
    artifact: gates
    artifacts: {input: quickstart}
    params:
      args: [check, "{input}"]
      with_args: [check, --format, json, "{input}"]

PASS: the table becomes a JSON document → "stdout differs (line 1: 'albor-gates 0.1.0 ·
quickstart 1.0.0' vs '{')".
FAIL: ``--verbose`` prints the same bytes and exits the same → "`--verbose` changes nothing in
stdout, stderr, exit status".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError

if TYPE_CHECKING:
    from albor_gates.artifacts.process import ProcessResult

KIND = "cli.flag_effect"
VERSION = 1
TITLE = "A flag changes a tool's output or exit status (no silent no-op flags)"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"is_true": True}

Aspect = Literal["stdout", "stderr", "exit_status"]
ALL_ASPECTS: tuple[Aspect, ...] = ("stdout", "stderr", "exit_status")


class Params(_cli.CommandParams):
    """Options of cli.flag_effect."""

    with_args: list[str]
    compare: list[Aspect] = Field(default_factory=lambda: list(ALL_ASPECTS), min_length=1)
    ignore_patterns: list[_cli.Regex] = []
    control: bool = True


def _observed(r: ProcessResult, params: Params) -> dict[str, str]:
    out: dict[str, str] = {}
    for aspect in dict.fromkeys(params.compare):
        if aspect == "exit_status":
            out[aspect] = str(r.status)
            continue
        text = r.stdout if aspect == "stdout" else r.stderr
        for pattern in params.ignore_patterns:
            text = re.sub(pattern, "", text)
        out[aspect] = text
    return out


def _first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i in range(max(len(la), len(lb))):
        x = la[i] if i < len(la) else "<end>"
        y = lb[i] if i < len(lb) else "<end>"
        if x != y:
            return f"line {i + 1}: {x[:60]!r} vs {y[:60]!r}"
    return "trailing whitespace"


def _differences(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    out = []
    for aspect in a:
        if a[aspect] != b[aspect]:
            if aspect == "exit_status":
                out.append(f"exit status {a[aspect]} vs {b[aspect]}")
            else:
                out.append(f"{aspect} differs ({_first_difference(a[aspect], b[aspect])})")
    return out


def _added(args: list[str], with_args: list[str]) -> str:
    extra = list(with_args)
    for a in args:
        if a in extra:
            extra.remove(a)
    return " ".join(extra) or "the flag"


def measure(ctx: Context, params: Params) -> Measurement:
    """Run without and with the flag (and a control run) and compare."""
    with _cli.invoker(ctx, params) as inv:
        shown, shown_with = inv.display(params.args), inv.display(params.with_args)
        base = inv.run(params.args)
        _cli.require_finished(base, shown)
        control = inv.run(params.args) if params.control else None
        flagged = inv.run(params.with_args)
        _cli.require_finished(flagged, shown_with)
    seen = _observed(base, params)
    if control is not None:
        _cli.require_finished(control, shown)
        noise = _differences(seen, _observed(control, params))
        if noise:
            raise EvidenceError(
                f"`{shown}` is not deterministic ({noise[0]} between two identical runs): add "
                "ignore_patterns or env that fixes the output, or set control: false"
            )
    diff = _differences(seen, _observed(flagged, params))
    flag = _added(params.args, params.with_args)
    aspects = ", ".join(a.replace("_", " ") for a in dict.fromkeys(params.compare))
    summary = "; ".join(diff) if diff else f"`{flag}` changes nothing in {aspects}"
    return Measurement(
        value=bool(diff),
        subject=f"`{flag}`",
        summary=summary,
        details={"without": _cli.record(base, shown), "with": _cli.record(flagged, shown_with)},
        fix="make the flag do what its help says, or remove it",
    )
