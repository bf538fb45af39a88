"""cli.exit_code and cli.exit_honesty against honest and lying fake tools (P2, FALSIFY-QA-002/006)."""

from __future__ import annotations

import pytest
from _cli_fakes import EXIT_TOOL, fake_tool, run_gate

from albor_gates.engine.results import Status


@pytest.fixture
def tool(tmp_path):
    return fake_tool(tmp_path, EXIT_TOOL)


def test_exit_code_passes_on_success(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_code", tool, {"args": ["ok"]})
    assert (r.status, r.value) == (Status.PASS, 0)
    assert r.message == "exit status of `tool ok` 0 = 0"
    assert r.details["stdout_tail"] == "done"
    assert r.details["argv"][-1] == "ok"


def test_exit_code_fails_on_a_wrong_code(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_code", tool, {"args": ["mute"]})
    assert (r.status, r.message) == (Status.FAIL, "exit status of `tool mute` 1, must be = 0")
    assert r.fix == "make the exit code say what happened: 0 only on success"


def test_exit_code_of_a_usage_error(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_code", tool, {"args": ["fail"]}, expect={"eq": 2})
    assert r.status is Status.PASS


def test_exit_code_of_a_crash_by_signal_is_128_plus(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_code", tool, {"args": ["segv"]})
    assert (r.status, r.value, r.summary) == (Status.FAIL, 139, "killed by SIGSEGV")
    assert r.details["signal"] == "SIGSEGV"


def test_a_hang_is_an_error_not_a_pass(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_code", tool, {"args": ["hang"], "timeout_s": 1})
    assert r.status is Status.ERROR
    assert r.message.startswith("`tool hang` did not finish: timed out after 1.")
    assert r.message.endswith("(killed by SIGKILL); fix the hang or raise timeout_s")


def test_a_missing_tool_is_an_error(tmp_path) -> None:
    r = run_gate(tmp_path, "cli.exit_code", ["no-such-tool-4711"], {"env": {"PATH": "/none"}})
    assert r.status is Status.ERROR
    assert r.message == (
        "no-such-tool-4711: command not found (PATH=/none); install it or name it with a full path"
    )


def test_the_callers_environment_does_not_leak(tmp_path, tool, monkeypatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    assert run_gate(tmp_path, "cli.exit_code", tool, {"args": ["env"]}).status is Status.PASS
    params = {"args": ["env"], "pass_env": ["SECRET_TOKEN"]}
    # issue 11 §1: the spec alone cannot hand a command the runner's secrets
    refused = run_gate(tmp_path, "cli.exit_code", tool, params)
    assert refused.status is Status.ERROR
    assert refused.message == (
        "params.pass_env asks for SECRET_TOKEN, which this run does not hand over; "
        "pass --pass-env SECRET_TOKEN to allow it"
    )
    leaked = run_gate(tmp_path, "cli.exit_code", tool, params, pass_env=("SECRET_TOKEN",))
    assert leaked.status is Status.FAIL  # the operator allowed it: the tool sees it


def test_input_placeholder_needs_an_input_artifact(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_code", tool, {"args": ["ok", "{input}"]})
    assert r.status is Status.ERROR
    assert r.message == (
        "{input} is used in args but no artifact is bound to role 'input' "
        "(add artifacts: {input: NAME})"
    )


def test_honesty_catches_an_exit_code_lie(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_honesty", tool, {"args": ["lie"]})
    assert (r.status, r.value) == (Status.FAIL, False)
    assert r.message == (
        "`tool lie`: says 'Error: model not found: /nonexistent.gguf' but exited 0 (exit-code lie), "
        "must be true"
    )
    assert r.details["error_text"] == "Error: model not found: /nonexistent.gguf"


def test_honesty_passes_an_error_with_a_non_zero_exit(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_honesty", tool, {"args": ["fail"], "expect_error": True})
    assert (r.status, r.value) == (Status.PASS, True)
    assert (
        r.summary
        == "exited 2 with an error message ('tool: error: /nonexistent.gguf: no such file')"
    )


def test_honesty_ignores_zero_error_counts(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_honesty", tool, {"args": ["count"]})
    assert (r.status, r.summary) == (Status.PASS, "exited 0; no error text in the output")


@pytest.mark.parametrize(
    ("cmd", "summary"),
    [
        ("ok", "exited 0 on an invocation that must fail"),
        ("mute", "exited 1 without saying what is wrong"),
        (
            "crash",
            "exited 1 with a crash, not an error message: 'Traceback (most recent call last):'",
        ),
    ],
)
def test_known_bad_invocation_needs_a_clean_error(tmp_path, tool, cmd, summary) -> None:
    r = run_gate(tmp_path, "cli.exit_honesty", tool, {"args": [cmd], "expect_error": True})
    assert (r.status, r.summary) == (Status.FAIL, summary)


def test_a_bad_regex_is_a_spec_error(tmp_path, tool) -> None:
    from albor_gates.errors import SpecError

    with pytest.raises(SpecError) as e:
        run_gate(tmp_path, "cli.exit_honesty", tool, {"error_pattern": "(oops"})
    assert str(e.value) == (
        f"{tmp_path / 'spec.yaml'}:16:20: spec cli-case → gate G → params → error_pattern: not a "
        "valid regular expression: missing ), unterminated subpattern at position 0"
    )


def test_a_bound_input_that_is_missing_is_an_error(tmp_path, tool) -> None:
    r = run_gate(tmp_path, "cli.exit_code", tool, {"args": ["ok", "{input}"]}, input_text="x")
    assert r.status is Status.PASS
    (tmp_path / "input.txt").unlink()
    spec = tmp_path / "spec.yaml"
    from albor_gates.api import evaluate

    (r,) = evaluate(spec, allow_exec=True).results
    assert (r.status, r.message) == (
        Status.ERROR,
        f"{tmp_path / 'input.txt'}: not found (artifact 'sample')",
    )
