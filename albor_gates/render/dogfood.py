"""The filled /dogfood verdict document (and warnings.md / no-go.md), rendered from records.

Pure: the dogfood spec's record and the ship spec's record go in, Markdown comes out. Every
value in the documents is read from a record — a gate's value, message, summary or details
(the operator's own evidence is in the ``evidence.schema`` gates' details) — and the templates
(``templates/dogfood-*.md.j2``) run under StrictUndefined, so a missing field is an error,
never a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.render.html import environment
from albor_gates.render.sanitize import markdown, walk

SECTIONS = {
    0: "Provenance + identity",
    1: "Pull + install verification",
    2: "Inference smoke",
    3: "Inference benchmark",
    4: "Format export round-trip (AC-SHIP2-009)",
    5: "apr qa (8-gate falsifier sweep)",
    6: "/dogfood skill (12 protocols + 5 contract gates)",
    7: "Independent consumer test",
}
# The ship spec's criteria the §8 citation names as discharged for v1, and the outstanding ones.
DISCHARGES = ("AC-SHIP2-003-LOOSE", "AC-SHIP2-006", "AC-SHIP2-009", "AC-SHIP2-010")
OUTSTANDING = ("AC-SHIP2-007", "AC-SHIP2-008", "AC-SHIP2-003-STRICT")
MARK = {"PASS": "✅", "WARN": "⚠️", "WAIVED": "🛡️", "SKIPPED": "⏭️", "FAIL": "❌", "ERROR": "💥"}


def _section_of(gate: Mapping[str, Any]) -> int | None:
    for tag in gate.get("tags", []):
        if tag.startswith("section-") and tag[8:].isdigit():
            return int(tag[8:])
    return None


def _doc(gates: Mapping[str, Mapping[str, Any]], gid: str) -> Mapping[str, Any]:
    g = gates.get(gid)
    doc = g["details"].get("document") if g else None
    return doc if isinstance(doc, Mapping) else {}


def field(doc: Mapping[str, Any], path: str) -> str:
    """``doc[a][b]`` for ``path`` ``a.b`` as text, or a visible "(missing: a.b)" marker."""
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return f"**(missing: {path})**"
        node = node[part]
    return str(node)


def context(dogfood: Mapping[str, Any], ship: Mapping[str, Any] | None) -> dict[str, Any]:
    """Everything the templates read, derived from the two records only."""
    gates = {g["id"]: g for g in dogfood["gates"]}
    sections = []
    for n, title in SECTIONS.items():
        members = [g for g in dogfood["gates"] if _section_of(g) == n]
        hard = [g for g in members if g["effect"] == "NO-GO"]
        soft = [g for g in members if g["effect"] == "WARN"]
        sections.append(
            {
                "number": n,
                "title": title,
                "gates": members,
                "evaluated": bool(members),
                "passed": bool(members) and not hard,
                "clean": bool(members) and not hard and not soft,
                "hard": hard,
                "soft": soft,
            }
        )
    ship_gates = {g["id"]: g for g in (ship or {}).get("gates", [])}
    return {
        "record": dogfood,
        "field": field,
        "ship": ship,
        "gates": gates,
        "mark": MARK,
        "sections": sections,
        "sections_passed": sum(1 for s in sections[1:] if s["passed"]),
        "sections_judged": len(sections) - 1,
        "hard_failures": [g for g in dogfood["gates"] if g["effect"] == "NO-GO"],
        "soft_warnings": [g for g in dogfood["gates"] if g["effect"] == "WARN"],
        "operator": _doc(gates, "DF-0-IDENTITY"),
        "consumer": _doc(gates, "DF-7-CONSUMER-REPORT"),
        "summary_doc": _doc(gates, "DF-6-SUMMARY"),
        "discharged": [ship_gates[i] for i in DISCHARGES if i in ship_gates],
        "outstanding": [ship_gates[i] for i in OUTSTANDING if i in ship_gates],
        "date": dogfood["generated_at"][:10],
    }


def render_dogfood(
    dogfood: Mapping[str, Any], ship: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Render the verdict document and the files its decision-tree branch asks for.

    Returns:
        file name → text: ``dogfood-verdict.md`` always; ``warnings.md`` for WARN;
        ``no-go.md`` for NO-GO.
    """
    env = environment()
    # every value from a record is Markdown-escaped once, here; the templates' own markup is not
    ctx = context(walk(dogfood, markdown), walk(ship, markdown) if ship is not None else None)
    out = {"dogfood-verdict.md": env.get_template("dogfood-verdict.md.j2").render(**ctx)}
    if dogfood["decision"] == "WARN":
        out["warnings.md"] = env.get_template("dogfood-warnings.md.j2").render(**ctx)
    if dogfood["decision"] == "NO-GO":
        out["no-go.md"] = env.get_template("dogfood-no-go.md.j2").render(**ctx)
    return out
