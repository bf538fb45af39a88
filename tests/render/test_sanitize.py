"""Issue 11 §3–§4: untrusted text cannot forge CI output or break a report.

A hostile tensor name, message or evidence field goes into the scenario's record; every
renderer must keep it on one line, show escape sequences, neutralise workflow commands and
stay well-formed. Each assertion fails on main before issue 11.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from albor_gates.render import RENDERERS, Format
from albor_gates.render import text as text_renderer
from albor_gates.render.dogfood import render_dogfood
from albor_gates.render.sanitize import markdown, visible

HOSTILE = (
    "layer.0\n::error::forged\r\n::stop-commands::tok\x1b]0;title\x07\x1b]52;c;Y2F0\x07"
    "\x1b[2J\x00<img src=x onerror=alert(1)>|cell|\n# heading"
)


@pytest.fixture
def hostile(scenario) -> dict:
    record = scenario()
    g = record["gates"][0]
    g["status"], g["effect"] = "ERROR", "NO-GO"
    g["message"] = f"tensor {HOSTILE} is NaN"
    g["summary"], g["fix"], g["title"] = HOSTILE, HOSTILE, HOSTILE
    g["unit"] = "nats\n::error::unit"
    return record


def test_visible_and_markdown_forms() -> None:
    assert visible("a\nb\r\x1b[2J\x07\u202e") == "a\\nb\\r\\x1b[2J\\x07\\u202e"
    assert visible("  ::error::x") == "  \\::error::x"
    assert visible("plain text: a::b") == "plain text: a::b"
    assert markdown("<b>|[x](y)") == "&lt;b&gt;\\|\\[x\\](y)"


@pytest.mark.parametrize("fmt", [f for f in Format if f not in (Format.JSON, Format.HTML)])
def test_no_line_is_a_workflow_command_or_holds_an_escape(hostile, fmt: Format) -> None:
    out = (
        text_renderer.render(hostile, color=False, width=10_000)
        if fmt is Format.TEXT
        else RENDERERS[fmt](hostile)
    )
    ours = ("::error ", "::warning ", "::notice ")  # the github renderer's own annotations
    for line in out.splitlines():
        assert not line.lstrip().startswith("::") or line.startswith(ours), line
    for ch in "\x1b\x07\x00\r":
        assert ch not in out, (fmt, ch)


def test_junit_stays_well_formed(hostile) -> None:
    root = ET.fromstring(RENDERERS[Format.JUNIT](hostile))
    assert root.find(".//error") is not None


def test_markdown_summary_escapes_html_and_table_cells(hostile) -> None:
    out = RENDERERS[Format.MARKDOWN](hostile)
    assert "<img" not in out and "&lt;img" in out
    assert "\\|cell\\|" in out
    assert "\n# heading" not in out


def test_dogfood_documents_escape_evidence(hostile) -> None:
    hostile["decision"] = "NO-GO"
    hostile["gates"][0]["tags"] = ["section-1"]
    docs = render_dogfood(hostile, hostile)
    assert set(docs) == {"dogfood-verdict.md", "no-go.md"}
    for text in docs.values():
        assert "<img" not in text
        assert "\n# heading" not in text and "\n::error" not in text
        assert "\x1b" not in text


def test_json_keeps_the_data(hostile) -> None:
    data = json.loads(RENDERERS[Format.JSON](hostile))
    assert data["gates"][0]["summary"] == HOSTILE
