"""Issue 11 §5: a hostile number in evidence or config.json is that gate's ERROR, never exit 3.

On main before issue 11 each case raised OverflowError out of the judge or the check.
"""

from __future__ import annotations

import json

import pytest
import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import Status
from albor_gates.numbers import to_float

HUGE = "9" * 401


def _gate(write, check: str, params: dict, evidence: str, name: str = "e.json"):
    write(name, evidence)
    gate = {"id": "G", "title": "T.", "check": check, "artifact": "e", "params": params}
    gate["expect"] = {"le": 1}
    spec = {"id": "s", "version": "1", "title": "S", "artifacts": {"e": {"path": name}}}
    spec["gates"] = [gate]
    (r,) = evaluate(write("s.yaml", yaml.safe_dump(spec))).results
    return r


@pytest.mark.parametrize(
    ("check", "params", "evidence", "name", "message"),
    [
        (
            "metric.value",
            {"field": "x"},
            f'{{"x": {HUGE}}}',
            "e.json",
            "invalid JSON: integer 999999999999…9999 (401 characters) is out of the range of a "
            "64-bit float",
        ),
        (
            "metric.value",
            {"field": "x"},
            '{"x": 1e999}',
            "e.json",
            "invalid JSON: number 1e999 overflows a 64-bit float",
        ),
        (
            "metric.value",
            {"field": "x"},
            f'{{"x": {HUGE}}}\n',
            "e.jsonl",
            "invalid JSON: integer 999999999999…9999 (401 characters) is out of the range of a "
            "64-bit float",
        ),
        (
            "metric.ratio",
            {"numerator": "a", "denominator": "b"},
            f"a: {HUGE}\nb: 1\n",
            "e.yaml",
            "integer 999999999999…9999 (401 characters) is out of the range of a 64-bit float",
        ),
        (
            "metric.value",
            {"field": "x", "scale": 2.0},
            f"x: {HUGE}\n",
            "e.yaml",
            "integer 999999999999…9999 (401 characters) is out of the range of a 64-bit float",
        ),
    ],
)
def test_out_of_range_numbers_are_a_gate_error(write, check, params, evidence, name, message):
    r = _gate(write, check, params, evidence, name)
    assert r.status is Status.ERROR
    assert not r.internal_error
    assert r.message.endswith(message)


def test_to_float_is_total() -> None:
    assert to_float(3) == 3.0
    with pytest.raises(Exception) as e:
        to_float(10**400, "x")
    assert (
        str(e.value)
        == "x is an integer of 1329 bits, out of the range of a 64-bit float; fix the file"
    )


def test_a_huge_integer_in_config_json_is_an_error_not_a_crash(tmp_path, gates) -> None:
    release = tmp_path / "release"
    release.mkdir()
    (release / "config.json").write_text(
        json.dumps({"model_type": "llama"})[:-1] + f', "hidden_size": {HUGE}}}', encoding="utf-8"
    )
    (release / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    r = gates("verify", str(release), "-q")
    assert r.code == 1, r.err
