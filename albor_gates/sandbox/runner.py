"""Run one untrusted Python program in a separate, limited process and say how it ended.

``eval.humaneval`` executes what a model wrote. Nothing of it runs in the ``gates`` process:
:func:`run_python` writes the program into a fresh temporary folder and starts it through
:func:`~albor_gates.artifacts.process.run_command` (own session, whole process group killed at
the wall timeout, stdin ``/dev/null``, stdout/stderr captured up to a cap, the rest counted and
dropped). A bootstrap (``_BOOT``) then narrows the child before it executes the program:

Always (any POSIX user):

* resource limits: CPU seconds (``RLIMIT_CPU``: SIGXCPU), address space (``RLIMIT_AS``: a
  ``MemoryError``), bytes per written file (``RLIMIT_FSIZE``: SIGXFSZ), no core files, and a
  process count (``RLIMIT_NPROC``, which counts every process of the user, so it only bounds a
  fork bomb where the user is the sandbox's own — see below);
* an empty environment and ``python -I -S -B`` (no site-packages, no ``PYTHON*`` variables,
  no bytecode written);
* the wall timeout, which kills the process group (a descendant that calls ``setsid()`` leaves
  the group: contained below only where the namespaces are available).

As root on Linux (``unshare(2)`` permitted), in addition:

* a new network namespace: only a loopback interface, which is down — no network at all;
* a new PID namespace: the program cannot see or signal any process outside it (``os.kill`` of
  ``gates`` or of its parent cannot reach them), and when the namespace's first process ends
  the kernel kills every process left in it (a fork bomb's orphans included);
* a new mount namespace with empty ``tmpfs`` over ``/tmp``, ``/var/tmp`` and ``/dev/shm``;
* the program runs as ``nobody`` (uid/gid 65534, no supplementary groups), so ``RLIMIT_NPROC``
  bounds its processes and it cannot write where ``nobody`` may not (the release, the venv,
  root-owned folders); its own folder is handed to it.

Not isolated: the file system stays readable wherever ``nobody`` (or, without root, the
running user) may read; without root there is no namespace, the program runs as the running
user (it could signal that user's processes and write its files), and the network is whatever
the machine has. :attr:`SandboxResult.isolation` records which of these applied to each run.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from albor_gates.artifacts.process import run_command, scratch_dir, signal_name

Status = Literal["passed", "failed", "timeout", "killed"]
PROGRAM = "program.py"
_FACTS = "albor-sandbox:"  # the bootstrap's first stderr line, written before the program runs
_NOBODY = 65534
# the venv's python is a symlink; the base interpreter runs the program (-I -S: stdlib only)
_INTERPRETER = os.path.realpath(getattr(sys, "_base_executable", sys.executable))


@dataclass(frozen=True)
class Limits:
    """What one program may use.

    Attributes:
        wall_s: wall-clock seconds before the whole process tree is killed.
        cpu_s: CPU seconds (SIGXCPU).
        memory_mib: address space in MiB (``MemoryError`` past it).
        file_mib: size of any file written, in MiB (SIGXFSZ).
        processes: processes of the sandbox user (``RLIMIT_NPROC``).
        output_kib: stdout and stderr kept, each, in KiB (the rest is counted, then dropped).
    """

    wall_s: float = 10.0
    cpu_s: int = 10
    memory_mib: int = 1024
    file_mib: int = 16
    processes: int = 64
    output_kib: int = 64


@dataclass(frozen=True)
class SandboxResult:
    """How one program ended.

    Attributes:
        status: ``passed`` (exit 0), ``failed`` (an exception or a non-zero exit), ``timeout``
            (the wall limit) or ``killed`` (a signal or a resource limit ended it).
        reason: one line: the last line of stderr, the limit hit or the signal.
        exit_code: its exit code; None when a signal ended it.
        wall_s: seconds it ran.
        stdout: the first ``output_kib`` KiB of stdout.
        stderr: the first ``output_kib`` KiB of stderr (the bootstrap's line removed).
        output_truncated: whether either stream was cut at the cap.
        isolation: what applied (``network``, ``pids``, ``tmp``, ``user``) — see the module.
    """

    status: Status
    reason: str
    exit_code: int | None
    wall_s: float
    stdout: str
    stderr: str
    output_truncated: bool
    isolation: dict[str, str] = field(default_factory=dict)


# Runs as `python -I -S -c _BOOT CONFIG` in the child's own session. It narrows what it can
# (namespaces as root), forks the namespace's first process, which forks the program with the
# limits and (as root) nobody's ids, waits, and passes the program's raw wait status back on a
# pipe; the bootstrap then ends the same way (same exit code, or the same signal), so the
# caller reads the program's own end. The pipe is not inherited across exec (PEP 446).
_BOOT = r"""
import ctypes, json, os, resource, signal, sys
cfg = json.loads(sys.argv[1])
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
root = os.geteuid() == 0 and sys.platform.startswith("linux")
facts = {"network": "shared", "pids": "shared", "tmp": "shared", "user": str(os.geteuid())}
if root:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000 | 0x20000000 | 0x00020000) == 0:  # NEWNET | NEWPID | NEWNS
        facts.update(network="none", pids="private")
        if libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None) == 0:  # MS_REC | MS_PRIVATE
            here = os.open(".", os.O_RDONLY)
            tmps = [d for d in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(d)]
            ok = [libc.mount(b"tmpfs", d.encode(), b"tmpfs", 0, b"size=16m") == 0 for d in tmps]
            facts["tmp"] = "private" if all(ok) else "shared"
            # the program's folder (under the real /tmp) reappears as /tmp/work
            os.mkdir("/tmp/work")
            libc.mount(b"/proc/self/fd/%d" % here, b"/tmp/work", None, 0x1000, None)
            os.chdir("/tmp/work")
            os.close(here)
            # nobody must reach the interpreter: a folder on its path that others may not
            # enter (pyenv's /root) is covered by an empty tmpfs holding only the prefix
            prefix, stage = cfg["prefix"], b"/tmp/.albor-python"
            os.mkdir(stage)
            libc.mount(prefix.encode(), stage, None, 0x1000 | 0x4000, None)  # MS_BIND | MS_REC
            parts = prefix.strip("/").split("/")
            for i in range(1, len(parts) + 1):
                top = "/" + "/".join(parts[:i])
                if not os.stat(top).st_mode & 0o001:
                    libc.mount(b"tmpfs", top.encode(), b"tmpfs", 0, b"mode=0755,size=1m")
                    os.makedirs(prefix, exist_ok=True)
                    libc.mount(stage, prefix.encode(), None, 0x1000 | 0x4000, None)
                    break
            libc.umount2(stage, 2)  # MNT_DETACH
            os.rmdir(stage)
    os.chown(".", cfg["uid"], cfg["uid"])
    os.chown(cfg["program"], cfg["uid"], cfg["uid"])
    facts["user"] = "nobody"
os.write(2, ("albor-sandbox: " + json.dumps(facts) + "\n").encode())
r, w = os.pipe()
first = os.fork()
if first == 0:
    os.close(r)
    prog = os.fork()
    if prog == 0:
        lim = [
            (resource.RLIMIT_CPU, cfg["cpu"], cfg["cpu"] + 1),
            (resource.RLIMIT_AS, cfg["as"], cfg["as"]),
            (resource.RLIMIT_FSIZE, cfg["fsize"], cfg["fsize"]),
            (resource.RLIMIT_NPROC, cfg["nproc"], cfg["nproc"]),
        ]
        for what, soft, hard in lim:
            resource.setrlimit(what, (soft, hard))
        if root:
            os.setgroups([])
            os.setgid(cfg["uid"])
            os.setuid(cfg["uid"])
        os.execve(cfg["python"], [cfg["python"], "-I", "-S", "-B", cfg["program"]], {})
    _, status = os.waitpid(prog, 0)
    os.write(w, str(status).encode())
    os._exit(0)
os.close(w)
os.waitpid(first, 0)
raw = os.read(r, 64)
status = int(raw) if raw else 9
if os.WIFSIGNALED(status) or not raw:
    sig = os.WTERMSIG(status) if raw else signal.SIGKILL
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
os._exit(os.WEXITSTATUS(status))
"""

_LIMIT_SIGNALS: dict[int, str] = {
    signal.SIGXCPU: "CPU-time limit",
    signal.SIGXFSZ: "file-size limit",
}


def run_python(source: str, limits: Limits | None = None) -> SandboxResult:
    """Execute ``source`` as a Python program in the sandbox (see the module docstring).

    Args:
        source: the program's text.
        limits: what it may use (defaults: :class:`Limits`).

    Returns:
        How it ended; never raises for anything the program does.
    """
    lim = limits or Limits()
    with scratch_dir("gates-sandbox-") as folder:
        (folder / PROGRAM).write_text(source, encoding="utf-8")
        cfg = {
            "program": PROGRAM,
            "python": _INTERPRETER,
            "prefix": os.path.realpath(sys.base_prefix),
            "uid": _NOBODY,
            "cpu": lim.cpu_s,
            "as": lim.memory_mib << 20,
            "fsize": lim.file_mib << 20,
            "nproc": lim.processes,
        }
        res = run_command(
            [sys.executable, "-I", "-S", "-c", _BOOT, json.dumps(cfg)],
            timeout_s=lim.wall_s,
            cwd=Path(folder),
            output_cap=lim.output_kib << 10,
        )
    facts_line, _, stderr = res.stderr.partition("\n")
    isolation: dict[str, str] = {}
    if facts_line.startswith(_FACTS):
        isolation = json.loads(facts_line[len(_FACTS) :])
    else:  # the bootstrap died before it could speak (it was killed at once)
        stderr = res.stderr
    truncated = res.stdout_truncated or res.stderr_truncated
    status, reason = _classify(res.timed_out, res.exit_code, res.signal, stderr, lim)
    return SandboxResult(
        status=status,
        reason=reason,
        exit_code=res.exit_code,
        wall_s=round(res.wall_s, 3),
        stdout=res.stdout,
        stderr=stderr,
        output_truncated=truncated,
        isolation=isolation,
    )


_FORK_REFUSED = "Resource temporarily unavailable"  # EAGAIN: fork(2) at RLIMIT_NPROC


def _classify(
    timed_out: bool, code: int | None, sig: int | None, stderr: str, lim: Limits
) -> tuple[Status, str]:
    if timed_out:
        return "timeout", f"wall timeout after {lim.wall_s:g} s"
    last = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "")
    if sig is not None:
        what = _LIMIT_SIGNALS.get(sig)
        limit = f" ({what})" if what else ""
        return "killed", f"killed by {signal_name(sig)}{limit}"
    if code == 0:
        return "passed", ""
    if last.startswith("MemoryError"):
        return "killed", f"memory limit ({lim.memory_mib} MiB): {last}"
    if "[Errno 27] File too large" in last:  # Python ignores SIGXFSZ: the write fails
        return "killed", f"file-size limit ({lim.file_mib} MiB): {last}"
    # a fork bomb's children share stderr: their tracebacks interleave with the one that ended
    # the program, so the refused fork is looked for on every line, not only the last
    refused = next((ln.strip() for ln in stderr.splitlines() if _FORK_REFUSED in ln), "")
    if refused and "fork" in stderr:
        return "killed", f"process-count limit ({lim.processes}): {refused}"
    return "failed", last[:200] or f"exited {code}"
