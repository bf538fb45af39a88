"""cli.json_output, cli.no_nonfinite, cli.flag_effect, cli.version, cli.phantom_subcommands
against honest and lying fake tools (P1, P7, P8, P9, P10; FALSIFY-QA-001/003/004/005/007/008)."""

from __future__ import annotations

import pytest
from _cli_fakes import FLAG_TOOL, JSON_TOOL, PHANTOM_TOOL, VERSION_TOOL, fake_tool, run_gate
from hypothesis import given
from hypothesis import strategies as st

from albor_gates.checks import cli_json_output
from albor_gates.checks.cli_phantom_subcommands import parse_subcommands
from albor_gates.engine.results import Status


@pytest.fixture
def json_tool(tmp_path):
    return fake_tool(tmp_path, JSON_TOOL)


def test_strict_json_passes(tmp_path, json_tool) -> None:
    params = {"args": ["json"], "required_keys": ["decision", "gates[0].value"]}
    r = run_gate(tmp_path, "cli.json_output", json_tool, params)
    assert (r.status, r.value) == (Status.PASS, True)
    assert r.message == "`tool json`: stdout is valid JSON with decision, gates[0].value"


@pytest.mark.parametrize(
    ("cmd", "summary"),
    [
        ("nan", "stdout is not strict JSON: NaN is not a JSON value"),
        ("extra", "stdout is not strict JSON: Extra data (line 2, column 1)"),
        ("table", "stdout is not strict JSON: Expecting value (line 1, column 1)"),
        ("empty", "stdout is empty, not JSON"),
        ("big", "stdout exceeded the capture cap; it cannot be checked"),
    ],
)
def test_not_strict_json_fails(tmp_path, json_tool, cmd, summary) -> None:
    r = run_gate(tmp_path, "cli.json_output", json_tool, {"args": [cmd]})
    assert (r.status, r.summary) == (Status.FAIL, summary)


def test_required_keys_must_exist(tmp_path, json_tool) -> None:
    r = run_gate(
        tmp_path, "cli.json_output", json_tool, {"args": ["json"], "required_keys": ["verdict"]}
    )
    assert (r.status, r.summary) == (Status.FAIL, "stdout lacks verdict")


def test_json_lines(tmp_path, json_tool) -> None:
    ok = run_gate(
        tmp_path,
        "cli.json_output",
        json_tool,
        {"args": ["jsonl"], "lines": True, "required_keys": ["step"]},
    )
    assert (ok.status, ok.summary) == (Status.PASS, "stdout is 2 JSON lines with step")
    bad = run_gate(tmp_path, "cli.json_output", json_tool, {"args": ["badline"], "lines": True})
    assert bad.summary == "line 2 of stdout is not strict JSON: Infinity is not a JSON value"


def test_exit_codes_when_asked(tmp_path, json_tool) -> None:
    r = run_gate(tmp_path, "cli.json_output", json_tool, {"args": ["json"], "exit_codes": [1]})
    assert (r.status, r.summary) == (Status.FAIL, "exited 0, expected exit status 1")


def test_nonfinite_tokens_are_counted(tmp_path) -> None:
    tool = fake_tool(
        tmp_path, 'print("step 1 loss 2.31\\nstep 2 loss nan\\ntok/s: -Inf, inference info")'
    )
    r = run_gate(tmp_path, "cli.no_nonfinite", tool)
    assert (r.status, r.value) == (Status.FAIL, 2)
    assert r.message == "non-finite tokens 2, must be = 0"
    assert r.details["occurrences"] == [
        "stdout:2: step 2 loss nan",
        "stdout:3: tok/s: -Inf, inference info",
    ]


def test_finite_output_passes(tmp_path) -> None:
    tool = fake_tool(
        tmp_path,
        'import sys; print("loss 2.31 nats; informative; nan.yaml"); print("np.nan", file=sys.stderr)',
    )
    r = run_gate(tmp_path, "cli.no_nonfinite", tool)
    assert (r.status, r.value, r.message) == (Status.PASS, 0, "non-finite tokens 0 = 0")


def test_nonfinite_streams_and_case(tmp_path) -> None:
    tool = fake_tool(tmp_path, 'import sys; print("nan"); print("NaN", file=sys.stderr)')
    assert run_gate(tmp_path, "cli.no_nonfinite", tool, {"streams": ["stderr"]}).value == 1
    assert (
        run_gate(
            tmp_path, "cli.no_nonfinite", tool, {"ignore_case": False, "pattern": r"\bNaN\b"}
        ).value
        == 1
    )


@pytest.fixture
def flag_tool(tmp_path):
    return fake_tool(tmp_path, FLAG_TOOL)


def test_a_working_flag_passes(tmp_path, flag_tool) -> None:
    r = run_gate(
        tmp_path, "cli.flag_effect", flag_tool, {"args": ["list"], "with_args": ["list", "--json"]}
    )
    assert (r.status, r.value) == (Status.PASS, True)
    assert r.message == "`--json`: stdout differs (line 1: 'rows: 2' vs '{\"rows\": 2}')"


def test_a_silent_flag_fails(tmp_path, flag_tool) -> None:
    r = run_gate(
        tmp_path,
        "cli.flag_effect",
        flag_tool,
        {"args": ["list"], "with_args": ["list", "--verbose"]},
    )
    assert (r.status, r.value) == (Status.FAIL, False)
    assert r.summary == "`--verbose` changes nothing in stdout, stderr, exit status"
    assert r.fix == "make the flag do what its help says, or remove it"


def test_a_flag_that_changes_only_the_exit_status(tmp_path, flag_tool) -> None:
    params = {"args": ["list"], "with_args": ["--strict", "list"], "compare": ["exit_status"]}
    r = run_gate(tmp_path, "cli.flag_effect", flag_tool, params)
    assert (r.status, r.summary) == (Status.PASS, "exit status 0 vs 1")


def test_nondeterministic_output_is_an_error_unless_ignored(tmp_path, flag_tool) -> None:
    params = {"args": ["--stamp"], "with_args": ["--stamp", "--verbose"]}
    r = run_gate(tmp_path, "cli.flag_effect", flag_tool, params)
    assert r.status is Status.ERROR
    assert r.message.startswith(
        "`tool --stamp` is not deterministic (stdout differs (line 1: 'run at "
    )
    params["ignore_patterns"] = [r"run at \d+"]
    r = run_gate(tmp_path, "cli.flag_effect", flag_tool, params)
    assert (r.status, r.value) == (Status.FAIL, False)  # now the no-op --verbose shows


@pytest.mark.parametrize(
    ("which", "status", "summary"),
    [
        ("good", Status.PASS, "tool 1.4.2 (3f9c2ab)"),
        (
            "nohash",
            Status.FAIL,
            "'tool 1.4.2 (0000000)' contains the sentinel '0000000' (a broken build)",
        ),
        (
            "unknown",
            Status.FAIL,
            "'tool (unknown)' contains the sentinel '(unknown)' (a broken build)",
        ),
        ("fail", Status.FAIL, "exited 1 (a version query must succeed)"),
    ],
)
def test_version_sanity(tmp_path, which, status, summary) -> None:
    tool = fake_tool(tmp_path, VERSION_TOOL)
    r = run_gate(tmp_path, "cli.version", tool, {"args": [which]})
    assert (r.status, r.summary) == (status, summary)


def test_version_must_contain_the_commit(tmp_path) -> None:
    tool = fake_tool(tmp_path, VERSION_TOOL)
    r = run_gate(tmp_path, "cli.version", tool, {"args": ["good"], "contains": ["deadbee"]})
    assert (r.status, r.summary) == (Status.FAIL, "'tool 1.4.2 (3f9c2ab)' lacks 'deadbee'")
    assert r.details["version"] == "1.4.2"


def test_phantom_subcommands_are_counted(tmp_path) -> None:
    tool = fake_tool(tmp_path, PHANTOM_TOOL)
    r = run_gate(tmp_path, "cli.phantom_subcommands", tool, {"bare": True})
    assert (r.status, r.value) == (Status.FAIL, 3)
    assert r.details["commands"] == ["run", "bench", "tune", "serve"]
    assert r.details["phantoms"] == [
        "bench: says 'bench: not implemented'",
        "tune: says 'error: not yet implemented'",
        "serve: `tool serve --help` exited 1 (RuntimeError: no config)",
    ]
    assert r.message == "phantom subcommands 3, must be = 0"


def test_help_only_probe_misses_the_bare_stub(tmp_path) -> None:
    tool = fake_tool(tmp_path, PHANTOM_TOOL)
    assert run_gate(tmp_path, "cli.phantom_subcommands", tool).value == 2


def test_an_honest_cli_has_no_phantoms(tmp_path) -> None:
    tool = fake_tool(tmp_path, PHANTOM_TOOL)
    r = run_gate(tmp_path, "cli.phantom_subcommands", [*tool, "--no-stubs"])
    assert (r.status, r.value) == (Status.PASS, 0)
    assert r.summary == "2 advertised subcommands answer --help: run, bench"


def test_unparsed_help_is_an_error_not_a_pass(tmp_path) -> None:
    tool = fake_tool(tmp_path, 'print("usage: tool FILE")')
    r = run_gate(tmp_path, "cli.phantom_subcommands", tool)
    assert r.status is Status.ERROR
    assert r.message == (
        "`tool --help` lists 0 subcommands (at least 1 expected): set section_pattern or commands"
    )


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "Usage: apr <COMMAND>\n\nCommands:\n  run      Run\n  inspect  Inspect a\n           model\n  help     Print help\n\nOptions:\n  -h, --help  Print help\n",
            ["run", "inspect", "help"],
        ),
        (
            "USAGE:\n    apr [SUBCOMMAND]\n\nSUBCOMMANDS:\n    help    Prints this\n    a-long-subcommand-name\n            described below\n    run     Run\n",
            ["help", "a-long-subcommand-name", "run"],
        ),
        (
            "usage: x [-h] {foo,bar-baz} ...\n\npositional arguments:\n  {foo,bar-baz}\n    foo   do foo\n",
            ["foo", "bar-baz"],
        ),
        ("Available commands:\n  pull, p   Download\n  list      List\n", ["pull", "list"]),
        ("usage: tool FILE\n", []),
    ],
    ids=["clap4", "clap2", "argparse", "aliases", "none"],
)
def test_parse_subcommands(text, names) -> None:
    assert parse_subcommands(text) == names


HELPISH = st.text(
    alphabet=st.sampled_from(list("Commands:SUBCOMMANDS{}, -_.\t\n  abcrunlist=()'\"\x00é")),
    max_size=400,
)


@given(HELPISH)
def test_parse_subcommands_never_raises(text: str) -> None:
    names = parse_subcommands(text)
    assert len(names) == len(set(names)) and all(n and n[0].isalnum() for n in names)


@given(st.text(max_size=300), st.booleans())
def test_json_judge_never_raises(text: str, lines: bool) -> None:
    params = cli_json_output.Params(lines=lines, required_keys=["a.b[0]"])
    ok, reason = cli_json_output.validate_documents(text, params)
    assert isinstance(ok, bool) and reason
