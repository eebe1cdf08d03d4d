"""Gathering a report: alerts, start-of-shift checks and break statistics read from history.

Break statistics come through the breaks store's read API
(:class:`~app.core.breaks.HistoryBreakStore`: outcomes and per-day
statistics), which reads them defensively; reports never name its records.
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core import breaks, selftest
from app.core.alerts import Alert
from app.core.history import History
from app.core.reports.air import AirRow, gather_air
from app.core.reports.periods import PER_CHOICES, Period, Shift, day_at, make_periods, midnight, period_of
from app.core.reports.sound import SoundDay, gather_sound
from app.kernel.i18n import Text
from app.kernel.model import Indicator, Level

log = logging.getLogger(__name__)

L_OUTSIDE = Text("Outside shifts", "班次以外")


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
    #: Pollutant levels per period and sensor (:mod:`~app.core.reports.air`).
    air: list[AirRow] = field(default_factory=list)
    #: The clerk's sound dose per day (:mod:`app.core.reports.sound`).
    sound_days: list[SoundDay] = field(default_factory=list)

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
    since, until = midnight(first), day_at(last, 24 * 60)
    if periods:
        since, until = min(since, periods[0].start), max(until, periods[-1].end)
    now = clock()
    outside = Period("outside", L_OUTSIDE(), since, until)
    summaries = {p.key: PeriodSummary(p) for p in periods}
    summaries[outside.key] = PeriodSummary(outside)

    alerts: list[tuple[Alert, Period]] = []
    for alert in history.alerts_between(since, until):
        period = period_of(max(alert.started, since), periods) or outside
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
        summary = summaries[(period_of(ts, periods) or outside).key]
        summary.checks_run += 1
        summary.checks_passed += int(result.passed)

    store = breaks.HistoryBreakStore(history)
    for ts, outcome in store.outcomes(since, until):
        summary = summaries[(period_of(ts, periods) or outside).key]
        summary.breaks[outcome] = summary.breaks.get(outcome, 0) + 1

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
        break_days=store.day_records(first, last),
        indicators=dict(indicators or {}),
        air=gather_air(history, periods, since, until),
        sound_days=gather_sound(history, first, last),
    )
