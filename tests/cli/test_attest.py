from __future__ import annotations

import json
from pathlib import Path

import pytest

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


# Issue 11 §9: each test below fails on main before issue 11.


def test_the_private_key_is_0600_from_the_first_byte(gates, tmp_path, monkeypatch) -> None:
    import os
    import stat

    import albor_gates.signing.dsse as dsse

    modes = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *a, **k):
        fd = real_open(path, flags, mode, *a, **k)
        if str(path).endswith(".key"):
            modes.append((stat.S_IMODE(os.fstat(fd).st_mode), bool(flags & os.O_EXCL)))
        return fd

    monkeypatch.setattr(dsse.os, "open", spy)
    assert gates("attest", "--keygen", str(tmp_path / "k")).code == 0
    assert modes == [(0o600, True)]
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600
    assert list(tmp_path.glob(".*")) == []  # no temporary copy of the key


def _signed(gates, tmp_path: Path, release: Path) -> tuple[Path, Path]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "id: rel\nversion: '1'\ntitle: R\nartifacts:\n  model: {kind: dir, path: release}\n"
        "gates:\n  - {id: FILES, title: T., check: file.exists, artifact: model}\n",
        encoding="utf-8",
    )
    r = gates("check", str(spec), "--digests", "-f", "json")
    assert r.code == 0, r.err
    report = tmp_path / "report.json"
    report.write_text(r.out)
    gates("attest", "--keygen", str(tmp_path / "k"))
    env = tmp_path / "e.json"
    r = gates("attest", str(report), "--key", str(tmp_path / "k.key"), "-o", str(env))
    assert r.code == 0, r.err
    return report, env


def test_a_file_inside_an_attested_folder_verifies_and_the_report_is_checked(
    gates, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    release = tmp_path / "release"
    release.mkdir()
    (release / "model.safetensors").write_bytes(b"weights")
    (release / "config.json").write_text("{}")
    report, env = _signed(gates, tmp_path, release)
    pub = str(tmp_path / "k.pub")
    r = gates(
        "attest", "--verify", str(env), "--pub", pub, "--artifact", "release/model.safetensors"
    )
    assert r.code == 0, r.err
    r = gates("attest", "--verify", str(env), "--pub", pub, "--report", str(report))
    assert r.code == 0, r.err
    assert r.out.endswith(f"{report} is the signed report, 3 artifact(s) on disk unchanged\n")
    (release / "model.safetensors").write_bytes(b"swapped")
    r = gates("attest", "--verify", str(env), "--pub", pub, "--report", str(report))
    assert r.code == 1
    assert r.err == f"gates: error: {release}: its sha256 changed since the verdict was signed\n"
    report.write_text(report.read_text().replace('"GO"', '"NO-GO"'))
    r = gates("attest", "--verify", str(env), "--pub", pub, "--report", str(report))
    assert r.code == 1 and "is not the signed report's" in r.err


def test_only_our_reports_are_signed(gates, tmp_path) -> None:
    gates("attest", "--keygen", str(tmp_path / "k"))
    other = tmp_path / "other.json"
    other.write_text(
        json.dumps({"decision": "GO", "artifacts": [{"path": "x", "sha256": "0" * 64}]})
    )
    r = gates("attest", str(other), "--key", str(tmp_path / "k.key"), "-o", str(tmp_path / "e"))
    assert r.code == 2
    assert r.err == (
        f'gates: error: {other}: not an albor-gates report (no "schema": "albor-gates/report"); '
        "sign the JSON report of `gates check -f json`\n"
    )


@pytest.mark.parametrize("text", ["{not json", "[]", '{"payload": "!!", "signatures": []}'])
def test_a_malformed_envelope_is_a_usage_error(gates, tmp_path, text) -> None:
    gates("attest", "--keygen", str(tmp_path / "k"))
    env = tmp_path / "e.json"
    env.write_text(text)
    r = gates("attest", "--verify", str(env), "--pub", str(tmp_path / "k.pub"))
    assert r.code == 2, r.err
    assert r.err.startswith("gates: error: ") and r.err.count("\n") == 1
