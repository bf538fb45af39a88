"""SARIF 2.1.0: one rule per gate, one result per gate, located at the gate in its spec file.

Mapping (SARIF §3.27.9/§3.27.10: a ``kind`` other than ``fail`` carries ``level: none``):

=================================  ==============  ========
gate                               kind            level
=================================  ==============  ========
PASS                               pass            none
FAIL / ERROR / required SKIPPED    fail            error (warning / note for advisory / info)
WARN                               fail            warning
optional SKIPPED                   notApplicable   none
WAIVED                             fail            warning, with an accepted suppression
=================================  ==============  ========
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from albor_gates.render.sanitize import visible, walk

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SEV_LEVEL = {"blocking": "error", "advisory": "warning", "info": "note"}


def file_uri(path: str) -> str:
    """A SARIF ``artifactLocation.uri``: ``file://`` for an absolute path, else relative."""
    if PureWindowsPath(path).drive:
        return "file:///" + quote(PureWindowsPath(path).as_posix())
    if path.startswith("/"):
        return "file://" + quote(path)
    return quote(PurePosixPath(path).as_posix())


def _kind_level(g: Mapping[str, Any]) -> tuple[str, str]:
    status = g["status"]
    if status == "PASS":
        return "pass", "none"
    if status == "SKIPPED":
        return ("fail", "error") if g["required"] else ("notApplicable", "none")
    if status == "ERROR":
        return "fail", "error"
    if status in ("WARN", "WAIVED"):
        return "fail", "warning"
    return "fail", _SEV_LEVEL[g["severity"]]


def render(record: Mapping[str, Any]) -> str:
    """Render the record as a SARIF 2.1.0 log."""
    record = walk(record, visible)  # code-scanning views show messages as text: one line each
    gates = record["gates"]
    rules: list[dict[str, Any]] = []
    index: dict[tuple[str, str], int] = {}
    for g in gates:
        key = (g["spec"], g["id"])
        if key in index:
            continue
        index[key] = len(rules)
        rules.append(
            {
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
        )
    results: list[dict[str, Any]] = []
    for g in gates:
        kind, level = _kind_level(g)
        text = g["message"] + (f" — fix: {g['fix']}" if g.get("fix") else "")
        res: dict[str, Any] = {
            "ruleId": g["id"],
            "ruleIndex": index[(g["spec"], g["id"])],
            "kind": kind,
            "level": level,
            "message": {"text": text or g["status"]},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": file_uri(g["location"]["file"])},
                        "region": {"startLine": max(int(g["location"]["line"]), 1)},
                    }
                }
            ],
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
    driver = {
        "version": record["tool"]["version"],
        "informationUri": "https://example.invalid/albor-gates",
        "rules": rules,
    }
    run = {
        "invocations": [
            {
                "executionSuccessful": not any(g["internal_error"] for g in gates),
                "endTimeUtc": record["generated_at"],
            }
        ],
        "results": results,
        "properties": {"decision": record["decision"], "reasons": record["reasons"]},
    }
    return sarif_text(driver, run)


def sarif_text(driver: Mapping[str, Any], run: Mapping[str, Any]) -> str:
    """A SARIF 2.1.0 log of one albor-gates run (reports and ``gates lint -f sarif``)."""
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "albor-gates", **driver}}, **run}],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
