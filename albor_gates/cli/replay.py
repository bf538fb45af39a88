"""``gates replay`` — judge an evidence bundle's recorded measurements again, without artifacts."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import FORMATS


@click.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--spec",
    "specs",
    multiple=True,
    metavar="ID=FILE",
    help="Judge under an edited spec: replace the embedded spec ID with FILE's text.",
)
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(FORMATS))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Exit 1 on WARN too.")
@click.option("-q", "--quiet", is_flag=True)
@click.option("--color/--no-color", default=None)
def replay(
    bundle: Path,
    specs: tuple[str, ...],
    formats: tuple[str, ...],
    output_dir: Path | None,
    strict: bool,
    quiet: bool,
    color: bool | None,
) -> int:
    """Recompute the verdict of BUNDLE from its recorded measurements (no GPU, no weights).

    Same specs and measurements give the same verdict; with --spec ID=FILE the recorded
    measurements are judged under that file's thresholds instead. Reports say so in options.
    """
    from albor_gates.cli.common import parse_bindings
    from albor_gates.cli.session import Session
    from albor_gates.engine.bundle import load_bundle

    replace = {k: Path(v) for k, v in parse_bindings(specs).items()}
    plans, opts, _ = load_bundle(bundle, replace)
    session = Session(formats, output_dir, strict=strict, quiet=quiet, color=color)
    return session.run(plans, opts)
