"""Evidence bundles: a verdict replays identically from recorded measurements alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def statuses(rec: dict) -> dict[tuple[str, str], str]:
    return {(g["spec"], g["id"]): (g["status"], g["message"]) for g in rec["gates"]}


def test_check_bundle_replays_to_the_same_verdict(gates, tmp_path, monkeypatch) -> None:
    src = tmp_path / "quickstart"
    shutil.copytree(REPO / "examples" / "quickstart", src)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    bundle = tmp_path / "run.bundle.json"
    r = gates("check", str(src / "gates.yaml"), "--bundle", str(bundle), "-f", "json")
    assert r.code == 0, r.err
    original = json.loads(r.out)
    data = json.loads(bundle.read_text())
    assert data["schema"] == "albor-gates/evidence-bundle"
    assert {a["name"] for a in data["artifacts"] if a["sha256"]} == {
        "best_epoch",
        "qa",
        "python_validity",
        "humaneval",
        "bench",
    }
    shutil.rmtree(src)  # the evidence is gone; the bundle is enough
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    r = gates("replay", str(bundle), "-f", "json")
    assert r.code == 0, r.err
    replayed = json.loads(r.out)
    assert replayed["decision"] == original["decision"] == "WARN"
    assert statuses(replayed) == statuses(original)
    assert replayed["generated_at"] == original["generated_at"]


def test_replay_under_an_edited_threshold(gates, tmp_path) -> None:
    bundle = tmp_path / "b.json"
    assert (
        gates(
            "check",
            str(REPO / "examples" / "quickstart" / "gates.yaml"),
            "--bundle",
            str(bundle),
            "-q",
        ).code
        == 0
    )
    edited = tmp_path / "edited.yaml"
    text = (REPO / "examples" / "quickstart" / "gates.yaml").read_text()
    edited.write_text(text.replace("expect: {ge: 0, le: 4.7}", "expect: {ge: 0, le: 4.5}"))
    r = gates("replay", str(bundle), "--spec", f"quickstart={edited}", "-f", "json")
    rec = json.loads(r.out)
    g = {x["id"]: x for x in rec["gates"]}
    assert r.code == 1 and rec["decision"] == "NO-GO"
    assert g["AC-SHIP2-003-LOOSE"]["message"] == "val_loss 4.6226783 nats, must be ≤ 4.5"


def test_replay_refuses_a_non_bundle(gates, tmp_path) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"schema": "albor-gates/report"}')
    r = gates("replay", str(p))
    assert r.code == 2
    assert (
        r.err
        == f"gates: error: {p}: not an albor-gates evidence bundle (write one with --bundle)\n"
    )


def test_replay_keeps_the_recorded_settings_and_refuses_unknown_ones(gates, tmp_path) -> None:
    bundle = tmp_path / "b.json"
    spec = str(REPO / "examples" / "quickstart" / "gates.yaml")
    assert gates("check", spec, "--device", "cpu", "--bundle", str(bundle), "-q").code == 0
    data = json.loads(bundle.read_text())
    assert data["options"] == {"device": "cpu"}
    r = gates("replay", str(bundle), "-f", "json")
    assert json.loads(r.out)["options"] == {"device": "cpu"}
    data["options"] = {"devcie": "cpu"}
    bundle.write_text(json.dumps(data))
    r = gates("replay", str(bundle))
    assert (r.code, r.err) == (
        2,
        f"gates: error: {bundle}: options: unknown setting 'devcie' (did you mean 'device'?)\n",
    )
