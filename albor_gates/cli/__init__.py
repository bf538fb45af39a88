"""The ``gates`` command line: the only place that prints or exits.

Each command lives in its own module here and imports its heavy dependencies (pydantic
models, torch) inside the command body, so ``gates --help`` starts without them. Errors are
mapped to one-line messages and exit codes in :func:`main` (see :mod:`albor_gates.errors`).
"""

from __future__ import annotations

import signal
import sys

import click

from albor_gates._version import __version__
from albor_gates.cli import (
    attest,
    check,
    diff,
    dogfood,
    export,
    lint,
    plan,
    replay,
    schema,
    show,
    stamp,
    verify,
)
from albor_gates.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    GatesError,
    Signalled,
    SpecError,
)

ISSUE_HINT = "this is a bug in albor-gates; please report it with the command you ran"
# Commands that log no record (they read specs, never an artifact, a model or a library that
# logs): at the default verbosity there is nothing to configure, and `gates lint` starts without
# importing logging (~5 ms).
_LOGS_NOTHING = frozenset({"lint"})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="albor-gates", message="%(prog)s %(version)s")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log on stderr: -v each gate's status and time and the artifacts read; "
    "-vv also each gate's start and the libraries' debug records.",
)
def cli(verbose: int) -> None:
    """Check ML model releases against YAML gate specs: GO / WARN / NO-GO.

    \b
    Exit codes: 0 GO (and WARN unless --strict), 1 NO-GO, 2 broken spec or usage,
    3 internal error, 130 interrupted, 143 / 129 terminated (SIGTERM / SIGHUP).
    """
    if not verbose and click.get_current_context().invoked_subcommand in _LOGS_NOTHING:
        return  # nothing to configure: no record is logged (and logging stays unimported)
    from albor_gates.cli.verbosity import set_verbosity

    set_verbosity(verbose)


for _cmd in (
    check.check,
    verify.verify,
    dogfood.dogfood,
    stamp.stamp,
    export.export,
    lint.lint,
    plan.plan,
    replay.replay,
    diff.diff,
    attest.attest,
    show.explain,
    show.list_cmd,
    schema.schema,
):
    cli.add_command(_cmd)


def _raise_signalled(signum: int, frame: object) -> None:
    raise Signalled(signum)


# True while run(), the process entry, runs the command: the process ends with it.
_process_ends = False


def process_ends() -> bool:
    """Whether the process ends with this command (``gates``, ``python -m albor_gates``).

    False under :func:`main` alone, as tests and the Python API call it in a process that goes
    on: a command may then skip work only an ending process can skip (``gates lint`` freezes
    what it built rather than have the collector scan it again).
    """
    return _process_ends


def run() -> None:
    """The process entry (``gates``, ``python -m albor_gates``): :func:`main`, then the exit."""
    global _process_ends
    _process_ends = True
    main()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the documented code."""
    # SIGTERM / SIGHUP unwind like Ctrl-C: child process groups are killed, nothing staged stays
    held = {s: signal.signal(s, _raise_signalled) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        code = cli.main(args=argv, prog_name="gates", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt) as e:
        # click turns a KeyboardInterrupt (Signalled included) into Abort; the cause stays
        sig = e if isinstance(e, Signalled) else e.__context__
        if isinstance(sig, Signalled):
            name = signal.Signals(sig.signum).name
            click.echo(f"gates: terminated by {name}; no report was written", err=True)
            sys.exit(128 + sig.signum)
        click.echo("gates: interrupted; no report was written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except SpecError as e:
        for p in e.problems:
            click.echo(f"gates: {p}", err=True)
        n = len(e.problems)
        click.echo(f"gates: {n} problem{'s' if n != 1 else ''} found", err=True)
        sys.exit(e.exit_code)
    except GatesError as e:
        click.echo(f"gates: error: {e}", err=True)
        sys.exit(e.exit_code)
    except Exception as e:  # noqa: BLE001 - the last line of defence: exit 3, never a traceback
        click.echo(f"gates: internal error: {type(e).__name__}: {e} ({ISSUE_HINT})", err=True)
        sys.exit(EXIT_INTERNAL)
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
    sys.exit(code if isinstance(code, int) else 0)
