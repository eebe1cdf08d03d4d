"""Supervisor reports: alerts, start-of-shift checks and breaks, per day or shift.

The procedure asks supervisors to review operation records regularly.  A
report is one self-contained HTML file (inline CSS and SVG charts drawn here,
no scripts, nothing fetched) plus a CSV of the alerts for spreadsheets.

One module per step, each importing only the ones above it:

- :mod:`~app.core.reports.periods`: days and shifts (``[reports] shifts``);
- :mod:`~app.core.reports.gather`: :func:`gather` reads history into :class:`ReportData`;
- :mod:`~app.core.reports.rows`: the alert rows and cell text both outputs share;
- :mod:`~app.core.reports.csv_file`: :func:`render_csv`;
- :mod:`~app.core.reports.svg_charts`: the inline SVG charts;
- :mod:`~app.core.reports.html_page`: :func:`render_html`, the page around them.

Callers use this package's names (``reports.gather``, ``reports.write_report`` …).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.core.palette import LEVEL_COLOURS
from app.core.registry import registry_of
from app.core.reports.csv_file import render_csv
from app.core.reports.gather import (
    PeriodSummary,
    ReportData,
    gather,
)
from app.core.reports.html_page import render_html
from app.core.reports.periods import PER_CHOICES, Period, Shift, make_periods, parse_shifts
from app.core.reports.rows import ALERT_COLUMNS, alert_rows
from app.core.reports.svg_charts import svg_bars, svg_timeline
from app.kernel.model import Indicator
from app.kernel.monitor import Monitor
from app.kernel.paths import private_dir, write_private

__all__ = [
    "ALERT_COLUMNS",
    "LEVEL_COLOURS",
    "PER_CHOICES",
    "Period",
    "PeriodSummary",
    "ReportData",
    "Shift",
    "alert_rows",
    "declared_indicators",
    "gather",
    "make_periods",
    "parse_shifts",
    "render_csv",
    "render_html",
    "svg_bars",
    "svg_timeline",
    "write_report",
]


def declared_indicators(monitor_classes: Iterable[type[Monitor]]) -> dict[str, Indicator]:
    """Every indicator Deskwatch declares: the monitors' and the services' (see :mod:`app.core.registry`)."""
    return dict(registry_of(monitor_classes).indicators)


def write_report(data: ReportData, outdir: Path, lang: str | None = None) -> tuple[Path, Path]:
    """Write ``deskwatch-report-<first>_<last>-<per>.html`` and ``.csv``; returns both paths."""
    # Reports hold call and alert history: files 0600, a new folder 0700.  An
    # existing folder the user chose (--out) keeps its mode.
    if not outdir.exists():
        private_dir(outdir)
    stem = f"deskwatch-report-{data.first.isoformat()}_{data.last.isoformat()}-{data.per}"
    html_path, csv_path = outdir / f"{stem}.html", outdir / f"{stem}.csv"
    write_private(html_path, render_html(data, lang))
    # A byte-order mark lets Excel open the Chinese text as UTF-8.
    write_private(csv_path, render_csv(data, lang), "utf-8-sig", newline="")
    return html_path, csv_path
