"""Logged vs recomputed (issue 10): a gate that declares `recomputes:` gets a -VS-LOGGED finding
that shows both sides and blocks when they disagree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from albor_gates.api import evaluate


def gate(gid: str, artifact: str, **extra: Any) -> dict[str, Any]:
    """A gate reading val_loss (band ≤ 4.7) from ``artifact``."""
    params = {"field": "val_loss", "unit": "nats"}
    body = {"id": gid, "title": "Loss.", "check": "metric.value", "artifact": artifact}
    return {**body, "params": params, "expect": {"le": 4.7}, **extra}


def run(tmp_path: Path, logged: Any, recomputed: Any, recomputes: dict[str, Any]) -> dict:
    """A logged value (band ≤ 4.7) and a recomputed one (same band); results by gate id."""
    for name, value in (("logged", logged), ("recomputed", recomputed)):
        if value is not None:
            (tmp_path / f"{name}.json").write_text(json.dumps({"val_loss": value}))
    art = {"kind": "json", "optional": True}
    spec = {
        "id": "s",
        "version": "1",
        "title": "s",
        "artifacts": {
            "logged": {**art, "path": "logged.json"},
            "recomputed": {**art, "path": "recomputed.json"},
        },
        "gates": [
            gate("LOSS", "logged"),
            gate(
                "LOSS-RECOMPUTED",
                "recomputed",
                severity="advisory",
                required=False,
                recomputes=recomputes,
            ),
        ],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    verdict = evaluate(tmp_path / "spec.yaml")
    return {"decision": verdict.decision.value, **{r.gate_id: r for r in verdict.results}}


CASES = [
    # (logged, recomputed, recomputes, status, decision, message)
    (
        4.6,
        4.61,
        {"gate": "LOSS", "tolerance_abs": 0.05},
        "PASS",
        "GO",
        "logged LOSS PASS (4.6 nats) · recomputed LOSS-RECOMPUTED PASS (4.61 nats) — agree",
    ),
    (
        4.6,
        8.6,
        {"gate": "LOSS"},
        "FAIL",
        "NO-GO",
        "logged LOSS PASS (4.6 nats) · recomputed LOSS-RECOMPUTED FAIL (8.6 nats) — the verdicts "
        "disagree",
    ),
    (
        2.0,
        2.5,
        {"gate": "LOSS", "tolerance_abs": 0.05},
        "FAIL",
        "NO-GO",
        "logged LOSS PASS (2 nats) · recomputed LOSS-RECOMPUTED PASS (2.5 nats) — apart by 0.5 "
        "(tolerance 0.05)",
    ),
    (
        2.0,
        2.5,
        {"gate": "LOSS", "tolerance_rel": 0.1},
        "FAIL",
        "NO-GO",
        "logged LOSS PASS (2 nats) · recomputed LOSS-RECOMPUTED PASS (2.5 nats) — apart by 25.0% "
        "(tolerance 10.0%)",
    ),
    (
        2.0,
        2.1,
        {"gate": "LOSS", "tolerance_rel": 0.1},
        "PASS",
        "GO",
        "logged LOSS PASS (2 nats) · recomputed LOSS-RECOMPUTED PASS (2.1 nats) — agree",
    ),
    (
        5.0,
        5.0,
        {"gate": "LOSS"},
        "PASS",
        "NO-GO",  # both fail: they agree, and the logged FAIL blocks on its own
        "logged LOSS FAIL (5 nats) · recomputed LOSS-RECOMPUTED FAIL (5 nats) — agree",
    ),
]


@pytest.mark.parametrize(("logged", "recomputed", "rc", "status", "decision", "message"), CASES)
def test_logged_vs_recomputed(tmp_path, logged, recomputed, rc, status, decision, message) -> None:
    res = run(tmp_path, logged, recomputed, rc)
    finding = res["LOSS-RECOMPUTED-VS-LOGGED"]
    assert (finding.status.value, finding.message) == (status, message)
    assert finding.severity == "blocking" and finding.check == "logged.agreement"
    assert res["decision"] == decision
    assert finding.details["logged"]["value"] == logged


def test_nothing_measured_is_not_compared(tmp_path) -> None:
    res = run(tmp_path, 4.6, None, {"gate": "LOSS"})
    finding = res["LOSS-RECOMPUTED-VS-LOGGED"]
    assert finding.status.value == "SKIPPED" and not finding.required
    assert finding.message.endswith("— not compared: LOSS-RECOMPUTED was SKIPPED")


def test_a_recomputes_naming_no_gate_is_an_error(tmp_path) -> None:
    res = run(tmp_path, 4.6, 4.6, {"gate": "NOPE"})
    finding = res["LOSS-RECOMPUTED-VS-LOGGED"]
    assert finding.status.value == "ERROR" and res["decision"] == "NO-GO"
    assert finding.message.endswith(
        "recomputes.gate 'NOPE' is not a gate of this run; name the gate that judges the logged "
        "value"
    )
