"""The report's sound-dose section: each day's dose, loudest level and acoustic shocks for the clerk.

Read from the per-minute history samples the hearing monitor's readings
leave (``hearing.*``; levels and percentages only, never audio): the day's
dose is cumulative, so the day's highest sample is its dose at the end of
the day.  Acoustic shocks are counted the same way and timed from their
alert episodes.  A seat without the hearing monitor has no rows, and the
section says so.
"""

from __future__ import annotations

import datetime as dt
import getpass
import html
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from app.core.history import History
from app.core.reports.periods import midnight
from app.kernel.i18n import Text

log = logging.getLogger(__name__)

T = Text
L_SOUND = T("Sound dose (headset)", "噪声剂量(耳机)")
L_NO_SOUND = T("No sound dose recorded in this period.", "本时段内没有噪声剂量记录。")
L_NOTE = T(
    "Daily dose: % of GBZ 2.2-2007's 85 dB(A) over 8 h; weekly: % of ITU-T H.870's 80 dB(A) over 40 h "
    "(last 7 days). Levels at the ear from the configured headset sensitivity; no audio is kept.",
    "日剂量:占 GBZ 2.2-2007 限值 85 dB(A)·8 h 的比例;周剂量:占 ITU-T H.870 参考值 80 dB(A)·40 h"
    "(最近 7 天)的比例。声级按设定的耳机灵敏度换算,不保存任何音频。",
)

COLUMNS = (
    ("date", T("Date", "日期")),
    ("clerk", T("Clerk", "受理员")),
    ("daily_dose", T("Daily dose (%)", "日剂量(%)")),
    ("weekly_dose", T("Weekly dose (%)", "周剂量(%)")),
    ("loudest", T("Loudest minute (dB(A))", "最高分钟声级(dB(A))")),
    ("shocks", T("Acoustic shocks", "声冲击次数")),
    ("shock_times", T("Shock times", "声冲击时间")),
)
NUMERIC = ("daily_dose", "weekly_dose", "loudest", "shocks")

DAILY, WEEKLY, LEVEL, SHOCKS = (
    "hearing.daily_dose", "hearing.weekly_dose", "hearing.sound_level", "hearing.acoustic_shocks",
)  # fmt: skip
KEYS = (DAILY, WEEKLY, LEVEL, SHOCKS)


@dataclass
class SoundDay:
    """One day of the clerk's sound exposure as the history holds it."""

    date: dt.date
    daily_dose: float | None = None
    weekly_dose: float | None = None
    loudest_db: float | None = None
    shocks: int = 0
    shock_times: list[float] = field(default_factory=list)


def gather_sound(history: History, first: dt.date, last: dt.date) -> list[SoundDay]:
    """The days ``first``..``last`` that have any hearing sample (read defensively)."""
    try:
        return _gather(history, first, last)
    except Exception:  # a damaged record must not stop the report
        log.exception("report: sound dose unreadable")
        return []


def _day_max(samples: Iterable[tuple[float, float | None]], day_start: float, day_end: float) -> float | None:
    values = [v for ts, v in samples if day_start <= ts < day_end and v is not None]
    return max(values) if values else None


def _gather(history: History, first: dt.date, last: dt.date) -> list[SoundDay]:
    since, until = midnight(first), midnight(last + dt.timedelta(days=1))
    series = {key: [(s.ts, s.vmax) for s in history.samples(key, since, until)] for key in KEYS}
    shock_times: list[float] = []
    for alert in history.alerts_between(since, until):
        if alert.indicator_id == SHOCKS:
            shock_times += sorted({alert.started, alert.last_raised or alert.started})
    days = []
    day = first
    while day <= last:
        start, end = midnight(day), midnight(day + dt.timedelta(days=1))
        entry = SoundDay(
            day,
            _day_max(series[DAILY], start, end),
            _day_max(series[WEEKLY], start, end),
            _day_max(series[LEVEL], start, end),
            int(_day_max(series[SHOCKS], start, end) or 0),
            [t for t in shock_times if start <= t < end],
        )
        if entry.daily_dose is not None or entry.shocks or entry.shock_times:
            days.append(entry)
        day += dt.timedelta(days=1)
    return days


def _clock(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def rows(days: Sequence[SoundDay], clerk: str | None = None) -> list[dict[str, str]]:
    """Table rows for ``days``; ``clerk`` is the login name whose history it is (default: this user)."""
    who = clerk if clerk is not None else getpass.getuser()
    return [
        {
            "date": d.date.isoformat(),
            "clerk": who,
            "daily_dose": _number(d.daily_dose),
            "weekly_dose": _number(d.weekly_dose),
            "loudest": _number(d.loudest_db),
            "shocks": str(d.shocks),
            "shock_times": ", ".join(_clock(t) for t in d.shock_times),
        }
        for d in days
    ]


Table = Callable[..., str]


def html_section(days: Sequence[SoundDay], lang: str, table: Table) -> str:
    """The section as HTML (``table`` is the page's table renderer, so it looks like the others)."""
    head = f"<h2>{html.escape(L_SOUND(lang))}</h2>"
    if not days:
        return f"{head}<p>{html.escape(L_NO_SOUND(lang))}</p>"
    note = f'<p class="advice">{html.escape(L_NOTE(lang))}</p>'
    return head + table(COLUMNS, rows(days), lang, numeric=NUMERIC) + note
