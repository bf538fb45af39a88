"""JUnit XML: a testsuite per spec, a testcase per gate.

Gates that make the decision NO-GO are red (FAIL → ``<failure>``, ERROR → ``<error>``, a
required gate SKIPPED → ``<failure type="SKIPPED-REQUIRED">``); WARN, advisory FAIL and WAIVED
stay green with a ``status`` property and the message in ``<system-out>``; an optional skip is
``<skipped>``. So a CI test tab shows exactly what blocks the release.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from albor_gates.render.sanitize import visible, walk


def _case(suite: ET.Element, g: Mapping[str, Any]) -> tuple[int, int, int]:
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": g["spec"],
            "name": f"{g['id']}: {g['title']}",
            "file": g["location"]["file"],
            "line": str(g["location"]["line"]),
            "time": f"{g['duration_s']:.3f}",
        },
    )
    props = ET.SubElement(case, "properties")
    for key in ("status", "severity", "check", "effect"):
        ET.SubElement(props, "property", {"name": key, "value": str(g[key])})
    ET.SubElement(props, "property", {"name": "required", "value": str(g["required"]).lower()})
    status, effect, msg = g["status"], g["effect"], g["message"]
    body = "\n".join(x for x in (msg, g.get("summary", ""), g.get("fix", "")) if x)
    failures = errors = skipped = 0
    if effect == "NO-GO" and status == "ERROR":
        ET.SubElement(case, "error", {"message": msg, "type": "ERROR"}).text = body
        errors = 1
    elif effect == "NO-GO":
        kind = "SKIPPED-REQUIRED" if status == "SKIPPED" else status
        ET.SubElement(case, "failure", {"message": msg, "type": kind}).text = body
        failures = 1
    elif status == "SKIPPED":
        ET.SubElement(case, "skipped", {"message": msg})
        skipped = 1
    if status != "PASS":
        ET.SubElement(case, "system-out").text = f"{status}: {body}"
    return failures, errors, skipped


def render(record: Mapping[str, Any]) -> str:
    """Render the record as JUnit XML."""
    record = walk(record, visible)  # XML 1.0 has no representation for most control characters
    root = ET.Element("testsuites", {"name": "albor-gates"})
    totals = [0, 0, 0, 0]
    specs = sorted({g["spec"] for g in record["gates"]})
    for spec in specs:
        gates = [g for g in record["gates"] if g["spec"] == spec]
        suite = ET.SubElement(
            root, "testsuite", {"name": spec, "timestamp": record["generated_at"]}
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "decision", "value": record["decision"]})
        f = e = s = 0
        time = 0.0
        for g in gates:
            df, de, ds = _case(suite, g)
            f, e, s = f + df, e + de, s + ds
            time += g["duration_s"]
        suite.set("tests", str(len(gates)))
        suite.set("failures", str(f))
        suite.set("errors", str(e))
        suite.set("skipped", str(s))
        suite.set("time", f"{time:.3f}")
        totals = [totals[0] + len(gates), totals[1] + f, totals[2] + e, totals[3] + s]
    for key, val in zip(("tests", "failures", "errors", "skipped"), totals, strict=True):
        root.set(key, str(val))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
