"""The neutral record: one plain, sorted, JSON-safe dict that feeds every renderer.

Its shape is the JSON report (``schema: albor-gates/report``, ``schema_version: 1``); the JSON
Schema lives in ``albor_gates/render/report.schema.json`` and ``gates schema --report`` prints
it. Renderers never see engine objects, only this dict.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from albor_gates.engine.baseline import REPORT_SCHEMA
from albor_gates.engine.decide import gate_effect
from albor_gates.engine.results import GateResult, Verdict, WaiverOutcome

SCHEMA_VERSION = 1


def _safe(value: Any) -> Any:
    """Make a value JSON-safe: non-finite floats become the strings "nan"/"inf"/"-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _safe(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _waiver(w: WaiverOutcome | None) -> dict[str, Any] | None:
    if w is None:
        return None
    d = asdict(w)
    d["expires"] = w.expires.isoformat()
    out: dict[str, Any] = _safe(d)
    return out


def _gate(r: GateResult) -> dict[str, Any]:
    effect, _ = gate_effect(r)
    # ``selected`` only on a gate a selection left out, ``cache`` only on a cache hit (when and
    # where it was measured): other reports keep their shape byte for byte
    optional = {} if r.selected else {"selected": False}
    optional |= {} if r.cache is None else {"cache": _safe(dict(r.cache))}
    return optional | {
        "spec": r.spec,
        "id": r.gate_id,
        "title": r.title,
        "check": r.check,
        "check_version": r.check_version,
        "severity": r.severity,
        "required": r.required,
        "status": r.status.value,
        "effect": effect.value,
        "value": _safe(r.value),
        "unit": r.unit,
        "subject": r.subject,
        "message": r.message,
        "summary": r.summary,
        "fix": r.fix,
        "expect": _safe(r.expect),
        "warn": _safe(r.warn),
        "baseline": _safe(asdict(r.baseline)) if r.baseline else None,
        "waiver": _waiver(r.waiver),
        "aliases": _safe(list(r.aliases)),
        "source": _safe(r.source),
        "details": _safe(dict(r.details)),
        "artifacts": list(r.artifacts),
        "location": {"file": r.file, "line": r.line},
        "duration_s": r.duration_s,
        "internal_error": r.internal_error,
        "tags": list(r.tags),
        "overrides": _safe(list(r.overrides)),
    }


def to_record(v: Verdict) -> dict[str, Any]:
    """Turn a verdict into the neutral record (see the module docstring)."""
    # ``partial`` and ``selection`` only when --select / --ignore was given (engine/select.py)
    selection = (
        {}
        if v.selection is None
        else {"partial": bool(v.selection["not_selected"]), "selection": _safe(v.selection)}
    )
    return selection | {
        "schema": REPORT_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "albor-gates", "version": v.tool_version},
        "generated_at": v.generated_at.isoformat().replace("+00:00", "Z"),
        "decision": v.decision.value,
        "reasons": list(v.reasons),
        "counts": v.counts(),
        "specs": [_safe(asdict(s)) for s in v.specs],
        # ``hub`` (repo id and commit) only for what came from the Hub: other reports keep
        # their shape byte for byte
        "artifacts": [
            _safe({k: x for k, x in asdict(a).items() if k != "hub" or x is not None})
            for a in v.artifacts
        ],
        "environment": _safe(dict(v.environment)),
        "options": _safe(dict(v.options)),
        "waivers": [_waiver(w) for w in v.waivers],
        "gates": [_gate(r) for r in v.results],
    }
