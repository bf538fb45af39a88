"""Injectable clocks: real time for runs, a frozen clock for reproducible reports.

``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) freezes the report time and makes
every duration 0, so two runs over the same inputs write byte-identical reports.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Protocol


class Clock(Protocol):
    """Wall time for timestamps and a monotonic counter for durations."""

    def now(self) -> dt.datetime:
        """Current time, timezone-aware UTC."""
        ...

    def perf(self) -> float:
        """Monotonic seconds for measuring durations."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """Current UTC time, to the second."""
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def perf(self) -> float:
        """``time.perf_counter()``."""
        return time.perf_counter()


class FrozenClock:
    """A clock stopped at one instant; durations are zero."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)

    def now(self) -> dt.datetime:
        """The frozen instant."""
        return self.at

    def perf(self) -> float:
        """Always 0.0."""
        return 0.0


def clock_from_env() -> Clock:
    """A FrozenClock at ``SOURCE_DATE_EPOCH`` when it is set, else the system clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or not epoch.strip().isdigit():
        return SystemClock()
    return FrozenClock(dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc))
