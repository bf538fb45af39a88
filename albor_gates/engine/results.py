"""Result types of an evaluation: statuses, per-gate results and the verdict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from albor_gates.spec.models import Severity


class Status(str, Enum):
    """The outcome of one gate. ERROR and SKIPPED are never a pass."""

    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"
    WAIVED = "WAIVED"


class Decision(str, Enum):
    """The release decision."""

    GO = "GO"
    WARN = "WARN"
    NO_GO = "NO-GO"


_DECISION_RANK = {Decision.GO: 0, Decision.WARN: 1, Decision.NO_GO: 2}


def worst(a: Decision, b: Decision) -> Decision:
    """Return the worse of two decisions."""
    return a if _DECISION_RANK[a] >= _DECISION_RANK[b] else b


def decision_rank(d: Decision) -> int:
    """0 for GO, 1 for WARN, 2 for NO-GO."""
    return _DECISION_RANK[d]


@dataclass(frozen=True)
class BaselineOutcome:
    """The comparison of a gate's value with the same gate in a previous report."""

    status: Status
    message: str
    baseline_value: float | None = None
    change_abs: float | None = None
    change_rel: float | None = None


@dataclass(frozen=True)
class WaiverOutcome:
    """How a waiver of a gate stands in this run.

    Attributes:
        state: ``live`` (applied or applicable), ``expired`` or ``stale`` (sha256 changed).
        applied: whether it turned this gate's failure into WAIVED.
    """

    gate: str
    spec: str
    state: str
    applied: bool
    reason: str
    approved_by: str
    expires: dt.date
    sha256: str
    actual_sha256: str | None
    file: str
    line: int
    message: str


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate, with everything a report needs."""

    spec: str
    gate_id: str
    title: str
    check: str
    check_version: int
    severity: Severity
    required: bool
    status: Status
    message: str
    value: Any = None
    unit: str = ""
    subject: str = ""
    summary: str = ""
    fix: str = ""
    expect: Mapping[str, Any] | None = None
    warn: Mapping[str, Any] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    artifacts: tuple[str, ...] = ()
    aliases: tuple[Mapping[str, Any], ...] = ()
    source: Mapping[str, Any] | None = None
    baseline: BaselineOutcome | None = None
    waiver: WaiverOutcome | None = None
    file: str = ""
    line: int = 0
    duration_s: float = 0.0
    internal_error: bool = False
    tags: tuple[str, ...] = ()
    overrides: tuple[Mapping[str, Any], ...] = ()
    measured: bool = False
    selected: bool = True
    # {"hit": True, "measured_at", "device"} when the measurement came from the evidence cache
    cache: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ArtifactInfo:
    """An artifact as the run saw it (provenance for the report)."""

    name: str
    kind: str
    path: str
    exists: bool
    size: int | None = None
    sha256: str | None = None
    hub: Mapping[str, str] | None = None


@dataclass(frozen=True)
class SpecInfo:
    """A spec that took part in the run."""

    id: str
    version: str
    title: str
    file: str
    sha256: str
    source: Mapping[str, Any] | None = None
    root: bool = False


@dataclass(frozen=True)
class Verdict:
    """The decision and everything it rests on."""

    decision: Decision
    reasons: tuple[str, ...]
    results: tuple[GateResult, ...]
    specs: tuple[SpecInfo, ...]
    artifacts: tuple[ArtifactInfo, ...]
    waivers: tuple[WaiverOutcome, ...]
    environment: Mapping[str, Any]
    generated_at: dt.datetime
    tool_version: str
    options: Mapping[str, Any] = field(default_factory=dict)
    selection: Mapping[str, Any] | None = None

    @property
    def internal_error(self) -> bool:
        """Whether any gate failed because of a bug in albor-gates itself."""
        return any(r.internal_error for r in self.results)

    @property
    def cached(self) -> int:
        """Number of gates whose measurement came from the evidence cache."""
        return sum(1 for r in self.results if r.cache is not None)

    def counts(self) -> dict[str, int]:
        """Number of gates per status (every status present, zero included)."""
        out = {s.value: 0 for s in Status}
        for r in self.results:
            out[r.status.value] += 1
        return out
