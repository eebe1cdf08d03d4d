"""Break reminders that respect calls: the Qt-free scheduler, its settings and statistics.

Every popular break reminder counts "no keyboard or mouse input" as rest, so a
clerk listening to a caller looks idle, and none of them knows a call is in
progress.  This scheduler differs in exactly those points:

* time in a call counts as screen work, never as rest (idle time that began
  during a call is not a natural break);
* a break that falls due during a call is *held* until the call ends plus a
  wrap-up grace; after a cap it turns into a quiet notice — nothing ever
  covers the screen or makes a sound while a call is in progress;
* per-day statistics are persisted and survive restarts.

:class:`BreakScheduler` is a state machine stepped by
``tick(now, idle_seconds, in_call, locked)``; it never reads a clock itself
during a tick, so tests walk through whole workdays in milliseconds.  The UI
renders :meth:`BreakScheduler.status` and reacts to :class:`BreakEvent`\\ s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from app.core.ringing import softphone_names
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, Level, Reading, Thresholds
from app.kernel.settings import Setting

if TYPE_CHECKING:  # imported lazily: app.core.config imports this module
    from app.core.engine import Engine
    from app.core.history import History

log = logging.getLogger(__name__)

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


# -- exercises ----------------------------------------------------------------
@dataclass(frozen=True)
class Exercise:
    """What to do during a break, shown in the break window."""

    id: str
    title: Text
    steps: tuple[Text, ...]


EYES = Exercise(
    "eyes",
    Text("Rest your eyes", "放松眼睛"),
    (
        Text("Look at something at least 6 metres (20 feet) away.", "看向 6 米(20 英尺)以外的物体。"),
        Text("Blink slowly ten times.", "缓慢眨眼十次。"),
        Text("Keep looking into the distance until the countdown ends.", "保持远眺,直到倒计时结束。"),
    ),
)
NECK = Exercise(
    "neck",
    Text("Neck and shoulders", "颈部与肩部"),
    (
        Text("Stand up and take the headset off.", "站起来,摘下耳机。"),
        Text("Roll your shoulders backwards five times.", "肩膀向后绕环五次。"),
        Text("Tilt your head slowly to each side; hold for 10 seconds.", "头部缓慢向两侧倾斜,各保持 10 秒。"),
        Text("Walk a few steps and look out of a window.", "走动几步,望向窗外。"),
    ),
)
WRISTS = Exercise(
    "wrists",
    Text("Wrists and hands", "手腕与双手"),
    (
        Text("Stand up and let your arms hang loosely.", "站起来,双臂自然下垂。"),
        Text(
            "Stretch your fingers wide, then make a loose fist; ten times.", "张开手指再轻轻握拳,重复十次。"
        ),
        Text("Circle your wrists slowly in both directions.", "双手腕缓慢向两个方向绕环。"),
        Text(
            "Gently bend each hand back with the other; hold 10 seconds.",
            "用一只手轻压另一只手掌向后,保持 10 秒。",
        ),
    ),
)
VOICE = Exercise(
    "voice",
    Text("Rest your voice", "让嗓子休息"),
    (
        Text("Take the headset off and do not talk.", "摘下耳机,不要说话。"),
        Text("Drink some water in small sips.", "小口喝些温水。"),
        Text("Breathe in slowly through the nose, out through the mouth.", "用鼻子缓慢吸气,用嘴呼气。"),
        Text("Relax your jaw and shoulders.", "放松下颌与肩膀。"),
    ),
)
EXERCISES: dict[str, Exercise] = {e.id: e for e in (EYES, NECK, WRISTS, VOICE)}


def choose_exercise(kind: BreakKind, serial: int, talk_share: float) -> Exercise:
    """Pick an exercise suited to the break.

    Micro-breaks are for the eyes.  A rest break after a stretch spent mostly
    on calls rests the voice; otherwise rest breaks alternate between neck and
    shoulders and wrists (``serial`` counts breaks taken today).
    """
    if kind is BreakKind.MICRO:
        return EYES
    if talk_share >= 0.5:
        return VOICE
    return (NECK, WRISTS)[serial % 2]


# -- statistics ---------------------------------------------------------------
@dataclass
class DayStats:
    """Break statistics of one calendar day (local time)."""

    date: str
    due: int = 0
    taken: int = 0
    natural: int = 0
    postponed: int = 0
    skipped: int = 0
    held_for_calls: int = 0
    work_seconds: float = 0.0
    call_seconds: float = 0.0
    longest_stretch: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the history database."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DayStats:
        """Inverse of :meth:`to_dict`; unknown keys (from newer versions) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def local_date(now: float) -> str:
    """The local calendar date of a timestamp, ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.localtime(now))


class BreakStore(Protocol):
    """Where the scheduler keeps its state and statistics."""

    def load(self) -> dict[str, Any] | None:
        """The state saved last, or ``None``."""

    def save(self, state: dict[str, Any]) -> None:
        """Replace the saved state."""

    def add_day(self, stats: DayStats, now: float) -> None:
        """Archive a finished day."""

    def add_break(self, record: dict[str, Any], now: float) -> None:
        """Log one break outcome (taken, skipped, natural …) for supervisors."""


class MemoryBreakStore:
    """A store that lives as long as the object (tests, ``check`` mode)."""

    def __init__(self) -> None:
        self.state: dict[str, Any] | None = None
        self.days: list[DayStats] = []
        self.breaks: list[dict[str, Any]] = []

    def load(self) -> dict[str, Any] | None:
        """See :class:`BreakStore`."""
        return self.state

    def save(self, state: dict[str, Any]) -> None:
        """See :class:`BreakStore`."""
        self.state = state

    def add_day(self, stats: DayStats, now: float) -> None:
        """See :class:`BreakStore`."""
        self.days.append(stats)

    def add_break(self, record: dict[str, Any], now: float) -> None:
        """See :class:`BreakStore`."""
        self.breaks.append(record)


STATE_KEY = "breaks.state"
DAY_RECORD = "breaks.day"
BREAK_RECORD = "breaks.break"


class HistoryBreakStore:
    """Keeps break state and statistics in the history database."""

    def __init__(self, history: History) -> None:
        self.history = history

    def load(self) -> dict[str, Any] | None:
        """See :class:`BreakStore`."""
        value = self.history.get_state(STATE_KEY)
        return value if isinstance(value, dict) else None

    def save(self, state: dict[str, Any]) -> None:
        """See :class:`BreakStore`."""
        self.history.set_state(STATE_KEY, state)

    def add_day(self, stats: DayStats, now: float) -> None:
        """See :class:`BreakStore`."""
        self.history.add_record(DAY_RECORD, stats.to_dict(), now)

    def add_break(self, record: dict[str, Any], now: float) -> None:
        """See :class:`BreakStore`."""
        self.history.add_record(BREAK_RECORD, record, now)

    def week(self, today: DayStats, now: float, days: int = 7) -> list[DayStats]:
        """Statistics of the last ``days`` days, oldest first, with empty days filled in."""
        by_date = {
            data.get("date"): DayStats.from_dict(data)
            for _, data in self.history.records(DAY_RECORD, now - (days + 1) * 86400, now)
        }
        by_date[today.date] = today
        result = []
        for back in range(days - 1, -1, -1):
            date = local_date(now - back * 86400)
            result.append(by_date.get(date, DayStats(date)))
        return result


# -- the state machine ----------------------------------------------------------
class Phase(Enum):
    """What the clerk sees."""

    WORKING = "working"  # nothing shown
    NOTICE = "notice"  # the small pre-break notice
    BREAK = "break"  # break windows on every screen
    HELD = "held"  # due, waiting for the call to end (nothing shown)
    GRACE = "grace"  # call just ended: wrap-up time before the notice
    OVERDUE = "overdue"  # held past the cap: quiet notice, no window, no sound
    PAUSED = "paused"  # reminders paused from the tray

    @property
    def label(self) -> Text:
        """Localised name (for the breaks card)."""
        return _PHASE_LABELS[self]


_PHASE_LABELS = {
    Phase.WORKING: Text("working", "工作中"),
    Phase.NOTICE: Text("break notice", "休息提示"),
    Phase.BREAK: Text("on a break", "休息中"),
    Phase.HELD: Text("break held for a call", "因通话推迟休息"),
    Phase.GRACE: Text("wrap-up after a call", "通话后整理"),
    Phase.OVERDUE: Text("break overdue (in a call)", "休息已超时(通话中)"),
    Phase.PAUSED: Text("reminders paused", "提醒已暂停"),
}


class EventKind(Enum):
    """Things that happened in a tick or through an action."""

    DUE = "due"
    NOTICE = "notice"
    BREAK_STARTED = "break_started"
    BREAK_TAKEN = "break_taken"
    BREAK_INTERRUPTED = "break_interrupted"  # a call started during the notice or break
    HELD = "held"
    QUIET_NOTICE = "quiet_notice"
    NATURAL = "natural"
    POSTPONED = "postponed"
    SKIPPED = "skipped"
    SOUND = "sound"
    PAUSED = "paused"
    RESUMED = "resumed"
    DAY_ENDED = "day_ended"


@dataclass(frozen=True)
class BreakEvent:
    """One event, for the UI (and the log)."""

    kind: EventKind
    time: float
    break_kind: BreakKind | None = None


@dataclass(frozen=True)
class BreakStatus:
    """Everything the UI needs to render the current state."""

    phase: Phase
    kind: BreakKind | None
    #: Seconds left of the notice, of the break, or of the wrap-up grace.
    remaining: float
    duration: float
    postpones_left: int
    can_postpone: bool
    can_skip: bool
    strict: bool
    exercise: Exercise | None
    next_kind: BreakKind | None
    next_in: float | None
    held_for: float


@dataclass
class _Pending:
    """A break that is due and not yet dealt with."""

    kind: BreakKind
    due_since: float
    forced: bool = False
    postpones: int = 0
    snooze_until: float = 0.0
    held_since: float | None = None
    held_counted: bool = False
    quiet_shown: bool = False
    #: When the notice or the break window first appeared (rings are judged from then).
    shown_at: float | None = None


Listener = Callable[[BreakEvent], None]


class BreakScheduler:
    """The break state machine.  Not thread-safe: drive it from one thread."""

    SAVE_EVERY = 60.0

    def __init__(
        self,
        settings: BreakSettings,
        store: BreakStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store: BreakStore = store if store is not None else MemoryBreakStore()
        self.clock = clock
        self.listeners: list[Listener] = []
        self.phase = Phase.WORKING
        self.pending: _Pending | None = None
        #: Screen work since the last break that counts for each kind.
        self.work: dict[BreakKind, float] = {BreakKind.MICRO: 0.0, BreakKind.REST: 0.0}
        self.stretch = 0.0  # screen work since any break
        self.stretch_talk = 0.0  # of which in calls (for the voice-rest exercise)
        self.next_daily = settings.plan.daily_limit
        self.paused_until = 0.0
        self._last_tick: float | None = None
        self._last_call: float = -float("inf")
        self._rest_since: float | None = None  # start of the current rest (idle/locked) period
        self._locked_since: float | None = None
        self._in_call = False
        self._natural_weight = -1  # heaviest natural break already counted in this rest period
        self._phase_end = 0.0
        self._phase_start = 0.0
        self._exercise: Exercise | None = None
        self._last_save = -float("inf")
        now = clock()
        self.today = DayStats(local_date(now))
        self._restore(now)
        self._last_tick = now

    # -- persistence ------------------------------------------------------------
    def _restore(self, now: float) -> None:
        state = self.store.load()
        if not state:
            return
        try:
            stats = DayStats.from_dict(state["stats"])
            saved_at = float(state["saved_at"])
            work = {BreakKind(k): float(v) for k, v in state["work"].items()}
            stretch = float(state["stretch"])
            next_daily = float(state["next_daily"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("breaks: saved state ignored (%s)", exc)
            return
        if stats.date != self.today.date:
            # Deskwatch was not running at midnight: archive that day now, and
            # save at once so a crash cannot archive it a second time.
            self.store.add_day(stats, saved_at)
            self.save(now)
        else:
            self.today = stats
            self.next_daily = next_daily
        self.work.update(work)
        self.stretch = stretch
        # The time Deskwatch was not running is time away from the screen.
        self._apply_rest(max(0.0, now - saved_at))

    def _state(self, now: float) -> dict[str, Any]:
        return {
            "saved_at": now,
            "stats": self.today.to_dict(),
            "work": {k.value: v for k, v in self.work.items()},
            "stretch": self.stretch,
            "next_daily": self.next_daily,
        }

    def save(self, now: float | None = None) -> None:
        """Persist state and today's statistics (done by ticks; call on shutdown too)."""
        now = self.clock() if now is None else now
        self._last_save = now
        self.store.save(self._state(now))

    # -- events -------------------------------------------------------------------
    def _emit(self, events: list[BreakEvent], kind: EventKind, now: float, bkind: BreakKind | None) -> None:
        event = BreakEvent(kind, now, bkind)
        events.append(event)
        log.debug("breaks: %s %s", kind.value, bkind.value if bkind else "")

    def _publish(self, events: list[BreakEvent], now: float) -> list[BreakEvent]:
        if events or now - self._last_save >= self.SAVE_EVERY:
            self.save(now)
        for event in events:
            for listener in list(self.listeners):
                try:
                    listener(event)
                except Exception:  # a broken view must not stop the scheduler
                    log.exception("break listener failed")
        return events

    def _record(self, outcome: str, kind: BreakKind, now: float, **extra: Any) -> None:
        self.store.add_break({"kind": kind.value, "outcome": outcome, **extra}, now)

    # -- the tick -------------------------------------------------------------------
    def tick(self, now: float, idle_seconds: float, in_call: bool, locked: bool = False) -> list[BreakEvent]:
        """Advance to ``now`` given the clerk's input idle time, call and lock state."""
        events: list[BreakEvent] = []
        self._roll_day(now, events)
        dt = 0.0 if self._last_tick is None else max(0.0, now - self._last_tick)
        self._last_tick = now
        if dt > self.settings.max_tick_gap and not in_call:
            # Suspended or stalled: the gap was time away from the screen.
            self._apply_rest(dt)
            dt = 0.0
        self._account(now, dt, idle_seconds, in_call, locked, events)
        self._advance(now, in_call, events)
        return self._publish(events, now)

    def _roll_day(self, now: float, events: list[BreakEvent]) -> None:
        date = local_date(now)
        if date == self.today.date:
            return
        self.store.add_day(self.today, now)
        self.today = DayStats(date)
        self.next_daily = self.settings.plan.daily_limit
        self._emit(events, EventKind.DAY_ENDED, now, None)

    def _account(
        self, now: float, dt: float, idle: float, in_call: bool, locked: bool, events: list[BreakEvent]
    ) -> None:
        """Add screen work, or detect a natural break."""
        was_in_call, self._in_call = self._in_call, in_call
        if locked and not in_call:
            if self._locked_since is None:
                self._locked_since = now - dt
        else:
            self._locked_since = None
        if in_call or was_in_call:
            # A call seen at the last tick and gone at this one lasted until now as far
            # as anyone knows; ticks come the moment the call state changes, so the
            # wrap-up grace runs from the real end of the call.
            self._last_call = now
        if in_call:
            self._rest_since = None
        else:
            # Idle time that began during a call is listening, not rest.
            rest_start = max(now - idle, self._last_call)
            if self._locked_since is not None:
                rest_start = min(rest_start, self._locked_since)
            away = locked or now - rest_start >= self.settings.shortest_break
            self._rest_since = rest_start if away else None
        if self._rest_since is None:
            self._natural_weight = -1
        if self.phase is Phase.BREAK and not in_call:
            return  # the break window is up: this is the break, not work or a natural break
        if (in_call or self._rest_since is None) and dt > 0:
            self.work[BreakKind.MICRO] += dt
            self.work[BreakKind.REST] += dt
            self.stretch += dt
            self.today.work_seconds += dt
            if in_call:
                self.stretch_talk += dt
                self.today.call_seconds += dt
            self.today.longest_stretch = max(self.today.longest_stretch, self.stretch)
        if self._rest_since is not None:
            self._natural(now - self._rest_since, now, events)

    def _heaviest_fitting(self, seconds: float) -> BreakKind | None:
        """The heaviest regular break kind that ``seconds`` away from the screen amount to."""
        heaviest = None
        for kind in (BreakKind.MICRO, BreakKind.REST):
            rule = self.settings.rule(kind)
            if rule.enabled and seconds >= rule.duration:
                heaviest = kind
        return heaviest

    def _natural(self, rest: float, now: float, events: list[BreakEvent]) -> None:
        """Count an idle or locked period as the heaviest break it is long enough for."""
        heaviest = self._heaviest_fitting(rest)
        pending = self.pending
        fits_pending = pending is not None and rest >= self.settings.rule(pending.kind).duration
        if (
            pending is not None
            and fits_pending
            and (heaviest is None or pending.kind.weight > heaviest.weight)
        ):
            heaviest = pending.kind
        if heaviest is None or heaviest.weight <= self._natural_weight:
            return
        if self._natural_weight < 0:
            self.today.natural += 1
        self._natural_weight = heaviest.weight
        self._reset_after(heaviest)
        self._emit(events, EventKind.NATURAL, now, heaviest)
        self._record("natural", heaviest, now, seconds=round(rest))
        if pending is not None and pending.kind.weight <= heaviest.weight:
            if self.phase in (Phase.NOTICE, Phase.OVERDUE):
                self._emit(events, EventKind.BREAK_INTERRUPTED, now, pending.kind)
            self.pending = None
            self.phase = Phase.WORKING

    def _apply_rest(self, seconds: float) -> None:
        """Time Deskwatch did not see (stopped, suspended) counts as time away, uncounted."""
        heaviest = self._heaviest_fitting(seconds)
        if heaviest is not None:
            self._reset_after(heaviest)
            if self.pending is not None and self.pending.kind.weight <= heaviest.weight:
                self.pending = None
                self.phase = Phase.WORKING

    def _reset_after(self, kind: BreakKind) -> None:
        """A break of ``kind`` happened: restart its interval and every lighter one."""
        for other in (BreakKind.MICRO, BreakKind.REST):
            if other.weight <= kind.weight:
                self.work[other] = 0.0
        if kind is BreakKind.DAILY:
            self.next_daily = self.today.work_seconds + self.settings.daily_repeat_seconds
        self.stretch = 0.0
        self.stretch_talk = 0.0

    def _due_kind(self) -> BreakKind | None:
        plan = self.settings.plan
        if plan.daily_limit > 0 and self.today.work_seconds >= self.next_daily:
            return BreakKind.DAILY
        for kind in (BreakKind.REST, BreakKind.MICRO):
            rule = self.settings.rule(kind)
            if rule.enabled and self.work[kind] >= rule.interval:
                return kind
        return None

    def _advance(self, now: float, in_call: bool, events: list[BreakEvent]) -> None:
        """Move the phase on."""
        if self.phase is Phase.PAUSED:
            if now < self.paused_until:
                return
            self.phase = Phase.WORKING
            self._emit(events, EventKind.RESUMED, now, None)
        kind = self._due_kind()
        pending = self.pending
        if pending is None and kind is not None:
            pending = self.pending = _Pending(kind, now)
            self.today.due += 1
            self._emit(events, EventKind.DUE, now, kind)
        elif pending is not None and kind is not None and kind.weight > pending.kind.weight:
            pending.kind = kind  # a rest break fell due while a micro-break waited
        if pending is None:
            return
        if now < pending.snooze_until:
            return
        if in_call:
            self._hold(pending, now, events)
            return
        if now - self._last_call < self.settings.call_grace_seconds:
            if self.phase is not Phase.OVERDUE:
                self.phase = Phase.GRACE
                self._phase_end = self._last_call + self.settings.call_grace_seconds
            return
        if self.phase is Phase.BREAK:
            if now >= self._phase_end:
                self._finish(pending, now, events)
            return
        if self.phase is Phase.NOTICE:
            if now >= self._phase_end:
                self._start_break(pending, now, events)
            return
        if pending.forced or self.settings.notice_seconds <= 0:
            self._start_break(pending, now, events)
            return
        self.phase = Phase.NOTICE
        pending.held_since = None  # a later call starts a new wait
        self._phase_start = now
        self._phase_end = now + self.settings.notice_seconds
        if pending.shown_at is None:
            pending.shown_at = now
        self._emit(events, EventKind.NOTICE, now, pending.kind)
        if self.settings.sounds:
            self._emit(events, EventKind.SOUND, now, pending.kind)

    def _hold(self, pending: _Pending, now: float, events: list[BreakEvent]) -> None:
        """A call is in progress: close anything shown; after the cap, a quiet notice."""
        if self.phase in (Phase.NOTICE, Phase.BREAK):
            self._emit(events, EventKind.BREAK_INTERRUPTED, now, pending.kind)
            self.phase = Phase.HELD
        if pending.held_since is None:
            pending.held_since = now
            if not pending.held_counted:
                pending.held_counted = True
                self.today.held_for_calls += 1
                self._emit(events, EventKind.HELD, now, pending.kind)
        if now - pending.held_since >= self.settings.call_cap_seconds:
            self.phase = Phase.OVERDUE
            if not pending.quiet_shown:
                pending.quiet_shown = True
                self._emit(events, EventKind.QUIET_NOTICE, now, pending.kind)
        elif self.phase is not Phase.OVERDUE:
            self.phase = Phase.HELD

    def _start_break(self, pending: _Pending, now: float, events: list[BreakEvent]) -> None:
        rule = self.settings.rule(pending.kind)
        share = self.stretch_talk / self.stretch if self.stretch > 0 else 0.0
        if pending.held_counted:
            share = max(share, 0.5)  # it waited for a call: the voice needs the rest most
        self._exercise = choose_exercise(pending.kind, self.today.taken, share)
        self.phase = Phase.BREAK
        self._phase_start = now
        self._phase_end = now + rule.duration
        if pending.shown_at is None:
            pending.shown_at = now
        self._emit(events, EventKind.BREAK_STARTED, now, pending.kind)

    def _finish(self, pending: _Pending, now: float, events: list[BreakEvent]) -> None:
        self.today.taken += 1
        self._reset_after(pending.kind)
        held = 0.0 if pending.held_since is None else round(now - pending.held_since)
        self._record("taken", pending.kind, now, waited=round(now - pending.due_since), held=held)
        self.pending = None
        self.phase = Phase.WORKING
        self._emit(events, EventKind.BREAK_TAKEN, now, pending.kind)

    # -- the clerk's actions ------------------------------------------------------
    def postpone(self, now: float | None = None) -> bool:
        """Postpone the break in notice or window; False when not allowed now."""
        now = self.clock() if now is None else now
        status = self.status(now)
        if not status.can_postpone or self.pending is None:
            return False
        pending = self.pending
        pending.postpones += 1
        pending.snooze_until = now + self.settings.postpone_seconds
        self.today.postponed += 1
        self.phase = Phase.WORKING
        events: list[BreakEvent] = []
        self._emit(events, EventKind.POSTPONED, now, pending.kind)
        self._record("postponed", pending.kind, now)
        self._publish(events, now)
        return True

    def skip(self, now: float | None = None) -> bool:
        """Skip the break in notice or window (counted); False when not allowed now."""
        now = self.clock() if now is None else now
        if not self.status(now).can_skip or self.pending is None:
            return False
        pending = self.pending
        self.today.skipped += 1
        # The interval restarts, but the stretch without a real break goes on.
        for other in (BreakKind.MICRO, BreakKind.REST):
            if other.weight <= pending.kind.weight:
                self.work[other] = 0.0
        if pending.kind is BreakKind.DAILY:
            self.next_daily = self.today.work_seconds + self.settings.daily_repeat_seconds
        self.pending = None
        self.phase = Phase.WORKING
        events: list[BreakEvent] = []
        self._emit(events, EventKind.SKIPPED, now, pending.kind)
        self._record("skipped", pending.kind, now)
        self._publish(events, now)
        return True

    def start_now(self, now: float | None = None) -> bool:
        """Start the pending break at once (the notice's "start now")."""
        now = self.clock() if now is None else now
        if self.pending is None or self.phase not in (Phase.NOTICE, Phase.GRACE, Phase.OVERDUE):
            return False
        if self._in_call:
            return False  # nothing may cover the screen during a call
        events: list[BreakEvent] = []
        self._start_break(self.pending, now, events)
        self._publish(events, now)
        return True

    def hold_for_phone(self, now: float | None = None) -> bool:
        """ "Back to work: phone call": close the notice or window and hold the break as for a call.

        Allowed in strict mode too (calls win).  The break comes back after the
        wrap-up grace, or after the call Deskwatch sees, whichever is later.
        """
        now = self.clock() if now is None else now
        pending = self.pending
        if pending is None or self.phase not in (Phase.NOTICE, Phase.BREAK):
            return False
        events: list[BreakEvent] = []
        self._emit(events, EventKind.BREAK_INTERRUPTED, now, pending.kind)
        if not pending.held_counted:
            pending.held_counted = True
            self.today.held_for_calls += 1
            self._emit(events, EventKind.HELD, now, pending.kind)
        self._record("held_for_phone", pending.kind, now)
        self._last_call = now
        self.phase = Phase.GRACE
        self._phase_end = now + self.settings.call_grace_seconds
        self._publish(events, now)
        return True

    def take_break_now(self, now: float | None = None, kind: BreakKind = BreakKind.REST) -> None:
        """ "Take a break now" from the tray: a break without notice, held if a call is on."""
        now = self.clock() if now is None else now
        if self.phase is Phase.BREAK:
            return
        if self.phase is Phase.PAUSED:
            self.phase = Phase.WORKING
        self.pending = _Pending(kind, now, forced=True)
        self.phase = Phase.WORKING
        events: list[BreakEvent] = []
        self._advance(now, self._in_call, events)
        self._publish(events, now)

    def pause(self, minutes: float, now: float | None = None) -> None:
        """Pause reminders for ``minutes`` (0 resumes); screen work is still counted."""
        now = self.clock() if now is None else now
        events: list[BreakEvent] = []
        if minutes <= 0:
            if self.phase is Phase.PAUSED:
                self.paused_until = now
                self._advance(now, False, events)
        else:
            if self.phase is Phase.BREAK or self.phase is Phase.NOTICE:
                assert self.pending is not None
                self._emit(events, EventKind.BREAK_INTERRUPTED, now, self.pending.kind)
            self.pending = None
            self.paused_until = now + minutes * MINUTE
            self.phase = Phase.PAUSED
            self._emit(events, EventKind.PAUSED, now, None)
        self._publish(events, now)

    # -- queries ----------------------------------------------------------------------
    def announced_at(self) -> float | None:
        """When the pending break was first announced or shown (``None``: not yet, or none pending).

        From then until the break is taken or skipped, a ring holds it as a call does.
        """
        return None if self.pending is None else self.pending.shown_at

    def next_break(self) -> tuple[BreakKind | None, float | None]:
        """The next break to fall due and the screen-work seconds until it."""
        best: tuple[BreakKind | None, float | None] = (None, None)
        candidates: list[tuple[float, BreakKind]] = []
        for kind in (BreakKind.REST, BreakKind.MICRO):
            rule = self.settings.rule(kind)
            if rule.enabled:
                candidates.append((max(0.0, rule.interval - self.work[kind]), kind))
        if self.settings.plan.daily_limit > 0:
            candidates.append((max(0.0, self.next_daily - self.today.work_seconds), BreakKind.DAILY))
        if candidates:
            seconds, kind = min(candidates, key=lambda c: (c[0], -c[1].weight))
            best = (kind, seconds)
        return best

    def status(self, now: float | None = None) -> BreakStatus:
        """The state the UI renders."""
        now = self.clock() if now is None else now
        pending = self.pending
        strict = self.settings.strict
        kind = pending.kind if pending is not None else None
        duration = self.settings.rule(kind).duration if kind is not None else 0.0
        remaining = 0.0
        if self.phase in (Phase.NOTICE, Phase.BREAK, Phase.GRACE):
            remaining = max(0.0, self._phase_end - now)
        postpones_left = 0 if pending is None else max(0, self.settings.max_postpones - pending.postpones)
        visible = self.phase in (Phase.NOTICE, Phase.BREAK, Phase.OVERDUE)
        forced = pending is not None and pending.forced
        held_for = 0.0
        if pending is not None and pending.held_since is not None:
            held_for = now - pending.held_since
        next_kind, next_in = self.next_break()
        return BreakStatus(
            phase=self.phase,
            kind=kind,
            remaining=remaining,
            duration=duration,
            postpones_left=postpones_left,
            can_postpone=visible and not strict and not forced and postpones_left > 0,
            can_skip=visible and (forced or not strict),
            strict=strict and not forced,
            exercise=self._exercise if self.phase is Phase.BREAK else None,
            next_kind=next_kind,
            next_in=next_in,
            held_for=held_for,
        )


# -- indicators for the panel ---------------------------------------------------------
def _ind(name: str, label: Text, unit: str = "", **kwargs: Any) -> Indicator:
    return Indicator(f"breaks.{name}", Device.BREAKS, label, unit, **kwargs)


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


def readings(scheduler: BreakScheduler, source_name: str, source_label: Text) -> list[Reading]:
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
        Reading(
            SOURCE.id,
            source_label(),
            Level.WARNING if source_name == "none" else Level.OK,
            NO_SOURCE if source_name == "none" else source_label,
            detail={"source": source_name},
        ),
    ]
    return result


class BreakService:
    """Glue between the scheduler, the engine (panel, history) and the call state.

    Qt-free: the UI layer reads the activity source off the GUI thread and
    calls :meth:`step` once a second with what it read.
    """

    INGEST_EVERY = 10.0

    def __init__(
        self,
        settings: BreakSettings,
        engine: Engine | None,
        history: History | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.store: BreakStore = HistoryBreakStore(history) if history is not None else MemoryBreakStore()
        self.scheduler = BreakScheduler(settings, self.store, clock)
        self.clock = clock
        self.source_name = "none"
        self.source_label = Text("none", "无")
        self._last_ingest = -float("inf")
        if engine is not None:
            engine.register_indicators(INDICATORS)

    def set_source(self, name: str, label: Text) -> None:
        """Name the activity source in use (shown on the breaks card)."""
        self.source_name, self.source_label = name, label
        self._last_ingest = -float("inf")

    def step(self, now: float, idle_seconds: float, in_call: bool, locked: bool) -> list[BreakEvent]:
        """One tick of the scheduler, and the panel readings every few seconds or on change."""
        events = self.scheduler.tick(now, idle_seconds, in_call, locked)
        if events or now - self._last_ingest >= self.INGEST_EVERY:
            self.publish(now)
        return events

    def publish(self, now: float | None = None) -> None:
        """Push the current ``breaks.*`` readings to the engine."""
        now = self.clock() if now is None else now
        self._last_ingest = now
        if self.engine is not None:
            self.engine.ingest(readings(self.scheduler, self.source_name, self.source_label), now)

    def week(self, now: float | None = None) -> list[DayStats]:
        """The last seven days of statistics, today included (for the week chart)."""
        now = self.clock() if now is None else now
        if isinstance(self.store, HistoryBreakStore):
            return self.store.week(self.scheduler.today, now)
        past = {d.date: d for d in getattr(self.store, "days", [])}
        past[self.scheduler.today.date] = self.scheduler.today
        dates = [local_date(now - back * 86400) for back in range(6, -1, -1)]
        return [past.get(date, DayStats(date)) for date in dates]

    def close(self, now: float | None = None) -> None:
        """Save the state (on shutdown)."""
        self.scheduler.save(now)


__all__ = [
    "BREAK_SETTINGS",
    "INDICATORS",
    "PRESETS",
    "BreakEvent",
    "BreakKind",
    "BreakPlan",
    "BreakRule",
    "BreakScheduler",
    "BreakService",
    "BreakSettings",
    "BreakStatus",
    "DayStats",
    "EventKind",
    "Exercise",
    "HistoryBreakStore",
    "MemoryBreakStore",
    "Phase",
]
