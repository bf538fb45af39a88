"""``gates plan`` — what `gates check` would run, without running it."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import spec_path_option


@click.command()
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path))
@click.option("-a", "--artifact", "artifacts", multiple=True, metavar="NAME=PATH")
@click.option("--skip", multiple=True, metavar="GATE")
@click.option("--allow-exec", is_flag=True, help="Plan as `gates check --allow-exec` would run.")
@click.option("--allow-outside-root", is_flag=True, help="As `gates check --allow-outside-root`.")
@spec_path_option()
def plan(
    specs: tuple[Path, ...],
    root: Path | None,
    artifacts: tuple[str, ...],
    skip: tuple[str, ...],
    allow_exec: bool,
    allow_outside_root: bool,
    spec_path: tuple[Path, ...],
) -> None:
    """Show the gates SPECS would run: check kinds, artifacts, what needs torch or a GPU.

    Reads no artifact content and imports no torch; missing artifacts and expired waivers are
    reported before any time is spent.
    """
    from albor_gates.cli.common import discover, parse_bindings, spec_path_dirs
    from albor_gates.engine.clock import clock_from_env
    from albor_gates.engine.lint import plan_files
    from albor_gates.engine.preview import preview
    from albor_gates.engine.run import RunOptions
    from albor_gates.errors import UsageError

    if not specs and not Path("specs").is_dir():
        raise UsageError("no specs given and no ./specs folder here: pass a spec file or folder")
    plans = plan_files(discover(specs or (Path("specs"),)), spec_path_dirs(spec_path))
    runnable = [p for p in plans if p.spec_set.root.spec.kind == "spec"]
    opts = RunOptions(
        root=root,
        artifacts=parse_bindings(artifacts),
        skip=frozenset(skip),
        allow_exec=allow_exec,
        allow_outside_root=allow_outside_root,
    )
    rows, notes = preview(runnable, opts, clock_from_env().now().date())
    width = max([len(r.gate) for r in rows] + [4])
    click.echo(f"{'GATE':<{width}} {'CHECK':<26} {'NEEDS':<16} PLAN")
    for r in rows:
        needs = ",".join(r.needs) or "-"
        size = f" ({r.bytes / 1e6:.0f} MB to read)" if r.bytes else ""
        click.echo(f"{r.gate:<{width}} {r.check:<26} {needs:<16} {r.outcome}{size}")
    torch_gates = sum(1 for r in rows if "torch" in r.needs)
    gpu_gates = [r.gate for r in rows if "gpu" in r.needs]
    click.echo(
        f"\n{len(rows)} gates in {len(runnable)} specs; {torch_gates} need torch"
        + (
            f"; {len(gpu_gates)} are GPU criteria (SKIPPED on a CPU): {', '.join(gpu_gates)}"
            if gpu_gates
            else ""
        )
    )
    execs = [r.gate for r in rows if "exec" in r.needs]
    if execs:
        consent = "allowed (--allow-exec)" if allow_exec else "SKIPPED without --allow-exec"
        click.echo(f"{len(execs)} gates execute programs, {consent}: {', '.join(execs)}")
    for n in notes:
        click.echo(n)
