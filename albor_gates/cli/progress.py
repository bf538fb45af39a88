"""What a run shows while it works: a progress bar (rich) and the ``-v`` log lines on stderr.

The bar draws only on an interactive stderr; what ``-v`` shows is
:mod:`albor_gates.cli.verbosity`.
"""

from __future__ import annotations

import sys
from typing import Any

from albor_gates.checks.base import ProgressFn
from albor_gates.cli.verbosity import LOG
from albor_gates.engine.plan import PlannedGate
from albor_gates.engine.results import GateResult, Verdict
from albor_gates.engine.run import Observer


class LoggingObserver(Observer):
    """Logs each gate (``-v``: when it finishes; ``-vv``: when it starts) around ``inner``."""

    def __init__(self, inner: Observer) -> None:
        self._inner = inner

    def gate_started(self, gate: PlannedGate) -> None:
        """Log the gate and its kind (DEBUG), then let ``inner`` draw."""
        LOG.debug("%s: started (%s)", gate.id, gate.kind.KIND)
        self._inner.gate_started(gate)

    def gate_finished(self, result: GateResult) -> None:
        """Log the gate's status, time and artifacts (INFO)."""
        read = f" [{', '.join(result.artifacts)}]" if result.artifacts else ""
        LOG.info("%s: %s in %.3f s%s", result.gate_id, result.status.value, result.duration_s, read)
        self._inner.gate_finished(result)

    def progress(self, gate: PlannedGate, label: str, total: float) -> ProgressFn:
        """``inner``'s bar."""
        return self._inner.progress(gate, label, total)

    def close(self) -> None:
        """Close ``inner`` (the bar) if it has anything to close."""
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def log_artifacts(verdict: Verdict) -> None:
    """Log every artifact the run read, with its path and size (INFO)."""
    for a in verdict.artifacts:
        size = f"{a.size} bytes" if a.size is not None else "present"
        LOG.info("artifact %s: %s (%s)", a.name, a.path, size if a.exists else "absent")


class RichObserver(Observer):
    """Shows one bar per long measurement (scan, evaluation, benchmark) with ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._started = False

    def _start(self) -> None:
        if not self._started:
            self._progress.start()
            self._started = True

    def progress(self, gate: PlannedGate, label: str, total: float) -> ProgressFn:
        """A bar for ``label`` of ``gate``."""
        self._start()
        task = self._progress.add_task(f"{gate.id}: {label}", total=total or None)

        def update(done: float, total_now: float) -> None:
            self._progress.update(task, completed=done, total=total_now or None)

        return update

    def gate_finished(self, result: GateResult) -> None:
        """Nothing to draw per gate; the table comes at the end."""

    def close(self) -> None:
        """Stop drawing."""
        if self._started:
            self._progress.stop()


def make_observer(quiet: bool) -> Any:
    """A RichObserver on an interactive terminal, else the silent default."""
    if quiet or not sys.stderr.isatty():
        return Observer()
    return RichObserver()
