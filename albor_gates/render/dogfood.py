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
# AC-SHIP2-008 computed from the weights stands next to the operator's logged figure (issue 15).
OUTSTANDING = (
    "AC-SHIP2-007",
    "AC-SHIP2-008",
    "AC-SHIP2-008-RECOMPUTED",
    "AC-SHIP2-008-RECOMPUTED-VS-LOGGED",
    "AC-SHIP2-003-STRICT",
)
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


def label(gate: Mapping[str, Any]) -> str:
    """HARD or SOFT, as the gate's effect on the decision has it (labels never contradict it).

    HARD: a failure, an ERROR or (for a required gate) a skip is NO-GO. A blocking gate the spec
    lets skip (``required: false``) that was skipped did not block: it is SOFT, and the document
    says so next to it. Any gate whose effect is NO-GO is HARD, whatever its severity.
    """
    if gate["effect"] == "NO-GO":
        return "HARD"
    if gate["severity"] != "blocking":
        return "SOFT"
    return "SOFT" if gate["status"] == "SKIPPED" and not gate["required"] else "HARD"


def reason(gate: Mapping[str, Any]) -> str:
    """Why a gate counts against the verdict; a gate that produced no evidence says so."""
    if gate["status"] in ("SKIPPED", "ERROR"):
        fix = gate.get("fix") or ""
        return f"not evaluated: {gate['message']}" + (f"; {fix}" if fix else "")
    return str(gate["message"])


def _section_state(members: list[Mapping[str, Any]]) -> str:
    """Passed / passed with warnings / not passed (every HARD item PASSed is "passed")."""
    if not members:
        return "not passed"
    hard = [g for g in members if label(g) == "HARD"]
    if any(g["status"] not in ("PASS", "WARN", "WAIVED") for g in hard):
        return "not passed"
    if all(g["status"] == "PASS" for g in members):
        return "passed"
    return "passed with warnings"


def context(dogfood: Mapping[str, Any], ship: Mapping[str, Any] | None) -> dict[str, Any]:
    """Everything the templates read, derived from the two records only.

    Both records carry the run's one decision (``engine.run.restrict``); the hard failures and
    soft warnings listed under it are those of every gate the run evaluated, so the document
    never shows a decision its lists do not explain.
    """
    gates = {g["id"]: g for g in dogfood["gates"]}
    sections = []
    for n, title in SECTIONS.items():
        members = [g for g in dogfood["gates"] if _section_of(g) == n]
        sections.append(
            {
                "number": n,
                "title": title,
                "gates": members,
                "evaluated": bool(members),
                "state": _section_state(members),
            }
        )
    ship_gates = {g["id"]: g for g in (ship or {}).get("gates", [])}
    run_gates = list(dogfood["gates"]) + list((ship or {}).get("gates", []))
    return {
        "record": dogfood,
        "home": next((s["id"] for s in dogfood["specs"] if s.get("root")), ""),
        "field": field,
        "label": label,
        "reason": reason,
        "ship": ship,
        "gates": gates,
        "ship_gates": ship_gates,
        "mark": MARK,
        "sections": sections,
        "sections_passed": sum(1 for s in sections if s["state"] != "not passed"),
        "sections_warned": sum(1 for s in sections if s["state"] == "passed with warnings"),
        "sections_judged": len(sections),
        "hard_failures": [g for g in run_gates if g["effect"] == "NO-GO"],
        "soft_warnings": [g for g in run_gates if g["effect"] == "WARN"],
        "operator": _doc(gates, "DF-0-IDENTITY"),
        "consumer": _doc(gates, "DF-7-CONSUMER-REPORT"),
        "summary_doc": _doc(gates, "DF-6-SUMMARY"),
        "discharged": [ship_gates[i] for i in DISCHARGES if i in ship_gates],
        "outstanding": [ship_gates[i] for i in OUTSTANDING if i in ship_gates],
        "date": dogfood["generated_at"][:10],
        "samples": list(dogfood.get("options", {}).get("sample_evidence", [])),
    }


def relative_paths(text: str, root: str | None) -> str:
    """Write paths under the release root relative to it: a document names no machine path."""
    if not root:
        return text
    base = root.rstrip("/")
    return text.replace(base + "/", "").replace(base, ".")


def render_dogfood(
    dogfood: Mapping[str, Any],
    ship: Mapping[str, Any] | None = None,
    *,
    roots: tuple[str, ...] = (),
) -> dict[str, str]:
    """Render the verdict document and the files its decision-tree branch asks for.

    Args:
        dogfood: the dogfood spec's record.
        ship: the ship spec's record (the citations), or None.
        roots: absolute folders (the release root first, then the specs' folders) that the
            documents write paths relative to (§5 of issue 10: no machine path in a document).

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
    for root in roots:
        out = {name: relative_paths(text, root) for name, text in out.items()}
    return out
