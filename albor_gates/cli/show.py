"""``gates explain`` and ``gates list`` — what a gate or check kind means, and what exists."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import spec_path_option


@click.command()
@click.argument("term")
@spec_path_option("Extra folder of specs to search.")
def explain(term: str, spec_path: tuple[Path, ...]) -> None:
    """Explain a gate id, an alias (every document's meaning) or a check kind."""
    from albor_gates.cli.common import spec_path_dirs
    from albor_gates.engine.catalog import explain_term

    click.echo(explain_term(term, spec_path_dirs(spec_path)), nl=False)


@click.command(name="list")
@click.option(
    "--what",
    type=click.Choice(["kinds", "specs", "gates"]),
    default="kinds",
    show_default=True,
)
@spec_path_option("Extra folder of specs to search.")
def list_cmd(what: str, spec_path: tuple[Path, ...]) -> None:
    """List check kinds, specs, or every gate with its source."""
    from albor_gates.cli.common import spec_path_dirs
    from albor_gates.engine.catalog import list_gates, list_kinds, list_specs

    dirs = spec_path_dirs(spec_path)
    text = {
        "kinds": list_kinds,
        "specs": lambda: list_specs(dirs),
        "gates": lambda: list_gates(dirs),
    }[what]()
    click.echo(text, nl=False)
