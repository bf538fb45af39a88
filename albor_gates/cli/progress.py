"""A terminal progress bar (rich) for long measurements; silent when stderr is not a TTY."""

from __future__ import annotations

import sys
from typing import Any

from albor_gates.checks.base import ProgressFn
from albor_gates.engine.plan import PlannedGate
from albor_gates.engine.results import GateResult
from albor_gates.engine.run import Observer


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
