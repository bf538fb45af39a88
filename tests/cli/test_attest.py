from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"


def test_sign_and_verify_a_verdict(gates, tmp_path) -> None:
    r = gates("check", str(QUICKSTART / "gates.yaml"), "--digests", "-f", "json")
    report = tmp_path / "report.json"
    report.write_text(r.out)
    assert gates("attest", "--keygen", str(tmp_path / "rel")).code == 0
    assert gates("attest", "--keygen", str(tmp_path / "rel")).code == 2  # never overwrites a key
    env = tmp_path / "verdict.dsse.json"
    r = gates("attest", str(report), "--key", str(tmp_path / "rel.key"), "-o", str(env))
    assert r.code == 0, r.err
    envelope = json.loads(env.read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    evidence = QUICKSTART / "evidence" / "bench.json"
    r = gates(
        "attest",
        "--verify",
        str(env),
        "--pub",
        str(tmp_path / "rel.pub"),
        "--artifact",
        str(evidence),
    )
    assert r.code == 0, r.err
    assert r.out.startswith("signature OK: WARN at ")
    # a tampered payload fails
    import base64

    stmt = json.loads(base64.b64decode(envelope["payload"]))
    stmt["predicate"]["decision"] = "GO"
    envelope["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    env.write_text(json.dumps(envelope))
    r = gates("attest", "--verify", str(env), "--pub", str(tmp_path / "rel.pub"))
    assert r.code == 1
    assert "no signature in the envelope verifies with this public key" in r.err
    # another key does not verify either
    assert gates("attest", "--keygen", str(tmp_path / "other")).code == 0


def test_a_file_that_is_not_a_subject_is_refused(gates, tmp_path) -> None:
    r = gates("check", str(QUICKSTART / "gates.yaml"), "--digests", "-f", "json")
    (tmp_path / "r.json").write_text(r.out)
    gates("attest", "--keygen", str(tmp_path / "k"))
    gates(
        "attest",
        str(tmp_path / "r.json"),
        "--key",
        str(tmp_path / "k.key"),
        "-o",
        str(tmp_path / "e.json"),
    )
    other = tmp_path / "other.bin"
    other.write_bytes(b"not the release")
    r = gates(
        "attest",
        "--verify",
        str(tmp_path / "e.json"),
        "--pub",
        str(tmp_path / "k.pub"),
        "--artifact",
        str(other),
    )
    assert r.code == 1 and "its sha256 is not a subject of this attestation" in r.err
