"""One decision per run (issue 10): every artifact a dogfood run writes states the decision that
``decide()`` gave over every gate of the run; the verdict block follows the decision rule when
each of its inputs is flipped on its own; HARD/SOFT labels agree with the effect."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from albor_gates.cli.session import github_outputs
from albor_gates.engine.decide import decide
from albor_gates.engine.record import to_record
from albor_gates.engine.results import GateResult, SpecInfo, Status, Verdict
from albor_gates.engine.run import restrict
from albor_gates.render import RENDERERS, Format
from albor_gates.render.dogfood import render_dogfood

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.timezone.utc)
ICON = {"GO": "✅ GO", "WARN": "⚠️ WARN", "NO-GO": "❌ NO-GO"}


def gate(
    gid: str,
    status: Status = Status.PASS,
    severity: str = "blocking",
    required: bool = True,
    spec: str = "dog",
    section: int | None = None,
) -> GateResult:
    return GateResult(
        spec=spec,
        gate_id=gid,
        title=f"{gid} holds.",
        check="metric.value",
        check_version=1,
        severity=severity,  # type: ignore[arg-type]
        required=required,
        status=status,
        message=f"{gid} was {status.value}",
        fix="pip install thing" if status in (Status.SKIPPED, Status.ERROR) else "",
        tags=(f"section-{section}",) if section is not None else (),
    )


def run(results: list[GateResult]) -> tuple[dict[str, Any], dict[str, Any], str]:
    """One run over a dogfood spec and a ship spec: (dog record, ship record, run decision)."""
    decision, reasons = decide(results)
    verdict = Verdict(
        decision=decision,
        reasons=reasons,
        results=tuple(results),
        specs=(
            SpecInfo("dog", "1", "Dog", "dog.yaml", "0" * 64, root=True),
            SpecInfo("ship", "1", "Ship", "ship.yaml", "0" * 64, root=True),
        ),
        artifacts=(),
        waivers=(),
        environment={},
        generated_at=NOW,
        tool_version="0",
    )
    dog = to_record(restrict(verdict, {"dog"}))
    ship = to_record(restrict(verdict, {"ship"}))
    return dog, ship, decision.value


def stated(fmt: Format, text: str) -> str | None:
    """The decision a rendered report states (None: a JUnit file without a test suite)."""
    if fmt is Format.JSON:
        return str(json.loads(text)["decision"])
    if fmt is Format.SARIF:
        return str(json.loads(text)["runs"][0]["properties"]["decision"])
    if fmt is Format.JUNIT:
        props = ET.fromstring(text).findall(".//property[@name='decision']")
        found = {p.get("value") for p in props}
        assert len(found) <= 1, found
        return found.pop() if found else None
    pattern = {
        Format.GITHUB: r"::notice title=albor-gates ([A-Z-]+)::",
        Format.MARKDOWN: r"albor-gates: \*\*([A-Z-]+)\*\*",
        Format.HTML: r'id="decision">([A-Z-]+)<',
        Format.TEXT: r"Decision: ([A-Z-]+)",
    }[fmt]
    found = set(re.findall(pattern, text))
    assert len(found) == 1, (fmt, found)
    return found.pop()


def documents_decision(docs: dict[str, str]) -> str:
    found = re.findall(r"\| \*\*VERDICT\*\* \| (.+) \|", docs["dogfood-verdict.md"])
    (icon,) = found
    decision = {v: k for k, v in ICON.items()}[icon]
    assert ("warnings.md" in docs) == (decision == "WARN")
    assert ("no-go.md" in docs) == (decision == "NO-GO")
    return decision


ROW = st.tuples(
    st.sampled_from(list(Status)),
    st.sampled_from(["blocking", "advisory", "info"]),
    st.booleans(),
    st.sampled_from(["dog", "ship"]),
    st.integers(0, 7),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=10))
def test_every_artifact_of_a_random_run_states_the_one_decision(rows, tmp_path_factory) -> None:
    results = [
        gate(f"G{i}", status, sev, req, spec, sec)
        for i, (status, sev, req, spec, sec) in enumerate(rows)
    ]
    dog, ship, decision = run(results)
    for rec in (dog, ship):
        for fmt, render in RENDERERS.items():
            says = stated(fmt, render(rec))
            # JUnit states the decision per test suite: a spec with no gate has none to state
            assert says == decision or (says is None and not rec["gates"]), fmt
    assert documents_decision(render_dogfood(dog, ship)) == decision
    out = tmp_path_factory.mktemp("gh") / "output"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GITHUB_ACTIONS", "true")
        mp.setenv("GITHUB_OUTPUT", str(out))
        mp.delenv("GITHUB_STEP_SUMMARY", raising=False)
        github_outputs(dog, None)
        github_outputs(ship, None)
    assert out.read_text() == f"decision={decision}\n" * 2


def base() -> list[GateResult]:
    """All eight sections and the ship spec passed: GO."""
    return [gate(f"DF-{n}", section=n) for n in range(8)] + [gate("AC-1", spec="ship")]


def verdict_block(doc: str) -> str:
    return doc[doc.index("## 8. Verdict") : doc.index("**Citation**")]


def test_the_all_passing_run_is_go_with_every_section_counted() -> None:
    dog, ship, decision = run(base())
    doc = render_dogfood(dog, ship)["dogfood-verdict.md"]
    assert decision == "GO"
    block = verdict_block(doc)
    assert "| Sections passed | 8/8 |" in block and "| Hard failures | 0 " in block
    assert "| **VERDICT** | ✅ GO |" in block
    assert doc.count("Section result: ✅ passed") == 8


# (the flipped input, decision, sections passed row, hard count, soft count, the item's line)
FLIPS = [
    (
        gate("DF-3", Status.FAIL, section=3),
        "NO-GO",
        "7/8",
        1,
        0,
        "- `DF-3` (FAIL): DF-3 was FAIL",
    ),
    (
        gate("DF-3", Status.FAIL, severity="advisory", section=3),
        "WARN",
        "8/8 (1 passed with warnings)",
        0,
        1,
        "- `DF-3` (FAIL): DF-3 was FAIL",
    ),
    (
        gate("DF-3", Status.SKIPPED, section=3),
        "NO-GO",
        "7/8",
        1,
        0,
        "- `DF-3` (SKIPPED): not evaluated: DF-3 was SKIPPED; pip install thing",
    ),
    (
        gate("DF-3", Status.SKIPPED, required=False, section=3),
        "WARN",
        "8/8 (1 passed with warnings)",
        0,
        1,
        "- `DF-3` (SKIPPED): DF-3 was SKIPPED",
    ),
    (
        gate("DF-3", Status.ERROR, severity="advisory", section=3),
        "NO-GO",
        "7/8",
        1,
        0,
        "- `DF-3` (ERROR): not evaluated: DF-3 was ERROR; pip install thing",
    ),
    (
        gate("DF-3", Status.WARN, section=3),
        "WARN",
        "8/8 (1 passed with warnings)",
        0,
        1,
        "- `DF-3` (WARN): DF-3 was WARN",
    ),
    (
        gate("DF-3", Status.FAIL, severity="info", section=3),
        "GO",
        "8/8 (1 passed with warnings)",
        0,
        0,
        None,
    ),
    (
        gate("AC-1", Status.ERROR, spec="ship"),
        "NO-GO",
        "8/8",
        1,
        0,
        "- `AC-1` (spec `ship`) (ERROR): not evaluated: AC-1 was ERROR; pip install thing",
    ),
    (
        gate("AC-1", Status.FAIL, severity="advisory", spec="ship"),
        "WARN",
        "8/8",
        0,
        1,
        "- `AC-1` (spec `ship`) (FAIL): AC-1 was FAIL",
    ),
]


@pytest.mark.parametrize(("flipped", "decision", "sections", "hard", "soft", "line"), FLIPS)
def test_flipping_one_input_changes_the_verdict_block_as_the_rule_says(
    flipped: GateResult, decision: str, sections: str, hard: int, soft: int, line: str | None
) -> None:
    results = [flipped if r.gate_id == flipped.gate_id else r for r in base()]
    dog, ship, got = run(results)
    assert got == decision
    docs = render_dogfood(dog, ship)
    block = verdict_block(docs["dogfood-verdict.md"])
    assert f"| **VERDICT** | {ICON[decision]} |" in block
    assert f"| Sections passed | {sections} |" in block
    assert f"| Hard failures | {hard} (must be 0 for GO) |" in block
    assert f"| Soft warnings | {soft} (acceptable when documented) |" in block
    if line is not None:
        assert line in block
        # a NO-GO item is listed only as a hard failure, a WARN only as a soft warning
        assert ("Hard failures:\n" + line in block) == (hard == 1)


def test_labels_follow_the_effect() -> None:
    cases = {
        "HARD": gate("DF-1", Status.SKIPPED, section=1),
        "SOFT": gate("DF-2", Status.SKIPPED, required=False, section=2),
    }
    results = [cases["HARD"], cases["SOFT"], gate("DF-4", Status.ERROR, "advisory", section=4)]
    dog, ship, _ = run(results)
    doc = render_dogfood(dog, ship)["dogfood-verdict.md"]
    assert "**HARD** `DF-1`" in doc and "_SKIPPED: not evaluated: DF-1 was SKIPPED" in doc
    assert "**SOFT** `DF-2`" in doc
    assert "_SOFT by the spec's decision: `required: false`" in doc
    assert "**HARD** `DF-4`" in doc  # an advisory ERROR blocks: fail closed, labelled so


def test_document_paths_are_relative_to_the_release_root() -> None:
    g = gate("AC-1", Status.ERROR, spec="ship")
    g = GateResult(**{**g.__dict__, "message": "/mach/rel/evidence/x.json: not found"})
    dog, ship, _ = run([*base()[:8], g])
    docs = render_dogfood(dog, ship, roots=("/mach/rel",))
    assert "/mach" not in "".join(docs.values())
    assert "not evaluated: evidence/x.json: not found" in docs["dogfood-verdict.md"]
