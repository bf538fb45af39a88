"""``gates lint`` output: one pure function per format over the neutral lint record.

The lint record (``schema: albor-gates/lint``) is what ``albor_gates.engine.lint.lint_record``
returns: the files read, the summary line and every located problem (``file``, ``line``,
``col``, ``where``, ``message``, ``hint``, ``text`` — the one-line form ``gates`` prints).
``text`` is the summary (problems in text go to stderr through the CLI's error path), ``json``
the record itself, ``sarif`` one ``error`` result per problem, ``github`` one ``::error``
annotation per problem, so a pull request shows a broken spec at its line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from albor_gates.render.sanitize import visible, walk

if TYPE_CHECKING:
    from albor_gates.render.ci import CiContext

# The CI views import their helpers when asked for: `gates lint` in text (the pre-commit hook,
# a terminal) does not import the SARIF and annotation renderers.

RULE = "spec-problem"


def render_text(record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """The problems one per line, then the summary."""
    lines = [visible(p["text"]) for p in record["problems"]] + _summary(record)
    return "\n".join(lines) + "\n"


def render_json(record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """The record as JSON (data kept as is, like the JSON report)."""
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_sarif(record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """A SARIF 2.1.0 log: one ``error`` result per problem, at its repository-relative place."""
    from albor_gates.render.ci import CiContext
    from albor_gates.render.sarif import location, sarif_text

    ctx = ctx or CiContext()
    places = [location(ctx, p["file"], p["line"], p["col"] or 1) for p in record["problems"]]
    record = walk(ctx.scrub(record), visible)
    results = []
    for p, place in zip(record["problems"], places, strict=True):
        message = p["message"] + (f" ({p['hint']})" if p["hint"] else "")
        if p["where"]:
            message = f"{p['where']}: {message}"
        results.append(
            {
                "ruleId": RULE,
                "level": "error",
                "message": {"text": message},
                "locations": [place],
            }
        )
    rule = {
        "id": RULE,
        "shortDescription": {"text": "A spec or configuration file is broken."},
        "defaultConfiguration": {"level": "error"},
    }
    driver = {"version": record["tool"]["version"], "rules": [rule]}
    return sarif_text(driver, {"results": results})


def render_github(record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """One ``::error`` annotation per problem, or a notice per summary line when clean."""
    from albor_gates.render.ci import CiContext
    from albor_gates.render.github import escape_data, escape_prop

    ctx = ctx or CiContext()
    summary = _summary(record)
    places = [ctx.locate(p["file"], p["line"]) for p in record["problems"]]
    record = walk(ctx.scrub(record), visible)
    lines = []
    for p, place in zip(record["problems"], places, strict=True):
        props = f"file={escape_prop(place.uri)}"
        if place.line:
            col = (p["col"] or 1) if place.line == p["line"] else 1
            props += f",line={place.line},col={col}"
        props += f",title={escape_prop('gates lint')}"
        text = (f"{p['where']}: " if p["where"] else "") + p["message"]
        text += f" ({p['hint']})" if p["hint"] else ""
        lines.append(f"::error {props}::{escape_data(text)}")
    if not lines:
        lines += [f"::notice title=gates lint::{escape_data(t)}" for t in summary]
    return "\n".join(lines) + "\n"


def _summary(record: Mapping[str, Any]) -> list[str]:
    """The summary's lines, each made visible (it holds a newline of its own)."""
    return [visible(line) for line in str(record["summary"]).splitlines()]


LINT_RENDERERS: dict[str, Callable[[Mapping[str, Any], CiContext | None], str]] = {
    "github": render_github,
    "json": render_json,
    "sarif": render_sarif,
    "text": render_text,
}
