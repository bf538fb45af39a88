"""``gates lint`` — validate specs and invariants without reading any artifact."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import spec_path_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@spec_path_option()
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when clean.")
def lint(paths: tuple[Path, ...], spec_path: tuple[Path, ...], quiet: bool) -> None:
    """Validate spec files (default: ./specs and ./invariants, else the bundled ones).

    Checks schema and unknown keys (with suggestions), extends, duplicate ids, dangling
    artifact references, unknown check kinds, per-kind params and contradicting bands.
    Exit 0 when clean, 2 when any problem is found.
    """
    from albor_gates.cli.common import default_spec_dirs, discover, spec_path_dirs
    from albor_gates.engine.lint import lint_files

    files = discover(paths or default_spec_dirs("specs", "invariants"))
    summary = lint_files(files, spec_path_dirs(spec_path))
    if not quiet:
        click.echo(summary)
