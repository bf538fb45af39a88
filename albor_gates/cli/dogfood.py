"""``gates dogfood`` — the filled /dogfood verdict document of a release, from evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from albor_gates.cli.common import cache_options

DOGFOOD_SPEC = "albor-370m-v1/dogfood"
SHIP_SPEC = "albor-370m-v1/ship-model-2"


@click.command()
@click.argument(
    "release", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the document and reports (default: ./dogfood-DATE).",
)
@click.option("--force", is_flag=True, help="Replace the files of an earlier run in OUTPUT_DIR.")
@click.option("--spec", default=DOGFOOD_SPEC, show_default=True, help="The dogfood spec.")
@click.option("--ship-spec", default=SHIP_SPEC, show_default=True, help="Spec for the citations.")
@click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda[:N]")
@click.option("--strict", is_flag=True, help="Exit 1 on WARN too.")
@click.option(
    "--release",
    "for_release",
    is_flag=True,
    help="A real release: refuse evidence files that declare `sample: true` (exit 2).",
)
@click.option("-q", "--quiet", is_flag=True)
@click.option("--color/--no-color", default=None)
@cache_options
def dogfood(
    release: Path | None,
    output_dir: Path | None,
    force: bool,
    spec: str,
    ship_spec: str,
    device: str,
    strict: bool,
    for_release: bool,
    quiet: bool,
    color: bool | None,
    cache_dir: Path | None,
    no_cache: bool,
) -> int:
    """Run the /dogfood checklist on RELEASE and render the filled verdict document.

    RELEASE is a published release folder with its evidence/ (default: the bundled example
    release). Writes dogfood-verdict.md, warnings.md (WARN) or no-go.md (NO-GO), the JSON,
    HTML, SARIF and JUnit reports, and the ship spec's JSON and HTML reports.
    Documents built from evidence that declares `sample: true` carry a sample banner; with
    --release such evidence is refused. Exit 0 GO or WARN (1 with --strict), 1 NO-GO.
    """
    from dataclasses import replace

    from albor_gates.cli.common import cache_settings
    from albor_gates.cli.session import (
        Session,
        ci_context,
        github_outputs,
        record_kinds,
        use_color,
    )
    from albor_gates.engine.clock import clock_from_env
    from albor_gates.engine.plan import build_plan
    from albor_gates.engine.record import to_record
    from albor_gates.engine.run import RunOptions, restrict
    from albor_gates.errors import UsageError
    from albor_gates.io import write_set
    from albor_gates.render import FILENAMES, RENDERERS, Format, render
    from albor_gates.render import text as text_renderer
    from albor_gates.render.dogfood import render_dogfood
    from albor_gates.settings import RunSettings
    from albor_gates.spec.loader import SpecResolver
    from albor_gates.spec.resources import data_dir

    settings = RunSettings.build({"device": device, **cache_settings(cache_dir, no_cache)})
    root = release or data_dir("examples") / "albor-tiny-v1"
    resolver = SpecResolver()
    plans = [build_plan(resolver.resolve(resolver.locate(n))) for n in (spec, ship_spec)]
    samples = [p.relative_to(root).as_posix() for p in _sample_evidence(root, plans)]
    if samples and for_release:
        raise UsageError(
            f"{root}: --release refuses sample evidence ({', '.join(samples)} declare "
            "`sample: true`); replace them with the operator's real files"
        )
    clock = clock_from_env()
    out = output_dir or Path(f"dogfood-{clock.now().date().isoformat()}")
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} is not empty; pass --force to replace its files, or choose -o DIR")
    session = Session(strict=strict, quiet=quiet, color=color, progress=True)
    opts = RunOptions(
        root=root,
        settings=settings,
        clock=clock,
        digest_artifacts=True,  # the verdict is about these exact bytes (attestable)
    )
    verdict = session.evaluate(plans, opts)
    if samples:  # every report of this run says what it was built from
        verdict = replace(verdict, options={**verdict.options, "sample_evidence": samples})
    dog = restrict(verdict, {plans[0].spec_id})
    ship = restrict(verdict, {plans[1].spec_id})
    dog_rec, ship_rec = to_record(dog), to_record(ship)
    # documents name paths relative to the release root or the spec's folder, never this machine's
    folders = {str(m.path.resolve().parent) for p in plans for m in p.spec_set.members}
    roots = sorted({str(root.resolve()), *folders}, key=len, reverse=True)  # deepest first
    files = render_dogfood(dog_rec, ship_rec, roots=tuple(roots))
    ci = ci_context(plans, record_kinds(dog_rec))
    for fmt in (Format.JSON, Format.HTML, Format.SARIF, Format.JUNIT, Format.MARKDOWN):
        files[FILENAMES[fmt]] = render(fmt, dog_rec, ci)
    # the ship spec's own reports: its HTML carries the AC-SHIP2-003 loss trajectory
    files["ship-model-2-report.json"] = RENDERERS[Format.JSON](ship_rec)
    files["ship-model-2-report.html"] = RENDERERS[Format.HTML](ship_rec)
    write_set({out / name: text for name, text in sorted(files.items())})  # all or nothing
    github_outputs(dog_rec, ci)
    if not quiet:
        click.echo(text_renderer.render(dog_rec, color=use_color(color)), nl=False)
        click.echo(f"verdict document: {out / 'dogfood-verdict.md'}")
        for name in sorted(files):
            if name != "dogfood-verdict.md":
                click.echo(f"wrote {out / name}")
    return session.exit_code(verdict, judged=dog)


def _sample_evidence(root: Path, plans: list[Any]) -> list[Path]:
    """The JSON / YAML evidence files of ``plans`` under ``root`` that declare ``sample: true``."""
    from albor_gates.artifacts.samples import sample_files

    paths = [
        root / a.ref.path
        for plan in plans
        for a in plan.artifacts.values()
        if a.ref.kind in ("json", "yaml") and a.ref.path and not Path(a.ref.path).is_absolute()
    ]
    return sample_files(paths)
