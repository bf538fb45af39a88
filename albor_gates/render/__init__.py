"""Renderers: one pure function per format over the neutral record (no engine objects).

``RENDERERS[fmt](record)`` returns the text; ``FILENAMES[fmt]`` names the file it is written to
under ``--output-dir``. Adding a format is adding a module and a row here. The CI views
(SARIF, annotations) also take a :class:`~albor_gates.render.ci.CiContext` — the repository
root, where inherited gates entered, the kinds' help — through :func:`render`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from albor_gates.render import github, html, json_report, junit, markdown, sarif, text
from albor_gates.render.ci import CiContext


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

CI_RENDERERS: dict[Format, Callable[[Mapping[str, Any], CiContext | None], str]] = {
    Format.GITHUB: github.render,
    Format.SARIF: sarif.render,
}


def render(fmt: Format, record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """``fmt`` of ``record``; the CI views get ``ctx`` (the others need none)."""
    ci = CI_RENDERERS.get(fmt)
    return ci(record, ctx) if ci is not None else RENDERERS[fmt](record)
