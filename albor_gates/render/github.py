"""GitHub Actions workflow commands: an annotation per gate that is not a clean PASS.

``::error`` for what makes the decision NO-GO, ``::warning`` for WARN-level outcomes,
``::notice`` for waivers and the final decision. Each annotation points at the gate's line in
its spec file, relative to the repository root, so the pull-request diff shows it next to the
threshold; a gate inherited from a bundled spec points at the ``extends:`` line that pulled it in
(:mod:`albor_gates.render.ci`), and no machine path is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from albor_gates.render.ci import CiContext
from albor_gates.render.sanitize import visible, walk


def escape_data(s: str) -> str:
    """Escape a workflow command's message (``%``, CR, LF)."""
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_prop(s: str) -> str:
    """Escape a workflow command's property value (also ``:`` and ``,``)."""
    return escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render(record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """Render the annotations, one per line, and a final decision notice."""
    ctx = ctx or CiContext()
    places = [ctx.locate(g["location"]["file"], g["location"]["line"]) for g in record["gates"]]
    record = walk(ctx.scrub(record), visible)  # no raw ESC/BEL in a CI log
    lines: list[str] = []
    for g, place in zip(record["gates"], places, strict=True):
        status, effect = g["status"], g["effect"]
        if status == "PASS":
            continue
        level = {"NO-GO": "error", "WARN": "warning"}.get(effect, "notice")
        if status == "WAIVED":
            level = "notice"
        props = (
            f"file={escape_prop(place.uri)},line={place.line},"
            f"title={escape_prop(g['id'] + ' ' + status)}"
        )
        text = g["message"] + (f" — fix: {g['fix']}" if g.get("fix") else "")
        lines.append(f"::{level} {props}::{escape_data(text)}")
    counts = ", ".join(f"{n} {s}" for s, n in record["counts"].items() if n)
    lines.append(
        f"::notice title={escape_prop('albor-gates ' + record['decision'])}::"
        f"{escape_data(record['decision'] + ' (' + counts + ')')}"
    )
    return "\n".join(lines) + "\n"
