"""The ``breaks.*`` indicators and the readings the break service puts on the panel (and the exporter)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.breaks.settings import HOUR, MINUTE
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, IndicatorMaker, Level, Reading, Thresholds

if TYPE_CHECKING:
    from app.core.breaks.scheduler import BreakScheduler

_ind = IndicatorMaker("breaks", Device.BREAKS)


SCREEN_WORK = _ind(
    "screen_work_today",
    Text("Screen work today", "今日屏幕工作"),
    "min",
    description=Text("Time at the screen or in calls today", "今天在屏幕前或通话中的时间"),
    metric_unit="seconds",
    metric_scale=60.0,
)
NEXT_BREAK = _ind(
    "next_break",
    Text("Next break in", "距下次休息"),
    "min",
    description=Text("Minutes of screen work until the next break", "距下次休息还需屏幕工作的分钟数"),
    metric_unit="seconds",
    metric_scale=60.0,
)
#: Japan's MHLW: no more than an hour of continuous screen work.
STRETCH = _ind(
    "stretch",
    Text("Screen work without a break", "连续屏幕工作"),
    "min",
    thresholds=Thresholds(Direction.HIGH_IS_BAD, warning=60, critical=90, warning_clear=5, critical_clear=5),
    description=Text(
        "Continuous screen work and calls since the last break", "自上次休息以来连续的屏幕工作与通话时间"
    ),
    metric_unit="seconds",
    metric_scale=60.0,
)
TAKEN = _ind("taken_today", Text("Breaks taken today", "今日已休息"), "")
SKIPPED = _ind(
    "skipped_today",
    Text("Breaks skipped today", "今日跳过休息"),
    "",
    thresholds=Thresholds(Direction.HIGH_IS_BAD, warning=3, warning_clear=3),
)
SOURCE = _ind("activity_source", Text("Activity source", "活动检测来源"), numeric=False)
INDICATORS: tuple[Indicator, ...] = (SCREEN_WORK, NEXT_BREAK, STRETCH, TAKEN, SKIPPED, SOURCE)

TAKEN_DETAIL = Text(
    "taken {taken}, natural {natural}, postponed {postponed}, skipped {skipped}, held for calls {held}",
    "已休息 {taken} 次,自然休息 {natural} 次,推迟 {postponed} 次,跳过 {skipped} 次,因通话推迟 {held} 次",
)
OVER_LIMIT = Text("Over the daily limit of {hours:g} h", "已超过每日 {hours:g} 小时上限")
NEXT_DETAIL = Text("{kind} next", "下一次:{kind}")
NO_SOURCE = Text(
    "No keyboard/mouse idle time available: natural breaks cannot be seen",
    "无法获取键鼠空闲时间:无法识别自然休息",
)


CHOSEN_NONE = Text(
    "Set to none: every minute counts as screen work",
    "已设为无:所有时间都计为屏幕工作",
)
NOT_OBSERVED_HERE = Text(
    "No keyboard/mouse idle time and no break notices in this session: screen work is not counted",
    "本会话无键鼠空闲时间且不显示休息提醒:不统计屏幕工作时间",
)


def source_reading(source_name: str, source_label: Text, *, chosen_none: bool = False) -> Reading:
    """The activity source's reading: OK when it sees idle time, grey when set to none on purpose.

    An automatic choice that found no source is a warning (natural breaks
    cannot be seen); ``activity_source = "none"`` in the config is the site's
    decision, not a fault, so it is "not set up" and opens no alert.
    """
    if source_name != "none":
        level, message = Level.OK, source_label
    elif chosen_none:
        level, message = Level.NOT_SET_UP, CHOSEN_NONE
    else:
        level, message = Level.WARNING, NO_SOURCE
    return Reading(SOURCE.id, source_label(), level, message, detail={"source": source_name})


def not_observed_here() -> Reading:
    """Headless with no idle-time source: nothing to remind and nothing seen, so no clock runs."""
    return Reading(SOURCE.id, None, Level.NOT_SET_UP, NOT_OBSERVED_HERE, detail={"source": "none"})


def readings(
    scheduler: BreakScheduler, source_name: str, source_label: Text, *, chosen_none: bool = False
) -> list[Reading]:
    """The ``breaks.*`` readings for the panel's breaks card."""
    stats = scheduler.today
    limit = scheduler.settings.plan.daily_limit
    over = limit > 0 and stats.work_seconds >= limit
    next_kind, next_in = scheduler.next_break()
    result = [
        Reading(
            SCREEN_WORK.id,
            round(stats.work_seconds / MINUTE, 1),
            Level.WARNING if over else Level.OK,
            OVER_LIMIT.format(hours=limit / HOUR) if over else None,
        ),
        Reading(
            NEXT_BREAK.id,
            None if next_in is None else round(next_in / MINUTE, 1),
            Level.OK,
            NEXT_DETAIL.format(kind=next_kind.label) if next_kind else None,
        ),
        Reading(STRETCH.id, round(scheduler.stretch / MINUTE, 1)),
        Reading(
            TAKEN.id,
            stats.taken,
            Level.OK,
            TAKEN_DETAIL.format(
                taken=stats.taken,
                natural=stats.natural,
                postponed=stats.postponed,
                skipped=stats.skipped,
                held=stats.held_for_calls,
            ),
        ),
        Reading(SKIPPED.id, stats.skipped),
        source_reading(source_name, source_label, chosen_none=chosen_none),
    ]
    return result
