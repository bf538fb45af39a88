from __future__ import annotations

import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import Status


def test_bypass_must_be_logged(write) -> None:
    write(
        "train.log",
        "step 1 loss 9.1\n[P0-J] Chinchilla gate BYPASSED (D/N 0.083)\nstep 2 loss 8.7\n",
    )
    spec = {
        "id": "s",
        "version": "1",
        "title": "S",
        "artifacts": {"log": {"kind": "log", "path": "train.log"}},
        "gates": [
            {
                "id": "BYPASS",
                "title": "T.",
                "check": "log.match",
                "artifact": "log",
                "params": {"pattern": r"\[P0-J\] Chinchilla gate BYPASSED"},
                "expect": {"ge": 1},
            },
            {
                "id": "NAN",
                "title": "T.",
                "check": "log.match",
                "artifact": "log",
                "params": {"pattern": r"\bnan\b", "ignore_case": True},
                "expect": {"eq": 0},
            },
        ],
    }
    r = {x.gate_id: x for x in evaluate(write("s.yaml", yaml.safe_dump(spec))).results}
    assert r["BYPASS"].status is Status.PASS
    assert r["BYPASS"].details["examples"] == ["2: [P0-J] Chinchilla gate BYPASSED (D/N 0.083)"]
    assert r["NAN"].status is Status.PASS


def test_bad_regex_is_a_spec_error(write) -> None:
    import pytest

    from albor_gates.errors import SpecError

    spec = {
        "id": "s",
        "version": "1",
        "title": "S",
        "artifacts": {"log": {"path": "x.log"}},
        "gates": [
            {
                "id": "G",
                "title": "T.",
                "check": "log.match",
                "artifact": "log",
                "params": {"pattern": "("},
                "expect": {"eq": 0},
            }
        ],
    }
    with pytest.raises(
        SpecError, match="invalid regular expression: missing \\), unterminated subpattern"
    ):
        evaluate(write("s.yaml", yaml.safe_dump(spec)))
