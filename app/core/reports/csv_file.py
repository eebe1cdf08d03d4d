"""The report's alerts as CSV for spreadsheets."""

from __future__ import annotations

import csv
import io

from app.core.reports.air import air_csv_rows
from app.core.reports.gather import ReportData
from app.core.reports.rows import ALERT_COLUMNS, alert_rows
from app.kernel.i18n import current_language


def render_csv(data: ReportData, lang: str | None = None) -> str:
    """The alerts as CSV text (header row in the report's language)."""
    lang = lang or current_language()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label(lang) for _, label in ALERT_COLUMNS])
    for row in alert_rows(data, lang):
        writer.writerow([_csv_cell(row[key]) for key, _ in ALERT_COLUMNS])
    writer.writerows([[_csv_cell(cell) for cell in row] for row in air_csv_rows(data.air, lang)])
    return out.getvalue()


def _csv_cell(text: str) -> str:
    """Keep a clerk's note such as ``=cmd|…`` from running as a spreadsheet formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
