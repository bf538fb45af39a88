"""The console-script entry: catches Ctrl-C even while the CLI is still being imported."""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run the CLI; an interrupt during the imports exits 130 without a traceback."""
    try:
        from albor_gates.cli import run as cli_run
    except KeyboardInterrupt:
        sys.stderr.write("gates: interrupted\n")
        sys.exit(130)
    cli_run()
