"""The text of a report's cells: the alert rows (shared by the HTML and the CSV) and value formatting."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from app.core.reports.gather import ReportData
from app.kernel.i18n import Text

T = Text  # short alias for the labels below
L_ONGOING = T("ongoing", "持续中")

ALERT_COLUMNS = (
    ("id", T("Alert", "告警编号")),
    ("period", T("Day / shift", "日期/班次")),
    ("device", T("Device", "设备")),
    ("indicator", T("Indicator", "指标")),
    ("item", T("Item", "对象")),
    ("peak", T("Worst level", "最高级别")),
    ("raised", T("Raised", "发生时间")),
    ("acknowledged", T("Acknowledged", "确认时间")),
    ("acknowledged_by", T("Acknowledged by", "确认人")),
    ("cleared", T("Cleared", "恢复时间")),
    ("duration_min", T("Duration (min)", "持续(分钟)")),
    ("ack_delay_min", T("Time to acknowledge (min)", "确认用时(分钟)")),
    ("note", T("Note", "备注")),
    ("message", T("Message", "说明")),
)


def when(ts: float | None) -> str:
    """A local date and time, or ``""`` for none."""
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal, or ``""`` for none."""
    return "" if seconds is None else f"{seconds / 60:.1f}"


def number(value: Any, scale: float = 1.0) -> str:
    """A statistic as text (scaled), passing through what is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    scaled = value * scale
    return f"{scaled:.1f}" if isinstance(scaled, float) and not scaled.is_integer() else f"{scaled:g}"


def alert_rows(data: ReportData, lang: str) -> list[dict[str, str]]:
    """One row per alert, keyed like :data:`ALERT_COLUMNS` (shared by HTML and CSV)."""
    rows = []
    for alert, period in data.alerts:
        end = alert.ended
        duration = (end if end is not None else data.generated) - alert.started
        ack_delay = None if alert.acked_at is None else alert.acked_at - alert.started
        rows.append(
            {
                "id": str(alert.id),
                "period": period.label,
                "device": alert.device.label(lang),
                "indicator": data.indicator_label(alert)(lang),
                "item": alert.instance,
                "peak": alert.peak.text(lang),
                "peak_key": alert.peak.name.lower(),
                "raised": when(alert.started),
                "acknowledged": when(alert.acked_at),
                "acknowledged_by": alert.acked_by or "",
                "cleared": when(end) if end is not None else L_ONGOING(lang),
                "duration_min": minutes(duration),
                "ack_delay_min": minutes(ack_delay),
                "note": alert.note,
                "message": alert.message(lang) if alert.message else "",
            }
        )
    return rows


def escape(text: str) -> str:
    """Text for HTML/SVG content and attribute values."""
    return html.escape(text, quote=True)
