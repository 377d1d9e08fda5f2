"""Inline SVG charts drawn on the server: no script, no network, and they print."""

import math
from decimal import ROUND_FLOOR, Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

from tracker.targets.numbers import fmt_number


def _scale(lo, hi, size, pad):
    span = (hi - lo) or Decimal(1)

    def to_px(value):
        return float(pad + (Decimal(value) - lo) / span * (size - 2 * pad))

    return to_px


def sparkline(points, width=84, height=22):
    """A small trend line of (month, value) pairs over months 1..12."""
    # Floats, not Decimals: a hundred of these on a report page, drawn to a tenth of a pixel.
    points = [(m, float(v)) for m, v in points if v is not None]
    if not points:
        return ""
    values = [v for _, v in points]
    lo, hi = min(values), max(values)
    x_step, y_step = (width - 4) / 11, (height - 4) / ((hi - lo) or 1)

    def x(month):
        return 2 + (month - 1) * x_step

    def y(value):
        return 2 + (value - lo) * y_step

    coords = " ".join(f"{x(m):.1f},{height - y(v):.1f}" for m, v in points)
    last_m, last_v = points[-1]
    return mark_safe(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" aria-hidden="true">'
        f'<polyline points="{coords}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        f'<circle cx="{x(last_m):.1f}" cy="{height - y(last_v):.1f}" r="2" fill="currentColor"/></svg>'
    )


def _nice_ticks(lo, hi, count=5):
    """Round axis values (steps of 1, 2 or 5 times a power of ten) covering lo..hi."""
    raw = float(hi - lo or 1) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = Decimal(str(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)))
    tick = (lo / step).to_integral_value(rounding=ROUND_FLOOR) * step
    ticks = []
    while tick < hi + step:
        ticks.append(tick)
        if tick >= hi:
            break
        tick += step
    return ticks


def line_chart(series, months, title, hline=None, width=720, height=300, y_unit=""):
    """A chart over the months with one polyline per series and an optional horizontal target line.

    series: [(label, css class, {month: value}, dashed)]; hline: (label, value) or None; y_unit names the
    y-axis unit ("单位：家"), written above the axis. The target line is drawn over the series, thicker than
    they are and labelled at its right end, so it shows even where the expected path runs along it.
    """
    left, right, top, bottom = 56, 96, 28, 48
    values = [Decimal(v) for _, _, data, _ in series for v in data.values() if v is not None]
    if hline is not None and hline[1] is not None:
        values.append(Decimal(hline[1]))
    if not values:
        return ""
    lo, hi = min(min(values), Decimal(0)), max(values)  # counts start at zero; falls show below it
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(ticks[0], lo), max(ticks[-1], hi)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(m):
        return left + (m - 1) / 11 * plot_w

    def py(v):
        return top + plot_h - float((Decimal(v) - lo) / ((hi - lo) or 1)) * plot_h

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plot"/>',
    ]
    for t in ticks:
        y = py(t)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{t.normalize():f}</text>')
    if y_unit:
        parts.append(f'<text x="{left - 6}" y="{top - 10}" class="tick y-unit" text-anchor="start">'
                     f'{escape(y_unit)}</text>')
    for m, label in months:
        parts.append(f'<text x="{px(m):.1f}" y="{top + plot_h + 16}" class="tick" text-anchor="middle">'
                     f'{escape(label)}</text>')
    legend_x = left
    for label, css, data, dashed in series:
        pts = sorted((m, v) for m, v in data.items() if v is not None)
        if pts:
            coords = " ".join(f"{px(m):.1f},{py(v):.1f}" for m, v in pts)
            dash = ' stroke-dasharray="6 4"' if dashed else ""
            parts.append(f'<polyline points="{coords}" class="series {css}" fill="none"{dash}/>')
            parts.extend(f'<circle cx="{px(m):.1f}" cy="{py(v):.1f}" r="3" class="dot {css}">'
                         f'<title>{escape(label)} {m}: {fmt_number(v)}</title></circle>' for m, v in pts)
        parts.append(f'<rect x="{legend_x}" y="{height - 16}" width="14" height="4" class="key {css}"/>'
                     f'<text x="{legend_x + 18}" y="{height - 11}" class="legend">{escape(label)}</text>')
        legend_x += 24 + 8 * len(label) + (6 * sum(1 for ch in label if ord(ch) > 0x2E80))
    if hline is not None and hline[1] is not None:
        y = py(hline[1])
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'class="target-line"><title>{escape(hline[0])}</title></line>'
                     f'<text x="{left + plot_w + 4}" y="{y + 4:.1f}" class="legend target-label">'
                     f'{escape(hline[0])} {fmt_number(hline[1])}</text>')
        parts.append(f'<rect x="{legend_x}" y="{height - 16}" width="14" height="4" class="key target-key"/>'
                     f'<text x="{legend_x + 18}" y="{height - 11}" class="legend">{escape(hline[0])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
