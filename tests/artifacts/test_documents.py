from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from albor_gates.artifacts.documents import (
    FieldMissing,
    extract,
    iter_jsonl,
    parse_field_path,
    read_json,
    read_records,
)
from albor_gates.errors import EvidenceError


def test_field_paths() -> None:
    rec = {
        "quality": {"score": 60, "breakdown": {"physics": 20}},
        "gates": [{"p": True}, {"p": False}],
        "a.b": 1,
    }
    assert extract(rec, parse_field_path("quality.breakdown.physics")) == 20
    assert extract(rec, parse_field_path("gates[*].p")) == [True, False]
    assert extract(rec, parse_field_path("gates[-1].p")) is False
    assert extract(rec, parse_field_path("/a.b")) == 1
    with pytest.raises(FieldMissing) as e:
        extract(rec, parse_field_path("quality.scor"))
    assert str(e.value) == "no field 'quality.scor' (fields here: breakdown, score)"
    with pytest.raises(FieldMissing, match=r"gates\[5\] is out of range \(length 2\)"):
        extract(rec, parse_field_path("gates[5]"))


@given(st.text(max_size=40))
def test_field_path_parser_raises_only_value_error(text: str) -> None:
    try:
        parse_field_path(text)
    except ValueError:
        pass


def test_json_allows_nan_and_rejects_duplicates(tmp_path) -> None:
    p = tmp_path / "a.json"
    p.write_text('{"x": NaN}')
    assert str(read_json(p)["x"]) == "nan"
    p.write_text('{"x": 1, "x": 2}')
    with pytest.raises(EvidenceError, match="duplicate key 'x'"):
        read_json(p)
    p.write_text('{"x": ')
    with pytest.raises(EvidenceError) as e:
        read_json(p)
    assert str(e.value) == f"{p}:1:7: invalid JSON: Expecting value"


def test_jsonl_names_the_bad_line(tmp_path) -> None:
    p = tmp_path / "log.jsonl"
    p.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(EvidenceError) as e:
        list(iter_jsonl(p))
    assert str(e.value) == f"{p}:3:7: invalid JSON: Expecting value"


def test_size_cap(tmp_path) -> None:
    p = tmp_path / "big.json"
    p.write_text("[" + "1," * 100 + "1]")
    with pytest.raises(EvidenceError, match="over the 10-byte evidence limit"):
        read_json(p, max_bytes=10)


def test_yaml_evidence_and_top_level_list(tmp_path) -> None:
    p = tmp_path / "e.yaml"
    p.write_text("- {a: 1}\n- {a: 2}\n")
    assert read_records(p) == [{"a": 1}, {"a": 2}]
    p.write_text("a: &x [1]\nb: *x\nc: !!python/name:os.system ''\n")
    with pytest.raises(EvidenceError, match="unsupported YAML tag"):
        read_records(p)
