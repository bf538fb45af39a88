"""Markdown summary for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

Blocking problems first, then warnings, then a collapsed table of every gate. Cell text is
escaped so a message cannot break the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.render.sanitize import visible, walk
from albor_gates.render.text import cached_note, partial_note

_ICON = {"GO": "✅", "WARN": "⚠️", "NO-GO": "❌"}
_STATUS_ICON = {
    "PASS": "✅",
    "WARN": "⚠️",
    "WAIVED": "🛡️",
    "SKIPPED": "⏭️",
    "FAIL": "❌",
    "ERROR": "💥",
}


def _cell(s: Any) -> str:
    text = str(s).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")
    return text if len(text) <= 300 else text[:297] + "..."


def render(record: Mapping[str, Any]) -> str:
    """Render the summary."""
    record = walk(record, visible)  # a bare CR or a newline never starts a Markdown block
    d = record["decision"]
    roots = ", ".join(f"`{s['id']}` {s['version']}" for s in record["specs"] if s.get("root"))
    counts = " · ".join(f"{n} {s}" for s, n in record["counts"].items() if n)
    cached = sum(1 for g in record["gates"] if g.get("cache"))
    counts += f" · {cached} cached" if cached else ""
    out = [f"## {_ICON[d]} albor-gates: **{d}**", "", f"{roots} — {counts}", ""]
    if record.get("partial"):  # issue 12: a selection's decision is never a release verdict
        out += [f"> **{_cell(partial_note(record['selection']))}**", ""]
    samples = record.get("options", {}).get("sample_evidence")
    if samples:  # issue 10: a report built from sample evidence says so at the top
        out += [f"> ⚠️ **SAMPLE EVIDENCE — not a release verdict:** {_cell(', '.join(samples))}", ""]
    blocking = [g for g in record["gates"] if g["effect"] == "NO-GO"]
    warning = [g for g in record["gates"] if g["effect"] == "WARN"]
    for title, group in (("Blocking", blocking), ("Warnings", warning)):
        if not group:
            continue
        out += [f"### {title}", ""]
        for g in group:
            line = f"- {_STATUS_ICON[g['status']]} **{g['id']}** — {_cell(g['message'])}"
            if g.get("fix"):
                line += f" _Fix:_ {_cell(g['fix'])}"
            if g.get("cache"):
                line += f" _{_cell(cached_note(g))}_"
            out.append(line)
        out.append("")
    bad_waivers = [w for w in record.get("waivers", []) if w["state"] != "live"]
    if bad_waivers:
        out += ["### Waivers needing attention", ""]
        out += [f"- `{w['gate']}`: {w['state']} — {_cell(w['message'])}" for w in bad_waivers]
        out.append("")
    out += [
        "<details><summary>All gates</summary>",
        "",
        "| Status | Gate | Severity | Result |",
        "|---|---|---|---|",
    ]
    for g in record["gates"]:
        sev = g["severity"] + ("" if g["required"] else " (optional)")
        over = "".join(
            f" _({', '.join(o['changed'])} overridden by {o['spec']}: {_cell(o['reason'])})_"
            for o in g.get("overrides", [])
        )
        if g.get("cache"):
            over += f" _{_cell(cached_note(g))}_"
        out.append(
            f"| {_STATUS_ICON[g['status']]} {g['status']} | `{g['id']}` | {sev} | "
            f"{_cell(g['message'])}{over} |"
        )
    out += ["", "</details>", ""]
    return "\n".join(out)
