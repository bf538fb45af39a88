"""The sandbox against hostile completions: each is contained and recorded, and the run goes on.

Every program below runs through :func:`albor_gates.sandbox.run_python` one after the other in
this test process, which must survive them all (the parent-kill case names this process's pid).
Cases that only the namespaces contain (network, writes outside the folder) are asserted where
they apply: as root on Linux, which is how CI and the dogfood hosts run.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from albor_gates.sandbox import Limits, run_python
from albor_gates.sandbox.runner import _classify

FAST = Limits(wall_s=5.0, cpu_s=2, memory_mib=512, file_mib=1, processes=32, output_kib=16)
ROOT = os.geteuid() == 0 and sys.platform.startswith("linux")
as_root = pytest.mark.skipif(not ROOT, reason="namespaces and nobody's ids need root on Linux")


def test_a_correct_program_passes_and_a_wrong_one_fails_with_its_error() -> None:
    ok = run_python("def add(a, b):\n    return a + b\nassert add(2, 2) == 4\n", FAST)
    bad = run_python("def add(a, b):\n    return a - b\nassert add(2, 2) == 4\n", FAST)
    assert (ok.status, ok.reason, ok.exit_code) == ("passed", "", 0)
    assert (bad.status, bad.reason, bad.exit_code) == ("failed", "AssertionError", 1)


def test_an_infinite_loop_is_killed_at_the_cpu_limit() -> None:
    # a wall timeout far above the CPU limit: on a loaded machine 2 CPU seconds take many more
    # wall seconds, and this test is about which limit the loop meets, not how fast
    r = run_python("while True:\n    pass\n", replace(FAST, wall_s=120.0))
    assert (r.status, r.reason) == ("killed", "killed by SIGXCPU (CPU-time limit)")


def test_a_sleeper_is_killed_at_the_wall_timeout() -> None:
    t0 = time.monotonic()
    r = run_python("import time\ntime.sleep(60)\n", Limits(wall_s=1.0))
    assert (r.status, r.reason) == ("timeout", "wall timeout after 1 s")
    assert time.monotonic() - t0 < 10


def test_a_memory_hog_meets_the_address_space_limit() -> None:
    r = run_python("x = []\nwhile True:\n    x.append(' ' * 10**6)\n", FAST)
    assert (r.status, r.reason) == ("killed", "memory limit (512 MiB): MemoryError")


def test_a_fork_bomb_is_bounded_and_leaves_no_process_behind() -> None:
    r = run_python("import os\nwhile True:\n    os.fork()\n", FAST)
    assert r.status in ("killed", "timeout")
    if r.status == "killed":
        assert r.reason.startswith("process-count limit (32): "), r.reason
    if ROOT:  # the PID namespace took every orphan with it
        time.sleep(0.2)
        left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _uid(p) == 65534]
        assert left == []


def test_a_refused_fork_is_named_even_when_other_tracebacks_end_the_output() -> None:
    # the fork bomb's children write their tracebacks into the same stderr as the program's own:
    # the line that names the refused fork can sit anywhere, the last line be another child's
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "program.py", line 3, in <module>\n'
        "Traceback (most recent call last):\n"
        "BlockingIOError: [Errno 11] Resource temporarily unavailable\n"
        '  File "program.py", line 3, in <module>\n'
        "    os.fork()\n"
    )
    assert _classify(False, 1, None, stderr, FAST) == (
        "killed",
        "process-count limit (32): BlockingIOError: [Errno 11] Resource temporarily unavailable",
    )


def test_a_detached_child_does_not_outlive_the_program() -> None:
    src = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n"
    r = run_python(src, FAST)
    assert r.status == "passed"
    if ROOT:
        time.sleep(0.2)
        assert not [p for p in Path("/proc").iterdir() if p.name.isdigit() and _uid(p) == 65534]


def test_megabytes_of_output_are_truncated_at_the_cap() -> None:
    r = run_python("import sys\nfor _ in range(300):\n    sys.stdout.write('x' * 10000)\n", FAST)
    assert (r.status, r.output_truncated, len(r.stdout)) == ("passed", True, 16 * 1024)


def test_a_big_file_meets_the_file_size_limit() -> None:
    r = run_python("open('f', 'wb').write(b'x' * (4 << 20))\n", FAST)
    assert (r.status, r.reason) == (
        "killed",
        "file-size limit (1 MiB): OSError: [Errno 27] File too large",
    )


@as_root  # without the PID namespace a program of the same user can signal gates (documented)
def test_killing_the_parent_or_gates_does_not_reach_them() -> None:
    me = os.getpid()
    gates = f"import os, signal\nos.kill({me}, signal.SIGKILL)\n"
    parent = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
    # this process is alive (the test runs on); each attempt is the program's own failure:
    # gates' pid does not exist in the sandbox's PID namespace, and nobody may not signal root
    assert run_python(gates, FAST).reason == "ProcessLookupError: [Errno 3] No such process"
    assert run_python(parent, FAST).reason == "PermissionError: [Errno 1] Operation not permitted"


@as_root
def test_a_write_outside_the_folder_is_refused() -> None:
    target = Path(__file__).with_name("escaped-by-sandbox.txt")  # beside this file, root-owned
    try:
        r = run_python(f"open({str(target)!r}, 'w').write('x')\n", FAST)
        escaped = target.exists()
    finally:
        target.unlink(missing_ok=True)
    shared_tmp = run_python("open('/tmp/albor-escaped', 'w').write('x')\n", FAST)
    # a checkout under /tmp is hidden by the sandbox's private /tmp: the path does not exist there
    hidden = target.is_relative_to("/tmp")
    expected = (
        f"FileNotFoundError: [Errno 2] No such file or directory: {str(target)!r}"
        if hidden
        else f"PermissionError: [Errno 13] Permission denied: {str(target)!r}"
    )
    assert (r.status, r.reason) == ("failed", expected)
    assert not escaped
    assert shared_tmp.status == "passed"  # its private /tmp, gone with it
    assert not Path("/tmp/albor-escaped").exists()


@as_root
def test_the_network_is_unreachable_and_the_isolation_is_recorded() -> None:
    src = "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n"
    r = run_python(src, FAST)
    assert (r.status, r.reason) == ("failed", "OSError: [Errno 101] Network is unreachable")
    assert r.isolation == {"network": "none", "pids": "private", "tmp": "private", "user": "nobody"}


def test_the_environment_is_empty() -> None:
    r = run_python("import os\nprint(sorted(os.environ))\n", FAST)
    # Python itself sets LC_CTYPE when it starts in the C locale (PEP 538 locale coercion)
    assert (r.status, r.stdout) == ("passed", "['LC_CTYPE']\n")


def _uid(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None
