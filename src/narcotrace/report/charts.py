"""Charts of the HTML report as inline SVG drawn from Python: they render offline, in print and without scripts.

Every label is escaped (markupsafe), so names from posts cannot inject markup.
"""

from __future__ import annotations

from datetime import date
from math import ceil, floor, log10

from markupsafe import Markup, escape

FONT = "font-family:inherit;font-size:11px;fill:#4a5568"


def nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    exp = 10 ** floor(log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exp:
            return step * exp
    return 10 * exp


def short(value: float) -> str:
    """12 345 678 -> 12.3M; for axis ticks and bar labels."""
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.3g}{suffix}"
    return f"{value:.3g}" if value != int(value) else f"{int(value)}"


def daily_bars(days: list[date], series: list[tuple[str, str, list[float]]], *, title: str, unit: str = "",
               width: int = 620, height: int = 220, counts: bool = False) -> Markup:
    """Stacked bars per day; series = [(name, colour, values per day)]; `counts` keeps the ticks whole."""
    left, right, top, bottom = 48, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[2][i] for s in series) for i in range(len(days))]
    ymax = nice_max(max(totals, default=0))
    if counts:  # four whole-number steps
        ymax = float(max(4, ceil(ymax / 4) * 4))
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg" data-chart="{escape(title)}">',
             f'<title>{escape(title)}</title>']
    for k in range(5):  # grid and y ticks
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" style="{FONT}">'
                     f'{escape(short(ymax * k / 4))}</text>')
    n = max(len(days), 1)
    slot = plot_w / n
    bar = max(1.0, slot * 0.75)
    for i, d in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for name, colour, values in series:
            v = values[i]
            if v <= 0:
                continue
            h = plot_h * v / ymax
            y -= h
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(d.isoformat())}: {escape(name)} '
                         f'{escape(f"{v:,.0f}")}{escape(unit)}</title></rect>')
    step = max(1, n // 8)
    for i in range(0, len(days), step):
        x = left + i * slot + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" style="{FONT}">'
                     f'{escape(days[i].strftime("%d %b"))}</text>')
    lx = left
    for name, colour, _ in series:  # legend
        parts.append(f'<rect x="{lx}" y="8" width="10" height="10" rx="2" fill="{colour}"/>'
                     f'<text x="{lx + 14}" y="17" style="{FONT}">{escape(name)}</text>')
        lx += 24 + 7 * len(name)
    if not days:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" style="{FONT}">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(rows: list[tuple[str, float]], *, title: str, unit: str = "", colour: str = "#2b6cb0",
                    width: int = 620, max_rows: int = 12) -> Markup:
    """One bar per row, largest first, with the value written at its end."""
    rows = sorted(rows, key=lambda r: -r[1])[:max_rows]
    label_w, right, row_h, top = 170, 70, 24, 8
    height = top * 2 + row_h * max(len(rows), 1)
    vmax = max((v for _, v in rows), default=0) or 1.0
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
             f'xmlns="http://www.w3.org/2000/svg" data-chart="{escape(title)}">', f'<title>{escape(title)}</title>']
    for i, (name, v) in enumerate(rows):
        y = top + i * row_h
        w = (width - label_w - right) * v / vmax
        label = name if len(name) <= 26 else name[:25] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" style="{FONT};font-size:12px;fill:#1a202c">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{max(w, 1):.1f}" height="{row_h - 8}" rx="3" '
                     f'fill="{colour}"><title>{escape(name)}: {escape(f"{v:,.0f}")}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{label_w + max(w, 1) + 6:.1f}" y="{y + 16}" style="{FONT}">{escape(short(v))}</text>')
    if not rows:
        parts.append(f'<text x="{width / 2}" y="{top + 16}" text-anchor="middle" style="{FONT}">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
