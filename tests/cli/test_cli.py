from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = str(REPO / "examples" / "quickstart" / "gates.yaml")

SPEC = """
id: tiny
version: "1"
title: Tiny
artifacts:
  m: {kind: json, path: m.json}
gates:
  - {id: LOSS, title: Loss is small., check: metric.value, artifact: m, params: {field: loss}, expect: {le: 2.2}}
"""


@pytest.fixture
def tiny(write):
    def make(loss: str) -> Path:
        write("m.json", f'{{"loss": {loss}}}')
        return write("tiny.yaml", SPEC)

    return make


def test_go_exits_0(gates, tiny) -> None:
    r = gates("check", str(tiny("2.2")))
    assert r.code == 0
    assert "Decision: GO" in r.out


def test_no_go_exits_1(gates, tiny) -> None:
    r = gates("check", str(tiny("NaN")))
    assert r.code == 1
    assert "loss nan: non-finite measurements always fail" in r.out


def test_warn_exits_0_and_1_with_strict(gates) -> None:
    assert gates("check", QUICKSTART).code == 0
    assert gates("check", QUICKSTART, "--strict").code == 1


def test_misspelled_key_exits_2_with_location(gates, write) -> None:
    p = write("bad.yaml", SPEC.replace("expect:", "expct:"))
    r = gates("lint", str(p))
    assert r.code == 2
    assert r.err.splitlines() == [
        f"gates: {p}:7:96: spec tiny → gate LOSS → expct: unknown key 'expct' "
        "(did you mean 'expect'?)",
        "gates: 1 problem found",
    ]
    assert gates("check", str(p)).code == 2


def test_lint_clean_prints_summary(gates, tiny) -> None:
    r = gates("lint", str(tiny("1")))
    assert (r.code, r.out) == (0, "1 spec files, 1 gates: no problems\n")


def test_missing_path_is_usage_error(gates, tmp_path) -> None:
    r = gates("check", str(tmp_path / "nope.yaml"))
    assert r.code == 2
    assert r.err == f"gates: error: {tmp_path / 'nope.yaml'}: no such file or folder\n"


def test_unbound_artifact_is_usage_error(gates, write) -> None:
    p = write("u.yaml", SPEC.replace("{kind: json, path: m.json}", "{kind: json}"))
    r = gates("check", str(p))
    assert r.code == 2
    assert r.err == (
        "gates: error: spec tiny: artifact(s) m have no path; bind them with --artifact m=PATH "
        "(or in a spec that extends tiny)\n"
    )


def test_artifact_override_and_unknown_name(gates, tiny, write) -> None:
    spec = tiny("9")
    good = write("good.json", '{"loss": 1.0}')
    assert gates("check", str(spec), "--artifact", f"m={good}").code == 0
    r = gates("check", str(spec), "-a", "x=y")
    assert r.code == 2
    assert "--artifact x: spec tiny declares no artifact 'x' (it declares: m)" in r.err
    assert gates("check", str(spec), "-a", "novalue").code == 2


def test_skip_required_gate_is_no_go(gates, tiny) -> None:
    r = gates("check", str(tiny("1")), "--skip", "LOSS")
    assert r.code == 1
    assert "LOSS: SKIPPED but required" in r.out
    assert gates("check", str(tiny("1")), "--skip", "NOPE").code == 2


def test_several_formats_need_output_dir(gates, tiny, tmp_path) -> None:
    r = gates("check", str(tiny("1")), "-f", "json", "-f", "sarif")
    assert r.code == 2
    assert r.err == "gates: error: several --format values need --output-dir DIR\n"
    out = tmp_path / "reports"
    r = gates("check", str(tiny("1")), "-f", "json", "-f", "sarif", "-f", "junit", "-o", str(out))
    assert r.code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "gates-junit.xml",
        "gates-report.json",
        "gates.sarif",
    ]


def test_json_to_stdout(gates, tiny) -> None:
    r = gates("check", str(tiny("3")), "-f", "json")
    assert r.code == 1
    rec = json.loads(r.out)
    assert rec["decision"] == "NO-GO"
    assert rec["gates"][0]["value"] == 3


def test_internal_error_in_a_check_exits_3_after_reporting(gates, tiny, monkeypatch) -> None:
    from albor_gates.checks import metric_value

    def boom(ctx, params):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(metric_value, "measure", boom)
    r = gates("check", str(tiny("1")))
    assert r.code == 3
    assert "internal error in check metric.value (ZeroDivisionError: division by zero" in r.out
    assert "Decision: NO-GO" in r.out


def test_ctrl_c_exits_130_and_writes_no_report(gates, tiny, monkeypatch, tmp_path) -> None:
    from albor_gates.checks import metric_value

    def interrupted(ctx, params):
        raise KeyboardInterrupt

    monkeypatch.setattr(metric_value, "measure", interrupted)
    out = tmp_path / "reports"
    r = gates("check", str(tiny("1")), "-f", "json", "-o", str(out))
    assert r.code == 130
    assert r.err.strip() == "gates: interrupted; no report was written"
    assert not out.exists()


def test_baseline_must_be_a_report(gates, tiny, write) -> None:
    bogus = write("b.json", '{"hello": 1}')
    r = gates("check", str(tiny("1")), "--baseline", str(bogus))
    assert r.code == 2
    assert "not an albor-gates JSON report" in r.err


def test_explain_kind_gate_and_alias(gates) -> None:
    r = gates("explain", "metric.value")
    assert r.code == 0 and "PASS:" in r.out and "FAIL:" in r.out
    r = gates("explain", "AC-SHIP2-003-LOOSE", "--spec-path", str(REPO / "examples" / "quickstart"))
    assert r.code == 0 and "≤ 4.7" in r.out
    r = gates("explain", "metric.valeu")
    assert r.code == 2 and "did you mean 'metric.value'?" in r.err


def test_schema_has_per_kind_params(gates) -> None:
    r = gates("schema")
    schema = json.loads(r.out)
    gate = schema["$defs"]["Gate"]
    kinds = [b["if"]["properties"]["check"]["const"] for b in gate["allOf"]]
    assert "metric.value" in kinds
    assert json.loads(gates("schema", "--report").out)["properties"]["schema"]["const"] == (
        "albor-gates/report"
    )


def test_schema_validates_the_bundled_example() -> None:
    import jsonschema
    import yaml

    from albor_gates.engine.catalog import spec_schema

    data = yaml.safe_load(Path(QUICKSTART).read_text())
    jsonschema.validate(data, spec_schema())
    data["gates"][0]["params"]["feild"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, spec_schema())


def test_version(gates) -> None:
    r = gates("--version")
    assert (r.code, r.out) == (0, "albor-gates 0.1.0\n")


@pytest.mark.parametrize("args", [["--help"], ["lint", QUICKSTART]])
def test_start_up_imports_neither_torch_nor_numpy(args: list[str]) -> None:
    code = (
        "import sys; from albor_gates.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
        "print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.stderr)\n"
        "print('NUMPY' if 'numpy' in sys.modules else 'NONUMPY', file=sys.stderr)\n"
    )
    # what start-up imports, not how long it takes: timings live in benchmarks/bench_install.py
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert "NOTORCH" in p.stderr and "NONUMPY" in p.stderr


def test_lint_imports_only_what_validating_specs_needs() -> None:
    """Issue 14: what measure() or another command needs stays out of gates lint's start-up."""
    code = (
        "import sys; from albor_gates.cli import main\n"
        "try:\n    main(['lint', 'specs', 'invariants'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    loaded = set(p.stdout.split())
    assert "albor_gates.checks.metric_value" in loaded  # the kinds the specs use are imported
    assert "albor_gates.checks.file_exists" not in loaded  # and only those (no spec uses it)
    unneeded = {
        "logging",  # lint logs nothing
        "difflib",  # no misspelling to suggest for
        "albor_gates.artifacts.process",  # the cli.* kinds run tools in measure() only
        "albor_gates.artifacts.operator",
        "albor_gates.artifacts.architecture",
        "albor_gates.formats.gguf_names",
        "albor_gates.model.llama_engine",
        "albor_gates.render.html",  # report renderers: not lint's
        "albor_gates.render.junit",
        "albor_gates.render.sarif",  # lint's own SARIF view: only for -f sarif
        "albor_gates.cli.session",
    }
    assert not unneeded & loaded, sorted(unneeded & loaded)


def test_python_m_entry_point() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "albor_gates", "--version"], capture_output=True, text=True
    )
    assert p.returncode == 0 and p.stdout == "albor-gates 0.1.0\n"


@pytest.mark.parametrize(
    ("args", "frozen"),
    [(["lint", "specs", "invariants"], True), (["lint", "no-such.yaml"], True), (["list"], False)],
)
def test_process_entry_freezes_the_heap_only_after_lint(args: list[str], frozen: bool) -> None:
    """Under run() (gates, python -m albor_gates) lint freezes what it built; under main() not."""
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('FROZEN', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "sys.argv[0] = 'gates'\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", probe + "from albor_gates.cli import run\nrun()\n", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    q = subprocess.run(
        [sys.executable, "-c", probe + "from albor_gates.cli import main\nmain()\n", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert f"FROZEN {frozen}" in p.stderr
    assert "FROZEN False" in q.stderr  # a process that goes on after main() is left alone
    # the same output and status either way
    assert (p.returncode, p.stdout) == (q.returncode, q.stdout)
    assert p.stderr.replace(f"FROZEN {frozen}", "") == q.stderr.replace("FROZEN False", "")


@pytest.mark.parametrize(
    "entry",
    [
        "runpy.run_module('albor_gates', run_name='__main__')",
        "from albor_gates._entry import main; main()",
    ],
)
def test_process_entries_freeze_what_the_cli_import_built(entry: str) -> None:
    """python -m albor_gates and the gates script: the import's heap is frozen, output as ever."""
    code = (
        "import atexit, gc, runpy, sys\n"
        "atexit.register(lambda: print('FROZEN', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "sys.argv = ['gates', '--version']\n" + entry + "\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert (p.returncode, p.stdout, p.stderr) == (0, "albor-gates 0.1.0\n", "FROZEN True\n")


def test_special_files_are_refused_not_read(gates, write, tmp_path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    spec = write(
        "s.yaml", SPEC.replace("{kind: json, path: m.json}", f"{{kind: json, path: {fifo}}}")
    )
    r = gates("check", str(spec))
    assert r.code == 1
    assert f"{fifo}: not a regular file or folder (artifact 'm'); point it at a file" in r.out
    r = gates("lint", "/dev/null")
    assert (r.code, r.err) == (
        2,
        "gates: error: /dev/null: not a regular file or folder (a device, FIFO or socket)\n",
    )
