"""Renderers: one pure function per format over the neutral record (no engine objects).

``RENDERERS[fmt](record)`` returns the text; ``FILENAMES[fmt]`` names the file it is written to
under ``--output-dir``. Adding a format is adding a module and a row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from albor_gates.render import github, html, json_report, junit, markdown, sarif, text


class Format(str, Enum):
    """Report formats."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    GITHUB = "github"
    MARKDOWN = "markdown"
    HTML = "html"


Renderer = Callable[[Mapping[str, Any]], str]

RENDERERS: dict[Format, Renderer] = {
    Format.GITHUB: github.render,
    Format.HTML: html.render,
    Format.JSON: json_report.render,
    Format.JUNIT: junit.render,
    Format.MARKDOWN: markdown.render,
    Format.SARIF: sarif.render,
    Format.TEXT: text.render,
}

FILENAMES: dict[Format, str] = {
    Format.GITHUB: "gates-annotations.txt",
    Format.HTML: "gates-report.html",
    Format.JSON: "gates-report.json",
    Format.JUNIT: "gates-junit.xml",
    Format.MARKDOWN: "gates-summary.md",
    Format.SARIF: "gates.sarif",
    Format.TEXT: "gates-report.txt",
}
