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
* **peak RSS** of the tool from ``wait4`` — the kernel's high-water mark for the tool's own
  process (and the largest descendant it waited for), not a sample. The tool is forked by a
  7 MiB launcher, so the size of the process running gates does not leak into it
  (see ``_LAUNCHER``).
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
from collections.abc import Callable, Iterator, Mapping, Sequence
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
        wall_s: wall-clock seconds from the tool's fork to its reaping.
        peak_rss_bytes: the kernel's peak resident set size of the tool (``ru_maxrss`` from
            ``wait4``; at least the launcher's ~7 MiB, see ``_LAUNCHER``); None when the run
            was killed before the launcher could report it.
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
    peak_rss_bytes: int | None

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
    def peak_rss_mib(self) -> float | None:
        """Peak RSS in MiB (None when unknown)."""
        return None if self.peak_rss_bytes is None else self.peak_rss_bytes / (1024 * 1024)

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


# The tool is forked by a small launcher, not by this process: Linux records the *forking*
# process's resident pages as the high-water mark of a child at exec (exec_mmap keeps the old
# mm's hiwater in signal->maxrss), so a child forked from a gates that holds torch and a model
# would "peak" at gates' own size. The launcher — a bare interpreter (-I -S, about 7 MiB) —
# forks the tool, waits for it with wait4 and writes the tool's own wait status, ru_maxrss and
# wall time to a pipe. It ignores SIGINT so that it outlives a Ctrl-C and reports; the tool
# gets the default disposition back (a terminal's Ctrl-C reaches a tool with SIGINT default,
# whatever our own process ignores).
_LAUNCHER = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
fd = int(sys.argv[1])
os.set_inheritable(fd, False)
t0 = time.monotonic_ns()
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as e:
        os.write(2, ("%s: cannot run: %s\\n" % (sys.argv[2], e.strerror)).encode())
    os._exit(127)
_, status, ru = os.wait4(pid, 0)
os.write(fd, ("%d %d %d\\n" % (status, ru.ru_maxrss, time.monotonic_ns() - t0)).encode())
"""
# The launcher's own resident size at the fork: the floor of every peak-RSS measurement.
LAUNCHER_FLOOR_MIB = 7


def _maxrss_bytes(ru_maxrss: int) -> int:
    # Linux reports kibibytes, macOS bytes (getrusage(2) on each).
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def _resolve(program: str, env: Mapping[str, str], cwd: Path) -> str:
    """The program's path, checked here (the launcher could only fail vaguely).

    A path with a slash is taken relative to ``cwd``; a bare name is looked up on the run's PATH.

    Raises:
        EvidenceError: when it is not found or not executable.
    """
    if os.sep in program:
        path = cwd / program
        if not path.is_file():
            raise EvidenceError(f"{program}: not found")
        if not os.access(path, os.X_OK):
            raise EvidenceError(f"{program}: not executable (chmod +x it, or run its interpreter)")
        return str(path)
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None:
        raise EvidenceError(
            f"{program}: command not found (PATH={env.get('PATH', '')}); install it or name it "
            "with a full path"
        )
    return found


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
    on_stdout: Callable[[bytes], None] | None = None,
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
        on_stdout: called with each chunk of stdout as it arrives (all of it, past the cap
            too), so a caller can follow a long run's progress.

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
    limits = (timeout_s, output_cap, interrupt_after_s, interrupt_grace_s, on_stdout)
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
    on_stdout: Callable[[bytes], None] | None,
) -> ProcessResult:
    program = _resolve(args[0], full_env, cwd)
    report_r, report_w = os.pipe()
    launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report_w), program, *args[1:]]
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            launcher,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=full_env,
            start_new_session=True,  # own process group: the timeout kills the whole tree
            pass_fds=(report_w,),
        )
    except OSError as e:
        os.close(report_r)
        raise EvidenceError(f"{args[0]}: cannot start: {e.strerror or e}") from e
    finally:
        os.close(report_w)
    try:
        state = _watch(
            proc, t0, timeout_s, output_cap, interrupt_after_s, interrupt_grace_s, on_stdout
        )
        report = _read_report(report_r)
    finally:
        os.close(report_r)
    wall = time.monotonic() - t0
    status, rss = state.launcher_status, None
    if report is not None:  # the tool's own status, peak RSS and time, from the launcher
        status, maxrss, wall_ns = report
        rss, wall = _maxrss_bytes(maxrss), wall_ns / 1e9
    code = os.waitstatus_to_exitcode(status)
    out, err = state.stdout, state.stderr
    return ProcessResult(
        argv=args,
        cwd=str(cwd),
        exit_code=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        timed_out=state.timed_out,
        interrupted_at_s=round(state.interrupted_at, 3)
        if state.interrupted_at is not None
        else None,
        stdout=out.text(),
        stderr=err.text(),
        stdout_bytes=out.total,
        stderr_bytes=err.total,
        stdout_truncated=out.total > out.cap,
        stderr_truncated=err.total > err.cap,
        wall_s=wall,
        peak_rss_bytes=rss,
    )


def _read_report(fd: int) -> tuple[int, int, int] | None:
    os.set_blocking(fd, False)
    try:
        data = os.read(fd, 256)
    except BlockingIOError:
        return None
    parts = data.split()
    if len(parts) != 3:
        return None  # the launcher was killed (timeout) before the tool ended
    status, maxrss, wall_ns = (int(x) for x in parts)
    return status, maxrss, wall_ns


@dataclass
class _Watch:
    stdout: _Capture
    stderr: _Capture
    launcher_status: int = 0
    timed_out: bool = False
    interrupted_at: float | None = None


def _watch(
    proc: subprocess.Popen[bytes],
    t0: float,
    timeout_s: float,
    output_cap: int,
    interrupt_after_s: float | None,
    interrupt_grace_s: float,
    on_stdout: Callable[[bytes], None] | None = None,
) -> _Watch:
    """Pump the output, send SIGINT when due, kill at the deadline, reap the launcher."""
    assert proc.stdout is not None and proc.stderr is not None
    pgid = proc.pid
    state = _Watch(_Capture(output_cap), _Capture(output_cap))
    out_fd = proc.stdout.fileno()
    caps = {out_fd: state.stdout, proc.stderr.fileno(): state.stderr}
    sel = selectors.DefaultSelector()
    for fd in caps:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    deadline = t0 + timeout_s
    sigint_at = t0 + interrupt_after_s if interrupt_after_s is not None else None
    reaped = False

    def reap(block: bool) -> None:
        nonlocal reaped
        if reaped:
            return
        pid, status = os.waitpid(proc.pid, 0 if block else os.WNOHANG)
        if pid:
            reaped, state.launcher_status = True, status
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
                if on_stdout is not None and fd == out_fd:
                    on_stdout(chunk)
            else:
                sel.unregister(fd)

    try:
        while True:
            now = time.monotonic()
            if sigint_at is not None and now >= sigint_at:
                reap(block=False)
                if not reaped:  # Ctrl-C at a terminal signals the foreground process group
                    _killpg(pgid, signal.SIGINT)
                    state.interrupted_at = now - t0
                    deadline = min(deadline, now + interrupt_grace_s)
                sigint_at = None
            if now >= deadline:
                state.timed_out = True
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
        if state.timed_out:
            reap(block=True)  # after SIGKILL: returns promptly
            end = time.monotonic() + _DRAIN_AFTER_KILL_S
            while sel.get_map() and time.monotonic() < end:
                pump(0.05)
    except BaseException:
        # KeyboardInterrupt (the operator's Ctrl-C reaches us, not the tool's new session)
        # or any bug: never leave the tool running.
        _killpg(pgid, signal.SIGKILL)
        reap(block=True)
        raise
    finally:
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    return state
