"""The process runner: exit codes, timeouts without orphans, capped capture, clean env, RSS."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from testlib.signals import sigint_raises

from albor_gates.artifacts.process import (
    ProcessResult,
    clean_env,
    expand_argv,
    run_command,
    signal_name,
)
from albor_gates.errors import EvidenceError

PY = sys.executable


def py(code: str, **kw) -> ProcessResult:
    return run_command([PY, "-c", code], **kw)


def alive(pid: int) -> bool:
    """A zombie (not yet reaped by init in a container) counts as dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def dies_soon(pid: int, within_s: float = 5.0) -> bool:
    """SIGKILL is delivered asynchronously: give the kernel a moment."""
    end = time.monotonic() + within_s
    while alive(pid) and time.monotonic() < end:
        time.sleep(0.02)
    return not alive(pid)


def wait_for_file(path: Path, timeout: float = 10.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} never written")


def test_exit_code_is_taken_directly() -> None:
    r = py("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)")
    assert (r.exit_code, r.signal, r.status, r.timed_out) == (3, None, 3, False)
    assert (r.stdout, r.stderr) == ("out\n", "err\n")
    assert r.describe_end() == "exited 3"
    assert r.argv == (
        PY,
        "-c",
        "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)",
    )


def test_death_by_signal_reads_like_a_shell() -> None:
    r = py("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert (r.exit_code, r.signal, r.status) == (None, signal.SIGSEGV, 139)
    assert r.describe_end() == "killed by SIGSEGV"
    assert signal_name(99) == "signal 99"


def test_timeout_kills_the_whole_process_group_quickly(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        f"p = subprocess.Popen(['sleep', '60'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    t0 = time.monotonic()
    r = py(code, timeout_s=1.0)
    assert time.monotonic() - t0 < 5
    assert r.timed_out and r.signal == signal.SIGKILL and r.status == 137
    assert r.describe_end().startswith("timed out after 1.")
    assert r.describe_end().endswith("s (killed by SIGKILL)")
    assert dies_soon(int(pidfile.read_text())), "the grandchild outlived the timeout: an orphan"


def test_an_escaped_descendant_holding_the_pipe_cannot_hang_the_run(tmp_path: Path) -> None:
    pidfile = tmp_path / "escaped.pid"
    code = (
        "import subprocess\n"
        "p = subprocess.Popen(['sleep', '30'], start_new_session=True)\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
    )
    t0 = time.monotonic()
    try:
        r = py(code, timeout_s=1.0)
        assert time.monotonic() - t0 < 5
        assert r.timed_out and r.exit_code == 0  # the child itself exited 0
    finally:
        os.kill(int(wait_for_file(pidfile)), signal.SIGKILL)


def test_output_is_capped_and_counted() -> None:
    r = py(
        "import sys; sys.stdout.write('y' * (3 << 20)); sys.stderr.write('e')", output_cap=1 << 20
    )
    assert r.stdout_truncated and not r.stderr_truncated
    assert (len(r.stdout), r.stdout_bytes, r.stderr) == (1 << 20, 3 << 20, "e")


def test_stdin_is_at_end_of_file() -> None:
    r = py("import sys; print(repr(sys.stdin.read()))", timeout_s=10)
    assert r.stdout == "''\n" and not r.timed_out


def test_environment_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("LC_ALL", "C")
    code = "import os, json; print(json.dumps(sorted(os.environ)))"
    r = py(code, env={"EXTRA": "1"})
    names = set(__import__("json").loads(r.stdout))
    assert {"PATH", "HOME", "LANG", "TMPDIR", "EXTRA"} <= names
    assert "SECRET_TOKEN" not in names and "LC_ALL" not in names
    assert clean_env()["LANG"] == "C.UTF-8"
    assert clean_env(pass_env=["SECRET_TOKEN"])["SECRET_TOKEN"] == "hunter2"
    assert clean_env({"LANG": "de_DE.UTF-8"})["LANG"] == "de_DE.UTF-8"


def test_runs_in_a_fresh_folder_that_is_removed() -> None:
    r = py("import os; open('left.txt', 'w').write('x'); print(os.getcwd())")
    assert r.stdout.strip() == r.cwd
    assert not Path(r.cwd).exists()


def test_peak_rss_is_the_childs_own() -> None:
    small = py("pass")
    big = py("b = bytearray(256 << 20); b[::4096] = b'x' * len(b[::4096])")
    assert small.peak_rss_mib < 64
    assert 256 <= big.peak_rss_mib < 400


def test_sigint_after_a_delay_reports_how_the_tool_ended() -> None:
    code = (
        "import sys, time\n"
        "try:\n"
        "    time.sleep(30)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', file=sys.stderr); sys.exit(130)\n"
    )
    r = py(code, interrupt_after_s=0.7)
    assert (r.exit_code, r.stderr, r.timed_out) == (130, "interrupted\n", False)
    assert r.interrupted_at_s is not None and r.interrupted_at_s >= 0.7


def test_sigint_ignored_is_killed_after_the_grace_period() -> None:
    code = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(30)"
    r = py(code, interrupt_after_s=0.5, interrupt_grace_s=0.5)
    assert r.timed_out and r.status == 137 and r.wall_s < 5


def test_no_sigint_when_the_tool_is_already_done() -> None:
    r = py("pass", interrupt_after_s=5)
    assert r.interrupted_at_s is None and r.exit_code == 0 and r.wall_s < 5


def test_ctrl_c_in_gates_kills_the_child_and_propagates(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"

    def interrupt_us() -> None:
        wait_for_file(pidfile)
        os.kill(os.getpid(), signal.SIGINT)

    with sigint_raises():  # as from a terminal, even under a background shell
        threading.Thread(target=interrupt_us, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            py(code, timeout_s=30)
    assert dies_soon(int(pidfile.read_text()))


def test_missing_program_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError) as e:
        run_command(["no-such-tool-4711"], env={"PATH": "/nonexistent"})
    assert str(e.value) == (
        "no-such-tool-4711: command not found (PATH=/nonexistent); install it or name it with a "
        "full path"
    )


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(EvidenceError, match="empty command"):
        run_command([])
    with pytest.raises(EvidenceError, match="timeout must be positive"):
        run_command([PY], timeout_s=0)


def test_placeholders_expand_inside_arguments_only_exactly() -> None:
    argv = expand_argv(["{python}", "-c", '{"a": 1}', "--in={input}"], {"{input}": "/x"})
    assert argv == (PY, "-c", '{"a": 1}', "--in=/x")


def test_peak_rss_does_not_include_the_callers_size() -> None:
    # Linux charges a forked child with its parent's pages at exec; the launcher keeps ours out.
    ballast = bytearray(300 << 20)
    ballast[::4096] = b"x" * len(ballast[::4096])
    r = run_command(["true"])
    assert r.peak_rss_mib is not None and r.peak_rss_mib < 32
    del ballast


def test_program_paths(tmp_path: Path) -> None:
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(EvidenceError) as e:
        run_command(["./tool.sh"], cwd=tmp_path)
    assert str(e.value) == "./tool.sh: not executable (chmod +x it, or run its interpreter)"
    script.chmod(0o755)
    assert run_command(["./tool.sh"], cwd=tmp_path).stdout == "hi\n"
    with pytest.raises(EvidenceError, match=r"^\./nope: not found$"):
        run_command(["./nope"], cwd=tmp_path)
