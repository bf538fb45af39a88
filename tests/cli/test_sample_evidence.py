"""Sample evidence is visible (issue 10): files declare `sample: true`, every document and
report built from them carries a banner, and `gates dogfood --release` refuses them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from albor_gates.artifacts.samples import declares_sample, sample_files
from albor_gates.engine.record import to_record
from albor_gates.engine.results import Decision, GateResult, SpecInfo, Status, Verdict
from albor_gates.render import html, markdown
from albor_gates.render.dogfood import render_dogfood

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "albor-tiny-v1"
SAMPLES = [
    "evidence/operator/apr-qa.json",
    "evidence/operator/bench.json",
    "evidence/operator/consumer.yaml",
    "evidence/operator/dogfood-summary.yaml",
    "evidence/operator/humaneval.json",
    "evidence/operator/operator.yaml",
]


def test_the_bundled_operator_files_declare_themselves_samples() -> None:
    found = sample_files((EXAMPLE / "evidence" / "operator").iterdir())
    assert [p.relative_to(EXAMPLE).as_posix() for p in found] == SAMPLES
    assert not declares_sample(EXAMPLE / "evidence" / "epoch-000.metadata.json")  # real output


def test_sample_is_only_a_top_level_true(tmp_path) -> None:
    cases = {
        "a.json": '{"sample": true}',
        "b.json": '{"sample": "yes"}',
        "c.json": '[{"sample": true}]',
        "d.yaml": "nested: {sample: true}\n",
        "e.yaml": "sample: true\n",
        "f.json": "{not json",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
    assert [p.name for p in sample_files(tmp_path.iterdir())] == ["a.json", "e.yaml"]


def test_release_refuses_sample_evidence_before_running_anything(gates, tmp_path) -> None:
    out = tmp_path / "out"
    r = gates("dogfood", str(EXAMPLE), "--release", "-o", str(out), "-q")
    assert r.code == 2 and not out.exists()
    assert r.err == (
        f"gates: error: {EXAMPLE}: --release refuses sample evidence ({', '.join(SAMPLES)} "
        "declare `sample: true`); replace them with the operator's real files\n"
    )


def _record(samples: list[str] | None) -> dict:
    verdict = Verdict(
        decision=Decision.GO,
        reasons=(),
        results=(
            GateResult(
                "dog", "DF-0", "Holds.", "metric.value", 1, "blocking", True, Status.PASS, ""
            ),
        ),
        specs=(SpecInfo("dog", "1", "Dog", "dog.yaml", "0" * 64, root=True),),
        artifacts=(),
        waivers=(),
        environment={},
        generated_at=dt.datetime(2026, 11, 26, tzinfo=dt.timezone.utc),
        tool_version="0",
        options={"sample_evidence": samples} if samples else {},
    )
    return to_record(verdict)


def test_documents_and_reports_from_sample_evidence_carry_the_banner() -> None:
    rec = _record(["evidence/operator/bench.json"])
    doc = render_dogfood(rec)["dogfood-verdict.md"]
    top = doc[: doc.index("## 0.")]
    block = doc[doc.index("## 8. Verdict") :]
    assert "**SAMPLE EVIDENCE — not a release verdict.**" in top
    assert "evidence/operator/bench.json" in top
    assert "| Evidence | ⚠️ SAMPLE: evidence/operator/bench.json (not a release verdict) |" in block
    assert "SAMPLE EVIDENCE — not a release verdict:** evidence/operator/bench.json" in (
        markdown.render(rec)
    )
    assert 'id="sample-banner"' in html.render(rec)


def test_real_evidence_has_no_banner() -> None:
    rec = _record(None)
    assert "SAMPLE" not in render_dogfood(rec)["dogfood-verdict.md"]
    assert "SAMPLE" not in markdown.render(rec) and "sample-banner" not in html.render(rec)
