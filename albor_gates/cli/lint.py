"""``gates lint`` — validate specs, invariants and the configuration without reading artifacts."""

from __future__ import annotations

import gc
from pathlib import Path

import click

from albor_gates.cli.common import format_option, spec_path_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@spec_path_option()
@format_option("text", "json", "sarif", "github")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when clean.")
def lint(
    paths: tuple[Path, ...], spec_path: tuple[Path, ...], fmt: str, exit_zero: bool, quiet: bool
) -> int:
    """Validate spec files and the configuration file (gates.toml or [tool.gates]).

    PATHS default to the config's specs, else ./specs and ./invariants, else the bundled ones.
    Checks schema and unknown keys (with suggestions), extends, duplicate ids, dangling
    artifact references, unknown check kinds, per-kind params and contradicting bands.
    PATHS may be bundled short names (ship-model-2). -f json / sarif / github print the
    problems for CI on stdout. Exit 0 when clean, 2 when any problem is found.
    """
    from albor_gates.cli import process_ends

    was_enabled = gc.isenabled()
    # Start-up allocates thousands of objects that all live to the end (pydantic models, the
    # check kinds, the parsed specs): the cyclic collector finds nothing in them and costs
    # about an eighth of a lint's CPU time. Lint is short, so it runs without it.
    gc.disable()
    try:
        return _lint(paths, spec_path, fmt, exit_zero, quiet)
    finally:
        if process_ends():
            # Nor is it worth scanning after: re-enabled, the collector would go through all of
            # it at the next allocation (~8 ms), and the interpreter's shutdown twice more
            # (~30 ms). Frozen (moved to the permanent generation), it is skipped by both; lint
            # leaves nothing a finaliser must see (no file open for writing, no thread, child
            # or atexit hook), and stdout and stderr are flushed at exit as always.
            gc.freeze()
        if was_enabled:
            gc.enable()


def _lint(
    paths: tuple[Path, ...], spec_path: tuple[Path, ...], fmt: str, exit_zero: bool, quiet: bool
) -> int:
    from albor_gates.cli.common import default_spec_dirs, discover, spec_path_dirs
    from albor_gates.config import GatesConfig, load_config
    from albor_gates.engine.lint import lint_files, lint_record
    from albor_gates.errors import EXIT_GO, EXIT_USAGE, Problem, SpecError
    from albor_gates.render.lint import LINT_RENDERERS

    before: list[Problem] = []
    try:
        config, _ = load_config()
    except SpecError as e:  # reported with the specs' problems, in the same style
        config, before = GatesConfig(), list(e.problems)
    dirs = spec_path_dirs(spec_path or config.spec_paths)
    chosen = list(paths) or [Path(s) for s in config.specs]
    files = discover(chosen or default_spec_dirs("specs", "invariants"), dirs, config.exclude)
    if not files and chosen and not before:  # pre-commit named only excluded files
        if not quiet:
            click.echo("0 spec files: every file named is excluded by the configuration")
        return EXIT_GO
    summary, found = lint_files(files, dirs)
    problems = before + found
    if fmt == "text" and problems and not exit_zero:
        raise SpecError(problems)  # the CLI's one error path: `gates: file:line:col: ...`
    record = lint_record(files, summary, problems)
    if fmt != "text" or problems or not quiet:
        # in text, problems go to stderr as they do without --exit-zero
        ci = None
        if fmt in ("sarif", "github"):  # only they locate (session: imported for them alone)
            from albor_gates.cli.session import ci_context

            ci = ci_context(())
        text = LINT_RENDERERS[fmt](record, ci)
        click.echo(text, nl=False, err=fmt == "text" and bool(problems))
    return EXIT_USAGE if problems and not exit_zero else EXIT_GO
