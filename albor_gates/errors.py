"""One error hierarchy for albor-gates.

Library code raises these; only :mod:`albor_gates.cli` turns them into a message and an exit
code. Every message is one line that says what is wrong, where (file:line:col, key, tensor or
byte offset) and, where one exists, how to fix it.

Exit codes (named so tests and docs quote the same numbers):

====  =========================================================
0     GO, or WARN without ``--strict``
1     NO-GO (or WARN with ``--strict``); an unreadable artifact
2     a broken spec, evidence schema or command-line usage
3     an internal bug (with a hint to report it)
130   interrupted (Ctrl-C); no report that reads as complete
143   terminated (SIGTERM); likewise, child processes cleaned up
129   hung up (SIGHUP); likewise
====  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_GO = 0
EXIT_NO_GO = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


class GatesError(Exception):
    """Base class of every error albor-gates raises on purpose."""

    exit_code: int = EXIT_USAGE


@dataclass(frozen=True)
class Problem:
    """One located problem in a spec or evidence file.

    Attributes:
        file: path of the file as the user named it.
        line: 1-based line, or 0 when unknown.
        col: 1-based column, or 0 when unknown.
        where: breadcrumb, e.g. ``spec ship-model-2 → gate AC-SHIP2-003 → expect``.
        message: what is wrong.
        hint: how to fix it (may be empty).
    """

    file: str
    line: int
    col: int
    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        loc = self.file
        if self.line:
            loc += f":{self.line}:{self.col or 1}"
        text = f"{loc}: {self.where + ': ' if self.where else ''}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class SpecError(GatesError):
    """A spec (or a set of specs) is broken; carries every problem found, sorted."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(GatesError):
    """The command line or the Python API was used wrongly."""

    exit_code = EXIT_USAGE


class EvidenceError(GatesError):
    """An evidence or artifact file cannot be read as what the gate needs.

    Inside an evaluation it becomes that gate's ERROR (NO-GO); at the top level of a command
    that reads a single file (``gates stamp``) it exits 1.
    """

    exit_code = EXIT_NO_GO


class ArtifactError(EvidenceError):
    """A model artifact (weights, config, tokenizer, card) is malformed or lies about itself."""


@dataclass
class CheckSkipped(Exception):
    """Raised by a check that cannot apply to its input; the gate becomes SKIPPED(reason)."""

    reason: str
    details: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reason


class InternalError(GatesError):
    """A bug in albor-gates itself."""

    exit_code = EXIT_INTERNAL


class Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP reached ``gates``: unwound like Ctrl-C, exit 128 + the signal.

    A KeyboardInterrupt, so every path that cleans up after Ctrl-C (the process groups a spec
    launched, staged report files) cleans up after these too.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Interrupted(GatesError):
    """The operator pressed Ctrl-C; nothing that reads as complete was written."""

    exit_code = EXIT_INTERRUPTED
