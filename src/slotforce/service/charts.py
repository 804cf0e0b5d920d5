"""Server-rendered SVG line charts of per-minute counts: axes, a legend, a tooltip per point, no JavaScript.

`minute_chart` turns equally spaced buckets into one `<polyline>` per series (a vertex for every
bucket, zeros included) plus a `<circle>` with a `<title>` for every bucket above zero (what a
browser shows on hover). Every text and attribute is escaped: series names and titles may come
from data. The chart is an `<svg role="img">` labelled by its `<title>` and `<desc>`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup

WIDTH, HEIGHT = 760, 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 12, 28, 30
# Minutes between x-axis labels: the smallest that gives at most about 8 labels.
LABEL_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360)
MAX_LABELS = 8


@dataclass(frozen=True)
class Series:
    """One line: its name in the legend, its colour, one value per bucket."""

    name: str
    color: str
    values: Sequence[int]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _number(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def y_ceiling(peak: int) -> int:
    """The top of the y axis: `peak` rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    top = 1
    while True:
        for factor in (1, 2, 5):
            if top * factor >= peak:
                return top * factor
        top *= 10


def label_step(buckets: int) -> int:
    """Minutes between x-axis labels for a chart of `buckets` minutes."""
    return next((s for s in LABEL_STEPS if buckets / s <= MAX_LABELS), LABEL_STEPS[-1])


def minute_chart(title: str, desc: str, start: datetime, series: Sequence[Series], *,
                 step: timedelta = timedelta(minutes=1), element_id: str = "chart") -> Markup:
    """An SVG of `series` over buckets of `step` from `start` (UTC), values counted per bucket."""
    buckets = max((len(s.values) for s in series), default=0)
    peak = max((v for s in series for v in s.values), default=0)
    top = y_ceiling(peak)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    bottom = MARGIN_TOP + plot_h

    def x(i: int) -> float:
        return MARGIN_LEFT + (plot_w * i / (buckets - 1) if buckets > 1 else plot_w / 2)

    def y(v: int) -> float:
        return bottom - plot_h * v / top

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="{_e(element_id)}" class="chart" role="img" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
           f'aria-labelledby="{_e(element_id)}-title {_e(element_id)}-desc">',
           f'<title id="{_e(element_id)}-title">{_e(title)}</title>',
           f'<desc id="{_e(element_id)}-desc">{_e(desc)}</desc>']
    out += _axes(start, step, buckets, top, x, y, bottom)
    if not buckets:
        out.append(f'<text class="empty" x="{WIDTH / 2:g}" y="{MARGIN_TOP + plot_h / 2:g}" '
                   f'text-anchor="middle" fill="#666">No data</text>')
    for s in series:
        points = " ".join(f"{_number(x(i))},{_number(y(v))}" for i, v in enumerate(s.values))
        out.append(f'<g class="series" data-series="{_e(s.name)}">')
        if points:
            out.append(f'<polyline fill="none" stroke="{_e(s.color)}" stroke-width="1.5" points="{points}"/>')
        for i, v in enumerate(s.values):
            if v:
                at = start + step * i
                out.append(f'<circle cx="{_number(x(i))}" cy="{_number(y(v))}" r="2.5" fill="{_e(s.color)}" '
                           f'data-minute="{at:%Y-%m-%dT%H:%M}" data-value="{v}">'
                           f'<title>{at:%H:%M} UTC: {v} {_e(s.name)}</title></circle>')
        out.append("</g>")
    out += _legend(series)
    out.append("</svg>")
    return Markup("".join(out))


def _axes(start: datetime, step: timedelta, buckets: int, top: int, x, y, bottom: float) -> list[str]:
    """The y axis with 0, half and top; the x axis with a time label every `label_step` minutes."""
    right = WIDTH - MARGIN_RIGHT
    out = ['<g class="axes" font-size="11" fill="#444" stroke="none">',
           f'<line x1="{MARGIN_LEFT}" y1="{bottom:g}" x2="{right}" y2="{bottom:g}" stroke="#888"/>',
           f'<line x1="{MARGIN_LEFT}" y1="{MARGIN_TOP}" x2="{MARGIN_LEFT}" y2="{bottom:g}" stroke="#888"/>']
    for value in sorted({0, top // 2, top}):
        out.append(f'<line x1="{MARGIN_LEFT}" y1="{_number(y(value))}" x2="{right}" y2="{_number(y(value))}" '
                   f'stroke="#eee"/>')
        out.append(f'<text x="{MARGIN_LEFT - 6}" y="{_number(y(value) + 4)}" text-anchor="end">{value}</text>')
    minutes = max(1, round(step.total_seconds() / 60))
    every = label_step(buckets * minutes)
    for i in range(buckets):
        at = start + step * i
        if (at.hour * 60 + at.minute) % every == 0:
            out.append(f'<line x1="{_number(x(i))}" y1="{bottom:g}" x2="{_number(x(i))}" y2="{bottom + 4:g}" '
                       f'stroke="#888"/>')
            out.append(f'<text x="{_number(x(i))}" y="{bottom + 16:g}" text-anchor="middle">{at:%H:%M}</text>')
    out.append("</g>")
    return out


def _legend(series: Sequence[Series]) -> list[str]:
    out = ['<g class="legend" font-size="12">']
    left = MARGIN_LEFT
    for s in series:
        out.append(f'<rect x="{left}" y="8" width="12" height="12" fill="{_e(s.color)}"/>'
                   f'<text x="{left + 16}" y="18" fill="#181818">{_e(s.name)}</text>')
        left += 24 + 8 * len(s.name)
    out.append("</g>")
    return out
