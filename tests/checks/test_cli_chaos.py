"""cli.rejects_bad_input, cli.sigint, cli.peak_rss, cli.wall_time, cli.overwrite_protection
against honest and lying fake tools (silent-fallback S1–S5, chaos C1–C4)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from _cli_fakes import MEMORY_TOOL, SIGINT_TOOL, VALID_MODEL, VALIDATOR, WRITER, fake_tool, run_gate

from albor_gates.checks.cli_rejects_bad_input import make_bad_input
from albor_gates.engine.results import Status


@pytest.fixture
def validator(tmp_path):
    return fake_tool(tmp_path, VALIDATOR)


def test_an_honest_validator_rejects_every_bad_input(tmp_path, validator) -> None:
    r = run_gate(
        tmp_path,
        "cli.rejects_bad_input",
        validator,
        {"args": ["honest", "{bad}"]},
        input_text=VALID_MODEL,
        input_name="model.bin",
    )
    assert (r.status, r.value) == (Status.PASS, 0)
    assert r.summary == "5 of 5 bad inputs rejected"
    assert set(r.details["runs"]) == {
        "control",
        "truncated",
        "zeroed",
        "missing",
        "empty",
        "devnull",
    }
    assert r.details["runs"]["truncated"]["argv"][-1].endswith("/truncated-model.bin")
    assert (
        hashlib.sha256((tmp_path / "model.bin").read_bytes()).digest()
        == hashlib.sha256(VALID_MODEL).digest()
    )


def test_a_silent_validator_fails_and_crashes_are_counted(tmp_path, validator) -> None:
    r = run_gate(
        tmp_path,
        "cli.rejects_bad_input",
        validator,
        {"args": ["liar", "{bad}"]},
        input_text=VALID_MODEL,
        input_name="model.bin",
    )
    assert (r.status, r.value) == (Status.FAIL, 5)
    assert r.message == "bad inputs not rejected 5, must be = 0"
    assert r.details["not_rejected"] == [
        "truncated: exited 0 (silently accepted)",
        "zeroed: exited 0 (silently accepted)",
        "missing: exited 1 with a crash: 'Traceback (most recent call last):'",
        "empty: exited 0 (silently accepted)",
        "devnull: exited 0 (silently accepted)",
    ]
    lenient = run_gate(
        tmp_path,
        "cli.rejects_bad_input",
        validator,
        {"args": ["liar", "{bad}"], "count_crashes": False},
        input_text=VALID_MODEL,
    )
    assert lenient.value == 4


def test_a_tool_that_rejects_everything_proves_nothing(tmp_path, validator) -> None:
    r = run_gate(
        tmp_path,
        "cli.rejects_bad_input",
        validator,
        {"args": ["honest", "{bad}"]},
        input_text=b"not the model",
    )
    assert r.status is Status.ERROR
    assert r.message.startswith("control run `tool honest {input}` exited 1 on the good input:")


def test_inputs_without_a_source_file(tmp_path, validator) -> None:
    r = run_gate(
        tmp_path,
        "cli.rejects_bad_input",
        validator,
        {"args": ["honest", "{bad}"], "inputs": ["missing", "empty", "devnull"]},
    )
    assert (r.status, r.summary) == (Status.PASS, "3 of 3 bad inputs rejected")
    r = run_gate(
        tmp_path,
        "cli.rejects_bad_input",
        validator,
        {"args": ["honest", "{bad}"], "inputs": ["zeroed"]},
    )
    assert (r.status, r.message) == (
        Status.ERROR,
        "the zeroed input is made from the 'input' artifact: bind one",
    )


def test_make_bad_input_bytes(tmp_path) -> None:
    src = tmp_path / "m.gguf"
    src.write_bytes(VALID_MODEL)
    work = tmp_path / "w"
    work.mkdir()
    trunc = make_bad_input("truncated", src, work)
    assert Path(trunc).read_bytes() == VALID_MODEL[: len(VALID_MODEL) // 2]
    zeroed = Path(make_bad_input("zeroed", src, work)).read_bytes()
    assert (
        zeroed[:8] == VALID_MODEL[:8]
        and zeroed[8:72] == bytes(64)
        and zeroed[72:] == VALID_MODEL[72:]
    )
    short = tmp_path / "s.bin"
    short.write_bytes(b"0123456789ABC")
    assert Path(make_bad_input("zeroed", short, work)).read_bytes() == b"01234567" + bytes(5)
    assert make_bad_input("devnull", src, work) == "/dev/null"
    assert make_bad_input("missing", src, work) == str(work / "missing-m.gguf")
    assert src.read_bytes() == VALID_MODEL


@pytest.fixture
def sig_tool(tmp_path):
    return fake_tool(tmp_path, SIGINT_TOOL)


def test_sigint_clean_exit_passes(tmp_path, sig_tool) -> None:
    r = run_gate(tmp_path, "cli.sigint", sig_tool, {"args": ["clean"], "after_s": 1})
    assert (r.status, r.value, r.message) == (Status.PASS, 130, "SIGINT status 130 = 130")
    assert r.details["stderr_tail"] == "tool: interrupted"


def test_sigint_traceback_fails(tmp_path, sig_tool) -> None:
    r = run_gate(tmp_path, "cli.sigint", sig_tool, {"args": ["default"], "after_s": 1})
    assert (r.status, r.value) == (Status.FAIL, -1)
    assert r.summary == "killed by SIGINT, with a crash: 'Traceback (most recent call last):'"
    assert r.message == "SIGINT status -1, must be = 130"


def test_sigint_ignored_fails(tmp_path, sig_tool) -> None:
    r = run_gate(tmp_path, "cli.sigint", sig_tool, {"args": ["deaf"], "after_s": 1, "grace_s": 0.5})
    assert (r.status, r.value) == (Status.FAIL, 137)
    assert r.summary == "ignored SIGINT for 0.5 s and was killed (status 137)"


def test_sigint_on_a_job_that_ended_is_an_error(tmp_path, sig_tool) -> None:
    r = run_gate(tmp_path, "cli.sigint", sig_tool, {"args": ["quick"], "after_s": 5})
    assert r.status is Status.ERROR
    assert "before SIGINT at 5.0 s: nothing was interrupted; choose a longer job" in r.message


def test_peak_rss_within_budget(tmp_path) -> None:
    tool = fake_tool(tmp_path, MEMORY_TOOL)
    r = run_gate(tmp_path, "cli.peak_rss", tool, {"args": ["8"]}, expect={"le": 128})
    assert r.status is Status.PASS and r.unit == "MiB" and 8 < r.value < 128


def test_peak_rss_over_budget(tmp_path) -> None:
    tool = fake_tool(tmp_path, MEMORY_TOOL)
    r = run_gate(tmp_path, "cli.peak_rss", tool, {"args": ["300"]}, expect={"le": 128})
    assert r.status is Status.FAIL and r.value >= 300
    assert r.message.startswith("peak RSS 3") and r.message.endswith(" MiB, must be ≤ 128")


def test_peak_rss_of_a_failed_run_is_an_error(tmp_path) -> None:
    tool = fake_tool(tmp_path, MEMORY_TOOL)
    r = run_gate(tmp_path, "cli.peak_rss", tool, {"args": ["1", "3"]})
    assert (r.status, r.message) == (
        Status.ERROR,
        "`tool 1 3` exited 3: the memory of a failed run says nothing (ok_exit_codes: [0])",
    )


def test_wall_time(tmp_path) -> None:
    tool = fake_tool(tmp_path, "import time; time.sleep(0.4)")
    slow = run_gate(tmp_path, "cli.wall_time", tool, expect={"le": 0.2})
    assert slow.status is Status.FAIL and slow.value >= 0.4 and slow.unit == "s"
    assert run_gate(tmp_path, "cli.wall_time", tool, expect={"le": 30}).status is Status.PASS


@pytest.mark.parametrize(
    ("mode", "status", "summary"),
    [
        (
            "honest",
            Status.PASS,
            "refused to overwrite (exited 2, sha256 unchanged); `--force` replaced it",
        ),
        ("clobber", Status.FAIL, "overwrote the existing file without being forced (exited 0)"),
        ("noop", Status.FAIL, "exited 0 without writing: a silent no-op, not a refusal"),
        (
            "forceless",
            Status.FAIL,
            "refused to overwrite (exited 2, sha256 unchanged); but `--force` did not replace it (exited 2)",
        ),
    ],
)
def test_overwrite_protection(tmp_path, mode, status, summary) -> None:
    tool = fake_tool(tmp_path, WRITER)
    params = {
        "args": [mode, "-o", "{output}"],
        "force_args": ["--force"],
        "output_name": "out.json",
    }
    r = run_gate(tmp_path, "cli.overwrite_protection", tool, params)
    assert (r.status, r.summary) == (status, summary)


def test_overwrite_control_run_must_write(tmp_path) -> None:
    tool = fake_tool(tmp_path, WRITER)
    r = run_gate(tmp_path, "cli.overwrite_protection", tool, {"args": ["never", "-o", "{output}"]})
    assert (r.status, r.message) == (
        Status.ERROR,
        "control run `tool never -o {output}` exited 1 and did not create {output} when it did "
        "not exist: fix args so the tool writes {output}",
    )


def test_params_need_their_placeholders(tmp_path) -> None:
    from albor_gates.errors import SpecError

    tool = fake_tool(tmp_path, WRITER)
    with pytest.raises(SpecError, match=r"args must contain \{output\}"):
        run_gate(tmp_path, "cli.overwrite_protection", tool, {"args": ["-o", "x"]})
    with pytest.raises(SpecError, match=r"args must contain \{bad\}"):
        run_gate(tmp_path, "cli.rejects_bad_input", tool, {"args": ["x"]})
