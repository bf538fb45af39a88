"""Shared scenario for the renderer tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from albor_gates.engine.clock import FrozenClock
from albor_gates.engine.lint import plan_files
from albor_gates.engine.record import to_record
from albor_gates.engine.run import RunOptions, evaluate_plans
from albor_gates.settings import RunSettings

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.timezone.utc)
ENV = {"python": "3.11", "platform": "golden", "machine": "x86_64"}


def _scenario_record(monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(REPO)
    spec = Path("tests/golden/scenario/spec.yaml")
    plans = plan_files([spec])
    opts = RunOptions(
        baseline=Path("tests/golden/scenario/baseline-report.json"),
        clock=FrozenClock(NOW),
        environment=ENV,
        settings=RunSettings(cache=False),  # golden reports: every gate measured, never cached
    )
    return to_record(evaluate_plans(plans, opts))


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch):
    """A function returning the scenario spec's record (fresh each call)."""
    return lambda: _scenario_record(monkeypatch)
