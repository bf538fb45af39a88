"""SIGINT as a terminal delivers it, whatever the suite inherited.

A suite started from a non-interactive background shell inherits SIGINT *ignored*, and Python
then installs no KeyboardInterrupt handler, in itself or in the children it starts. Tests that
send SIGINT restore the default first: in a child with :func:`sigint_default` (``preexec_fn``),
in this process with :func:`sigint_raises`.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


def sigint_default() -> None:
    """``preexec_fn`` for a child: SIGINT back to its default before the exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def sigint_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in this process inside the block (restored after)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
