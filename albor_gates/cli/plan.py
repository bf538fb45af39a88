"""``gates plan`` — what `gates check` would run, without running it."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import format_option, selection_options, spec_path_option


@click.command()
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path))
@click.option("-a", "--artifact", "artifacts", multiple=True, metavar="NAME=PATH")
@click.option("--skip", multiple=True, metavar="GATE")
@selection_options
@click.option("--allow-exec", is_flag=True, help="Plan as `gates check --allow-exec` would run.")
@click.option("--allow-outside-root", is_flag=True, help="As `gates check --allow-outside-root`.")
@spec_path_option()
@format_option("text", "json")
def plan(
    specs: tuple[Path, ...],
    root: Path | None,
    artifacts: tuple[str, ...],
    skip: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    allow_exec: bool,
    allow_outside_root: bool,
    spec_path: tuple[Path, ...],
    fmt: str,
) -> None:
    """Show the gates SPECS would run: check kinds, artifacts, what needs torch or a GPU.

    Reads no artifact content and imports no torch; missing artifacts and expired waivers are
    reported before any time is spent.
    """
    from albor_gates.cli.common import chosen_specs, parse_bindings
    from albor_gates.config import load_config
    from albor_gates.engine.clock import clock_from_env
    from albor_gates.engine.lint import plan_files
    from albor_gates.engine.preview import preview
    from albor_gates.engine.run import RunOptions

    config, _ = load_config()
    plans = plan_files(*chosen_specs(specs, spec_path, config))
    runnable = [p for p in plans if p.spec_set.root.spec.kind == "spec"]
    opts = RunOptions(
        root=root,
        artifacts=parse_bindings(artifacts),
        skip=frozenset(skip),
        select=select or tuple(config.select),
        ignore=ignore or tuple(config.ignore),
        allow_exec=allow_exec,
        allow_outside_root=allow_outside_root,
    )
    rows, notes = preview(runnable, opts, clock_from_env().now().date())
    if fmt == "json":
        from dataclasses import asdict

        from albor_gates.cli.common import echo_json

        ids = [p.spec_id for p in runnable]
        echo_json({"specs": ids, "gates": [asdict(r) for r in rows], "notes": notes})
        return
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
    left_out = sum(1 for r in rows if r.outcome == "not selected")
    if left_out:
        click.echo(f"{left_out} gates not selected: the run would be partial")
    execs = [r.gate for r in rows if "exec" in r.needs]
    if execs:
        consent = "allowed (--allow-exec)" if allow_exec else "SKIPPED without --allow-exec"
        click.echo(f"{len(execs)} gates execute programs, {consent}: {', '.join(execs)}")
    for n in notes:
        click.echo(n)
