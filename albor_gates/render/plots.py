"""Inline SVG line charts for the HTML report (no JavaScript, no network, deterministic)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

W, H = 640, 260
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 28, 40
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    out: list[float] = []
    v = start
    while v <= hi + step * 1e-9 and len(out) < 12:
        out.append(round(v, 12))
        v += step
    return out


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def line_chart(plot: Mapping[str, Any]) -> str:
    """Render ``{title, x_label, y_label, x: [...], series: {name: [...]}}`` as an SVG string.

    ``None`` values (non-finite points) break the line and are marked with a red cross.
    """
    xs: Sequence[float] = [float(x) for x in plot.get("x", [])]
    series: Mapping[str, Sequence[Any]] = plot.get("series", {})
    values = [float(v) for ys in series.values() for v in ys if v is not None]
    if not xs or not values:
        return '<p class="noplot">no finite points to plot</p>'
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(values), max(values)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad

    def sx(x: float) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * (W - PAD_L - PAD_R)

    def sy(y: float) -> float:
        return H - PAD_B - (y - y0) / (y1 - y0) * (H - PAD_T - PAD_B)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{escape(str(plot.get("title", "plot")))}" class="plot">',
        f'<text x="{W / 2}" y="16" text-anchor="middle" class="t">'
        f"{escape(str(plot.get('title', '')))}</text>",
    ]
    for t in _ticks(y0, y1):
        y = sy(t)
        parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for t in _ticks(x0, x1):
        x = sx(t)
        parts.append(
            f'<text x="{x:.1f}" y="{H - PAD_B + 16}" text-anchor="middle">{_fmt(t)}</text>'
        )
    x_label = escape(str(plot.get("x_label", "")))
    parts.append(f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">{x_label}</text>')
    parts.append(
        f'<text x="14" y="{H / 2}" text-anchor="middle" transform="rotate(-90 14 {H / 2})">'
        f"{escape(str(plot.get('y_label', '')))}</text>"
    )
    for k, (name, ys) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for x, y in zip(xs, ys, strict=False):
            if y is None:
                if segment:
                    segments.append(segment)
                segment = []
                parts.append(
                    f'<text x="{sx(x):.1f}" y="{PAD_T + 10}" text-anchor="middle" '
                    'class="bad">✕</text>'
                )
                continue
            segment.append(f"{sx(x):.1f},{sy(float(y)):.1f}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            else:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" '
                    f'points="{" ".join(seg)}"/>'
                )
        parts.append(
            f'<text x="{W - PAD_R - 4}" y="{PAD_T + 14 + 14 * k}" text-anchor="end" '
            f'fill="{colour}">{escape(str(name))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
