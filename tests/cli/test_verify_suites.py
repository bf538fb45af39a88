"""`gates verify`'s suite policy (albor_gates/cli/verify-suites.yaml): valid, consistent with the
bundled invariants, and the same choice the command made when it was code."""

from __future__ import annotations

from pathlib import Path

import pytest

from albor_gates.cli.verify_suites import load_policy
from albor_gates.errors import SpecError
from albor_gates.spec.loader import SpecResolver
from albor_gates.spec.resources import data_dir


def test_every_suite_is_a_bundled_spec_that_declares_what_it_binds() -> None:
    policy = load_policy()
    resolver = SpecResolver()
    anchor = resolver.load(data_dir("invariants") / "verify.yaml")
    for suite in policy.suites:
        found = resolver.find(suite.spec, anchor)
        assert found is not None, suite.spec
        members = resolver.resolve(found).members
        names = {n for m in members for n in m.spec.artifacts}
        assert set(suite.bind) <= names, suite.spec


def test_the_choice_of_suites_and_bindings(tmp_path: Path) -> None:
    policy = load_policy()
    model = tmp_path / "model.safetensors"
    names, binds = policy.choose(model, {"bench": False, "prompts": ()})
    assert names == ["verify"]
    assert binds == {
        "model": str(model),
        "config": str(tmp_path / "config.json"),
        "tokenizer": str(tmp_path / "tokenizer.json"),
        "card": str(tmp_path / "README.md"),
        "generation_config": str(tmp_path / "generation_config.json"),
        "release": str(tmp_path),
    }
    inputs = {"val_tokens": Path("v.bin"), "target_config": Path("t.json"), "bench_runs": 2}
    inputs |= {"parity": True, "max_new_tokens": 4, "humaneval": True}
    names, binds = policy.choose(tmp_path, inputs, ["extra.yaml"])
    assert names == [
        "verify",
        "extra.yaml",
        "init-target",
        "verify-eval",
        "verify-smoke",
        "verify-bench",
        "verify-parity",
        "verify-humaneval",
    ]
    assert binds["model"] == binds["release"] == str(tmp_path)
    assert (binds["target"], binds["tokens"]) == ("t.json", "v.bin")


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (
            "beside: {}\nsuites:\n  - {spec: verify, when: [val_tokenz]}\n",
            [
                "3:26: suites → when: 'val_tokenz' is not a verify input (use batch_size, bench, "
                "bench_runs, bench_tokens, device, dtype, humaneval, max_new_tokens, max_problems, max_tokens, parity, "
                "prompts, seq_len, stride, target_config, val_tokens)"
            ],
        ),
        (
            "beside: {}\nsuites:\n  - {spec: verify, bind: {tokens: seq_len}}\n",
            [
                "3:35: suites → bind → tokens: 'seq_len' is not one of 'target_config' or 'val_tokens'"
            ],
        ),
        (
            "beside: {}\nsuites: []\n",
            ["2:9: suites: list at least one suite (verify would evaluate nothing)"],
        ),
        (
            "beside: {}\nsuite: []\n",
            [
                "1:1: missing required key 'suites'",
                "2:1: suite: unknown key 'suite' (did you mean 'suites'?)",
            ],
        ),
    ],
)
def test_a_broken_policy_is_a_located_spec_error(
    tmp_path: Path, text: str, messages: list[str]
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        load_policy(path)
    assert [str(p) for p in err.value.problems] == [f"{path}:{m}" for m in messages]
