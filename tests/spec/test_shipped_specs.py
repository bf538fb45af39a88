"""The specs and invariants the product ships: clean, documented, and traceable to tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from albor_gates.engine.lint import plan_files
from albor_gates.spec.loader import load_spec
from albor_gates.spec.resources import spec_files

REPO = Path(__file__).resolve().parents[2]
SHIPPED = spec_files(REPO / "specs") + spec_files(REPO / "invariants")
BUNDLES = [p for p in SHIPPED if load_spec(p).spec.kind == "bundle"]


def test_every_shipped_spec_lints_clean() -> None:
    plans = plan_files(SHIPPED)
    assert len(plans) == len(SHIPPED)


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_every_invariant_has_statement_source_rationale_and_falsifiers(path: Path) -> None:
    loaded = load_spec(path)
    for gate in loaded.spec.gates:
        assert gate.title.endswith("."), gate.id
        assert gate.source or loaded.spec.source, f"{gate.id}: no source"
        assert gate.rationale or gate.description or gate.id.startswith("VERIFY"), (
            f"{gate.id}: no rationale"
        )
        assert gate.falsifiers, f"{gate.id}: no falsifier"
        for f in gate.falsifiers:
            if f.test:
                test_file = f.test.split("::")[0]
                assert (REPO / test_file).exists(), f"{gate.id}: {f.test} does not exist"


def test_explain_shows_every_numbering_of_ac_ship2_007(gates) -> None:
    r = gates("explain", "AC-SHIP2-007", "--spec-path", str(REPO / "specs"))
    assert r.code == 0, r.err
    assert (
        "AC-SHIP2-007 — At most 1 of 100 held-out prompts produces a Python SyntaxError." in r.out
    )
    assert "source: ship-model-2-spec (§5.2 (FALSIFY-SHIP-017 / GATE-ARCH-370M-005)" in r.out
    assert "AC-SHIP2-007 in albor-370m-roadmap v2.0.0 — apr inspect --quality ≥ 90" in r.out
    assert (
        "AC-SHIP2-007 in albor-370m-v1 dogfood template v1.0 (§8) — P1-B HumanEval (outstanding)"
        in r.out
    )
    # other documents' AC-SHIP2-007 lead to other gates too
    assert "is also an alias" in r.out
    assert "QUALITY-SCORE" in r.out
