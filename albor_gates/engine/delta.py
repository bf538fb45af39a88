"""Release-over-release delta: what changed between two JSON reports.

For every gate in either report: status before → after, the value and its change (absolute and
relative), and whether the gate itself changed — a band that now admits more values, a blocking
gate made advisory, a required gate made optional is *loosened* (the thing reviewers must
approve: PEERS.md §4 item 10), the reverse is *tightened*. Also the decisions, spec versions and
digests, and artifact digests. Pure: two records in, one delta dict out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from albor_gates.engine.baseline import relative_change
from albor_gates.spec.bands import numeric_interval
from albor_gates.spec.models import Band

_SEVERITY_RANK = {"info": 0, "advisory": 1, "blocking": 2}


def _band(d: Mapping[str, Any] | None) -> Band | None:
    if not d:
        return None
    try:
        return Band.model_validate(dict(d))
    except Exception:  # noqa: BLE001 - a band this version cannot read is just "changed"
        return None


def _band_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> str | None:
    if old == new:
        return None
    a, b = _band(old), _band(new)
    ia = numeric_interval(a) if a else None
    ib = numeric_interval(b) if b else None
    if ia is not None and ib is not None:
        if ia.within(ib) and not ib.within(ia):
            return "loosened"
        if ib.within(ia) and not ia.within(ib):
            return "tightened"
    if old and not new:
        return "loosened"
    if new and not old:
        return "tightened"
    return "changed"


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def gate_delta(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    """The change of one gate between two reports."""
    o = old or {}
    n = new or {}
    changes: list[str] = []
    verdicts: list[str] = []
    expect = _band_change(o.get("expect"), n.get("expect"))
    if old and new and expect:
        changes.append(f"expect {expect}")
        verdicts.append(expect)
    warn = _band_change(o.get("warn"), n.get("warn"))
    if old and new and warn:
        changes.append(f"warn band {warn}")
    if old and new and o.get("severity") != n.get("severity"):
        up = _SEVERITY_RANK.get(n.get("severity", ""), 0) > _SEVERITY_RANK.get(
            o.get("severity", ""), 0
        )
        changes.append(f"severity {o.get('severity')} → {n.get('severity')}")
        verdicts.append("tightened" if up else "loosened")
    if old and new and o.get("required") != n.get("required"):
        changes.append(f"required {o.get('required')} → {n.get('required')}")
        verdicts.append("tightened" if n.get("required") else "loosened")
    a, b = _num(o.get("value")), _num(n.get("value"))
    delta: dict[str, Any] = {
        "spec": n.get("spec", o.get("spec")),
        "id": n.get("id", o.get("id")),
        "status_before": o.get("status"),
        "status_after": n.get("status"),
        "value_before": o.get("value"),
        "value_after": n.get("value"),
        "change_abs": (b - a) if a is not None and b is not None else None,
        "change_rel": relative_change(b, a) if a is not None and b is not None else None,
        "gate_changes": changes,
        "loosened": "loosened" in verdicts,
        "tightened": "tightened" in verdicts,
        "added": old is None,
        "removed": new is None,
    }
    return delta


def delta(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Compare two report records (``old`` is the previous release)."""
    og = {(g["spec"], g["id"]): g for g in old.get("gates", [])}
    ng = {(g["spec"], g["id"]): g for g in new.get("gates", [])}
    gates = [gate_delta(og.get(k), ng.get(k)) for k in sorted(set(og) | set(ng))]
    ospecs = {s["id"]: s for s in old.get("specs", [])}
    nspecs = {s["id"]: s for s in new.get("specs", [])}
    specs = [
        {
            "id": sid,
            "version_before": ospecs.get(sid, {}).get("version"),
            "version_after": nspecs.get(sid, {}).get("version"),
            "changed": ospecs.get(sid, {}).get("sha256") != nspecs.get(sid, {}).get("sha256"),
        }
        for sid in sorted(set(ospecs) | set(nspecs))
    ]
    oart = {(a.get("name"), a.get("path")): a.get("sha256") for a in old.get("artifacts", [])}
    nart = {(a.get("name"), a.get("path")): a.get("sha256") for a in new.get("artifacts", [])}
    artifacts = [
        {"name": k[0], "path": k[1], "sha256_before": oart.get(k), "sha256_after": nart.get(k)}
        for k in sorted(set(oart) | set(nart), key=str)
        if oart.get(k) != nart.get(k)
    ]
    return {
        "decision_before": old.get("decision"),
        "decision_after": new.get("decision"),
        "generated_before": old.get("generated_at"),
        "generated_after": new.get("generated_at"),
        "gates": gates,
        "specs": specs,
        "artifacts": artifacts,
        "loosened": [f"{g['spec']}:{g['id']}" for g in gates if g["loosened"]],
        "status_changes": sum(1 for g in gates if g["status_before"] != g["status_after"]),
    }


def render_text(d: Mapping[str, Any]) -> str:
    """A plain table of the delta (changed gates first)."""
    lines = [
        f"decision: {d['decision_before']} → {d['decision_after']} "
        f"({d['generated_before']} → {d['generated_after']})",
        "",
    ]
    rows = sorted(
        d["gates"],
        key=lambda g: (g["status_before"] == g["status_after"] and not g["gate_changes"], g["id"]),
    )
    width = max([len(g["id"]) for g in rows] + [4])
    for g in rows:
        status = f"{g['status_before'] or '—'} → {g['status_after'] or '—'}"
        value = f"{g['value_before']} → {g['value_after']}"
        if g["change_rel"] is not None and math.isfinite(g["change_rel"]):
            value += f" ({g['change_rel'] * 100:+.2f}%)"
        extra = ("; " + ", ".join(g["gate_changes"])) if g["gate_changes"] else ""
        flag = " LOOSENED" if g["loosened"] else ""
        lines.append(f"{g['id']:<{width}}  {status:<22} {value}{extra}{flag}")
    for s in d["specs"]:
        if s["changed"]:
            lines.append(
                f"spec {s['id']}: {s['version_before']} → {s['version_after']} (content changed)"
            )
    for a in d["artifacts"]:
        was, now = str(a["sha256_before"])[:12], str(a["sha256_after"])[:12]
        lines.append(f"artifact {a['name']}: sha256 {was} → {now}")
    if d["loosened"]:
        lines.append(
            f"\n{len(d['loosened'])} gate(s) loosened since the previous release: "
            + ", ".join(d["loosened"])
        )
    return "\n".join(lines) + "\n"
