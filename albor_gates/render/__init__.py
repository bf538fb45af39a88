"""Renderers: one pure function per format over the neutral record (no engine objects).

``RENDERERS[fmt](record)`` returns the text; ``FILENAMES[fmt]`` names the file it is written to
under ``--output-dir``. Adding a format is adding a module and a row here. The CI views
(SARIF, annotations) also take a :class:`~albor_gates.render.ci.CiContext` — the repository
root, where inherited gates entered, the kinds' help — through :func:`render`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# The module of each format: imported when RENDERERS (or render) is first used, so what needs
# Format alone (the configuration, `gates lint`) does not import the seven renderers.
_MODULES: dict[Format, str] = {
    Format.GITHUB: "github",
    Format.HTML: "html",
    Format.JSON: "json_report",
    Format.JUNIT: "junit",
    Format.MARKDOWN: "markdown",
    Format.SARIF: "sarif",
    Format.TEXT: "text",
}
_CI_FORMATS = (Format.GITHUB, Format.SARIF)

FILENAMES: dict[Format, str] = {
    Format.GITHUB: "gates-annotations.txt",
    Format.HTML: "gates-report.html",
    Format.JSON: "gates-report.json",
    Format.JUNIT: "gates-junit.xml",
    Format.MARKDOWN: "gates-summary.md",
    Format.SARIF: "gates.sarif",
    Format.TEXT: "gates-report.txt",
}

CiRenderer = Callable[[Mapping[str, Any], "CiContext | None"], str]

if TYPE_CHECKING:
    RENDERERS: dict[Format, Renderer]
    CI_RENDERERS: dict[Format, CiRenderer]

_loaded: dict[str, Any] = {}


def _tables() -> dict[str, Any]:
    """RENDERERS and CI_RENDERERS, built (their modules imported) on first use."""
    if not _loaded:
        found = {
            f: __import__(f"albor_gates.render.{m}", fromlist=["render"]).render
            for f, m in _MODULES.items()
        }
        _loaded["RENDERERS"] = found
        _loaded["CI_RENDERERS"] = {f: found[f] for f in _CI_FORMATS}
    return _loaded


def __getattr__(name: str) -> Any:
    """``RENDERERS[fmt](record)`` and ``CI_RENDERERS[fmt](record, ctx)``, built on first use."""
    if name in ("RENDERERS", "CI_RENDERERS"):
        return _tables()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render(fmt: Format, record: Mapping[str, Any], ctx: CiContext | None = None) -> str:
    """``fmt`` of ``record``; the CI views get ``ctx`` (the others need none)."""
    tables = _tables()
    ci = tables["CI_RENDERERS"].get(fmt)
    text: str = ci(record, ctx) if ci is not None else tables["RENDERERS"][fmt](record)
    return text
