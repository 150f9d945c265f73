"""Server-side SVG line charts for the review report: readable offline, no script, no inline style.

The report must open from a file with no network and pass the web app's CSP (no inline
scripts or `style` attributes), so charts are plain SVG with presentation attributes and
CSS classes. Every piece of text placed in the SVG is escaped here; the result is returned
as `markupsafe.Markup` so the template inserts it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from monitor.review.model import Marker
from monitor.review.text import clock

WIDTH, HEIGHT = 960, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 10, 24
_TICK_MINUTES = (5, 10, 15, 30, 60, 120, 240)


@dataclass(frozen=True, slots=True)
class Line:
    """One curve: a CSS class (its colour) and values per step, None for gaps."""

    name: str
    css: str
    values: Sequence[float | None]


def line_chart(title: str, lines: Sequence[Line], start_ms: int, step_s: int, markers: Sequence[Marker],
               utc_offset_s: int, marker_names: dict[str, str],
               bounds: tuple[float, float] | None = None) -> Markup:
    """Render curves sharing one time axis, with markers as vertical lines titled for hover.

    The y axis spans 0 and the data, or `bounds` when the scale is fixed (sentiment: −100…100).
    """
    n = max((len(line.values) for line in lines), default=0)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    finite = [v for line in lines for v in line.values if v is not None]
    low, high = bounds or (min(0.0, min(finite, default=0.0)), max(0.0, max(finite, default=1.0)))
    if high <= low:
        high = low + 1.0
    span_ms = max(n - 1, 1) * step_s * 1000

    def x_at(i: float) -> float:
        return LEFT + inner_w * i / max(n - 1, 1)

    def y_at(v: float) -> float:
        return TOP + inner_h * (1 - (v - low) / (high - low))

    out = [(f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'),
           f'<title>{escape(title)}</title>']
    for v in (low, (low + high) / 2, high):
        y = y_at(v)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#d0d5da" stroke-width="1"/>')
        out.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                   f'fill="#5a6570">{_short(v)}</text>')
    minutes = max(n - 1, 1) * step_s / 60
    every = next((m for m in _TICK_MINUTES if minutes / m <= 8), _TICK_MINUTES[-1])
    first = -(start_ms // 1000 // 60) % every  # ticks on round clock minutes
    for minute in range(first, int(minutes) + 1, every):
        x = x_at(minute * 60 / step_s)
        out.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="11" '
                   f'fill="#5a6570">{clock(start_ms / 1000 + minute * 60, utc_offset_s)}</text>')
    for marker in markers:
        frac = (marker.ts - start_ms) / span_ms
        if not 0 <= frac <= 1:
            continue
        x = LEFT + inner_w * frac
        kind = escape(marker.kind)
        label = f"{clock(marker.ts / 1000, utc_offset_s)} {marker_names.get(marker.kind, marker.kind)}: {marker.label}"
        out.append(f'<line class="marker m-{kind}" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + inner_h}" '
                   f'stroke="#8a94a0" stroke-width="1" stroke-dasharray="3 3"><title>{escape(label)}</title></line>')
    for line in lines:
        for run in _runs(line.values):
            points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in run)
            if len(run) == 1:
                i, v = run[0]
                out.append(f'<circle class="line {escape(line.css)}" cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="2"/>')
            else:
                out.append(f'<polyline class="line {escape(line.css)}" points="{points}" fill="none" '
                           f'stroke="#1f6feb" stroke-width="1.6"><title>{escape(line.name)}</title></polyline>')
    out.append("</svg>")
    return Markup("".join(out))


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Split a curve at its gaps, so a missing minute is not drawn as a straight line."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                runs.append(current)
                current = []
        else:
            current.append((i, v))
    if current:
        runs.append(current)
    return runs


def _short(v: float) -> str:
    """Axis label: 1.2k, 35, 0.5."""
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"
