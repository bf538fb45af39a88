"""The console-script entry: catches Ctrl-C even while the CLI is still being imported."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable


def import_cli() -> Callable[[], None]:
    """:func:`albor_gates.cli.run`, imported with the cyclic collector paused, then frozen.

    What the import builds (click, the commands, their options) lives until the process
    exits: the collector would scan it in passes during the import and twice more at the
    interpreter's shutdown without ever freeing any of it. Frozen (``gc.freeze``, the
    permanent generation) it is skipped by all of them: ~10 ms of a ``gates --help``. Only for
    a process the CLI starts (here and ``python -m albor_gates``), never for an importer.
    """
    gc.disable()
    try:
        from albor_gates.cli import run
    finally:
        gc.freeze()
        gc.enable()
    return run


def main() -> None:
    """Import and run the CLI; an interrupt during the imports exits 130 without a traceback."""
    try:
        cli_run = import_cli()
    except KeyboardInterrupt:
        sys.stderr.write("gates: interrupted\n")
        sys.exit(130)
    cli_run()
