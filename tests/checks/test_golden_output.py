"""infer.golden_output beyond its case file: think blocks, the §3.1.4 order, the end of turn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from albor_gates.api import evaluate
from albor_gates.checks.infer_golden_output import RULE_UNCLOSED_THINK, judge
from albor_gates.model.textcheck import check_output

# text without think tags (the tags' own characters are left out of the alphabet)
plain = st.text(alphabet=st.characters(blacklist_characters="<>"), max_size=80)
expected = st.lists(st.sampled_from(["4", "Hello", "hi", "!"]), max_size=3)


def test_think_blocks_are_stripped_before_the_verification() -> None:
    assert judge("<think>2+2 is 4</think>The answer is 4.", ["4"]) == (None, "")
    assert judge("<think>it is 4</think>five", ["4"])[0] == "expected_pattern"
    assert judge("<think>only thinking</think>", ["4"])[0] == "empty"
    assert judge("4 <think>and then", ["4"]) == (
        RULE_UNCLOSED_THINK,
        "an unclosed <think> block: the model was still reasoning",
    )


@settings(max_examples=200, deadline=None)
@given(text=plain, exp=expected)
def test_without_think_blocks_the_verdict_is_the_3_1_4_one(text: str, exp: list[str]) -> None:
    verdict = check_output(text, exp)
    assert judge(text, exp) == (verdict.rule, verdict.reason)


@settings(max_examples=200, deadline=None)
@given(before=plain, thought=plain, after=plain, exp=expected)
def test_a_closed_block_is_invisible_and_an_unclosed_one_fails_first(
    before: str, thought: str, after: str, exp: list[str]
) -> None:
    assert judge(f"{before}<think>{thought}</think>{after}", exp) == judge(before + after, exp)
    # whatever the rest holds (garbage, gibberish, nothing), the unclosed block is the finding
    assert judge(f"{before}<think>{thought}", exp)[0] == RULE_UNCLOSED_THINK


def test_a_multi_token_end_of_turn_is_a_stop_string(tiny_release: Path, tmp_path: Path) -> None:
    rel = tmp_path / "rel"
    shutil.copytree(tiny_release, rel)
    template = "{% for m in messages %}[{{ m.role }}] {{ m.content }} END-OF-TURN\n{% endfor %}"
    (rel / "tokenizer_config.json").write_text(json.dumps({"chat_template": template}))
    spec = {
        "id": "t",
        "version": "1",
        "title": "T",
        "artifacts": {
            "model": {"kind": "model", "path": str(rel)},
            "tokenizer": {"kind": "tokenizer", "path": str(rel / "tokenizer.json")},
        },
        "gates": [
            {
                "id": "G",
                "title": "G.",
                "check": "infer.golden_output",
                "artifacts": {"model": "model", "tokenizer": "tokenizer"},
                "params": {"max_new_tokens": 6, "system": "Be brief."},
            }
        ],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    (r,) = evaluate(tmp_path / "spec.yaml", allow_outside_root=True, device="cpu").results
    assert r.status.value == "FAIL" and r.value == 2  # random weights answer nothing sensible
    assert r.details["end_of_turn"] == "END-OF-TURN"
    assert list(r.details["legs"]) == ["cpu"] and r.details["total_cases"] == 2
    first = r.details["cases"][0]
    assert first["rendered"] == "[system] Be brief. END-OF-TURN\n[user] What is 2+2? END-OF-TURN\n"
    assert (first["device"], first["expected"], first["verdict"]) == ("cpu", ["4"], "fail")
    assert all("END-OF-TURN" not in c["output"] for c in r.details["cases"])
