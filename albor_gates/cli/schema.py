"""``gates schema`` — JSON Schema of the spec language (for editors) or of the JSON report."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import format_option


@click.command()
@click.option("--report", is_flag=True, help="The JSON report's schema instead of the spec's.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to a file (atomically) instead of stdout; an existing file needs --force.",
)
@click.option("--force", is_flag=True, help="Replace the --output file if it exists.")
@click.option(
    "--evidence",
    type=click.Choice(["operator", "consumer", "dogfood-summary"]),
    help="The schema of a typed operator evidence file instead.",
)
@format_option("json")
def schema(report: bool, output: Path | None, force: bool, evidence: str | None, fmt: str) -> None:
    """Print the JSON Schema of spec files, of reports, or of an operator evidence file.

    A schema is JSON whatever the format; -f json is accepted like on every other command.
    """
    import json

    from albor_gates.engine.catalog import report_schema, spec_schema
    from albor_gates.errors import UsageError
    from albor_gates.io import atomic_write_text

    # Chaos C4 (GATES.md §3.2.2): a file the user names is never replaced silently; `-o` with
    # a typo'd path must not destroy an unrelated file.
    if output is not None and output.exists() and not force:
        raise UsageError(f"{output}: exists; pass --force to replace it")
    if evidence is not None:
        from albor_gates.artifacts.operator import SCHEMAS

        data = SCHEMAS[evidence].model_json_schema(by_alias=True)
    else:
        data = report_schema() if report else spec_schema()
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(output, text)
        click.echo(f"wrote {output}")
