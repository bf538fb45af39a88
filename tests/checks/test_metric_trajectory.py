from __future__ import annotations

import json

import pytest
import yaml

from albor_gates.api import evaluate
from albor_gates.engine.results import Status

P2E = [7.43, 5.91, 5.54, 5.18, 5.02, 4.95, 4.83, 4.77, 4.71, 4.70, 4.62]


def spec(write, artifact: dict, params: dict, expect: dict):
    s = {
        "id": "t",
        "version": "1",
        "title": "T",
        "artifacts": {"src": artifact},
        "gates": [
            {
                "id": "G",
                "title": "T.",
                "check": "metric.trajectory",
                "artifact": "src",
                "params": params,
                "expect": expect,
            }
        ],
    }
    (r,) = evaluate(write("t.yaml", yaml.safe_dump(s))).results
    return r


@pytest.fixture
def epochs(tmp_path):
    d = tmp_path / "ckpt"
    d.mkdir()
    for i, v in enumerate(P2E):
        (d / f"epoch-{i * 5:03d}.metadata.json").write_text(
            json.dumps({"epoch": i * 5, "val_loss": v})
        )
    (d / "epoch-999.apr").write_text("not metadata")
    return d


@pytest.mark.parametrize(
    ("measure", "value"),
    [
        ("max", 7.43),
        ("min", 4.62),
        ("last", 4.62),
        ("first", 7.43),
        ("count", 11),
        ("increases", 0),
        ("count_nonfinite", 0),
    ],
)
def test_epoch_folder(write, epochs, measure, value) -> None:
    r = spec(
        write,
        {"kind": "dir", "path": str(epochs)},
        {"field": "val_loss", "x": "epoch", "glob": "epoch-*.metadata.json", "measure": measure},
        {"le": 1e9},
    )
    assert r.value == pytest.approx(value)
    assert r.details["plot"]["series"]["val_loss"][0] == 7.43


def test_abort_on_first_nan(write) -> None:
    lines = [json.dumps({"step": i, "loss": 3.0}) for i in range(5)]
    lines.append('{"step": 5, "loss": NaN}')
    lines += [json.dumps({"step": 6 + i, "loss": 3.0}) for i in range(3)]
    lines.append(json.dumps({"step": 99, "eval": True}))  # no loss field: ignored
    write("log.jsonl", "\n".join(lines))
    r = spec(
        write,
        {"kind": "jsonl", "path": "log.jsonl"},
        {"field": "loss", "x": "step", "measure": "after_first_nonfinite"},
        {"eq": 0},
    )
    assert (r.status, r.value) == (Status.FAIL, 3)
    assert r.message == "loss after_first_nonfinite 3, must be = 0"
    assert r.details["plot"]["series"]["loss"][5] is None


def test_folder_needs_glob(write, epochs) -> None:
    r = spec(
        write,
        {"kind": "dir", "path": str(epochs)},
        {"field": "val_loss", "measure": "max"},
        {"le": 10},
    )
    assert r.status is Status.ERROR
    assert r.message.endswith("a folder needs params.glob (e.g. 'epoch-*.metadata.json')")
