"""``gates schema -o``: writes a new file, refuses an existing one unless --force (chaos C4)."""

from __future__ import annotations

import json


def test_writes_a_new_file(gates, tmp_path) -> None:
    out = tmp_path / "spec.schema.json"
    r = gates("schema", "-o", str(out))
    assert (r.code, r.out) == (0, f"wrote {out}\n")
    assert json.loads(out.read_text())["title"] == "albor-gates spec"


def test_refuses_an_existing_file_without_force(gates, tmp_path) -> None:
    out = tmp_path / "notes.json"
    out.write_text("keep me\n")
    r = gates("schema", "--report", "-o", str(out))
    assert r.code == 2
    assert r.err == f"gates: error: {out}: exists; pass --force to replace it\n"
    assert out.read_text() == "keep me\n"


def test_force_replaces_it(gates, tmp_path) -> None:
    out = tmp_path / "report.schema.json"
    out.write_text("old\n")
    r = gates("schema", "--report", "-o", str(out), "--force")
    assert r.code == 0
    assert json.loads(out.read_text())["properties"]["schema"]
