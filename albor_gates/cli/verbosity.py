"""``gates -v``: what each verbosity level logs on stderr (the ``albor_gates`` logger).

* default: nothing but the warnings;
* ``-v``: each gate's status and time as it finishes (with the artifacts it names), then every
  artifact the run read (name, path, size or "absent");
* ``-vv``: also each gate as it starts (its check kind), and the DEBUG records of the libraries
  underneath (huggingface_hub downloads, filelock, …).

Lines go through ``click.echo`` at each record, so they land above a live progress bar (which
redirects stderr) and in CliRunner's captured stderr alike. Kept free of the engine so every
command starts without importing it.
"""

from __future__ import annotations

import logging

import click

LOG = logging.getLogger("albor_gates")


class _EchoHandler(logging.Handler):
    """``gates: MESSAGE`` on stderr, resolved at each record (a live bar redirects stderr)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"gates: {self.format(record)}", err=True)


def set_verbosity(level: int) -> None:
    """Configure the log for ``-v`` given ``level`` times (0: warnings only)."""
    LOG.handlers = [_EchoHandler()]
    LOG.propagate = False  # one line per record, whatever the root logger does
    LOG.setLevel(logging.WARNING if level <= 0 else logging.INFO if level == 1 else logging.DEBUG)
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _EchoHandler)]
    for handler in ours:  # an earlier -vv in this process (tests, the Python API) is undone
        root.removeHandler(handler)
    if level >= 2:  # the libraries' own records (downloads, locks) under our prefix
        root.addHandler(_EchoHandler())
        root.setLevel(logging.DEBUG)
    elif ours:
        root.setLevel(logging.WARNING)
