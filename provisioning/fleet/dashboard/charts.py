"""Server-side SVG charts (no JavaScript, no CDN). Each chart is an image with a title and a short
description; the page shows the same figures in a table just below (the accessible alternative).
Suppressed small counts (under 5) are drawn as an empty outlined bar: their value is never drawn.

Readable by construction: axis labels are spaced by their estimated width so they never overlap, long
labels are shortened with « … » (the full text is in the label's tooltip and in the table), every chart
with more than one series has a legend, counts have whole-number axes, and numbers are French.
"""

from __future__ import annotations

from itertools import count
from markupsafe import Markup, escape

from provisioning.fleet.dashboard.figures import SMALL_COUNT_LIMIT
from provisioning.fleet.dashboard.french import number, short_month

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 44
CHAR_WIDTH = 6.6  # px of an 11 px label character (DejaVu Sans averages ~0.6 em): for spacing labels
SERIES_CLASSES = ("bar", "bar bar-second")
_ids = count(1)


def _nice_max(value: float, integers: bool) -> float:
    if value <= 0:
        return 2 if integers else 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if value <= top and (not integers or (top == int(top) and int(top) % 2 == 0)):
            return top
    return 10 * magnitude


def _tick(value: float, integers: bool) -> str:
    return number(round(value)) if integers or value >= 10 or value == int(value) else number(value, 1)


def shorten(label: str, limit: int) -> str:
    """« Allocations familiales (CAF) » → « Allocations famil… » when longer than ``limit`` characters."""
    return label if len(label) <= limit else label[:max(1, limit - 1)].rstrip() + "…"


def _label(x: float, y: float, text: str, limit: int, anchor: str = "middle") -> str:
    shown = shorten(text, limit)
    tooltip = f"<title>{escape(text)}</title>" if shown != text else ""
    return f'<text class="axis" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{tooltip}{escape(shown)}</text>'


def _open(title: str, description: str, height: int = HEIGHT) -> tuple[str, list[str]]:
    ident = f"chart-{next(_ids)}"
    return ident, [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
                   f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg" '
                   'preserveAspectRatio="xMidYMid meet">',
                   f'<title id="{ident}-t">{escape(title)}</title>',
                   f'<desc id="{ident}-d">{escape(description)} Les données sont dans le tableau qui suit.</desc>']


def bar_chart(title: str, points: list[tuple[str, float | None]], unit: str = "",
              suppress_small: bool = False, limit_line: float | None = None, integers: bool | None = None,
              series: tuple[str, ...] = ()) -> Markup:
    """Vertical bars, one group per label. ``points`` are (label, value) or (label, (value, value...))
    for several series, named by ``series`` (drawn in a legend); None is a missing value (no bar)."""
    groups = [(label, value if isinstance(value, (tuple, list)) else (value,)) for label, value in points]
    per_group = max([len(values) for _label_text, values in groups] or [1])
    values = [v for _l, vs in groups for v in vs if v is not None]
    if integers is None:
        integers = all(isinstance(v, int) for v in values)
    top = _nice_max(max(values + ([limit_line] if limit_line else []) or [0]), integers)
    legend_h = 20 if len(series) > 1 else 0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - legend_h
    slot = plot_w / max(1, len(groups))
    peak = _tick(max(values), integers) if values else "0"
    _ident, parts = _open(title, f"{len(groups)} valeurs ; maximum {peak}{' ' + unit if unit else ''}.")
    for fraction in (0, 0.5, 1):
        y = TOP + legend_h + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{_tick(top * fraction, integers)}</text>')
    longest = max([len(label) for label, _vs in groups] or [1])
    limit = max(6, min(longest, 16))
    label_every = max(1, -(-int(limit * CHAR_WIDTH + 8) // max(1, int(slot))))
    for index, (label, group) in enumerate(groups):
        width = max(1.0, min(slot * 0.7, 28.0 * per_group))
        x = LEFT + index * slot + (slot - width) / 2
        bar_w = width / per_group
        for serie, value in enumerate(group):
            if value is None:
                continue
            small = suppress_small and value < SMALL_COUNT_LIMIT
            shown = SMALL_COUNT_LIMIT if small else value
            height = plot_h * shown / top
            css = SERIES_CLASSES[serie % len(SERIES_CLASSES)] + (" bar-small" if small else "")
            parts.append(f'<rect class="{css}" x="{x + serie * bar_w:.1f}" y="{TOP + legend_h + plot_h - height:.1f}" '
                         f'width="{bar_w:.1f}" height="{height:.1f}"/>')
        if index % label_every == 0:
            parts.append(_label(x + width / 2, HEIGHT - BOTTOM + 16, label, limit))
    if limit_line:
        y = TOP + legend_h + plot_h * (1 - limit_line / top)
        parts.append(f'<line class="limit" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
    if len(series) > 1:
        x = LEFT
        for serie, name in enumerate(series):
            parts.append(f'<rect class="{SERIES_CLASSES[serie % 2]}" x="{x}" y="4" width="12" height="12"/>'
                         f'<text class="legend" x="{x + 16}" y="14">{escape(name)}</text>')
            x += 28 + len(name) * CHAR_WIDTH * 1.1
    parts.append("</svg>")
    return Markup("".join(parts))


def ranking_chart(title: str, points: list[tuple[str, int]], suppress_small: bool = False) -> Markup:
    """Horizontal bars, one line per (name, count), for long names (services, communes): each name has
    its own line, so names never overlap; names over 30 characters are shortened (full in the table)."""
    row_h, label_w = 22, 230
    height = TOP + BOTTOM // 2 + row_h * max(1, len(points))
    values = [v for _n, v in points if v is not None]
    top = _nice_max(max(values or [0]), True)
    _ident, parts = _open(title, f"{len(points)} lignes ; maximum {_tick(max(values or [0]), True)}.", height)
    plot_w = WIDTH - label_w - RIGHT - 48
    for index, (name, value) in enumerate(points):
        y = TOP + index * row_h
        parts.append(_label(label_w - 8, y + 15, name, 30, anchor="end"))
        if value is None:
            continue
        small = suppress_small and value < SMALL_COUNT_LIMIT
        width = plot_w * (SMALL_COUNT_LIMIT if small else value) / top
        parts.append(f'<rect class="bar{" bar-small" if small else ""}" x="{label_w}" y="{y + 3}" '
                     f'width="{width:.1f}" height="{row_h - 6}"/>')
        shown = "< 5" if small else number(value)
        parts.append(f'<text class="axis" x="{label_w + width + 6:.1f}" y="{y + 15}">{escape(shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


TIMELINE_CLASSES = {"online": "day-online", "late": "day-late", "offline": "day-offline", None: "day-unknown",
                    "before": "day-before"}
TIMELINE_LEGEND = (("online", "en ligne"), ("late", "en retard"), ("offline", "hors ligne"), (None, "non relevé"))


def status_timeline(points: list[tuple[object, str | None]]) -> Markup:
    """One square per day (oldest first): en ligne / en retard / hors ligne / non relevé, with a legend
    and month names under the first day of each month."""
    height, cell_top = 80, 26
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(points))
    counted = {key: sum(1 for _d, status in points if status == key) for key, _w in TIMELINE_LEGEND}
    summary = ", ".join(f"{word} {number(counted[key])} j" for key, word in TIMELINE_LEGEND)
    _ident, parts = _open(f"État de la machine sur {len(points)} jours", summary + ".", height)
    x = LEFT
    for key, word in TIMELINE_LEGEND:
        parts.append(f'<rect class="{TIMELINE_CLASSES[key]}" x="{x}" y="4" width="12" height="12"/>'
                     f'<text class="legend" x="{x + 16}" y="14">{escape(word)}</text>')
        x += 40 + len(word) * CHAR_WIDTH
    for index, (day, status) in enumerate(points):
        cell_x = LEFT + index * slot
        parts.append(f'<rect class="{TIMELINE_CLASSES.get(status, "day-unknown")}" x="{cell_x:.1f}" y="{cell_top}" '
                     f'width="{max(1.0, slot - 1):.1f}" height="24"/>')
        if getattr(day, "day", None) == 1:
            parts.append(f'<text class="axis" x="{cell_x:.1f}" y="{cell_top + 40}">'
                         f'{escape(short_month(day.isoformat()[:7]))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
