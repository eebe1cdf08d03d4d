"""The report's charts, drawn as inline SVG (no scripts, nothing fetched)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

from app.core.palette import LEVEL_COLOURS
from app.core.reports.gather import ReportData
from app.core.reports.periods import midnight
from app.core.reports.rows import escape, when


def _ticks(maximum: float) -> list[float]:
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / 4
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, value = [], 0.0
    while value < maximum + step:
        ticks.append(value)
        value += step
    return ticks


def _text_width(text: str) -> int:
    """Approximate width in pixels of 11 px text (CJK characters are twice as wide)."""
    return sum(11 if unicodedata.east_asian_width(ch) in "WF" else 6 for ch in text)


def svg_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    width: int = 760,
    height: int = 260,
) -> str:
    """A stacked bar chart; ``series`` are ``(name, colour, values per category)``."""
    # Rotated category labels need room below the axis, in proportion to the longest one.
    label_room = int(0.5 * max((_text_width(c) for c in categories), default=0)) + 18
    left, right, top, bottom = 48, 12, 30, label_room + 22
    height += max(0, bottom - 62)
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s[2][i] for s in series) for i in range(len(categories))]
    ticks = _ticks(max(totals, default=0.0))
    top_value = ticks[-1] or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for tick in ticks:
        y = top + plot_h - plot_h * tick / top_value
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{tick:g}</text>')
    n = max(len(categories), 1)
    slot = plot_w / n
    bar_w = max(2.0, min(48.0, slot * 0.7))
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        base = float(top + plot_h)
        for name, colour, values in series:
            value = values[i]
            if value <= 0:
                continue
            h = plot_h * value / top_value
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(f'{category}: {name} {value:g}')}</title></rect>"
            )
        if n <= 16 or i % max(1, n // 16) == 0:
            cx = left + slot * i + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 14}" class="axis" text-anchor="end" '
                f'transform="rotate(-30 {cx:.1f} {top + plot_h + 14})">{escape(category)}</text>'
            )
    legend_x = left
    for name, colour, _values in series:
        parts.append(f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{height - 5}" class="axis">{escape(name)}</text>')
        legend_x += 24 + _text_width(name)
    parts.append("</svg>")
    return "".join(parts)


def svg_timeline(title: str, data: ReportData, lang: str, width: int = 760) -> str:
    """Alert episodes as bars on a time axis, one row per device, coloured by worst level."""
    devices = sorted({a.device for a, _ in data.alerts}, key=lambda d: d.order)
    row_h, left, right, top = 26, 110, 12, 30
    height = top + row_h * max(len(devices), 1) + 40
    span = max(data.until - data.since, 1.0)
    plot_w = width - left - right

    def x_of(ts: float) -> float:
        return left + plot_w * (min(max(ts, data.since), data.until) - data.since) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="18" class="chart-title">{escape(title)}</text>',
    ]
    days = (data.last - data.first).days + 1
    step = max(1, days // 10)
    for n in range(0, days + 1, step):
        day = data.first + dt.timedelta(days=n)
        x = x_of(midnight(day))
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 30}" class="grid"/>')
        if n < days:
            parts.append(
                f'<text x="{x + 3:.1f}" y="{height - 16}" class="axis">{escape(day.strftime("%m-%d"))}</text>'
            )
    for row, device in enumerate(devices):
        y = top + row * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 17}" class="axis" text-anchor="end">'
            f"{escape(device.label(lang))}</text>"
        )
        for alert, _period in data.alerts:
            if alert.device is not device:
                continue
            end = alert.ended if alert.ended is not None else data.generated
            x1, x2 = x_of(alert.started), x_of(end)
            parts.append(
                f'<rect x="{x1:.1f}" y="{y + 5}" width="{max(x2 - x1, 2.0):.1f}" height="{row_h - 10}" '
                f'fill="{LEVEL_COLOURS[alert.peak]}"><title>{escape(data.indicator_label(alert)(lang))} '
                f"{escape(when(alert.started))}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)
