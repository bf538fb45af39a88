"""Shared machinery of the ``cli.*`` check kinds (GATES.md §3.1.7 FALSIFY-QA-*, §3.2 /dogfood).

Every ``cli.*`` kind runs a command-line tool named by the ``tool`` artifact::

    artifacts:
      gates: {kind: command, command: ["{python}", "-m", "albor_gates"]}
      example: {kind: yaml, path: ../examples/quickstart/gates.yaml}
    gates:
      - id: P10-JSON
        check: cli.json_output
        artifact: gates                       # the `tool` role: the argv prefix
        artifacts: {input: example}           # optional `input` role: {input} in args
        params: {args: [check, --format, json, "{input}"]}

The artifact's ``command`` is the argv prefix and ``params.args`` the arguments (a ``tool``
bound to a path runs that file). Placeholders, replaced inside any argument:

* ``{python}`` — the interpreter running ``gates`` (so our own CLI runs from its venv);
* ``{input}`` — the absolute path of the artifact bound to the ``input`` role;
* ``{workdir}`` — the run's scratch folder (also the working directory).

Common params: ``timeout_s`` (default 60), ``env`` (variables to set), ``pass_env`` (names to
copy from the caller's environment; the rest of it never reaches the tool: only PATH, HOME,
LANG=C.UTF-8 and TMPDIR do), and ``files`` — fixtures written into the scratch folder before
the run: ``{name: {text: "..."}}`` or ``{name: {size_mib: N}}`` (a sparse file of N MiB of
zeros, up to 64 GiB, that costs no disk: a large input for memory and interrupt tests).
Each run happens in a fresh scratch folder that is removed afterwards.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from albor_gates.artifacts.files import sha256_file
from albor_gates.checks.base import CheckParams, Context
from albor_gates.errors import EvidenceError

if TYPE_CHECKING:
    from albor_gates.artifacts.process import ProcessResult

# artifacts.process (subprocess and its dataclasses) is imported when a tool runs, not when a
# spec's params are validated (gates lint, plan).

TOOL = "tool"
INPUT = "input"
ROLES = (TOOL,)
OPTIONAL_ROLES = (INPUT,)
NEEDS: frozenset[str] = frozenset({"subprocess"})

MAX_SPARSE_MIB = 64 * 1024
_TAIL_LINES = 15
_TAIL_CHARS = 1500

Stream = Literal["stdout", "stderr"]

# A crash, as opposed to a clean error: a Python traceback, a Rust panic, a C crash (GATES.md
# §3.2.3: "panics = FAIL"; §3.3 G3-STABLE: no panic / SIGSEGV / SIGILL / SIGABRT).
CRASH_PATTERN = (
    r"Traceback \(most recent call last\)|panicked at|RUST_BACKTRACE|Segmentation fault"
    r"|core dumped|AddressSanitizer|Fatal Python error"
)
CRASH_SIGNALS = frozenset({"SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL", "SIGFPE"})


def valid_regex(pattern: str) -> str:
    """Compile a params regex at plan time, so a typo is a spec error, not a gate ERROR."""
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"not a valid regular expression: {e}") from e
    return pattern


Regex = Annotated[str, AfterValidator(valid_regex)]
"""A params field holding a regular expression, compiled when the spec is planned."""


class ScratchFile(CheckParams):
    """A fixture written into the scratch folder: ``text`` or a sparse ``size_mib``."""

    text: str | None = None
    size_mib: int | None = Field(None, ge=0, le=MAX_SPARSE_MIB)

    @model_validator(mode="after")
    def _exactly_one(self) -> ScratchFile:
        if (self.text is None) == (self.size_mib is None):
            raise ValueError("give exactly one of text or size_mib")
        return self


class CommandParams(CheckParams):
    """Options every ``cli.*`` kind takes (see the module docstring)."""

    args: list[str] = []
    timeout_s: float = Field(60.0, gt=0, le=3600)
    env: dict[str, str] = {}
    pass_env: list[str] = []
    files: dict[str, ScratchFile] = {}

    @field_validator("files")
    @classmethod
    def _relative_names(cls, v: dict[str, ScratchFile]) -> dict[str, ScratchFile]:
        for name in v:
            p = PurePosixPath(name)
            if not name or "\0" in name or p.is_absolute() or ".." in p.parts:
                raise ValueError(f"file name {name!r} must be relative, without '..'")
        return v


@dataclass(frozen=True)
class Invoker:
    """Runs the gate's tool in one scratch folder (see :func:`invoker`)."""

    name: str
    prefix: tuple[str, ...]
    workdir: Path
    params: CommandParams
    values: Mapping[str, str]

    def argv(self, args: Sequence[str]) -> tuple[str, ...]:
        """The full argv for ``args`` with ``{input}``/``{workdir}`` and extra values expanded."""
        out = []
        for arg in args:
            for key, value in self.values.items():
                arg = arg.replace(key, value)
            out.append(arg)
        return (*self.prefix, *out)

    def display(self, args: Sequence[str]) -> str:
        """How a message names the invocation: ``gates check --help`` (artifact name first)."""
        return " ".join(a if _PLAIN.fullmatch(a) else shlex.quote(a) for a in (self.name, *args))

    def run(
        self,
        args: Sequence[str],
        *,
        interrupt_after_s: float | None = None,
        interrupt_grace_s: float = 10.0,
        timeout_s: float | None = None,
    ) -> ProcessResult:
        """Run the tool with ``args`` in the scratch folder."""
        for key in _placeholders(args):
            if key not in self.values and key != "{python}":
                raise EvidenceError(_unbound_placeholder(key))
        from albor_gates.artifacts.process import run_command

        return run_command(
            self.argv(args),
            timeout_s=timeout_s or self.params.timeout_s,
            cwd=self.workdir,
            env=self.params.env,
            pass_env=self.params.pass_env,
            interrupt_after_s=interrupt_after_s,
            interrupt_grace_s=interrupt_grace_s,
        )


_PLAIN = re.compile(r"[\w@%+=:,./{}\[\]$-]+")
_PLACEHOLDER = re.compile(r"\{(python|input|workdir|bad|output)\}")


def _placeholders(args: Sequence[str]) -> set[str]:
    return {m.group(0) for a in args for m in _PLACEHOLDER.finditer(a)}


def _unbound_placeholder(key: str) -> str:
    if key == "{input}":
        return (
            "{input} is used in args but no artifact is bound to role 'input' "
            "(add artifacts: {input: NAME})"
        )
    return f"{key} is not available in this check kind's args"


def _tool_prefix(ctx: Context) -> tuple[str, tuple[str, ...]]:
    art = ctx.artifact(TOOL)
    if art.command is not None:
        return art.name, tuple(art.command)
    if art.path is None or not art.path.exists():
        raise EvidenceError(f"{art.display()}: not found (artifact {art.name!r}, the tool to run)")
    return art.name, (str(art.path.resolve()),)


def input_path(ctx: Context) -> Path | None:
    """The ``input`` artifact's path; None when the gate binds none.

    Raises:
        EvidenceError: when it is bound but missing (a missing input is not "no input").
    """
    try:
        ctx.artifact(INPUT)
    except EvidenceError:
        return None
    return ctx.path(INPUT)


def _write_files(workdir: Path, files: Mapping[str, ScratchFile]) -> None:
    for name, spec in files.items():
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if spec.text is not None:
            path.write_text(spec.text, encoding="utf-8")
        else:
            assert spec.size_mib is not None
            with path.open("wb") as fh:  # ftruncate makes a sparse file: no data written
                fh.truncate(spec.size_mib * 1024 * 1024)


@contextlib.contextmanager
def invoker(
    ctx: Context, params: CommandParams, extra: Mapping[str, str] | None = None
) -> Iterator[Invoker]:
    """A fresh scratch folder with the params' fixture files, and a runner for the tool.

    Args:
        ctx: the check's context (``tool`` and optional ``input`` roles).
        params: the check's params.
        extra: more placeholders, relative to the scratch folder (``{"{bad}": "bad.yaml"}``
            becomes the absolute path inside it).
    """
    from albor_gates.artifacts.process import scratch_dir

    name, prefix = _tool_prefix(ctx)
    with scratch_dir() as workdir:
        values = {"{workdir}": str(workdir)}
        source = input_path(ctx)
        if source is not None:
            values["{input}"] = str(source.resolve())
        for key, rel in (extra or {}).items():
            values[key] = rel if Path(rel).is_absolute() else str(workdir / rel)
        _write_files(workdir, params.files)
        yield Invoker(name, prefix, workdir, params, values)


def tail(text: str) -> str:
    """The last lines of an output (bounded), for a FAIL that explains itself."""
    lines = text.rstrip("\n").splitlines()[-_TAIL_LINES:]
    out = "\n".join(lines)
    return out[-_TAIL_CHARS:]


def record(r: ProcessResult, shown: str) -> dict[str, Any]:
    """The facts of one run, JSON-safe, for ``details``."""
    out: dict[str, Any] = {
        "command": shown,
        "argv": list(r.argv),
        "exit_code": r.exit_code,
        "status": r.status,
        "ended": r.describe_end(),
        "wall_s": round(r.wall_s, 3),
        "peak_rss_mib": None if r.peak_rss_mib is None else round(r.peak_rss_mib, 1),
        "stdout_tail": tail(r.stdout),
        "stderr_tail": tail(r.stderr),
    }
    if r.signal is not None:
        from albor_gates.artifacts.process import signal_name

        out["signal"] = signal_name(r.signal)
    if r.stdout_truncated or r.stderr_truncated:
        out["truncated"] = {"stdout": r.stdout_bytes, "stderr": r.stderr_bytes}
    return out


def require_finished(r: ProcessResult, shown: str) -> None:
    """Raise when the run hit its timeout: what it printed so far proves nothing.

    Raises:
        EvidenceError: naming the command and the limit.
    """
    if r.timed_out:
        raise EvidenceError(
            f"`{shown}` did not finish: {r.describe_end()}; fix the hang or raise timeout_s"
        )


def run_once(ctx: Context, params: CommandParams) -> tuple[ProcessResult, str]:
    """Run the tool once with ``params.args``; return the result and how to name the run.

    Raises:
        EvidenceError: when the run times out (:func:`require_finished`).
    """
    with invoker(ctx, params) as inv:
        shown = inv.display(params.args)
        r = inv.run(params.args)
    require_finished(r, shown)
    return r, shown


def require_status(r: ProcessResult, shown: str, ok: Sequence[int], what: str) -> None:
    """Raise unless the run ended with a status in ``ok``: a failed run's ``what`` says nothing.

    Raises:
        EvidenceError: naming the command, how it ended and the accepted statuses.
    """
    if r.status not in ok:
        raise EvidenceError(
            f"`{shown}` {r.describe_end()}: the {what} of a failed run says nothing "
            f"(ok_exit_codes: {list(ok)})"
        )


def crash_evidence(r: ProcessResult, pattern: str = CRASH_PATTERN) -> str | None:
    """What shows a crash (a traceback or panic line, a fatal signal), or None."""
    from albor_gates.artifacts.process import signal_name

    if r.signal is not None and signal_name(r.signal) in CRASH_SIGNALS:
        return f"killed by {signal_name(r.signal)}"
    m = re.search(pattern, r.output)
    if m is None:
        return None
    line_start = r.output.rfind("\n", 0, m.start()) + 1
    line_end = r.output.find("\n", m.end())
    line = r.output[line_start : line_end if line_end >= 0 else None].strip()
    return line[:200]


def sha256_or_none(path: Path) -> str | None:
    """sha256 of a file, or None when it is not there (or not a regular file)."""
    if not path.is_file():
        return None
    return sha256_file(path)
