"""Supervisor reports: alerts, start-of-shift checks and breaks, per day or shift.

The procedure asks supervisors to review operation records regularly.  A
report is one self-contained HTML file (inline CSS and SVG charts drawn here,
no scripts, nothing fetched) plus a CSV of the alerts for spreadsheets.  The
HTML is also well-formed XML (XHTML-compatible), which is how tests check it.

Break statistics come from the break scheduler's history records
(``breaks.day`` per-day statistics, ``breaks.break`` per-break outcomes); they
are read defensively since older or newer versions may store other keys.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import logging
import platform
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import __version__
from app.core import breaks, selftest
from app.core.alerts import Alert
from app.core.history import History
from app.core.registry import registry_of
from app.kernel.i18n import Text, current_language
from app.kernel.model import Device, Indicator, Level
from app.kernel.monitor import Monitor
from app.kernel.paths import private_dir, write_private

log = logging.getLogger(__name__)

#: Where the break scheduler keeps its statistics (``"breaks"`` too, for a plain per-day record).
DAY_RECORD_KINDS = (breaks.DAY_RECORD, "breaks")
BREAK_RECORD_KIND = breaks.BREAK_RECORD
BREAK_STATE_KEY = breaks.STATE_KEY
PER_CHOICES = ("day", "shift")

LEVEL_COLOURS = {
    Level.OK: "#3a9a4f",
    Level.WARNING: "#e0a800",
    Level.CRITICAL: "#d9363e",
    Level.UNKNOWN: "#8a8f98",
    Level.NOT_SET_UP: "#c3c7ce",
}

T = Text  # short alias for the many labels below
L_TITLE = T("Deskwatch report", "Deskwatch 运行报告")
L_SEAT = T("Seat", "座席")
L_PERIOD = T("Period", "时段")
L_GENERATED = T("Generated", "生成时间")
L_SUMMARY = T("Summary", "概要")
L_ALERTS = T("Alerts", "告警记录")
L_SELFTESTS = T("Start-of-shift checks", "班前检查")
L_BREAKS = T("Breaks", "工间休息")
L_NONE = T("None in this period.", "本时段内没有记录。")
L_CHART_PER_PERIOD = T("Alerts raised per {per}", "每{per}告警数")
L_CHART_DEVICES = T("Alert time by device (minutes)", "各设备告警时长(分钟)")
L_CHART_TIMELINE = T("Alert timeline", "告警时间线")
L_CHART_BREAKS = T("Breaks per {per}", "每{per}休息次数")
PER_TEXT = {"day": T("day", "天"), "shift": T("shift", "班次")}
L_OUTSIDE = T("Outside shifts", "班次以外")
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

SUMMARY_COLUMNS = (
    ("period", T("Day / shift", "日期/班次")),
    ("raised", T("Alerts", "告警数")),
    ("critical", T("Critical", "严重")),
    ("acknowledged", T("Acknowledged", "已确认")),
    ("mean_ack_min", T("Mean time to acknowledge (min)", "平均确认用时(分钟)")),
    ("alert_min", T("Alert time (min)", "告警时长(分钟)")),
    ("checks", T("Checks passed / run", "检查通过/次数")),
    ("breaks", T("Breaks taken / skipped / postponed", "休息 已休/跳过/推迟")),
)

BREAK_DAY_COLUMNS = (
    ("date", T("Date", "日期")),
    ("due", T("Due", "应休")),
    ("taken", T("Taken", "已休")),
    ("natural", T("Natural pauses", "自然停顿")),
    ("postponed", T("Postponed", "推迟")),
    ("skipped", T("Skipped", "跳过")),
    ("held_for_calls", T("Held for calls", "因通话推后")),
    ("work_seconds", T("Screen work (h)", "屏幕工作(小时)")),
    ("call_seconds", T("On calls (h)", "通话(小时)")),
    ("longest_stretch", T("Longest stretch (min)", "最长连续工作(分钟)")),
)


def declared_indicators(monitor_classes: Iterable[type[Monitor]]) -> dict[str, Indicator]:
    """Every indicator Deskwatch declares: the monitors' and the services' (see :mod:`app.core.registry`)."""
    return dict(registry_of(monitor_classes).indicators)


# -- periods ------------------------------------------------------------------------
@dataclass(frozen=True)
class Shift:
    """A named shift, in minutes after local midnight (``end`` may pass midnight)."""

    name: str
    start: int
    end: int


_SHIFT = re.compile(
    r"^\s*(?:(?P<name>[^=]+?)\s*=\s*)?(?P<a>\d{1,2}):(?P<b>\d{2})\s*-\s*(?P<c>\d{1,2}):(?P<d>\d{2})\s*$"
)


def parse_shifts(specs: Iterable[str]) -> list[Shift]:
    """Parse ``"[name=]HH:MM-HH:MM"`` entries; raises ``ValueError`` naming the bad one."""
    shifts = []
    for spec in specs:
        match = _SHIFT.match(spec)
        if match is None:
            raise ValueError(f"shift {spec!r} is not [name=]HH:MM-HH:MM")
        start = int(match["a"]) * 60 + int(match["b"])
        end = int(match["c"]) * 60 + int(match["d"])
        if start >= 24 * 60 or end > 24 * 60 or int(match["b"]) > 59 or int(match["d"]) > 59:
            raise ValueError(f"shift {spec!r} has a time outside 00:00-24:00")
        if end <= start:
            end += 24 * 60  # a night shift ends the next morning
        name = match["name"] or f"{spec.strip()}"
        shifts.append(Shift(name.strip(), start, end))
    return shifts


@dataclass(frozen=True)
class Period:
    """One column of the report: a day or a shift."""

    key: str
    label: str
    start: float
    end: float


def _midnight(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day).timestamp()


def _at(day: dt.date, minutes: int) -> float:
    # Via datetime arithmetic, so days with a DST change still get the wall-clock time.
    moment = dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minutes)
    return moment.timestamp()


def make_periods(first: dt.date, last: dt.date, per: str, shifts: Sequence[Shift]) -> list[Period]:
    """The days (or the shifts of each day) from ``first`` to ``last`` inclusive."""
    periods = []
    day = first
    while day <= last:
        if per == "shift":
            for shift in shifts:
                label = f"{day.isoformat()} {shift.name}"
                periods.append(Period(label, label, _at(day, shift.start), _at(day, shift.end)))
        else:
            iso = day.isoformat()
            periods.append(Period(iso, iso, _midnight(day), _at(day, 24 * 60)))
        day += dt.timedelta(days=1)
    return periods


def _period_of(ts: float, periods: Sequence[Period]) -> Period | None:
    for period in periods:
        if period.start <= ts < period.end:
            return period
    return None


# -- data ------------------------------------------------------------------------------
@dataclass
class PeriodSummary:
    """Counts for one period."""

    period: Period
    raised: dict[Level, int] = field(default_factory=dict)
    acknowledged: int = 0
    ack_delays: list[float] = field(default_factory=list)
    alert_seconds: float = 0.0
    checks_run: int = 0
    checks_passed: int = 0
    breaks: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Alerts raised in the period."""
        return sum(self.raised.values())


@dataclass
class ReportData:
    """Everything a report shows, gathered from history."""

    first: dt.date
    last: dt.date
    per: str
    since: float
    until: float
    generated: float
    seat: str
    periods: list[Period]
    alerts: list[tuple[Alert, Period]]
    summaries: list[PeriodSummary]
    selftests: list[tuple[float, selftest.SelfTestResult]]
    break_days: list[dict[str, Any]]
    indicators: Mapping[str, Indicator]

    def indicator_label(self, alert: Alert) -> Text:
        """The declared label of an alert's indicator, or its id."""
        ind = self.indicators.get(alert.indicator_id)
        return ind.label if ind is not None else Text.same(alert.indicator_id)


def _safe_records(
    history: History, kind: str, since: float, until: float
) -> list[tuple[float, dict[str, Any]]]:
    try:
        rows = history.records(kind, since, until)
    except Exception:  # a damaged record must not stop the report
        log.exception("report: records of kind %s unreadable", kind)
        return []
    return [(ts, data) for ts, data in rows if isinstance(data, dict)]


def gather(
    history: History,
    first: dt.date,
    last: dt.date,
    *,
    per: str = "day",
    shifts: Sequence[Shift] = (),
    indicators: Mapping[str, Indicator] | None = None,
    clock: Callable[[], float] = time.time,
    seat: str | None = None,
) -> ReportData:
    """Read alerts, checks and break statistics for the local dates ``first``..``last``."""
    if per not in PER_CHOICES:
        raise ValueError(f"per must be one of {', '.join(PER_CHOICES)}")
    if last < first:
        raise ValueError("the end date is before the start date")
    if per == "shift" and not shifts:
        raise ValueError("no shifts are configured ([reports] shifts)")
    history.flush()
    periods = make_periods(first, last, per, shifts)
    since, until = _midnight(first), _at(last, 24 * 60)
    if periods:
        since, until = min(since, periods[0].start), max(until, periods[-1].end)
    now = clock()
    outside = Period("outside", L_OUTSIDE(), since, until)
    summaries = {p.key: PeriodSummary(p) for p in periods}
    summaries[outside.key] = PeriodSummary(outside)

    alerts: list[tuple[Alert, Period]] = []
    for alert in history.alerts_between(since, until):
        period = _period_of(max(alert.started, since), periods) or outside
        alerts.append((alert, period))
        summary = summaries[period.key]
        summary.raised[alert.peak] = summary.raised.get(alert.peak, 0) + 1
        if alert.acked_at is not None:
            summary.acknowledged += 1
            summary.ack_delays.append(max(0.0, alert.acked_at - alert.started))
        end = alert.ended if alert.ended is not None else min(now, until)
        summary.alert_seconds += max(0.0, min(end, until) - max(alert.started, since))

    tests: list[tuple[float, selftest.SelfTestResult]] = []
    for ts, data in _safe_records(history, selftest.RECORD_KIND, since, until):
        try:
            result = selftest.SelfTestResult.from_dict(data)
        except (TypeError, ValueError, AttributeError):
            continue
        tests.append((ts, result))
        summary = summaries[(_period_of(ts, periods) or outside).key]
        summary.checks_run += 1
        summary.checks_passed += int(result.passed)

    for ts, data in _safe_records(history, BREAK_RECORD_KIND, since, until):
        outcome = str(data.get("outcome", ""))
        if outcome:
            summary = summaries[(_period_of(ts, periods) or outside).key]
            summary.breaks[outcome] = summary.breaks.get(outcome, 0) + 1

    days: dict[str, dict[str, Any]] = {}
    for kind in DAY_RECORD_KINDS:
        # Day statistics are written when the day ends, so read one day further.
        for ts, data in _safe_records(history, kind, since, until + 86400):
            date = str(data.get("date") or dt.datetime.fromtimestamp(ts).date().isoformat())
            if first.isoformat() <= date <= last.isoformat():
                days[date] = data  # the latest record of a day wins

    # Today's statistics are not archived until the day ends: the scheduler keeps them in its state.
    state = history.get_state(BREAK_STATE_KEY)
    today = state.get("stats") if isinstance(state, dict) else None
    if isinstance(today, dict) and first.isoformat() <= str(today.get("date", "")) <= last.isoformat():
        days.setdefault(str(today["date"]), today)

    result_summaries = [summaries[p.key] for p in periods]
    if summaries[outside.key].total or summaries[outside.key].checks_run:
        result_summaries.append(summaries[outside.key])
    return ReportData(
        first=first,
        last=last,
        per=per,
        since=since,
        until=until,
        generated=now,
        seat=seat or platform.node(),
        periods=periods,
        alerts=alerts,
        summaries=result_summaries,
        selftests=tests,
        break_days=[days[d] for d in sorted(days)],
        indicators=dict(indicators or {}),
    )


# -- formatting helpers -----------------------------------------------------------------
def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def _number(value: Any, scale: float = 1.0) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    number = value * scale
    return f"{number:.1f}" if isinstance(number, float) and not number.is_integer() else f"{number:g}"


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
                "raised": _when(alert.started),
                "acknowledged": _when(alert.acked_at),
                "acknowledged_by": alert.acked_by or "",
                "cleared": _when(end) if end is not None else L_ONGOING(lang),
                "duration_min": _minutes(duration),
                "ack_delay_min": _minutes(ack_delay),
                "note": alert.note,
                "message": alert.message(lang) if alert.message else "",
            }
        )
    return rows


def render_csv(data: ReportData, lang: str | None = None) -> str:
    """The alerts as CSV text (header row in the report's language)."""
    lang = lang or current_language()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label(lang) for _, label in ALERT_COLUMNS])
    for row in alert_rows(data, lang):
        writer.writerow([_csv_cell(row[key]) for key, _ in ALERT_COLUMNS])
    return out.getvalue()


def _csv_cell(text: str) -> str:
    """Keep a clerk's note such as ``=cmd|…`` from running as a spreadsheet formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -- SVG charts -----------------------------------------------------------------------------
def _e(text: str) -> str:
    return html.escape(text, quote=True)


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
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
        f'<text x="{left}" y="18" class="chart-title">{_e(title)}</text>',
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
                f"<title>{_e(f'{category}: {name} {value:g}')}</title></rect>"
            )
        if n <= 16 or i % max(1, n // 16) == 0:
            cx = left + slot * i + slot / 2
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 14}" class="axis" text-anchor="end" '
                f'transform="rotate(-30 {cx:.1f} {top + plot_h + 14})">{_e(category)}</text>'
            )
    legend_x = left
    for name, colour, _values in series:
        parts.append(f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{height - 5}" class="axis">{_e(name)}</text>')
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
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
        f'<text x="{left}" y="18" class="chart-title">{_e(title)}</text>',
    ]
    days = (data.last - data.first).days + 1
    step = max(1, days // 10)
    for n in range(0, days + 1, step):
        day = data.first + dt.timedelta(days=n)
        x = x_of(_midnight(day))
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 30}" class="grid"/>')
        if n < days:
            parts.append(
                f'<text x="{x + 3:.1f}" y="{height - 16}" class="axis">{_e(day.strftime("%m-%d"))}</text>'
            )
    for row, device in enumerate(devices):
        y = top + row * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 17}" class="axis" text-anchor="end">'
            f"{_e(device.label(lang))}</text>"
        )
        for alert, _period in data.alerts:
            if alert.device is not device:
                continue
            end = alert.ended if alert.ended is not None else data.generated
            x1, x2 = x_of(alert.started), x_of(end)
            parts.append(
                f'<rect x="{x1:.1f}" y="{y + 5}" width="{max(x2 - x1, 2.0):.1f}" height="{row_h - 10}" '
                f'fill="{LEVEL_COLOURS[alert.peak]}"><title>{_e(data.indicator_label(alert)(lang))} '
                f"{_e(_when(alert.started))}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


# -- HTML -------------------------------------------------------------------------------------
CSS = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif;margin:24px;color:#1d2330;
background:#fff;font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #e3e6ec;
padding-bottom:4px}
.meta{color:#5b6270;margin:0 0 12px}.charts{display:flex;flex-wrap:wrap;gap:12px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid #d9dde5;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f2f4f8;font-weight:600}
tr:nth-child(even) td{background:#fafbfc}.alerts td{font-size:12px}
.num{text-align:right}.pass{color:#2c7a3f;font-weight:600}.fail{color:#c22f36;font-weight:600}
.skipped{color:#6b7280}.lvl-critical{color:#c22f36;font-weight:600}.lvl-warning{color:#9a6b00;font-weight:600}
.chart{border:1px solid #e3e6ec;border-radius:6px;background:#fff}.chart-title{font-size:13px;font-weight:600;
fill:#1d2330}.axis{font-size:11px;fill:#5b6270}.grid{stroke:#eceef3;stroke-width:1}
.advice{color:#5b6270;font-size:12px}
@media print{body{margin:8mm}.chart{break-inside:avoid}}
"""


RowClass = Callable[[Mapping[str, str]], str]


def _table(
    columns: Sequence[tuple[str, Text]],
    rows: Sequence[Mapping[str, str]],
    lang: str,
    numeric: Iterable[str] = (),
    classes: Mapping[str, RowClass] | None = None,
    css_class: str = "",
) -> str:
    numeric = set(numeric)
    classes = classes or {}
    head = "".join(f"<th>{_e(label(lang))}</th>" for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for key, _label in columns:
            css = ["num"] if key in numeric else []
            if key in classes:
                css.append(classes[key](row))
            attr = f' class="{" ".join(c for c in css if c)}"' if any(css) else ""
            cells.append(f"<td{attr}>{_e(row.get(key, ''))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    table_attr = f' class="{css_class}"' if css_class else ""
    return f"<table{table_attr}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _summary_rows(data: ReportData, lang: str) -> list[dict[str, str]]:
    rows = []
    for s in data.summaries:
        mean = sum(s.ack_delays) / len(s.ack_delays) if s.ack_delays else None
        breaks = ""
        if s.breaks:
            breaks = (
                f"{s.breaks.get('taken', 0)} / {s.breaks.get('skipped', 0)} / {s.breaks.get('postponed', 0)}"
            )
        rows.append(
            {
                "period": s.period.label,
                "raised": str(s.total),
                "critical": str(s.raised.get(Level.CRITICAL, 0)),
                "acknowledged": str(s.acknowledged),
                "mean_ack_min": _minutes(mean),
                "alert_min": _minutes(s.alert_seconds),
                "checks": f"{s.checks_passed} / {s.checks_run}" if s.checks_run else "",
                "breaks": breaks,
            }
        )
    return rows


def _selftest_section(data: ReportData, lang: str) -> str:
    if not data.selftests:
        return f"<p>{_e(L_NONE(lang))}</p>"
    columns = (
        ("time", T("Time", "时间")),
        ("status", T("Result", "结果")),
        ("device", T("Device", "设备")),
        ("check", T("Check", "检查项")),
        ("line", T("Status", "状态")),
        ("message", T("Details and what to do", "说明及处理")),
    )
    rows = []
    for ts, result in data.selftests:
        first = True
        for check in result.checks:
            for line in check.results:
                message = line.message(lang)
                if line.advice is not None and line.status != selftest.PASS:
                    message += " — " + line.advice(lang)
                rows.append(
                    {
                        "time": _when(ts) if first else "",
                        "status": selftest.STATUS_TEXT[result.status](lang) if first else "",
                        "status_key": result.status if first else "",
                        "device": check.device.label(lang),
                        "check": line.name(lang),
                        "line": selftest.STATUS_TEXT[line.status](lang),
                        "line_key": line.status,
                        "message": message,
                    }
                )
                first = False
    return _table(
        columns,
        rows,
        lang,
        classes={"status": lambda r: r.get("status_key", ""), "line": lambda r: r.get("line_key", "")},
    )


def _breaks_section(data: ReportData, lang: str) -> str:
    if not data.break_days:
        return f"<p>{_e(L_NONE(lang))}</p>"
    scales = {"work_seconds": 1 / 3600, "call_seconds": 1 / 3600, "longest_stretch": 1 / 60}
    rows = [
        {key: _number(day.get(key), scales.get(key, 1.0)) for key, _ in BREAK_DAY_COLUMNS}
        for day in data.break_days
    ]
    for row, day in zip(rows, data.break_days, strict=True):
        row["date"] = str(day.get("date", ""))
    numeric = [k for k, _ in BREAK_DAY_COLUMNS if k != "date"]
    return _table(BREAK_DAY_COLUMNS, rows, lang, numeric=numeric)


def render_html(data: ReportData, lang: str | None = None) -> str:
    """The whole report as one self-contained HTML document."""
    lang = lang or current_language()
    per = PER_TEXT[data.per](lang)
    categories = [s.period.label for s in data.summaries]
    levels = (Level.WARNING, Level.CRITICAL, Level.UNKNOWN)
    per_period = svg_bars(
        L_CHART_PER_PERIOD.format(per=PER_TEXT[data.per])(lang),
        categories,
        [
            (lv.text(lang), LEVEL_COLOURS[lv], [float(s.raised.get(lv, 0)) for s in data.summaries])
            for lv in levels
        ],
    )
    device_minutes: dict[Device, dict[Level, float]] = {}
    for alert, _period in data.alerts:
        end = alert.ended if alert.ended is not None else data.generated
        minutes = max(0.0, min(end, data.until) - max(alert.started, data.since)) / 60
        bucket = device_minutes.setdefault(alert.device, {})
        bucket[alert.peak] = bucket.get(alert.peak, 0.0) + minutes
    devices = sorted(device_minutes, key=lambda d: d.order)
    by_device = svg_bars(
        L_CHART_DEVICES(lang),
        [d.label(lang) for d in devices],
        [
            (lv.text(lang), LEVEL_COLOURS[lv], [round(device_minutes[d].get(lv, 0.0), 1) for d in devices])
            for lv in levels
        ],
        width=370,
    )
    charts = [per_period, by_device, svg_timeline(L_CHART_TIMELINE(lang), data, lang)]
    if any(s.breaks for s in data.summaries):
        outcomes = (
            ("taken", "#3a9a4f", T("Taken", "已休")),
            ("postponed", "#e0a800", T("Postponed", "推迟")),
            ("skipped", "#d9363e", T("Skipped", "跳过")),
        )
        charts.append(
            svg_bars(
                L_CHART_BREAKS.format(per=PER_TEXT[data.per])(lang),
                categories,
                [
                    (label(lang), colour, [float(s.breaks.get(k, 0)) for s in data.summaries])
                    for k, colour, label in outcomes
                ],
            )
        )
    alert_table = (
        _table(
            ALERT_COLUMNS,
            alert_rows(data, lang),
            lang,
            numeric=("id", "duration_min", "ack_delay_min"),
            classes={"peak": lambda r: f"lvl-{r.get('peak_key', '')}"},
            css_class="alerts",
        )
        if data.alerts
        else f"<p>{_e(L_NONE(lang))}</p>"
    )
    period_text = f"{data.first.isoformat()} — {data.last.isoformat()} ({per})"
    html_lang = "zh-CN" if lang.startswith("zh") else "en"
    return "".join(
        [
            "<!DOCTYPE html>\n",
            f'<html xmlns="http://www.w3.org/1999/xhtml" lang="{html_lang}">',
            '<head><meta charset="utf-8"/>',
            '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
            f"<title>{_e(L_TITLE(lang))} {_e(period_text)}</title>",
            f"<style>{CSS}</style></head><body>",
            f"<h1>{_e(L_TITLE(lang))}</h1>",
            f'<p class="meta">{_e(L_SEAT(lang))}: {_e(data.seat)} · '
            f"{_e(L_PERIOD(lang))}: {_e(period_text)} · "
            f"{_e(L_GENERATED(lang))}: {_e(_when(data.generated))} · Deskwatch {_e(__version__)}</p>",
            f"<h2>{_e(L_SUMMARY(lang))}</h2>",
            f'<div class="charts">{"".join(charts)}</div>',
            _table(
                SUMMARY_COLUMNS, _summary_rows(data, lang), lang, numeric=[k for k, _ in SUMMARY_COLUMNS][1:]
            ),
            f"<h2>{_e(L_ALERTS(lang))}</h2>",
            alert_table,
            f"<h2>{_e(L_SELFTESTS(lang))}</h2>",
            _selftest_section(data, lang),
            f"<h2>{_e(L_BREAKS(lang))}</h2>",
            _breaks_section(data, lang),
            "</body></html>\n",
        ]
    )


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
