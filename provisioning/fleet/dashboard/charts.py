"""Server-side SVG charts (no JavaScript, no CDN). Each chart is an image with a title and a short
description; the page shows the same figures in a table just below (the accessible alternative).
Suppressed small counts (under 5) are drawn as an empty outlined bar: their value is never drawn."""

from __future__ import annotations

from itertools import count
from markupsafe import Markup, escape

from provisioning.fleet.dashboard.figures import SMALL_COUNT_LIMIT

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 44
_ids = count(1)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f") if value >= 10 or value == int(value) else f"{value:.1f}"


def bar_chart(title: str, points: list[tuple[str, float | None]], unit: str = "",
              suppress_small: bool = False, limit_line: float | None = None) -> Markup:
    """Vertical bars, one per (label, value); None is a missing value (no bar)."""
    ident = f"chart-{next(_ids)}"
    values = [v for _, v in points if v is not None]
    top = _nice_max(max(values + ([limit_line] if limit_line else []) or [0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(points))
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{ident}-t {ident}-d" '
             f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">',
             f'<title id="{ident}-t">{escape(title)}</title>',
             f'<desc id="{ident}-d">{len(points)} valeurs ; maximum {_number(max(values) if values else 0)} {escape(unit)}. '
             'Les données sont dans le tableau qui suit.</desc>']
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(top * fraction)}</text>')
    label_every = max(1, len(points) // 8)
    for index, (label, value) in enumerate(points):
        width = max(1.0, min(slot * 0.7, 28.0))
        x = LEFT + index * slot + (slot - width) / 2
        if value is not None:
            small = suppress_small and value < SMALL_COUNT_LIMIT
            shown = SMALL_COUNT_LIMIT if small else value
            height = plot_h * shown / top
            css = "bar bar-small" if small else "bar"
            parts.append(f'<rect class="{css}" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{width:.1f}" height="{height:.1f}"/>')
        if index % label_every == 0:
            parts.append(f'<text class="axis" x="{x + width / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    if limit_line:
        y = TOP + plot_h * (1 - limit_line / top)
        parts.append(f'<line class="limit" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
