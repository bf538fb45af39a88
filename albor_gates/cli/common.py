"""Helpers shared by the commands: the evaluation flags, spec discovery, bindings.

What happens after the evaluation (reports, exit code) is :mod:`albor_gates.cli.session`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from albor_gates.errors import UsageError

if TYPE_CHECKING:
    from albor_gates.config import GatesConfig

FORMATS = ("text", "json", "junit", "sarif", "github", "markdown", "html")

_F = TypeVar("_F", bound=Callable[..., Any])


SELECTION_OPTIONS = (
    click.option(
        "--select",
        multiple=True,
        metavar="GLOB|tag:NAME",
        help="Run only the gates whose id matches or that carry the tag (repeatable); the "
        "others are 'not selected' and the decision is partial.",
    ),
    click.option(
        "--ignore",
        multiple=True,
        metavar="GLOB|tag:NAME",
        help="Leave out the gates whose id matches or that carry the tag (repeatable).",
    ),
)


def format_option(*choices: str) -> Callable[[_F], _F]:
    """``-f/--format`` of a command that prints one document (lint, plan, list, ...)."""
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def echo_json(data: object) -> None:
    """Print ``data`` as the JSON every ``-f json`` of a listing command writes."""
    import json

    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def selection_options(f: _F) -> _F:
    """``--select`` / ``--ignore`` alone (``gates plan``; evaluating commands get them too)."""
    for option in reversed(SELECTION_OPTIONS):
        f = option(f)
    return f


CACHE_OPTIONS = (
    click.option(
        "--cache-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Evidence cache folder (default: $GATES_CACHE_DIR, the config's cache-dir, else "
        "$XDG_CACHE_HOME/albor-gates/evidence).",
    ),
    click.option(
        "--no-cache",
        is_flag=True,
        help="Measure every gate; neither read nor write the evidence cache.",
    ),
)


def cache_options(f: _F) -> _F:
    """``--cache-dir`` / ``--no-cache`` (every command that measures: check, verify, dogfood)."""
    for option in reversed(CACHE_OPTIONS):
        f = option(f)
    return f


def cache_settings(
    cache_dir: Path | None, no_cache: bool, config: GatesConfig | None = None
) -> dict[str, Any]:
    """The RunSettings fields of the evidence cache: flag > GATES_CACHE_DIR > config > default.

    Resolved here, where the config is known, into a folder (``cache_dir``) or off
    (``cache=False``); the engine applies the same rule (engine/cache.py) to what it is given.
    """
    import os

    from albor_gates.config import load_config
    from albor_gates.engine.cache import ENV_VAR, choose_folder

    if config is None and not (no_cache or cache_dir or os.environ.get(ENV_VAR)):
        config, _ = load_config()  # verify and dogfood read the file only when it decides
    folder = choose_folder(
        flag_dir=cache_dir,
        flag_off=no_cache,
        environ=os.environ,
        config_dir=config.cache_dir if config is not None else None,
        config_off=config is not None and config.cache is False,
    )
    return {"cache_dir": None, "cache": False} if folder is None else {"cache_dir": str(folder)}


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
        click.option(
            "--strict/--no-strict", default=None, help="Exit 1 on WARN too (default: off)."
        ),
        click.option(
            "--exit-zero",
            is_flag=True,
            help="Exit 0 on WARN and NO-GO too (reports still say it); errors still exit 2/3.",
        ),
        click.option(
            "--digests", is_flag=True, help="Record every artifact's sha256 in the report."
        ),
        click.option(
            "--bundle",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write an evidence bundle (specs, digests, raw measurements) for replay.",
        ),
        click.option(
            "--sarif-include-pass",
            is_flag=True,
            help="SARIF also lists PASS and not-selected gates (default: only findings).",
        ),
        click.option(
            "--skip", multiple=True, metavar="GATE", help="Skip a gate (required → NO-GO)."
        ),
        *SELECTION_OPTIONS,
        *CACHE_OPTIONS,
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


def spec_path_option(
    help_text: str = "Extra folder searched for `extends` short names.",
) -> Callable[[_F], _F]:
    """The ``--spec-path`` option of every command that finds specs (read by spec_path_dirs)."""
    folder = click.Path(file_okay=False, path_type=Path)
    return click.option("--spec-path", multiple=True, type=folder, help=help_text)


def chosen_specs(
    specs: Sequence[Path], spec_path: Sequence[Path], config: GatesConfig
) -> tuple[list[Path], list[Path]]:
    """The spec files ``check`` / ``plan`` evaluate, and the ``extends`` search folders.

    The arguments win, then the config file's ``specs``, then ./specs; ``--spec-path`` wins
    over the config's ``spec-path``; the config's ``exclude`` applies to folders either way.
    """
    dirs = spec_path_dirs(spec_path or config.spec_paths)
    paths = list(specs) or [Path(s) for s in config.specs]
    if not paths:
        if not Path("specs").is_dir():
            raise UsageError(
                "no specs given and no ./specs folder here: pass a spec file or folder"
            )
        paths = [Path("specs")]
    return discover(paths, dirs, config.exclude), dirs


def discover(
    paths: Iterable[Path], extra_dirs: Sequence[Path] = (), exclude: Sequence[str] = ()
) -> list[Path]:
    """Expand folders to their ``*.yaml`` files; keep files; resolve bundled short names.

    Args:
        paths: files, folders, or short names (``ship-model-2``) on the spec search path.
        extra_dirs: ``--spec-path`` folders searched first for short names.
        exclude: globs over a file's path relative to the working directory (``*`` crosses
            folders), so an evidence YAML below ``specs/`` is not taken as a spec; a file named
            on the command line is excluded too (pre-commit names every changed file).
    """
    from albor_gates.spec.loader import SpecResolver
    from albor_gates.spec.resources import spec_files

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += [f for f in spec_files(p) if not _excluded(f, exclude)]
        elif p.is_file():
            out += [] if _excluded(p, exclude) else [p]
        elif p.exists():
            raise UsageError(f"{p}: not a regular file or folder (a device, FIFO or socket)")
        elif p.suffix in (".yaml", ".yml"):
            raise UsageError(f"{p}: no such file or folder")
        else:
            out.append(SpecResolver(list(extra_dirs)).locate(p))
    seen: set[Path] = set()
    unique = []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _excluded(path: Path, exclude: Sequence[str]) -> bool:
    from fnmatch import fnmatchcase

    try:
        rel = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    return any(fnmatchcase(rel, pattern) for pattern in exclude)


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
