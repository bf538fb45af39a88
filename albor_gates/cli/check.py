"""``gates check`` — lint and evaluate specs against their artifacts (the CI entry point)."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import evaluation_options


@click.command()
@evaluation_options
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder relative artifact paths resolve against (default: each spec's folder).",
)
@click.option(
    "--spec-path",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Extra folder searched for `extends` short names.",
)
def check(
    specs: tuple[Path, ...],
    root: Path | None,
    artifacts: tuple[str, ...],
    baseline: Path | None,
    formats: tuple[str, ...],
    output_dir: Path | None,
    strict: bool,
    digests: bool,
    bundle: Path | None,
    skip: tuple[str, ...],
    spec_path: tuple[Path, ...],
    device: str,
    allow_exec: bool,
    pass_env: tuple[str, ...],
    allow_outside_root: bool,
    max_header_mib: int,
    quiet: bool,
    color: bool | None,
) -> int:
    """Lint SPECS (default: ./specs) and evaluate them: GO / WARN / NO-GO.

    Bundles (``kind: bundle``, e.g. invariants/) are linted but evaluated only through the
    specs that extend them. Exit 0 GO or WARN (1 with --strict), 1 NO-GO, 2 spec or usage error.
    """
    from albor_gates.artifacts.hub import resolve_bindings
    from albor_gates.cli.common import discover, parse_bindings, spec_path_dirs, trust
    from albor_gates.cli.session import Session
    from albor_gates.engine.lint import plan_files
    from albor_gates.engine.run import RunOptions
    from albor_gates.errors import UsageError
    from albor_gates.settings import RunSettings

    settings = RunSettings.build({"device": device})
    if not specs and not Path("specs").is_dir():
        raise UsageError("no specs given and no ./specs folder here: pass a spec file or folder")
    files = discover(specs or (Path("specs"),))
    plans = plan_files(files, spec_path_dirs(spec_path))
    runnable = [p for p in plans if p.spec_set.root.spec.kind == "spec"]
    if not runnable:
        raise UsageError("only bundles were given; evaluate a spec that extends them")
    opts = RunOptions(
        root=root,
        artifacts=resolve_bindings(parse_bindings(artifacts)),
        baseline=baseline,
        skip=frozenset(skip),
        settings=settings,
        digest_artifacts=digests or bundle is not None,
        **trust(allow_exec, pass_env, allow_outside_root, max_header_mib),
    )
    session = Session(formats, output_dir, strict=strict, quiet=quiet, color=color, bundle=bundle)
    return session.run(runnable, opts)
