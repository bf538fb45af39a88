"""metric.value — a number (or flag, or string) read from a JSON, JSONL or YAML evidence file.

Reads the ``source`` artifact, picks one record (see ``where`` / ``select`` / ``by``), takes
``field`` from it, multiplies numbers by ``scale`` and hands the value to the gate's bands.
Strings ``"NaN"`` / ``"inf"`` count as non-finite numbers, so they FAIL like a real NaN.

Example — AC-SHIP2-003-LOOSE from ``epoch-049.metadata.json``::

    check: metric.value
    artifact: best_epoch
    params: {field: val_loss, unit: nats}
    expect: {ge: 0, le: 4.7}

PASS: ``{"val_loss": 4.6226783}`` → "val_loss 4.6226783 nats ≤ 4.7 and ≥ 0".
FAIL: ``{"val_loss": NaN}`` → "val_loss nan: non-finite measurements always fail".

With ``samples: FIELD`` (a list of numbers in the same record: tok/s per run, loss per
window, pass rate per prompt) the samples travel with the value, so a band with
``confidence: 0.95`` judges their bootstrap interval (``samples_of`` names them, ``samples_stat``
says whether the value is their mean or median)::

    params: {field: throughput_tok_per_sec, samples: runs_tok_per_sec, samples_stat: median}
    expect: {ge: 200, confidence: 0.95}

The best epoch of a JSONL log: ``params: {field: val_loss, select: best, by: val_loss}``.
Wall-clock days from seconds: ``params: {field: wall_seconds, scale: 1.1574074074074073e-05}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import field_validator

from albor_gates.checks._records import RecordQuery, _valid_path, field_value, select_record
from albor_gates.checks.base import Context, Measurement
from albor_gates.errors import EvidenceError
from albor_gates.numbers import to_float

KIND = "metric.value"
VERSION = 1
TITLE = "A number, flag or string read from a JSON / JSONL / YAML evidence file"
ROLES = ("source",)
OPTIONAL_ROLES: tuple[str, ...] = ()
NEEDS: frozenset[str] = frozenset()
EXTRAS: tuple[str, ...] = ()
DEFAULT_EXPECT: Mapping[str, Any] | None = None


class Params(RecordQuery):
    """Options of metric.value."""

    field: str
    scale: float = 1.0
    unit: str = ""
    name: str | None = None
    samples: str | None = None
    samples_of: Literal["runs", "windows", "prompts"] = "runs"
    samples_stat: Literal["mean", "median"] = "mean"

    @field_validator("field", "samples")
    @classmethod
    def _field_path(cls, v: str | None) -> str | None:
        _valid_path(v)
        return v


def _samples(ctx: Context, record: Any, params: Params) -> dict[str, Any]:
    """The ``samples`` list behind the value, scaled like it (empty without ``samples``)."""
    if params.samples is None:
        return {}
    raw = field_value(ctx, "source", record, params.samples)
    if not isinstance(raw, list) or not raw:
        raise EvidenceError(f"{ctx.path('source')}: {params.samples} is not a list of numbers")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in raw):
        raise EvidenceError(f"{ctx.path('source')}: {params.samples} holds a non-number")
    return {
        "samples": [x * params.scale for x in raw],
        "samples_of": params.samples_of,
        "samples_stat": params.samples_stat,
    }


def measure(ctx: Context, params: Params) -> Measurement:
    """Read the field and return it as the measured value."""
    record, which = select_record(ctx, "source", params)
    value = field_value(ctx, "source", record, params.field)
    if isinstance(value, (list, dict)):
        raise EvidenceError(
            f"{ctx.path('source')}: {params.field} is a {type(value).__name__}, not a single "
            "value; point field at one number (or use metric.all_true / metric.count)"
        )
    if params.scale != 1.0 and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = to_float(value, f"{ctx.path('source')}: {params.field}") * params.scale
    return Measurement(
        value=value,
        subject=params.name or params.field,
        unit=params.unit,
        summary=f"from {ctx.path('source').name}" + (f", {which}" if which else ""),
        details={
            "field": params.field,
            "record": which or "only record",
            **_samples(ctx, record, params),
        },
    )
