"""Issue 11 §6–§8: all-or-nothing output sets, unwritable targets, SIGTERM / SIGHUP.

On main before issue 11: Ctrl-C in the write phase left a complete bundle (which `replay`
accepted) and half the reports; an unwritable -o was exit 3 "please report it"; SIGTERM
killed `gates` and left the processes a spec launched running.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import albor_gates.io as gates_io

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = str(REPO / "examples" / "quickstart" / "gates.yaml")
ALL = ["-f", "json", "-f", "junit", "-f", "sarif", "-f", "markdown", "-f", "html"]


def _fail_on_third_fsync(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    calls = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise exc
        real(fd)

    monkeypatch.setattr(gates_io.os, "fsync", fsync)


@pytest.mark.parametrize(
    ("exc", "code"),
    [(KeyboardInterrupt(), 130), (OSError(errno.ENOSPC, "No space left on device"), 2)],
)
def test_an_interrupted_or_failed_write_leaves_nothing(gates, tmp_path, monkeypatch, exc, code):
    out, bundle = tmp_path / "out", tmp_path / "run.bundle.json"
    _fail_on_third_fsync(monkeypatch, exc)
    r = gates("check", QUICKSTART, *ALL, "-o", str(out), "--bundle", str(bundle), "-q")
    assert r.code == code
    assert not bundle.exists()
    assert list(out.iterdir()) == []  # no report, no temp file
    assert list(tmp_path.glob(".*")) == []
    if code == 2:
        assert r.err.count("\n") == 1
        assert r.err.endswith(
            "cannot write: No space left on device; choose a writable output path\n"
        )


def test_an_unwritable_output_folder_is_a_usage_error(gates, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    r = gates("check", QUICKSTART, "-f", "json", "-o", str(blocker / "sub"), "-q")
    assert r.code == 2
    assert r.err == (
        f"gates: error: {blocker / 'sub' / 'gates-report.json'}: cannot write: Not a directory; "
        "choose a writable output path\n"
    )


def test_a_complete_run_writes_the_whole_set(gates, tmp_path) -> None:
    out, bundle = tmp_path / "out", tmp_path / "run.bundle.json"
    r = gates("check", QUICKSTART, *ALL, "-o", str(out), "--bundle", str(bundle), "-q")
    assert r.code == 0, r.err
    assert len(list(out.iterdir())) == 5 and bundle.is_file()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_clean_up_the_process_group(tmp_path, sig, code) -> None:
    pidfile = tmp_path / "child.pid"
    spec = {
        "id": "slow",
        "version": "1",
        "title": "Slow",
        "artifacts": {
            "t": {
                "kind": "command",
                "command": ["/bin/sh", "-c", f"sleep 120 & echo $! > {pidfile}; wait"],
            }
        },
        "gates": [{"id": "SLOW", "title": "Slow.", "check": "cli.exit_code", "artifact": "t"}],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "albor_gates", "check", "--allow-exec", "spec.yaml", "-q"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    child = int(pidfile.read_text())
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code
    # click writes a newline to stderr when it sees the interrupt, as after Ctrl-C
    assert err.strip() == f"gates: terminated by {signal.Signals(sig).name}; no report was written"
    for _ in range(50):  # the orphaned sleep is reaped by init once killed
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the spec's process outlived gates")
