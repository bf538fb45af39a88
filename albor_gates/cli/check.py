"""``gates check`` — lint and evaluate specs against their artifacts (the CI entry point)."""

from __future__ import annotations

from pathlib import Path

import click

from albor_gates.cli.common import evaluation_options, spec_path_option


@click.command()
@evaluation_options
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder relative artifact paths resolve against (default: each spec's folder).",
)
@spec_path_option()
def check(
    specs: tuple[Path, ...],
    root: Path | None,
    artifacts: tuple[str, ...],
    baseline: Path | None,
    formats: tuple[str, ...],
    output_dir: Path | None,
    strict: bool | None,
    exit_zero: bool,
    digests: bool,
    bundle: Path | None,
    sarif_include_pass: bool,
    skip: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    cache_dir: Path | None,
    no_cache: bool,
    spec_path: tuple[Path, ...],
    device: str,
    allow_exec: bool,
    pass_env: tuple[str, ...],
    allow_outside_root: bool,
    max_header_mib: int,
    quiet: bool,
    color: bool | None,
) -> int:
    """Lint SPECS (default: the config's specs, else ./specs) and evaluate them.

    SPECS are files, folders or bundled short names (ship-model-2); gates.toml or
    [tool.gates] in pyproject.toml supplies defaults, and a flag given here wins. Bundles
    (``kind: bundle``, e.g. invariants/) are linted but evaluated only through the specs that
    extend them. Exit 0 GO or WARN (1 with --strict), 1 NO-GO, 2 spec or usage error.
    """
    from albor_gates.artifacts.hub import resolve_bindings
    from albor_gates.cli.common import cache_settings, chosen_specs, parse_bindings, trust
    from albor_gates.cli.session import Session, report_flags
    from albor_gates.config import load_config
    from albor_gates.engine.lint import plan_files
    from albor_gates.engine.run import RunOptions
    from albor_gates.errors import UsageError
    from albor_gates.settings import RunSettings

    config, _ = load_config()
    settings = RunSettings.build({"device": device, **cache_settings(cache_dir, no_cache, config)})
    files, dirs = chosen_specs(specs, spec_path, config)
    plans = plan_files(files, dirs)
    runnable = [p for p in plans if p.spec_set.root.spec.kind == "spec"]
    if not runnable:
        raise UsageError("only bundles were given; evaluate a spec that extends them")
    opts = RunOptions(
        root=root,
        artifacts=resolve_bindings(parse_bindings(artifacts)),
        baseline=baseline,
        skip=frozenset(skip),
        select=select or tuple(config.select),
        ignore=ignore or tuple(config.ignore),
        settings=settings,
        digest_artifacts=digests or bundle is not None,
        **trust(allow_exec, pass_env, allow_outside_root, max_header_mib),
    )
    session = Session(
        **report_flags(config, formats, output_dir, strict),
        quiet=quiet,
        color=color,
        bundle=bundle,
        exit_zero=exit_zero,
        sarif_include_pass=sarif_include_pass,
    )
    return session.run(runnable, opts)
