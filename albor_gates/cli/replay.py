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
    from albor_gates.cli.common import emit_reports, exit_code_for, parse_bindings, use_color
    from albor_gates.engine.bundle import load_bundle
    from albor_gates.engine.record import to_record
    from albor_gates.engine.run import evaluate_plans

    replace = {k: Path(v) for k, v in parse_bindings(specs).items()}
    plans, opts, _ = load_bundle(bundle, replace)
    verdict = evaluate_plans(plans, opts)
    record = to_record(verdict)
    emit_reports(record, formats, output_dir, color=use_color(color), quiet=quiet)
    return exit_code_for(verdict.decision.value, strict=strict, internal=verdict.internal_error)
