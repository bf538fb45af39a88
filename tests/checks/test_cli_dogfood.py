"""The bundled dogfood suite passes against our own CLI (issue 6 item 3: CI runs it)."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "self-dogfood.yaml"


def test_gates_passes_its_own_dogfood_suite(gates, tmp_path) -> None:
    r = gates(
        "check", str(SPEC), "--strict", "--allow-exec", "-f", "json", "-o", str(tmp_path), "-q"
    )
    report = json.loads((tmp_path / "gates-report.json").read_text())
    failing = {g["id"]: g["message"] for g in report["gates"] if g["status"] != "PASS"}
    assert failing == {}
    assert (r.code, report["decision"]) == (0, "GO")
    checks = {g["check"] for g in report["gates"]}
    assert {k for k in checks if k.startswith("cli.")} == {
        "cli.exit_code",
        "cli.exit_honesty",
        "cli.flag_effect",
        "cli.json_output",
        "cli.no_nonfinite",
        "cli.overwrite_protection",
        "cli.peak_rss",
        "cli.phantom_subcommands",
        "cli.rejects_bad_input",
        "cli.sigint",
        "cli.version",
        "cli.wall_time",
    }


def test_every_dogfood_gate_names_its_source_and_aliases(gates) -> None:
    import yaml

    doc = yaml.safe_load(SPEC.read_text())
    for gate in doc["gates"]:
        assert gate.get("source"), gate["id"]
        if gate["check"] != "cli.wall_time":
            assert gate.get("aliases"), gate["id"]
    assert gates("lint", str(SPEC)).code == 0
