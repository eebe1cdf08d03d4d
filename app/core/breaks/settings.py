"""Break timing: the kinds of break, presets, the ``[breaks]`` settings and what the scheduler reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.core.ringing import softphone_names
from app.kernel.i18n import Text
from app.kernel.settings import Setting

MINUTE = 60.0
HOUR = 3600.0


class BreakKind(Enum):
    """The three kinds of break, in increasing weight."""

    MICRO = "micro"
    REST = "rest"
    DAILY = "daily"

    @property
    def label(self) -> Text:
        """Localised name."""
        return _KIND_LABELS[self]

    @property
    def weight(self) -> int:
        """A heavier break also counts as every lighter one."""
        return list(BreakKind).index(self)


_KIND_LABELS = {
    BreakKind.MICRO: Text("Micro-break", "眼部小憩"),
    BreakKind.REST: Text("Rest break", "工间休息"),
    BreakKind.DAILY: Text("Daily screen-work limit", "每日屏幕工作上限"),
}


# -- settings -----------------------------------------------------------------
@dataclass(frozen=True)
class BreakRule:
    """A break of ``duration`` seconds after ``interval`` seconds of screen work."""

    interval: float
    duration: float

    @property
    def enabled(self) -> bool:
        """A rule with a zero interval or duration is switched off."""
        return self.interval > 0 and self.duration > 0


@dataclass(frozen=True)
class BreakPlan:
    """The timing of all break kinds; ``daily_limit`` 0 means no daily limit."""

    micro: BreakRule
    rest: BreakRule
    daily_limit: float


#: Named presets.  "deskwatch" follows the 20-20-20 eye rule and UK HSE / Japan
#: MHLW guidance (a 10-minute break after 50 minutes, never more than an hour of
#: continuous screen work); the daily limit is set for an 8-hour shift with
#: calls, where Workrave's 4 hours would fire every day before lunch.
PRESETS: dict[str, BreakPlan] = {
    "deskwatch": BreakPlan(BreakRule(20 * MINUTE, 20), BreakRule(50 * MINUTE, 10 * MINUTE), 6 * HOUR),
    "workrave": BreakPlan(BreakRule(3 * MINUTE, 30), BreakRule(45 * MINUTE, 10 * MINUTE), 4 * HOUR),
    "hse": BreakPlan(BreakRule(0, 0), BreakRule(60 * MINUTE, 10 * MINUTE), 0),
}
PRESET_CHOICES = (*PRESETS, "custom")

#: The ``[breaks]`` config section (registered in ``app.core.config.APP_SECTIONS``).
BREAK_SETTINGS: tuple[Setting, ...] = (
    Setting("enabled", True, Text("Break reminders", "工间休息提醒")),
    Setting(
        "preset",
        "deskwatch",
        Text("Break timing", "休息方案"),
        choices=PRESET_CHOICES,
        help=Text(
            "deskwatch: 20 s every 20 min, 10 min after 50 min, 6 h a day; workrave: 30 s / 3 min, "
            "10 min / 45 min, 4 h; hse: 10 min after 60 min; custom: the values below",
            "deskwatch:每 20 分钟 20 秒、每 50 分钟 10 分钟、每日 6 小时;workrave:30 秒/3 分钟、"
            "10 分钟/45 分钟、4 小时;hse:每 60 分钟 10 分钟;custom:使用下列数值",
        ),
    ),
    Setting(
        "micro_interval_minutes",
        20.0,
        Text("Micro-break every (min of screen work; custom)", "眼部小憩间隔(屏幕工作分钟,自定义)"),
        minimum=0,
        maximum=480,
    ),
    Setting(
        "micro_seconds",
        20.0,
        Text("Micro-break length (s; custom)", "眼部小憩时长(秒,自定义)"),
        minimum=0,
        maximum=600,
    ),
    Setting(
        "rest_interval_minutes",
        50.0,
        Text("Rest break every (min of screen work; custom)", "工间休息间隔(屏幕工作分钟,自定义)"),
        minimum=0,
        maximum=480,
    ),
    Setting(
        "rest_minutes",
        10.0,
        Text("Rest break length (min; custom)", "工间休息时长(分钟,自定义)"),
        minimum=0,
        maximum=120,
    ),
    Setting(
        "daily_limit_hours",
        6.0,
        Text("Daily screen-work limit (h; custom; 0 = off)", "每日屏幕工作上限(小时,自定义;0 为关闭)"),
        minimum=0,
        maximum=24,
    ),
    Setting(
        "notice_seconds", 30.0, Text("Notice before a break (s)", "休息前提示(秒)"), minimum=0, maximum=600
    ),
    Setting("postpone_minutes", 5.0, Text("Postpone by (min)", "推迟时长(分钟)"), minimum=0.5, maximum=120),
    Setting(
        "max_postpones", 2, Text("Postpones allowed per break", "每次休息可推迟次数"), minimum=0, maximum=10
    ),
    Setting(
        "call_grace_seconds",
        30.0,
        Text("Wrap-up time after a call (s)", "通话结束后的整理时间(秒)"),
        minimum=0,
        maximum=600,
    ),
    Setting(
        "call_cap_minutes",
        15.0,
        Text(
            "Show a quiet notice when a call holds a break longer than (min)",
            "通话推迟休息超过该时长时静默提示(分钟)",
        ),
        minimum=1,
        maximum=240,
    ),
    Setting(
        "ring_seconds",
        0.7,
        Text(
            "Another program playing this long while a break is shown means the phone rings (s)",
            "休息提示期间其他程序持续播放声音达到该时长即视为来电振铃(秒)",
        ),
        help=Text(
            "shorter sounds (notification blips) do not end a break", "更短的声音(通知提示音)不会结束休息"
        ),
        minimum=0.2,
        maximum=10,
    ),
    Setting(
        "softphones",
        "",
        Text("Softphone programs (comma-separated)", "软电话程序(逗号分隔)"),
        help=Text(
            "their sound ends a break at once, like a stream with media role 'phone'",
            "其声音立即结束休息,与媒体角色为 phone 的音频流相同",
        ),
    ),
    Setting(
        "strict",
        False,
        Text("Strict mode (no postpone or skip)", "严格模式(不可推迟或跳过)"),
        help=Text("a call still ends a break at once", "来电时休息窗口仍会立即关闭"),
    ),
    Setting("sounds", False, Text("Sound at a break (never during a call)", "休息提示音(通话中从不播放)")),
    Setting(
        "activity_source",
        "auto",
        Text("Keyboard/mouse activity source", "键鼠活动来源"),
        choices=("auto", "x11", "mutter", "windows", "none"),
    ),
)


@dataclass(frozen=True)
class BreakSettings:
    """Everything the scheduler needs to know, with the defaults of the "deskwatch" preset."""

    plan: BreakPlan = PRESETS["deskwatch"]
    notice_seconds: float = 30.0
    postpone_seconds: float = 5 * MINUTE
    max_postpones: int = 2
    call_grace_seconds: float = 30.0
    call_cap_seconds: float = 15 * MINUTE
    #: Another program's sound this long during a notice or break is a ring (see app.core.ringing).
    ring_seconds: float = 0.7
    #: Application names whose sound is a ring at once (case-folded).
    softphones: frozenset[str] = frozenset()
    strict: bool = False
    sounds: bool = False
    #: After the daily limit, remind again after this much more screen work.
    daily_repeat_seconds: float = HOUR
    #: A gap between ticks longer than this (suspend, a stopped app) is rest.
    max_tick_gap: float = 60.0

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> BreakSettings:
        """Build from the validated ``[breaks]`` config section."""
        preset = str(section.get("preset", "deskwatch"))
        if preset in PRESETS:
            plan = PRESETS[preset]
        else:
            plan = BreakPlan(
                BreakRule(float(section["micro_interval_minutes"]) * MINUTE, float(section["micro_seconds"])),
                BreakRule(
                    float(section["rest_interval_minutes"]) * MINUTE, float(section["rest_minutes"]) * MINUTE
                ),
                float(section["daily_limit_hours"]) * HOUR,
            )
        return cls(
            plan=plan,
            notice_seconds=float(section["notice_seconds"]),
            postpone_seconds=float(section["postpone_minutes"]) * MINUTE,
            max_postpones=int(section["max_postpones"]),
            call_grace_seconds=float(section["call_grace_seconds"]),
            call_cap_seconds=float(section["call_cap_minutes"]) * MINUTE,
            ring_seconds=float(section.get("ring_seconds", 0.7)),
            softphones=softphone_names(str(section.get("softphones", ""))),
            strict=bool(section["strict"]),
            sounds=bool(section["sounds"]),
        )

    def rule(self, kind: BreakKind) -> BreakRule:
        """Interval and duration of one kind (the daily limit's break is as long as a rest break)."""
        if kind is BreakKind.MICRO:
            return self.plan.micro
        if kind is BreakKind.REST:
            return self.plan.rest
        duration = self.plan.rest.duration if self.plan.rest.enabled else 10 * MINUTE
        return BreakRule(self.plan.daily_limit, duration)

    @property
    def shortest_break(self) -> float:
        """Idle time after which the clerk is no longer at the screen."""
        durations = [r.duration for r in (self.plan.micro, self.plan.rest) if r.enabled]
        return min(durations, default=20.0)
