"""The report as one self-contained HTML page: summary, charts, alerts, checks and breaks.

The page is also well-formed XML (XHTML-compatible), which is how tests check it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from app import __version__
from app.core import selftest
from app.core.palette import LEVEL_COLOURS
from app.core.reports import sound
from app.core.reports.air import air_section
from app.core.reports.gather import ReportData
from app.core.reports.rows import ALERT_COLUMNS, alert_rows, escape, minutes, number, when
from app.core.reports.svg_charts import svg_bars, svg_timeline
from app.kernel.i18n import Text, current_language
from app.kernel.model import Device, Level

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
    head = "".join(f"<th>{escape(label(lang))}</th>" for _, label in columns)
    body = []
    for row in rows:
        cells = []
        for key, _label in columns:
            css = ["num"] if key in numeric else []
            if key in classes:
                css.append(classes[key](row))
            attr = f' class="{" ".join(c for c in css if c)}"' if any(css) else ""
            cells.append(f"<td{attr}>{escape(row.get(key, ''))}</td>")
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
                "mean_ack_min": minutes(mean),
                "alert_min": minutes(s.alert_seconds),
                "checks": f"{s.checks_passed} / {s.checks_run}" if s.checks_run else "",
                "breaks": breaks,
            }
        )
    return rows


def _selftest_section(data: ReportData, lang: str) -> str:
    if not data.selftests:
        return f"<p>{escape(L_NONE(lang))}</p>"
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
                        "time": when(ts) if first else "",
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
        return f"<p>{escape(L_NONE(lang))}</p>"
    scales = {"work_seconds": 1 / 3600, "call_seconds": 1 / 3600, "longest_stretch": 1 / 60}
    rows = [
        {key: number(day.get(key), scales.get(key, 1.0)) for key, _ in BREAK_DAY_COLUMNS}
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
        spent = max(0.0, min(end, data.until) - max(alert.started, data.since)) / 60
        bucket = device_minutes.setdefault(alert.device, {})
        bucket[alert.peak] = bucket.get(alert.peak, 0.0) + spent
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
            ("taken", LEVEL_COLOURS[Level.OK], T("Taken", "已休")),
            ("postponed", LEVEL_COLOURS[Level.WARNING], T("Postponed", "推迟")),
            ("skipped", LEVEL_COLOURS[Level.CRITICAL], T("Skipped", "跳过")),
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
        else f"<p>{escape(L_NONE(lang))}</p>"
    )
    period_text = f"{data.first.isoformat()} — {data.last.isoformat()} ({per})"
    html_lang = "zh-CN" if lang.startswith("zh") else "en"
    return "".join(
        [
            "<!DOCTYPE html>\n",
            f'<html xmlns="http://www.w3.org/1999/xhtml" lang="{html_lang}">',
            '<head><meta charset="utf-8"/>',
            '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
            f"<title>{escape(L_TITLE(lang))} {escape(period_text)}</title>",
            f"<style>{CSS}</style></head><body>",
            f"<h1>{escape(L_TITLE(lang))}</h1>",
            f'<p class="meta">{escape(L_SEAT(lang))}: {escape(data.seat)} · '
            f"{escape(L_PERIOD(lang))}: {escape(period_text)} · "
            f"{escape(L_GENERATED(lang))}: {escape(when(data.generated))} · "
            f"Deskwatch {escape(__version__)}</p>",
            f"<h2>{escape(L_SUMMARY(lang))}</h2>",
            f'<div class="charts">{"".join(charts)}</div>',
            _table(
                SUMMARY_COLUMNS, _summary_rows(data, lang), lang, numeric=[k for k, _ in SUMMARY_COLUMNS][1:]
            ),
            f"<h2>{escape(L_ALERTS(lang))}</h2>",
            alert_table,
            f"<h2>{escape(L_SELFTESTS(lang))}</h2>",
            _selftest_section(data, lang),
            f"<h2>{escape(L_BREAKS(lang))}</h2>",
            _breaks_section(data, lang),
            air_section(data.air, lang, _table),
            sound.html_section(data.sound_days, lang, _table),
            "</body></html>\n",
        ]
    )
