"""``gates explain`` and ``gates list`` — what a gate or check kind means, and what exists."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import format_option, spec_path_option


@click.command()
@click.argument("term")
@spec_path_option("Extra folder of specs to search.")
@format_option("text", "json")
def explain(term: str, spec_path: tuple[Path, ...], fmt: str) -> None:
    """Explain a gate id, an alias (every document's meaning) or a check kind.

    -f json prints {term, matches: [{type: kind|gate|alias, id, spec, text}]}.
    """
    from albor_gates.cli.common import echo_json, spec_path_dirs
    from albor_gates.engine.catalog import explain_matches, explain_term

    if fmt == "json":
        echo_json({"term": term, "matches": explain_matches(term, spec_path_dirs(spec_path))})
    else:
        click.echo(explain_term(term, spec_path_dirs(spec_path)), nl=False)


@click.command(name="list")
@click.option(
    "--what",
    type=click.Choice(["kinds", "specs", "gates"]),
    default="kinds",
    show_default=True,
)
@spec_path_option("Extra folder of specs to search.")
@format_option("text", "json")
def list_cmd(what: str, spec_path: tuple[Path, ...], fmt: str) -> None:
    """List check kinds, specs, or every gate with its source (-f json: the same as data)."""
    from albor_gates.cli.common import echo_json, spec_path_dirs
    from albor_gates.engine import catalog
    from albor_gates.engine.catalog import list_gates, list_kinds, list_specs

    dirs = spec_path_dirs(spec_path)
    if fmt == "json":
        data = {
            "kinds": catalog.kinds_data,
            "specs": lambda: catalog.specs_data(dirs),
            "gates": lambda: catalog.gates_data(dirs),
        }[what]()
        echo_json({what: data} if what != "specs" else data)
        return
    text = {
        "kinds": list_kinds,
        "specs": lambda: list_specs(dirs),
        "gates": lambda: list_gates(dirs),
    }[what]()
    click.echo(text, nl=False)
