"""Signed verdicts: an in-toto Statement about the release, in a DSSE envelope, Ed25519-signed.

Models get signed today (sigstore model-transparency); the verdict that a release passed a spec
does not. This module turns a JSON report into an in-toto Statement v1 whose *subjects* are the
artifacts by sha256 and whose *predicate* is the verdict — decision, reasons, every gate's
status and value, the spec files' digests, tool version and time — and wraps it in a DSSE
envelope (PAE-encoded, as the DSSE spec requires) signed with a local Ed25519 key. Verification
checks the signature against a public key and returns the statement, so a consumer can check
that the weights it downloaded are the ones the GO verdict was about.

Needs the ``sign`` extra (``cryptography``).
"""

from __future__ import annotations

import base64
import hashlib
import json
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


def statement(record: Mapping[str, Any]) -> dict[str, Any]:
    """The in-toto Statement for a report record (subjects = artifacts with a sha256)."""
    subjects = []
    seen: set[tuple[str, str]] = set()
    for a in record.get("artifacts", []):
        sha = a.get("sha256")
        if sha and (a["path"], sha) not in seen:
            seen.add((a["path"], sha))
            subjects.append({"name": a["path"], "digest": {"sha256": sha}})
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
    from albor_gates.io import atomic_write_bytes

    atomic_write_bytes(private, priv)
    private.chmod(0o600)
    atomic_write_bytes(public, pub)
    return hashlib.sha256(pub).hexdigest()[:16]


def sign(record: Mapping[str, Any], private_key: Path) -> dict[str, Any]:
    """A DSSE envelope over the report's in-toto statement."""
    serialization, ed25519 = _crypto()
    try:
        key = serialization.load_pem_private_key(private_key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as e:
        raise UsageError(f"{private_key}: not an unencrypted PEM private key ({e})") from e
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise UsageError(f"{private_key}: not an Ed25519 key (use `gates attest --keygen`)")
    payload = json.dumps(statement(record), sort_keys=True, separators=(",", ":")).encode()
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
        EvidenceError: a bad envelope or a signature that does not verify.
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
        raise EvidenceError(f"not a DSSE envelope: {e}") from e
    for sig in sigs:
        try:
            key.verify(sig, pae(ptype, payload))
        except InvalidSignature:
            continue
        result: dict[str, Any] = json.loads(payload)
        return result
    raise EvidenceError("no signature in the envelope verifies with this public key")


def subject_matches(stmt: Mapping[str, Any], path: Path) -> bool:
    """Whether ``path``'s sha256 is one of the statement's subjects."""
    from albor_gates.artifacts.files import sha256_path

    digest = sha256_path(path)
    return any(s.get("digest", {}).get("sha256") == digest for s in stmt.get("subject", []))
