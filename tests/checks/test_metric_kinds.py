from __future__ import annotations

import pytest
import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import Status

LOG = "\n".join(
    [
        '{"epoch": 1, "val_loss": 7.43, "split": "val"}',
        '{"epoch": 2, "val_loss": 4.62, "split": "val"}',
        '{"epoch": 3, "val_loss": NaN, "split": "val"}',
        '{"epoch": 4, "val_loss": 4.70, "split": "val"}',
        '{"epoch": 4, "val_loss": 9.9, "split": "train"}',
    ]
)


def run(
    write,
    params: dict,
    expect: dict | None = None,
    check: str = "metric.value",
    evidence: str = LOG,
    name: str = "log.jsonl",
):
    write(name, evidence)
    gate = {"id": "G", "title": "T.", "check": check, "artifact": "e", "params": params}
    if expect is not None:
        gate["expect"] = expect
    spec = {
        "id": "s",
        "version": "1",
        "title": "S",
        "artifacts": {"e": {"path": name}},
        "gates": [gate],
    }
    path = write("s.yaml", yaml.safe_dump(spec))
    (r,) = evaluate(path).results
    return r


@pytest.mark.parametrize(
    ("params", "value"),
    [
        ({"field": "val_loss", "select": "first", "where": {"split": "val"}}, 7.43),
        ({"field": "val_loss", "select": "last", "where": {"split": "val"}}, 4.70),
        (
            {"field": "val_loss", "select": "best", "by": "val_loss", "where": {"split": "val"}},
            4.62,
        ),
        ({"field": "epoch", "select": "best", "by": "val_loss", "best": "max"}, 4),
        (
            {
                "field": "val_loss",
                "select": "best",
                "by": "epoch",
                "best": "max",
                "where": {"split": "train"},
            },
            9.9,
        ),
    ],
)
def test_jsonl_selection(write, params, value) -> None:
    r = run(write, params, {"le": 100})
    assert r.value == value, r.message


def test_only_needs_a_single_record(write) -> None:
    r = run(write, {"field": "val_loss"}, {"le": 10})
    assert r.status is Status.ERROR
    assert r.message.endswith(
        "5 records match; choose one with select: first, last or best, or narrow them with where:"
    )


def test_nan_in_the_last_record_fails(write) -> None:
    r = run(write, {"field": "val_loss", "select": "first", "where": {"epoch": 3}}, {"le": 10})
    assert r.status is Status.FAIL


def test_select_best_needs_by(write) -> None:
    from albor_gates.errors import SpecError

    with pytest.raises(SpecError, match="select: best needs by: FIELD"):
        run(write, {"field": "val_loss", "select": "best"}, {"le": 10})


def test_records_inside_a_json_document(write) -> None:
    ev = '{"epochs": [{"val_loss": 5.0}, {"val_loss": 4.0}]}'
    r = run(
        write,
        {"field": "val_loss", "records": "epochs", "select": "best", "by": "val_loss"},
        {"le": 4.7},
        evidence=ev,
        name="m.json",
    )
    assert (r.status, r.value) == (Status.PASS, 4.0)


def test_all_true_rejects_non_booleans(write) -> None:
    ev = '{"gates": [{"passed": "yes"}]}'
    r = run(
        write,
        {"field": "gates", "pass_field": "passed"},
        check="metric.all_true",
        evidence=ev,
        name="qa.json",
    )
    assert r.status is Status.ERROR
    assert r.message.endswith("item 1: expected true/false, got 'yes'")


def test_file_set_and_exists(write, tmp_path) -> None:
    (tmp_path / "rel").mkdir()
    (tmp_path / "rel" / "config.json").write_text("{}")
    (tmp_path / "rel" / "model.safetensors").write_text("x")
    (tmp_path / "rel" / "LICENSE").write_text("")
    spec = {
        "id": "s",
        "version": "1",
        "title": "S",
        "artifacts": {"rel": {"kind": "dir", "path": "rel"}, "card": {"path": "rel/README.md"}},
        "gates": [
            {
                "id": "SET",
                "title": "T.",
                "check": "file.set",
                "artifact": "rel",
                "params": {"files": ["config.json", "LICENSE", "*.safetensors", "README.md"]},
            },
            {"id": "CARD", "title": "T.", "check": "file.exists", "artifact": "card"},
        ],
    }
    r = evaluate(write("s.yaml", yaml.safe_dump(spec)))
    by = {x.gate_id: x for x in r.results}
    assert by["SET"].status is Status.FAIL
    assert by["SET"].message == ("missing files 2, must be = 0")
    assert (
        by["SET"].summary == "2 of 4 required files present; missing or empty: LICENSE, README.md"
    )
    assert by["CARD"].status is Status.FAIL
    assert by["CARD"].message.endswith("README.md is missing, must be true")
