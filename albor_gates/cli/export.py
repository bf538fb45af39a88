"""``gates export`` — write a safetensors release as one GGUF file llama.cpp can load."""

from __future__ import annotations

import json
from pathlib import Path

import click

# The exporter's --quant names (albor_gates.formats.gguf_names.QUANTS; a test keeps the two
# equal). Listed here so `gates --help` does not import the exporter.
QUANT_NAMES = (
    *("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k"),
    *("q2_k", "q3_k", "q5_k", "q6_k", "q4_k_m", "q5_k_m"),
)


@click.command()
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--to",
    "fmt",
    type=click.Choice(["gguf"]),
    default="gguf",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--quant",
    type=click.Choice(QUANT_NAMES),
    default="f16",
    show_default=True,
    help="Type of the weight matrices; norms and biases stay F32, rows that do not divide "
    "into the type's blocks fall back (Q4_K → Q5_0 → F16).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--force", is_flag=True, help="Replace an existing output (atomically).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def export(model: Path, fmt: str, quant: str, output: Path, force: bool, as_json: bool) -> None:
    """Export MODEL to a GGUF file OUTPUT that llama.cpp can load.

    MODEL is a release folder, or a safetensors file with config.json and tokenizer.json
    beside it. The file carries what llama.cpp needs (general.architecture, hyper-parameters, the
    tokenizer padded to the model's vocabulary; GATES.md §7.3), is written to a temporary file
    beside OUTPUT and moved into place only when complete, and is read back before the summary
    is printed. An existing OUTPUT is replaced only with --force.
    """
    from albor_gates.extras import require
    from albor_gates.formats.gguf_export import export_gguf

    require(("model", "gguf"), "gates export")
    src = model if model.is_dir() else model.parent
    r = export_gguf(src, output, quant, force=force)
    ratio = r.file_size / r.source_bytes if r.source_bytes else None
    if as_json:
        summary = {
            "command": "export",
            "format": fmt,
            "input": str(src),
            "output": str(r.path),
            **r.summary(),
        }
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    size = f"{r.file_size:,} bytes"
    if ratio is not None:
        size += f" ({ratio:.2f} × the source's {r.source_bytes:,})"
    fallback = f"{len(r.fallbacks)} fallbacks" + (
        f" (first: {r.fallbacks[0]})" if r.fallbacks else ""
    )
    click.echo(
        f"wrote {r.path}: {r.architecture} {quant}, {r.tensor_count} tensors, {size}, {fallback}"
    )
