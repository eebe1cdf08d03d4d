"""The report's air section: pollutant levels per day or shift, against GB/T 18883-2022.

Read from the trend samples history keeps of the environment monitor's
readings (no records of its own): per period and sensor, for each pollutant,

- the mean of the short-term level over the period (``environment.<q>_now``;
  CO₂'s instant reading) — what the room held while the clerk was there;
- the highest standard average seen in the period (``environment.<q>``,
  CO₂'s ``environment.co2_average``), the figure the standard judges;
- the minutes the standard average was at or above its limit.

This module comes before :mod:`~app.core.reports.gather` (which calls it), so it
takes the page's table helper as an argument rather than importing it.
Periods where a pollutant was never observed have no row; a period where the
average was never observed for long enough (``not observed`` in the panel)
shows the mean and an empty peak.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from app.core.history import History, Sample
from app.core.reports.periods import Period
from app.kernel.i18n import Text
from app.kernel.model import make_key, split_key
from monitors.environment import AIR_LIMITS, AVERAGE_INDICATORS, CO2_IND, NOW_INDICATORS, AirLimit

log = logging.getLogger(__name__)

L_AIR = Text("Air quality (GB/T 18883-2022)", "室内空气质量(GB/T 18883-2022)")

AIR_COLUMNS = (
    ("period", Text("Day / shift", "日期/班次")),
    ("sensor", Text("Sensor", "传感器")),
    ("quantity", Text("Pollutant", "污染物")),
    ("mean", Text("Mean in period", "时段均值")),
    ("peak_average", Text("Highest standard average", "标准平均最高值")),
    ("limit", Text("Limit (window)", "限值(平均时间)")),
    ("over_min", Text("Average over the limit (min)", "平均超标时长(分钟)")),
)


@dataclass(frozen=True)
class AirRow:
    """One pollutant of one sensor in one period."""

    period: Period
    sensor: str
    air: AirLimit
    #: Mean of the short-term level over the period's samples.
    mean: float | None
    #: Highest standard average in the period (``None``: never observed for long enough).
    peak_average: float | None
    #: Seconds the standard average was at or above the limit.
    over_seconds: float


def _short_term_id(quantity: str) -> str:
    return CO2_IND.id if quantity not in NOW_INDICATORS else NOW_INDICATORS[quantity].id


def _sensors(history: History, since: float, until: float) -> list[str]:
    """Sensors that have pollutant samples in the time span."""
    ids = {AVERAGE_INDICATORS[q].id for q in AIR_LIMITS} | {_short_term_id(q) for q in AIR_LIMITS}
    rows = history.query("SELECT DISTINCT key FROM samples WHERE ts >= ? AND ts < ?", (since, until))
    return sorted({split_key(str(key))[1] for (key,) in rows if split_key(str(key))[0] in ids})


def _mean(samples: Sequence[Sample]) -> float | None:
    # Every sample covers the same bucket length, so their plain mean is the time-weighted one.
    values = [s.vavg for s in samples if s.vavg is not None]
    return sum(values) / len(values) if values else None


def gather_air(history: History, periods: Sequence[Period], since: float, until: float) -> list[AirRow]:
    """The air rows of every period, sensor and pollutant that has samples."""
    try:
        sensors = _sensors(history, since, until)
    except Exception:  # a damaged table must not stop the report
        log.exception("report: pollutant samples unreadable")
        return []
    bucket = history.sample_seconds
    rows: list[AirRow] = []
    for period in periods:
        for sensor in sensors:
            for quantity, air in AIR_LIMITS.items():
                short = history.samples(make_key(_short_term_id(quantity), sensor), period.start, period.end)
                averages = history.samples(
                    make_key(AVERAGE_INDICATORS[quantity].id, sensor), period.start, period.end
                )
                peaks = [s.vmax for s in averages if s.vmax is not None]
                if not short and not peaks:
                    continue
                over = sum(bucket for s in averages if s.vavg is not None and s.vavg >= air.limit)
                rows.append(AirRow(period, sensor, air, _mean(short), max(peaks, default=None), over))
    return rows


def _value(value: float | None, air: AirLimit) -> str:
    return "" if value is None else f"{value:.{air.digits}f} {air.unit}"


def air_cells(row: AirRow, lang: str) -> dict[str, str]:
    """The text of one row's cells (HTML and CSV share them)."""
    window = f"{row.air.window / 3600:g} h"
    return {
        "period": row.period.label,
        "sensor": row.sensor,
        "quantity": row.air.label(lang),
        "mean": _value(row.mean, row.air),
        "peak_average": _value(row.peak_average, row.air),
        "limit": f"{row.air.limit:g} {row.air.unit} ({window})",
        "over_min": f"{row.over_seconds / 60:.0f}",
        "over_key": "over" if row.peak_average is not None and row.peak_average >= row.air.limit else "",
    }


Table = Callable[..., str]


def air_section(rows: Sequence[AirRow], lang: str, table: Table) -> str:
    """The HTML section (heading and table), drawn with the page's own ``table`` helper; none without rows.

    A seat without pollutant sensors gets no empty section.
    """
    if not rows:
        return ""
    heading = f"<h2>{html.escape(L_AIR(lang))}</h2>"
    cells = [air_cells(row, lang) for row in rows]
    classes: Mapping[str, Callable[[Mapping[str, str]], str]] = {
        "peak_average": lambda r: "lvl-warning" if r.get("over_key") else ""
    }
    return heading + table(AIR_COLUMNS, cells, lang, numeric=("over_min",), classes=classes)


def air_csv_rows(rows: Sequence[AirRow], lang: str) -> list[list[str]]:
    """A second table for the CSV, after a blank line: header and one line per row (none without rows)."""
    if not rows:
        return []
    header = [label(lang) for _, label in AIR_COLUMNS]
    return [[], header, *([air_cells(row, lang)[key] for key, _ in AIR_COLUMNS] for row in rows)]
