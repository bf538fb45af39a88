"""``gates attest`` — sign a verdict as an in-toto statement, or verify one."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument(
    "report", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--key", type=click.Path(dir_okay=False, path_type=Path), help="Ed25519 private key (PEM)."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Envelope file."
)
@click.option(
    "--keygen",
    "keygen_prefix",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write PREFIX.key and PREFIX.pub.",
)
@click.option(
    "--verify",
    "verify_env",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify this envelope.",
)
@click.option(
    "--pub",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Public key for --verify.",
)
@click.option(
    "--artifact",
    type=click.Path(exists=True, path_type=Path),
    help="With --verify: this file (or every file of this folder) must be a subject.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --verify: this report must be the one signed; every subject on disk is rehashed.",
)
def attest(
    report: Path | None,
    key: Path | None,
    output: Path | None,
    keygen_prefix: Path | None,
    verify_env: Path | None,
    pub: Path | None,
    artifact: Path | None,
    report_file: Path | None,
) -> int:
    """Sign REPORT (a JSON report) as an in-toto statement in a DSSE envelope, or verify one.

    \b
    gates attest --keygen release            # release.key (private), release.pub
    gates attest report.json --key release.key -o verdict.dsse.json
    gates attest --verify verdict.dsse.json --pub release.pub --artifact model.safetensors
    gates attest --verify verdict.dsse.json --pub release.pub --report report.json
    """
    import json

    from albor_gates.artifacts.documents import read_json
    from albor_gates.artifacts.files import sha256_file
    from albor_gates.errors import EvidenceError, UsageError
    from albor_gates.io import atomic_write_text
    from albor_gates.signing import dsse

    if keygen_prefix is not None:
        priv, public = keygen_prefix.with_suffix(".key"), keygen_prefix.with_suffix(".pub")
        if public.exists():
            raise UsageError(f"{public} exists; refusing to overwrite a key")
        kid = dsse.keygen(priv, public)
        click.echo(f"wrote {priv} (keep it secret) and {public}; key id {kid}")
        return 0
    if verify_env is not None:
        if pub is None:
            raise UsageError("--verify needs --pub PUBLIC_KEY")
        try:
            env = read_json(verify_env)
        except EvidenceError as e:
            raise UsageError(f"not a DSSE envelope: {e}") from e
        stmt = dsse.verify(env, pub)
        pred = stmt["predicate"]
        if artifact is not None and not dsse.subject_matches(stmt, artifact):
            raise EvidenceError(f"{artifact}: its sha256 is not a subject of this attestation")
        checked = dsse.verify_report(stmt, report_file) if report_file is not None else None
        click.echo(
            f"signature OK: {pred['decision']} at {pred['generated_at']} for "
            f"{len(stmt['subject'])} artifact(s)"
            + (f"; {artifact} is one of them" if artifact is not None else "")
            + (
                f"; {report_file} is the signed report, {checked} artifact(s) on disk unchanged"
                if report_file is not None
                else ""
            )
        )
        return 0
    if report is None or key is None or output is None:
        raise UsageError(
            "give REPORT --key KEY -o OUT (or --keygen PREFIX, or --verify ENV --pub KEY)"
        )
    record = read_json(report)
    dsse.check_report(record, str(report))
    env = dsse.sign(record, key, sha256_file(report))
    atomic_write_text(output, json.dumps(env, indent=2) + "\n")
    click.echo(
        f"wrote {output}: {record['decision']} signed with key {env['signatures'][0]['keyid']}"
    )
    return 0
