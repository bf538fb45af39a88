"""Signed verdicts: an in-toto Statement about the release, in a DSSE envelope, Ed25519-signed.

Models get signed today (sigstore model-transparency); the verdict that a release passed a spec
does not. This module turns a JSON report into an in-toto Statement v1 whose *subjects* are the
artifacts by sha256 and whose *predicate* is the verdict — decision, reasons, every gate's
status and value, the spec files' digests, tool version and time — and wraps it in a DSSE
envelope (PAE-encoded, as the DSSE spec requires) signed with a local Ed25519 key. Verification
checks the signature against a public key and returns the statement, so a consumer can check
that the weights it downloaded are the ones the GO verdict was about.

Safe by construction (issue 11 §9): the private key is created 0600 from its first byte and
never replaces a file; only a report of albor-gates' own schema is signed, and its sha256 is
in the predicate so ``--verify --report`` proves the file is the one signed; a folder artifact
is also attested file by file, so ``--artifact model.safetensors`` works for a release folder.

Needs the ``sign`` extra (``cryptography``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from albor_gates.errors import EvidenceError, UsageError

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://albor-gates.dev/verdict/v1"


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as e:
        raise UsageError(
            "signing needs the 'cryptography' package: pip install 'albor-gates[sign]'"
        ) from e
    return serialization, ed25519


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: ``DSSEv1 SP len(type) SP type SP len(body) SP body``."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


REPORT_SCHEMA = "albor-gates/report"
_REPORT_KEYS = ("decision", "reasons", "generated_at", "tool", "specs", "gates", "artifacts")


def check_report(record: Any, where: str) -> None:
    """Refuse anything but an albor-gates report (schema v1): only our verdicts are signed.

    Raises:
        UsageError: naming the file and what is missing.
    """
    if not isinstance(record, dict) or record.get("schema") != REPORT_SCHEMA:
        raise UsageError(
            f'{where}: not an albor-gates report (no "schema": "{REPORT_SCHEMA}"); '
            "sign the JSON report of `gates check -f json`"
        )
    if record.get("schema_version") != 1:
        raise UsageError(f"{where}: report schema_version {record.get('schema_version')!r} != 1")
    missing = [k for k in _REPORT_KEYS if k not in record]
    if missing:
        raise UsageError(f"{where}: the report has no {missing[0]!r}; it is not a whole report")


def _subjects(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Artifacts with a sha256; a folder whose files still hash to it adds one per file."""
    from albor_gates.artifacts.files import sha256_tree, tree_digests

    subjects = []
    seen: set[tuple[str, str]] = set()

    def add(name: str, sha: str) -> None:
        if (name, sha) not in seen:
            seen.add((name, sha))
            subjects.append({"name": name, "digest": {"sha256": sha}})

    for a in record.get("artifacts", []):
        sha = a.get("sha256")
        if not sha:
            continue
        add(a["path"], sha)
        folder = Path(a["path"])
        if folder.is_dir() and sha256_tree(folder) == sha:
            for rel, digest in tree_digests(folder):
                if not digest.startswith("link:"):
                    add(f"{a['path'].rstrip('/')}/{rel}", digest)
    return subjects


def statement(record: Mapping[str, Any], report_sha256: str | None = None) -> dict[str, Any]:
    """The in-toto Statement for a report record (subjects = artifacts with a sha256)."""
    subjects = _subjects(record)
    if not subjects:
        raise EvidenceError(
            "the report names no artifact with a sha256: nothing to attest "
            "(run with --bundle, or a spec with file.sha256 gates, to record digests)"
        )
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "decision": record["decision"],
            "reasons": record["reasons"],
            "generated_at": record["generated_at"],
            "tool": record["tool"],
            "specs": [
                {"id": s["id"], "version": s["version"], "sha256": s["sha256"]}
                for s in record.get("specs", [])
            ],
            "gates": [
                {"spec": g["spec"], "id": g["id"], "status": g["status"], "value": g["value"]}
                for g in record.get("gates", [])
            ],
            "environment": record.get("environment", {}),
            **({"report_sha256": report_sha256} if report_sha256 else {}),
        },
    }


def keygen(private: Path, public: Path) -> str:
    """Write a new Ed25519 key pair (PEM); return the key id (sha256 of the public key)."""
    serialization, ed25519 = _crypto()
    key = ed25519.Ed25519PrivateKey.generate()
    priv = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _create(private, priv, 0o600)  # 0600 from the first byte; never over an existing file
    try:
        _create(public, pub, 0o644)
    except UsageError:
        private.unlink()
        raise
    return hashlib.sha256(pub).hexdigest()[:16]


def _create(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError as e:
        raise UsageError(f"{path} exists; refusing to overwrite a key") from e
    except OSError as e:
        raise UsageError(f"{path}: cannot create: {e.strerror}") from e
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def sign(
    record: Mapping[str, Any], private_key: Path, report_sha256: str | None = None
) -> dict[str, Any]:
    """A DSSE envelope over the report's in-toto statement.

    Raises:
        UsageError: the record is not an albor-gates report, or the key is not Ed25519.
    """
    check_report(record, "the report")
    serialization, ed25519 = _crypto()
    try:
        key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as e:
        raise UsageError(f"{private_key}: not an unencrypted PEM private key ({e})") from e
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise UsageError(f"{private_key}: not an Ed25519 key (use `gates attest --keygen`)")
    payload = json.dumps(
        statement(record, report_sha256), sort_keys=True, separators=(",", ":")
    ).encode()
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sig = key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {"keyid": hashlib.sha256(pub).hexdigest()[:16], "sig": base64.b64encode(sig).decode()}
        ],
    }


def verify(envelope: Mapping[str, Any], public_key: Path) -> dict[str, Any]:
    """Check a DSSE envelope's signature with ``public_key``; return the statement.

    Raises:
        UsageError: the envelope is malformed (exit 2).
        EvidenceError: no signature verifies (exit 1).
    """
    serialization, ed25519 = _crypto()
    from cryptography.exceptions import InvalidSignature

    try:
        key = serialization.load_pem_public_key(public_key.read_bytes())
    except (OSError, ValueError) as e:
        raise UsageError(f"{public_key}: not a PEM public key ({e})") from e
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise UsageError(f"{public_key}: not an Ed25519 public key")
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        sigs = [base64.b64decode(s["sig"], validate=True) for s in envelope["signatures"]]
        ptype = str(envelope["payloadType"])
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(
            f"not a DSSE envelope (bad or missing {e}); pass a file from attest -o"
        ) from e
    for sig in sigs:
        try:
            key.verify(sig, pae(ptype, payload))
        except InvalidSignature:
            continue
        try:
            result = json.loads(payload)
        except ValueError as e:
            raise UsageError(f"the signed payload is not JSON: {e}") from e
        if not isinstance(result, dict) or result.get("_type") != STATEMENT_TYPE:
            raise UsageError("the signed payload is not an in-toto Statement v1")
        return result
    raise EvidenceError("no signature in the envelope verifies with this public key")


def _digests(stmt: Mapping[str, Any]) -> dict[str, str]:
    return {str(s["name"]): str(s["digest"]["sha256"]) for s in stmt.get("subject", [])}


def subject_matches(stmt: Mapping[str, Any], path: Path) -> bool:
    """Whether ``path``'s sha256 is a subject; for a folder, every file in it must be one."""
    from albor_gates.artifacts.files import sha256_path, tree_digests

    digests = set(_digests(stmt).values())
    if path.is_dir():
        files = [d for _, d in tree_digests(path) if not d.startswith("link:")]
        return bool(files) and all(d in digests for d in files)
    return sha256_path(path) in digests


def verify_report(stmt: Mapping[str, Any], report: Path) -> int:
    """Check that ``report`` is the signed report and every subject on disk is unchanged.

    Returns:
        How many subjects were found on disk and checked.

    Raises:
        EvidenceError: the report or an artifact differs from what was signed.
    """
    from albor_gates.artifacts.files import sha256_file, sha256_path

    want = stmt.get("predicate", {}).get("report_sha256")
    if not want:
        raise EvidenceError("the attestation records no report digest; sign the report again")
    got = sha256_file(report)
    if got != want:
        raise EvidenceError(f"{report}: sha256 {got[:12]}… is not the signed report's {want[:12]}…")
    checked = 0
    for name, digest in sorted(_digests(stmt).items()):
        path = Path(name)
        if path.exists():
            if sha256_path(path) != digest:
                raise EvidenceError(f"{path}: its sha256 changed since the verdict was signed")
            checked += 1
    return checked
