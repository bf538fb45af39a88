"""``gates stamp`` — rewrite a safetensors header's identity and provenance metadata."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click


@click.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--license", "license_", help="SPDX licence of the weights, e.g. Apache-2.0.")
@click.option("--data-source", help="Where the training data came from.")
@click.option("--data-license", help="SPDX licence of the training data.")
@click.option("--architecture", help="Family slug, e.g. qwen2.")
@click.option("--hf-architecture", help="Hugging Face class, e.g. Qwen2ForCausalLM.")
@click.option("--hf-model-type", help="Hugging Face model_type, e.g. qwen2.")
@click.option("--force", is_flag=True, help="Replace an existing output (atomically).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def stamp(
    src: Path,
    output: Path,
    license_: str | None,
    data_source: str | None,
    data_license: str | None,
    architecture: str | None,
    hf_architecture: str | None,
    hf_model_type: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Stamp metadata into SRC's header and write OUTPUT; tensor bytes are copied verbatim.

    The fix that INV-INIT-ARCH-MATCH-001 prints. Licences must be SPDX; an existing OUTPUT is
    replaced only with --force (never modified in place); the output is re-read and its data
    section's sha256 compared with the input's before it is moved into place.
    """
    from albor_gates.formats.safetensors_stamp import stamp as do_stamp

    fields = {
        k: v
        for k, v in (
            ("license", license_),
            ("data_source", data_source),
            ("data_license", data_license),
            ("architecture", architecture),
            ("hf_architecture", hf_architecture),
            ("hf_model_type", hf_model_type),
        )
        if v is not None
    }
    result = do_stamp(src, output, fields, force=force)
    if as_json:
        click.echo(json.dumps({"command": "stamp", **asdict(result)}, indent=2, sort_keys=True))
        return
    stamped = ", ".join(f"{k}={v}" for k, v in result.stamped.items())
    click.echo(
        f"wrote {result.output}: {result.tensor_count} tensors, data sha256 "
        f"{result.data_sha256[:16]}… unchanged; stamped {stamped}"
    )
