"""cli.exit_code — the exit status of one invocation of a command-line tool.

Measures the status a shell reports in ``$?``: the exit code, or 128 + the signal number when
a signal killed the tool. It is taken from the child's wait status, never through a pipe (the
/dogfood methodology rule ``OUT=$(...); EC=$?``). A run that does not finish within
``timeout_s`` is killed with its whole process group and the gate is an ERROR.

How every ``cli.*`` kind runs a tool: the ``tool`` artifact is the argv prefix —
``{kind: command, command: ["{python}", "-m", "albor_gates"]}``, or a path to an executable —
and ``params.args`` the arguments. Placeholders inside args: ``{python}`` (the interpreter
running gates), ``{input}`` (the absolute path of the artifact bound to the optional ``input``
role) and ``{workdir}`` (the scratch folder the tool runs in, fresh per gate and removed
afterwards). Common params: ``timeout_s`` (60), ``env`` (variables to set), ``pass_env`` (names
copied from the caller; nothing else leaks in but PATH, HOME, LANG=C.UTF-8 and TMPDIR),
``files`` (fixtures written into the scratch folder first: ``{name: {text: "..."}}`` or
``{name: {size_mib: N}}``, a sparse file of zeros). stdin is /dev/null; stdout and stderr are
kept up to 4 MiB each.

Example — FALSIFY-QA-001, every subcommand answers ``--help``::

    check: cli.exit_code
    artifact: gates
    params: {args: [lint, --help]}

PASS: ``gates lint --help`` exits 0 → "exit status of `gates lint --help` 0 = 0".
FAIL: a missing spec must be a usage error (``expect: {eq: 2}``) but the tool exits 0 →
"exit status of `gates check /nonexistent.yaml` 0, must be = 2".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.checks import _cli
from albor_gates.checks.base import Context, Measurement

KIND = "cli.exit_code"
VERSION = 1
TITLE = "Exit status of one command-line invocation (128 + signal when killed)"
ROLES = _cli.ROLES
OPTIONAL_ROLES = _cli.OPTIONAL_ROLES
NEEDS = _cli.NEEDS
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = {"eq": 0}


class Params(_cli.CommandParams):
    """Options of cli.exit_code (the common command params only)."""


def measure(ctx: Context, params: Params) -> Measurement:
    """Run the command once and return its exit status."""
    r, shown = _cli.run_once(ctx, params)
    return Measurement(
        value=r.status,
        subject=f"exit status of `{shown}`",
        summary=r.describe_end(),
        details=_cli.record(r, shown),
        fix="make the exit code say what happened: 0 only on success",
    )
