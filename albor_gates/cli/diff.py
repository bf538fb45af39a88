"""``gates diff`` — release-over-release delta of two JSON reports."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("before", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("after", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the delta as JSON.")
@click.option(
    "--fail-on-loosened",
    is_flag=True,
    help="Exit 1 when a gate's band, severity or required flag got looser.",
)
def diff(before: Path, after: Path, as_json: bool, fail_on_loosened: bool) -> int:
    """Show what changed from the BEFORE report (previous release) to AFTER.

    Per gate: status, value and its change, and loosened / tightened thresholds, severities and
    required flags; spec versions and artifact digests that changed.
    """
    import json

    from albor_gates.artifacts.documents import read_json
    from albor_gates.engine.baseline import load_baseline
    from albor_gates.engine.delta import delta, render_text

    for p in (before, after):
        load_baseline(p)  # a clear usage error when a file is not an albor-gates report
    d = delta(read_json(before), read_json(after))
    if as_json:
        click.echo(json.dumps(d, indent=2, sort_keys=True, default=str))
    else:
        click.echo(render_text(d), nl=False)
    return 1 if fail_on_loosened and d["loosened"] else 0
