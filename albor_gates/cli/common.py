"""Helpers shared by the commands: spec discovery, bindings, report writing."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from albor_gates.errors import UsageError

FORMATS = ("text", "json", "junit", "sarif", "github", "markdown", "html")

_F = TypeVar("_F", bound=Callable[..., Any])


def evaluation_options(f: _F) -> _F:
    """The options every evaluating command shares (check, verify): bindings, reports, exit."""
    options = [
        click.option(
            "-a",
            "--artifact",
            "artifacts",
            multiple=True,
            metavar="NAME=PATH",
            help="Bind an artifact.",
        ),
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False, path_type=Path),
            help="A previous JSON report for baseline change thresholds.",
        ),
        click.option(
            "-f",
            "--format",
            "formats",
            multiple=True,
            type=click.Choice(FORMATS),
            help="Repeatable.",
        ),
        click.option(
            "-o",
            "--output-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Write every chosen format here (atomically).",
        ),
        click.option("--strict", is_flag=True, help="Exit 1 on WARN too."),
        click.option(
            "--digests", is_flag=True, help="Record every artifact's sha256 in the report."
        ),
        click.option(
            "--bundle",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write an evidence bundle (specs, digests, raw measurements) for replay.",
        ),
        click.option(
            "--skip", multiple=True, metavar="GATE", help="Skip a gate (required → NO-GO)."
        ),
        click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda[:N]"),
        click.option(
            "--allow-exec",
            is_flag=True,
            help="Run gates that execute programs (cli.* kinds, command artifacts); without it "
            "they are SKIPPED. Never give it to specs from an untrusted fork.",
        ),
        click.option(
            "--pass-env",
            multiple=True,
            metavar="NAME",
            help="An environment variable a command may receive when its spec asks (repeatable).",
        ),
        click.option(
            "--allow-outside-root",
            is_flag=True,
            help="Read artifact paths that resolve outside --root / the working directory.",
        ),
        click.option(
            "--max-header-mib",
            type=click.IntRange(1, 4096),
            default=16,
            show_default=True,
            help="Largest safetensors header read (real shards need well under 1 MiB).",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No table on stdout."),
        click.option(
            "--color/--no-color", default=None, help="Colour the table (default: on a TTY)."
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def trust(
    allow_exec: bool, pass_env: Sequence[str], allow_outside_root: bool, max_header_mib: int
) -> dict[str, Any]:
    """The RunOptions fields of the operator's consent and limits (engine/confine.py)."""
    return {
        "allow_exec": allow_exec,
        "pass_env": frozenset(pass_env),
        "allow_outside_root": allow_outside_root,
        "max_header_bytes": max_header_mib * 1024 * 1024,
    }


def spec_path_dirs(extra: Sequence[Path]) -> list[Path]:
    """User spec folders: ``--spec-path`` first, then ./invariants and ./specs if present."""
    dirs = list(extra)
    for name in ("invariants", "specs"):
        p = Path(name)
        if p.is_dir():
            dirs.append(p)
    return dirs


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand folders to their ``*.yaml`` files; keep files; refuse missing paths."""
    from albor_gates.spec.resources import spec_files

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += spec_files(p)
        elif p.is_file():
            out.append(p)
        elif p.exists():
            raise UsageError(f"{p}: not a regular file or folder (a device, FIFO or socket)")
        else:
            raise UsageError(f"{p}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def default_spec_dirs(*names: str) -> list[Path]:
    """./NAME for each name that exists here; else the bundled folders."""
    from albor_gates.spec.resources import data_dir

    local = [Path(n) for n in names if Path(n).is_dir()]
    return local or [data_dir(n) for n in names]


def parse_bindings(items: Sequence[str]) -> dict[str, str]:
    """Parse ``NAME=PATH`` options."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise UsageError(f"--artifact {item!r}: expected NAME=PATH")
        out[name] = value
    return out


def use_color(flag: bool | None) -> bool:
    """Colour when asked, else when stdout is a terminal and NO_COLOR is unset."""
    if flag is not None:
        return flag
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def emit_reports(
    record: Mapping[str, Any],
    formats: Sequence[str],
    output_dir: Path | None,
    *,
    color: bool,
    quiet: bool,
    extra: Mapping[Path, str] | None = None,
) -> list[Path]:
    """Write the chosen formats to ``output_dir`` or print one to stdout.

    The report files and ``extra`` (the ``--bundle`` file) are one set: all are written or
    none (:func:`albor_gates.io.write_set`), before anything is printed.

    Returns:
        The files written.
    """
    from albor_gates.io import write_set
    from albor_gates.render import FILENAMES, RENDERERS, Format
    from albor_gates.render import text as text_renderer

    if os.environ.get("RANK", "0") != "0":
        return []  # under torchrun every rank evaluates; rank 0 alone reports
    fmts = [Format(f) for f in dict.fromkeys(formats or ("text",))]
    if output_dir is None and len([f for f in fmts if f is not Format.TEXT]) > 1:
        raise UsageError("several --format values need --output-dir DIR")
    files: dict[Path, str] = {}
    if output_dir is not None:
        files = {output_dir / FILENAMES[f]: RENDERERS[f](record) for f in fmts}
    write_set({**files, **(extra or {})})
    written = list(files)
    if output_dir is None:
        non_text = [f for f in fmts if f is not Format.TEXT]
        if non_text:
            click.echo(RENDERERS[non_text[0]](record), nl=False)
        elif not quiet:
            click.echo(text_renderer.render(record, color=color, width=_width()), nl=False)
    else:
        if Format.GITHUB in fmts:
            click.echo(RENDERERS[Format.GITHUB](record), nl=False)
        if not quiet:
            click.echo(text_renderer.render(record, color=color, width=_width()), nl=False)
            for p in written:
                click.echo(f"wrote {p}")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        _github_outputs(record, fmts)
    return written


def _width() -> int:
    """The terminal's width; unlimited when stdout is a file or a CI log (never truncate)."""
    import shutil

    if not sys.stdout.isatty():
        return 100_000
    return max(shutil.get_terminal_size((120, 24)).columns, 80)


def _github_outputs(record: Mapping[str, Any], fmts: Sequence[Any]) -> None:
    from albor_gates.render import RENDERERS, Format

    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and Format.MARKDOWN in fmts:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(RENDERERS[Format.MARKDOWN](record))
    out = os.environ.get("GITHUB_OUTPUT")
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(f"decision={record['decision']}\n")


def exit_code_for(decision: str, *, strict: bool, internal: bool) -> int:
    """0 GO, 0 WARN (1 with --strict), 1 NO-GO, 3 when a gate hit an internal bug."""
    from albor_gates.errors import EXIT_GO, EXIT_INTERNAL, EXIT_NO_GO

    if internal:
        return EXIT_INTERNAL
    if decision == "NO-GO" or (decision == "WARN" and strict):
        return EXIT_NO_GO
    return EXIT_GO
