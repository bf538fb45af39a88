"""Data-driven check-kind cases (sqlfluff std_rule_cases style): tests/checks/cases/*.yaml."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from albor_gates.api import evaluate

CASES = Path(__file__).parent / "cases"


def _qa(n_true: int, n_false: int, n_skip: int) -> dict[str, Any]:
    gates = [{"name": f"g{i}", "passed": True, "skipped": False} for i in range(n_true)]
    gates += [{"name": f"g{n_true + i}", "passed": False, "skipped": False} for i in range(n_false)]
    gates += [
        {"name": f"g{n_true + n_false + i}", "passed": True, "skipped": True} for i in range(n_skip)
    ]
    return {"gates": gates}


def load_cases() -> list[Any]:
    out = []
    for f in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text())
        for case in doc["cases"]:
            out.append(pytest.param(case, id=f"{f.stem}:{case['name']}"))
    return out


@pytest.mark.parametrize("case", load_cases())
def test_case(case: dict[str, Any], tmp_path: Path) -> None:
    ev = case["evidence"]
    if (
        isinstance(ev, dict)
        and "gates" in ev
        and isinstance(ev["gates"], list)
        and len(ev["gates"]) == 3
        and all(isinstance(x, int) for x in ev["gates"])
    ):
        ev = json.dumps(_qa(*ev["gates"]))
    elif not isinstance(ev, str):
        ev = json.dumps(ev)
    (tmp_path / "evidence.json").write_text(ev)
    gate = {"id": "G", "title": "Case.", "artifact": "e", **case["gate"]}
    spec = {
        "id": "case",
        "version": "1",
        "title": "Case",
        "artifacts": {"e": {"kind": "json", "path": "evidence.json"}},
        "gates": [gate],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    verdict = evaluate(tmp_path / "spec.yaml")
    (result,) = verdict.results
    assert result.status.value == case["status"], result.message
    if "message" in case:
        msg = result.message
        if result.status.value == "ERROR":
            msg = msg.split(": ", 1)[-1] if msg.startswith(str(tmp_path)) else msg
        assert msg == case["message"]


def test_next_float_below_100_is_what_the_case_file_says() -> None:
    assert math.nextafter(100.0, 0.0) == 99.99999999999999
