"""Run a command safely and capture what it did as frozen evidence (the CLI protocols' reader).

The dogfood protocols (GATES.md §3.1.7, §3.2) judge a command-line tool by what it observably
does: its exit code, its output, its memory, how it dies. :func:`run_command` measures one
invocation and never judges it:

* **argv only** — a list, never a shell string (no ``shell=True``): no quoting bugs, no
  injection through a spec.
* **exit code captured directly** from the child's wait status, never through a pipe (the
  /dogfood methodology rule ``OUT=$(...); EC=$?``: ``cmd | tee`` reports tee's status).
* **a timeout** that kills the child's whole process group (the child runs in its own session)
  and reports ``timed_out``; a hanging tool never hangs the gate.
* **a clean environment**: only ``PATH``, ``HOME``, ``LANG=C.UTF-8`` and ``TMPDIR``, plus the
  variables the caller names; the caller's locale, tokens and config switches do not leak in.
* **stdin** is ``/dev/null`` (reads see end-of-file at once: a tool that waits for input
  cannot block), **stdout/stderr** are captured up to a cap each (4 MiB by default; the rest
  is counted and dropped, and the result says it was truncated).
* **peak RSS** of the child from ``os.wait4`` — the kernel's high-water mark for the process
  we spawned (and the largest descendant it waited for), not a sample.
* **SIGINT after N seconds** (``interrupt_after_s``), sent to the child's process group as a
  terminal's Ctrl-C is, then a grace period before SIGKILL (chaos C3).

Placeholders in argv: :func:`expand_argv` replaces ``{python}`` with the running interpreter
(``sys.executable``), so a spec can say ``command: ["{python}", "-m", "albor_gates"]`` and run
our own CLI from whatever virtual environment runs ``gates`` — a bare ``python`` on ``PATH``
may be another interpreter without the package.

Limitation: a descendant that calls ``setsid()`` itself leaves the process group and escapes
the kill; its open pipe ends are abandoned after a short drain so the run still returns.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from albor_gates.errors import EvidenceError

DEFAULT_OUTPUT_CAP = 4 * 1024 * 1024
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_INTERRUPT_GRACE_S = 10.0
_READ_CHUNK = 64 * 1024
_POLL_S = 0.02
# After the child is gone, how long to keep reading pipes that an escaped descendant holds open.
_DRAIN_AFTER_KILL_S = 0.5
PLACEHOLDER_PYTHON = "{python}"


@dataclass(frozen=True)
class ProcessResult:
    """What one invocation did.

    Attributes:
        argv: the argv that ran (placeholders expanded).
        cwd: the working directory.
        exit_code: the code the process passed to ``exit``; None when a signal killed it.
        signal: the number of the signal that killed it; None when it exited.
        timed_out: True when the run was killed at the timeout (or at the end of the grace
            period after SIGINT); ``exit_code``/``signal`` then describe the killed process.
        interrupted_at_s: seconds after the start at which SIGINT was sent; None if it was not
            (not asked for, or the process had already exited).
        stdout: the first ``output_cap`` bytes of stdout, decoded as UTF-8 (bad bytes → U+FFFD).
        stderr: the same for stderr.
        stdout_bytes: bytes the process wrote to stdout in total (kept and dropped).
        stderr_bytes: bytes it wrote to stderr in total.
        stdout_truncated: whether stdout exceeded the cap.
        stderr_truncated: whether stderr exceeded the cap.
        wall_s: wall-clock seconds from spawn to reaping.
        peak_rss_bytes: the kernel's peak resident set size of the child (``ru_maxrss``).
    """

    argv: tuple[str, ...]
    cwd: str
    exit_code: int | None
    signal: int | None
    timed_out: bool
    interrupted_at_s: float | None
    stdout: str
    stderr: str
    stdout_bytes: int
    stderr_bytes: int
    stdout_truncated: bool
    stderr_truncated: bool
    wall_s: float
    peak_rss_bytes: int

    @property
    def status(self) -> int:
        """The status a POSIX shell reports in ``$?``: the exit code, or 128 + the signal."""
        if self.exit_code is not None:
            return self.exit_code
        return 128 + (self.signal or 0)

    @property
    def output(self) -> str:
        """The two streams, stdout first (for text searches over both)."""
        if self.stdout and self.stderr and not self.stdout.endswith("\n"):
            return self.stdout + "\n" + self.stderr
        return self.stdout + self.stderr

    @property
    def peak_rss_mib(self) -> float:
        """Peak RSS in MiB."""
        return self.peak_rss_bytes / (1024 * 1024)

    def describe_end(self) -> str:
        """How the process ended, in words: ``exited 2``, ``killed by SIGINT``, ``timed out``."""
        how = (
            f"exited {self.exit_code}"
            if self.exit_code is not None
            else f"killed by {signal_name(self.signal or 0)}"
        )
        if self.timed_out:
            return f"timed out after {self.wall_s:.1f} s ({how})"
        return how


def signal_name(num: int) -> str:
    """``SIGINT`` for 2; ``signal 99`` for numbers the platform does not name."""
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def expand_argv(argv: Sequence[str], values: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Replace placeholders inside every argument (substring replacement, no other syntax).

    ``{python}`` always expands to ``sys.executable``; ``values`` adds more (``{input}``). Only
    the exact placeholder texts are replaced, so a JSON argument such as ``{"a": 1}`` is left
    alone.

    Raises:
        EvidenceError: when ``{python}`` is used but the interpreter path is unknown.
    """
    table = dict(values or {})
    out: list[str] = []
    for arg in argv:
        if PLACEHOLDER_PYTHON in arg:
            if not sys.executable:
                raise EvidenceError(
                    "{python}: the running interpreter's path is unknown (sys.executable is "
                    "empty); name the interpreter explicitly in the command"
                )
            arg = arg.replace(PLACEHOLDER_PYTHON, sys.executable)
        for key, value in table.items():
            arg = arg.replace(key, value)
        out.append(arg)
    return tuple(out)


def clean_env(
    extra: Mapping[str, str] | None = None, pass_env: Sequence[str] = ()
) -> dict[str, str]:
    """The environment a command runs with.

    Only ``PATH``, ``HOME``, ``LANG=C.UTF-8`` and ``TMPDIR`` come from here, then the names in
    ``pass_env`` that are set in this process, then ``extra`` (which may override any).
    """
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": os.environ.get("HOME", tempfile.gettempdir()),
        "LANG": "C.UTF-8",
        "TMPDIR": tempfile.gettempdir(),
    }
    for name in pass_env:
        if name in os.environ:
            env[name] = os.environ[name]
    env.update(extra or {})
    return env


@contextlib.contextmanager
def scratch_dir(prefix: str = "gates-run-") -> Iterator[Path]:
    """A fresh temporary folder, removed (with everything in it) afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class _Capture:
    """Bounded capture of one stream: keeps the first ``cap`` bytes, counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _sigint_ignored() -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def _default_sigint() -> None:  # pragma: no cover - runs in the forked child
    # An ignored SIGINT is inherited across exec (a `cmd &` job of a non-interactive shell
    # ignores it); a tool at a terminal has the default, so C3 must measure with the default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _maxrss_bytes(ru_maxrss: int) -> int:
    # Linux reports kibibytes, macOS bytes (getrusage(2) on each).
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def run_command(
    argv: Sequence[str],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    pass_env: Sequence[str] = (),
    output_cap: int = DEFAULT_OUTPUT_CAP,
    interrupt_after_s: float | None = None,
    interrupt_grace_s: float = DEFAULT_INTERRUPT_GRACE_S,
) -> ProcessResult:
    """Run ``argv`` once and return what it did (see the module docstring).

    Args:
        argv: the program and its arguments; ``{python}`` is expanded (:func:`expand_argv`).
        timeout_s: wall-clock limit; at expiry the process group is killed with SIGKILL.
        cwd: working directory; None runs in a fresh temporary folder removed afterwards.
        env: variables added to the clean environment (:func:`clean_env`).
        pass_env: names of variables copied from this process's environment when set.
        output_cap: bytes kept per stream.
        interrupt_after_s: send SIGINT to the process group this many seconds after the start.
        interrupt_grace_s: after SIGINT, how long to wait before SIGKILL (``timed_out``).

    Raises:
        EvidenceError: when the program cannot be started (not found, not executable).
        KeyboardInterrupt: re-raised after killing the child's process group (no orphan).
    """
    if not argv:
        raise EvidenceError("empty command: nothing to run")
    if timeout_s <= 0:
        raise EvidenceError(f"timeout must be positive, got {timeout_s}")
    args = expand_argv(argv)
    full_env = clean_env(env, pass_env)
    limits = (timeout_s, output_cap, interrupt_after_s, interrupt_grace_s)
    if cwd is None:
        with scratch_dir() as tmp:
            return _run(args, tmp, full_env, *limits)
    return _run(args, cwd, full_env, *limits)


def _run(
    args: tuple[str, ...],
    cwd: Path,
    full_env: dict[str, str],
    timeout_s: float,
    output_cap: int,
    interrupt_after_s: float | None,
    interrupt_grace_s: float,
) -> ProcessResult:
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=full_env,
            start_new_session=True,  # own process group: the timeout kills the whole tree
            close_fds=True,
            preexec_fn=_default_sigint if _sigint_ignored() else None,
        )
    except FileNotFoundError as e:
        raise EvidenceError(
            f"{args[0]}: command not found (PATH={full_env['PATH']}); install it or name it "
            "with a full path"
        ) from e
    except PermissionError as e:
        raise EvidenceError(f"{args[0]}: not executable ({e.strerror})") from e
    except OSError as e:
        raise EvidenceError(f"{args[0]}: cannot start: {e.strerror or e}") from e
    assert proc.stdout is not None and proc.stderr is not None
    pgid = proc.pid
    caps = {proc.stdout.fileno(): _Capture(output_cap), proc.stderr.fileno(): _Capture(output_cap)}
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    sel = selectors.DefaultSelector()
    for fd in caps:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    deadline = t0 + timeout_s
    sigint_at = t0 + interrupt_after_s if interrupt_after_s is not None else None
    interrupted_at: float | None = None
    timed_out = False
    wait_status: int | None = None
    maxrss = 0
    reaped = False

    def reap(block: bool) -> None:
        nonlocal wait_status, maxrss, reaped
        if reaped:
            return
        try:
            pid, status, ru = os.wait4(proc.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # pragma: no cover - someone else reaped it
            reaped, wait_status = True, 0
            return
        if pid:
            reaped, wait_status, maxrss = True, status, ru.ru_maxrss
            proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen consistent

    def pump(wait_s: float) -> None:
        for key, _ in sel.select(timeout=max(wait_s, 0.0)):
            fd = int(key.fd)
            try:
                chunk = os.read(fd, _READ_CHUNK)
            except BlockingIOError:
                continue
            if chunk:
                caps[fd].add(chunk)
            else:
                sel.unregister(fd)

    try:
        while True:
            now = time.monotonic()
            if sigint_at is not None and interrupted_at is None and now >= sigint_at:
                reap(block=False)
                if not reaped:  # Ctrl-C at a terminal signals the foreground process group
                    _killpg(pgid, signal.SIGINT)
                    interrupted_at = now - t0
                    deadline = min(deadline, now + interrupt_grace_s)
                sigint_at = None
            if now >= deadline:
                timed_out = True
                _killpg(pgid, signal.SIGKILL)
                break
            next_event = deadline if sigint_at is None else min(deadline, sigint_at)
            if sel.get_map():
                pump(min(next_event - now, 0.1))
                reap(block=False)
            else:
                reap(block=False)
                if reaped:
                    break
                time.sleep(min(_POLL_S, max(next_event - now, 0.0)))
        if timed_out:
            reap(block=True)  # after SIGKILL: returns promptly
            end = time.monotonic() + _DRAIN_AFTER_KILL_S
            while sel.get_map() and time.monotonic() < end:
                pump(0.05)
    except BaseException:
        # KeyboardInterrupt (the operator's Ctrl-C reaches us, not the child's new session)
        # or any bug: never leave the child running.
        _killpg(pgid, signal.SIGKILL)
        reap(block=True)
        raise
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(wait_status) if wait_status is not None else 0
    out, err = caps[out_fd], caps[err_fd]
    return ProcessResult(
        argv=args,
        cwd=str(cwd),
        exit_code=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        timed_out=timed_out,
        interrupted_at_s=round(interrupted_at, 3) if interrupted_at is not None else None,
        stdout=out.text(),
        stderr=err.text(),
        stdout_bytes=out.total,
        stderr_bytes=err.total,
        stdout_truncated=out.total > out.cap,
        stderr_truncated=err.total > err.cap,
        wall_s=wall,
        peak_rss_bytes=_maxrss_bytes(maxrss),
    )
