from __future__ import annotations

from pathlib import Path

import pytest

from albor_gates.api import plan_spec
from albor_gates.errors import SpecError

HEADER = """
id: demo
version: 1.0.0
title: A demo spec
artifacts:
  m: {kind: json, path: m.json}
gates:
"""


def gates_spec(write, gates: str) -> Path:
    """s.yaml: the demo spec's header (one json artifact ``m``) followed by ``gates``."""
    return write("s.yaml", HEADER + gates)


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as e:
        plan_spec(path)
    return [str(p) for p in e.value.problems]


def test_misspelled_band_key_names_file_line_and_suggestion(write) -> None:
    p = gates_spec(
        write,
        """
  - id: G1
    title: Loss is small.
    check: metric.value
    artifact: m
    params: {field: loss}
    expect: {lte: 2.2}
""",
    )
    assert problems(p) == [
        f"{p}:13:14: spec demo → gate G1 → expect → lte: unknown key 'lte' (did you mean 'le'?)"
    ]


def test_misspelled_gate_key(write) -> None:
    p = gates_spec(
        write,
        """
  - id: G1
    title: Loss is small.
    check: metric.value
    artifact: m
    params: {field: loss}
    expcet: {le: 2.2}
""",
    )
    assert problems(p) == [
        f"{p}:13:5: spec demo → gate G1 → expcet: unknown key 'expcet' (did you mean 'expect'?)"
    ]


def test_missing_and_wrong_types(write) -> None:
    p = gates_spec(
        write,
        """
  - id: G1
    check: metric.value
    artifact: m
    params: {field: loss}
    expect: {le: lots}
    required: maybe
""",
    )
    assert problems(p) == [
        f"{p}:8:5: spec demo → gate G1: missing required key 'title'",
        f"{p}:12:18: spec demo → gate G1 → expect → le: expected a number, got 'lots'",
        f"{p}:13:15: spec demo → gate G1 → required: expected true or false, got 'maybe'",
    ]


def test_unknown_check_kind_lists_known_kinds(write) -> None:
    p = gates_spec(
        write,
        """
  - id: G1
    title: Loss is small.
    check: metric.valeu
    artifact: m
    expect: {le: 1}
""",
    )
    (msg,) = problems(p)
    from albor_gates import checks

    # The whole sorted registry, whatever kinds other modules add.
    assert msg == (
        f"{p}:10:12: spec demo → gate G1 → check: unknown check kind 'metric.valeu' "
        f"(did you mean 'metric.value'? known kinds: {', '.join(checks.known_kinds())})"
    )


def test_params_validated_by_the_kind(write) -> None:
    p = gates_spec(
        write,
        """
  - id: G1
    title: Loss is small.
    check: metric.value
    artifact: m
    params: {feild: loss}
    expect: {le: 1}
""",
    )
    assert problems(p) == [
        f"{p}:12:13: spec demo → gate G1 → params: missing required key 'field'",
        f"{p}:12:14: spec demo → gate G1 → params → feild: unknown key 'feild' "
        "(did you mean 'field'?)",
    ]


def test_dangling_artifact_and_role(write) -> None:
    p = gates_spec(
        write,
        """
  - id: G1
    title: Loss is small.
    check: metric.value
    artifacts: {sauce: mm}
    params: {field: loss}
    expect: {le: 1}
""",
    )
    assert problems(p) == [
        f"{p}:8:5: spec demo → gate G1: metric.value needs an artifact for role 'source' "
        "(add artifact)",
        f"{p}:11:24: spec demo → gate G1 → artifacts → sauce: no artifact named 'mm' "
        "(did you mean 'm'?)",
        f"{p}:11:24: spec demo → gate G1 → artifacts → sauce: unknown role 'sauce' "
        "(did you mean 'source'?)",
    ]


def test_duplicate_gate_ids(write) -> None:
    p = gates_spec(
        write,
        """
  - {id: G1, title: One., check: metric.value, artifact: m, params: {field: a}, expect: {le: 1}}
  - {id: G1, title: Two., check: metric.value, artifact: m, params: {field: b}, expect: {le: 1}}
""",
    )
    assert problems(p) == [
        f"{p}:9:10: spec demo → gate G1 → id: duplicate gate id 'G1' (also at {p}:8) "
        "(gate ids are unique across a spec and everything it extends)"
    ]


@pytest.mark.parametrize(
    ("expect", "warn", "message"),
    [
        ("{ge: 5, le: 3}", None, "expect band is empty: no value can pass"),
        (
            "{le: 4.7}",
            "{gt: 5}",
            "warn band excludes every value expect allows: the gate can never PASS",
        ),
        ("{le: 4.7}", "{le: 10}", "warn band contains the whole expect band: it can never fire"),
        (
            "{is_true: true}",
            "{le: 1}",
            "expect and warn compare different kinds of value (is_true vs numbers)",
        ),
        ("{eq: 8, ne: 8}", None, "expect band is empty: no value can pass"),
    ],
)
def test_contradicting_bands(write, expect: str, warn: str | None, message: str) -> None:
    warn_line = f"\n    warn: {warn}" if warn else ""
    p = gates_spec(
        write,
        f"""
  - id: G1
    title: Loss is small.
    check: metric.value
    artifact: m
    params: {{field: loss}}
    expect: {expect}{warn_line}
""",
    )
    (msg,) = problems(p)
    assert msg.endswith(message)


def test_between_reversed_is_rejected(write) -> None:
    p = gates_spec(
        write,
        """
  - {id: G1, title: T., check: metric.value, artifact: m, params: {field: a}, expect: {between: [3, 1]}}
""",
    )
    (msg,) = problems(p)
    assert msg.endswith("between [3.0, 1.0] is empty: the lower bound is above the upper")


def write_base_bundle(write, expect: str) -> None:
    """lib/base.yaml: a bundle with one json artifact ``m`` and gate B1 on field ``a``."""
    write(
        "lib/base.yaml",
        f"""
        id: base
        version: 1.0.0
        title: Base bundle
        kind: bundle
        artifacts:
          m: {{kind: json}}
        gates:
          - {{id: B1, title: T., check: metric.value, artifact: m, params: {{field: a}}, expect: {{{expect}}}}}
        """,
    )


def test_extends_by_short_name_and_cycle(write, tmp_path) -> None:
    write_base_bundle(write, "le: 1")
    child = write(
        "child.yaml",
        """
        id: child
        version: 1.0.0
        title: Child
        extends: [base]
        artifacts:
          m: {kind: json, path: m.json}
        gates:
          - {id: C1, title: T., check: metric.value, artifact: m, params: {field: b}, expect: {le: 1}}
        """,
    )
    plan = plan_spec(child, spec_path=[tmp_path / "lib"])
    assert [g.id for g in plan.gates] == ["B1", "C1"]
    assert plan.artifacts["m"].ref.path == "m.json"

    a = write("a.yaml", "id: a\nversion: '1'\ntitle: A\nextends: [b.yaml]\n")
    write("b.yaml", "id: b\nversion: '1'\ntitle: B\nextends: [a.yaml]\n")
    (msg,) = problems(a)
    assert "extends cycle: a.yaml → b.yaml → a.yaml" in msg


def test_unknown_extends_suggests(write, tmp_path) -> None:
    p = write("s.yaml", "id: s\nversion: '1'\ntitle: S\nextends: [weights-hygeine]\n")
    (msg,) = problems(p)
    assert msg.startswith(f"{p}:4:11: spec s → extends: no spec named 'weights-hygeine'")


def test_waiver_must_name_a_gate(write) -> None:
    p = gates_spec(
        write,
        """
  - {id: G1, title: T., check: metric.value, artifact: m, params: {field: a}, expect: {le: 1}}
waivers:
  - gate: G2
    sha256: "0000000000000000000000000000000000000000000000000000000000000000"
    reason: known
    approved_by: lead
    expires: 2030-01-01
""",
    )
    assert problems(p) == [
        f"{p}:10:11: spec demo → waivers → gate: no gate 'G2' "
        "(a waiver must name a gate of this spec)"
    ]


def test_not_a_mapping(write) -> None:
    p = write("s.yaml", "- just a list\n")
    assert problems(p) == [f"{p}:1:1: a spec must be a mapping with id, version, title, gates"]


def test_overrides_change_inherited_gates_with_a_reason(write, tmp_path) -> None:
    write_base_bundle(write, "ge: 20")
    child = write(
        "child.yaml",
        """
        id: child
        version: 1.0.0
        title: Child
        extends: [base]
        artifacts:
          m: {kind: json, path: m.json}
        overrides:
          - {gate: B1, severity: advisory, reason: "trained under the documented bypass"}
          - {gate: NOPE, severity: advisory, reason: "x"}
        """,
    )
    with pytest.raises(SpecError) as e:
        plan_spec(child, spec_path=[tmp_path / "lib"])
    assert [str(p) for p in e.value.problems] == [
        f"{child}:9:12: spec child → overrides → gate: no gate 'NOPE' "
        "(an override names a gate this spec inherits)"
    ]
    child.write_text(
        child.read_text().replace('  - {gate: NOPE, severity: advisory, reason: "x"}\n', "")
    )
    plan = plan_spec(child, spec_path=[tmp_path / "lib"])
    (g,) = plan.gates
    assert g.origin.gate.severity == "advisory"
    assert g.overrides[0]["reason"] == "trained under the documented bypass"
    assert g.overrides[0]["changed"] == ["severity"]
