"""Terminal report: a table of gates and the decision; colour only when asked (a TTY)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.render.sanitize import visible, walk

_COLOURS = {
    "PASS": "32",
    "WARN": "33",
    "WAIVED": "36",
    "SKIPPED": "35",
    "FAIL": "31",
    "ERROR": "31;1",
    "GO": "32;1",
    "NO-GO": "31;1",
}
_ORDER = {"ERROR": 0, "FAIL": 1, "SKIPPED": 2, "WARN": 3, "WAIVED": 4, "PASS": 5}


def _paint(word: str, color: bool) -> str:
    code = _COLOURS.get(word)
    if not color or code is None:
        return word
    return f"\x1b[{code}m{word}\x1b[0m"


def partial_note(selection: Mapping[str, Any]) -> str:
    """The sentence that says a decision covers the selected gates only (issue 12)."""
    left, required = selection["not_selected"], selection["required_not_selected"]
    return (
        f"PARTIAL: {len(left)} gates not selected ({len(required)} required); "
        "the decision covers the selected gates only"
    )


def cached_note(gate: Mapping[str, Any]) -> str:
    """How every format says a gate's measurement came from the evidence cache (issue 12)."""
    cache = gate["cache"]
    return f"cached (measured {str(cache['measured_at'])[:10]} on {cache['device']})"


def render(record: Mapping[str, Any], *, color: bool = False, width: int = 100) -> str:
    """Render the gates table and the decision block."""
    record = walk(record, visible)  # one line per value, no escape sequence reaches a terminal
    gates = sorted(record["gates"], key=lambda g: (_ORDER.get(g["status"], 9), g["spec"], g["id"]))
    id_w = min(max([len(g["id"]) for g in gates] + [4]), 36)
    lines: list[str] = []
    specs = ", ".join(f"{s['id']} {s['version']}" for s in record["specs"] if s.get("root"))
    lines.append(f"albor-gates {record['tool']['version']} · {specs}")
    lines.append("")
    lines.append(f"{'STATUS':<8} {'GATE':<{id_w}} {'SEV':<8} RESULT")
    for g in gates:
        status = g["status"]
        pad = " " * (8 - len(status))
        sev = g["severity"] + ("" if g["required"] else "?")
        msg = g["message"]
        room = max(width - 8 - id_w - 11, 30)
        if len(msg) > room:
            msg = msg[: room - 1] + "…"
        lines.append(f"{_paint(status, color)}{pad} {g['id']:<{id_w}} {sev:<8} {msg}")
        if status != "PASS" and g.get("summary") and g["summary"] not in msg:
            lines.append(f"{'':8} {'':<{id_w}} {'':8} {g['summary']}")
        if status in ("FAIL", "ERROR", "WARN") and g.get("fix"):
            lines.append(f"{'':8} {'':<{id_w}} {'':8} fix: {g['fix']}")
        if g.get("cache"):
            lines.append(f"{'':8} {'':<{id_w}} {'':8} {cached_note(g)}")
        for o in g.get("overrides", []):
            changed = ", ".join(o["changed"])
            lines.append(
                f"{'':8} {'':<{id_w}} {'':8} {changed} overridden by {o['spec']}: {o['reason']}"
            )
    counts = record["counts"]
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines.append("")
    cached = sum(1 for g in gates if g.get("cache"))
    lines.append(f"{len(gates)} gates: {tally or 'none'}" + (f"; {cached} cached" * bool(cached)))
    if any(not g["required"] for g in gates):
        lines.append("(? = optional gate: skipping it warns instead of blocking)")
    for w in record.get("waivers", []):
        if w["state"] != "live" or w["applied"]:
            lines.append(f"waiver {w['gate']}: {w['state']} — {w['message']}")
    decision = record["decision"]
    lines.append(f"Decision: {_paint(decision, color)}")
    for reason in record["reasons"][:20]:
        lines.append(f"  - {reason}")
    if len(record["reasons"]) > 20:
        lines.append(f"  … and {len(record['reasons']) - 20} more")
    if record.get("partial"):
        lines.append(partial_note(record["selection"]))
    return "\n".join(lines) + "\n"
