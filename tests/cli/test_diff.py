from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_diff_flags_loosened_thresholds_and_value_changes(gates, tmp_path) -> None:
    spec = (REPO / "examples" / "quickstart" / "gates.yaml").read_text()
    a = tmp_path / "a"
    a.mkdir()
    (a / "gates.yaml").write_text(spec)
    (a / "evidence").symlink_to(REPO / "examples" / "quickstart" / "evidence")
    r = gates("check", str(a / "gates.yaml"), "-f", "json")
    (tmp_path / "before.json").write_text(r.out)
    (a / "gates.yaml").write_text(
        spec.replace("expect: {ge: 0, le: 4.7}", "expect: {ge: 0, le: 5.0}").replace(
            "  - id: AC-SHIP2-004\n", "  - id: AC-SHIP2-004\n    severity: advisory\n"
        )
    )
    r = gates("check", str(a / "gates.yaml"), "-f", "json")
    (tmp_path / "after.json").write_text(r.out)
    r = gates("diff", str(tmp_path / "before.json"), str(tmp_path / "after.json"), "--json")
    d = json.loads(r.out)
    assert sorted(d["loosened"]) == ["quickstart:AC-SHIP2-003-LOOSE", "quickstart:AC-SHIP2-004"]
    g = {x["id"]: x for x in d["gates"]}
    assert g["AC-SHIP2-003-LOOSE"]["gate_changes"] == ["expect loosened"]
    assert g["AC-SHIP2-004"]["gate_changes"] == ["severity blocking → advisory"]
    assert [s["changed"] for s in d["specs"]] == [True]
    r = gates(
        "diff", str(tmp_path / "before.json"), str(tmp_path / "after.json"), "--fail-on-loosened"
    )
    assert r.code == 1
    assert "2 gate(s) loosened since the previous release" in r.out
    assert (
        gates(
            "diff",
            str(tmp_path / "before.json"),
            str(tmp_path / "before.json"),
            "--fail-on-loosened",
        ).code
        == 0
    )
