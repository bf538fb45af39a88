"""``gates schema`` — JSON Schema of the spec language (for editors) or of the JSON report."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--report", is_flag=True, help="The JSON report's schema instead of the spec's.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file (atomically) instead of stdout.",
)
def schema(report: bool, output: Path | None) -> None:
    """Print the JSON Schema of spec files (with each check kind's params) or of reports."""
    import json

    from albor_gates.engine.catalog import report_schema, spec_schema
    from albor_gates.io import atomic_write_text

    data = report_schema() if report else spec_schema()
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
        click.echo(f"wrote {output}")
