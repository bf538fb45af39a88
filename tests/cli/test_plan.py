from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_plan_reports_missing_needs_and_expired_waivers(gates, write) -> None:
    write("m.json", '{"loss": 1}')
    spec = write(
        "s.yaml",
        """
        id: p
        version: "1"
        title: P
        artifacts:
          m: {kind: json, path: m.json}
          gone: {kind: json, path: gone.json}
          card: {kind: model-card, path: README.md, optional: true}
        gates:
          - {id: A, title: T., check: metric.value, artifact: m, params: {field: loss}, expect: {le: 2}}
          - {id: B, title: T., check: metric.value, artifact: gone, params: {field: x}, expect: {le: 2}}
          - {id: C, title: T., check: file.exists, artifact: card}
        waivers:
          - {gate: A, sha256: "0000000000000000000000000000000000000000000000000000000000000000", reason: r, approved_by: me, expires: 2020-01-01}
        """,
    )
    r = gates("plan", str(spec))
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[1].split() == ["A", "metric.value", "-", "run"]
    assert lines[2].split()[:4] == ["B", "metric.value", "-", "ERROR:"]
    assert "missing gone" in lines[2]
    assert "SKIPPED: optional card absent" in lines[3]
    assert "waiver for A expired on 2020-01-01" in r.out
    assert "3 gates in 1 specs; 0 need torch" in r.out
