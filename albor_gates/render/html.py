"""Self-contained HTML report: verdict, gate table and every plot the gates recorded.

One file, no network: CSS and SVG are inline, no JavaScript. Rendered from
``templates/report.html.j2`` with Jinja's StrictUndefined and autoescaping.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from albor_gates.render.plots import line_chart
from albor_gates.render.text import cached_note
from albor_gates.spec.resources import data_dir

if TYPE_CHECKING:
    import jinja2


def environment() -> jinja2.Environment:
    """The Jinja environment over the bundled templates (StrictUndefined, autoescape)."""
    import jinja2  # imported here: `gates lint` and `--help` load the renderers, not Jinja

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(record: Mapping[str, Any]) -> str:
    """Render the HTML report."""
    plots = []
    for g in record["gates"]:
        plot = g["details"].get("plot") if isinstance(g.get("details"), Mapping) else None
        if isinstance(plot, Mapping):
            plots.append({"gate": g["id"], "svg": line_chart(plot)})
    template = environment().get_template("report.html.j2")
    return template.render(record=record, plots=plots, cached_note=cached_note)
