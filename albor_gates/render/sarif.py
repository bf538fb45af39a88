"""SARIF 2.1.0 for code scanning: one rule per gate, one result per finding, located in the repo.

Every ``artifactLocation`` is a relative ``uri`` under a ``uriBaseId`` (SARIF §3.4.4,
§3.14.14), never a ``file://`` machine path: ``%SRCROOT%`` (the repository root), or for a spec
outside it the rules of :mod:`albor_gates.render.ci` — a gate inherited through ``extends:`` is
located at that ``extends:`` line. ``originalUriBaseIds`` describes each base without a ``uri``
(§3.14.14: the consumer supplies it; code scanning takes the checkout), so no report carries
the runner's paths. Each rule's ``help`` is the ``gates explain`` text of its check kind.

Results are the findings: a PASS and a gate not selected are left out unless ``include_pass``
(``--sarif-include-pass``) asks for them, since code scanning would list each as an alert.
Mapping (SARIF §3.27.9/§3.27.10: a ``kind`` other than ``fail`` carries ``level: none``):

=================================  ==============  =========================================
gate                               kind            level
=================================  ==============  =========================================
PASS                               pass            none (left out by default)
not selected                       notApplicable   none (left out by default)
FAIL / ERROR / required SKIPPED    fail            error (warning / note: advisory / info)
WARN                               fail            warning
optional SKIPPED                   notApplicable   none
WAIVED                             fail            warning, with an accepted suppression
=================================  ==============  =========================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from albor_gates.render.ci import BASE_DESCRIPTIONS, CiContext
from albor_gates.render.sanitize import visible, walk

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SEV_LEVEL = {"blocking": "error", "advisory": "warning", "info": "note"}


def location(ctx: CiContext, path: str, line: int, col: int = 0) -> dict[str, Any]:
    """A SARIF ``location`` of ``path:line`` as :meth:`CiContext.locate` places it."""
    where = ctx.locate(path, line)
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": quote(where.uri), "uriBaseId": where.base}
    }
    if where.line > 0:
        physical["region"] = {"startLine": where.line} | (
            {"startColumn": col} if col > 0 and where.line == line else {}
        )
    return {"physicalLocation": physical}


def _finding(g: Mapping[str, Any]) -> bool:
    """Whether a gate is a finding: not a PASS, and not left out by --select / --ignore."""
    return g["status"] != "PASS" and g.get("selected", True)


def _kind_level(g: Mapping[str, Any]) -> tuple[str, str]:
    status = g["status"]
    if status == "PASS":
        return "pass", "none"
    if status == "SKIPPED":
        if g["required"] and g.get("selected", True):
            return "fail", "error"
        return "notApplicable", "none"
    if status == "ERROR":
        return "fail", "error"
    if status in ("WARN", "WAIVED"):
        return "fail", "warning"
    return "fail", _SEV_LEVEL[g["severity"]]


def render(record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """Render the record as a SARIF 2.1.0 log (``ctx``: locations, rule help, PASS results)."""
    ctx = ctx or CiContext()
    places = [
        location(ctx, g["location"]["file"], int(g["location"]["line"])) for g in record["gates"]
    ]
    # code-scanning views show messages as text: one line each, no machine path
    record = walk(ctx.scrub(record), visible)
    rules: list[dict[str, Any]] = []
    index: dict[tuple[str, str], int] = {}
    results: list[dict[str, Any]] = []
    for g, place in zip(record["gates"], places, strict=True):
        kind, level = _kind_level(g)
        if not (ctx.include_pass or _finding(g)):
            continue
        key = (g["spec"], g["id"])
        if key not in index:
            index[key] = len(rules)
            rules.append(_rule(g, ctx.kind_help.get(g["check"], "")))
        text = g["message"] + (f" — fix: {g['fix']}" if g.get("fix") else "")
        res: dict[str, Any] = {
            "ruleId": g["id"],
            "ruleIndex": index[key],
            "kind": kind,
            "level": level,
            "message": {"text": text or g["status"]},
            "locations": [place],
            "properties": {"status": g["status"], "effect": g["effect"], "value": g["value"]},
        }
        if g["status"] == "WAIVED" and g.get("waiver"):
            w = g["waiver"]
            res["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{w['reason']} (approved by {w['approved_by']}, "
                    f"expires {w['expires']})",
                }
            ]
        results.append(res)
    run = {
        "invocations": [
            {
                "executionSuccessful": not any(g["internal_error"] for g in record["gates"]),
                "endTimeUtc": record["generated_at"],
            }
        ],
        "results": results,
        "properties": {"decision": record["decision"], "reasons": record["reasons"]},
    }
    return sarif_text({"version": record["tool"]["version"], "rules": rules}, run)


def _rule(g: Mapping[str, Any], help_text: str) -> dict[str, Any]:
    """The reportingDescriptor of a gate; ``help`` is its check kind's ``gates explain`` text."""
    rule: dict[str, Any] = {
        "id": g["id"],
        "name": g["check"],
        "shortDescription": {"text": g["title"]},
        "defaultConfiguration": {"level": _SEV_LEVEL[g["severity"]]},
        "properties": {
            "spec": g["spec"],
            "check": g["check"],
            "severity": g["severity"],
            "required": g["required"],
            "aliases": [a["id"] for a in g["aliases"]],
            "tags": g["tags"],
        },
    }
    if help_text:
        rule["help"] = {"text": help_text, "markdown": f"```text\n{help_text}```\n"}
    return rule


def sarif_text(driver: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    """A SARIF 2.1.0 log of one albor-gates run (reports and ``gates lint -f sarif``)."""
    # no informationUri: the project publishes no URL yet, and a placeholder would mislead
    used = {
        loc["physicalLocation"]["artifactLocation"]["uriBaseId"]
        for result in run["results"]
        for loc in result["locations"]
    }
    bases = {k: {"description": {"text": v}} for k, v in BASE_DESCRIPTIONS.items() if k in used}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "albor-gates", **driver}},
                **({"originalUriBaseIds": bases} if bases else {}),
                **run,
            }
        ],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
