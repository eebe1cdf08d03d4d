"""The break state machine: phases, events, what the UI renders, and the scheduler that steps them.

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
during a tick, so tests walk through whole workdays in milliseconds.  The
break service (:mod:`app.core.breaks.service`) drives it; the UI renders
:meth:`BreakScheduler.status` and reacts to :class:`BreakEvent`\\ s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from app.core.breaks.exercises import Exercise, choose_exercise
from app.core.breaks.settings import MINUTE, BreakKind, BreakSettings
from app.core.breaks.stats import DayStats, local_date
from app.core.breaks.stores import BreakStore, MemoryBreakStore
from app.kernel.i18n import Text

log = logging.getLogger(__name__)


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
        #: Whether a notice or a break window can be shown (False: no UI, e.g. ``run --headless``).
        self.can_show = True
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
        if not self.can_show:
            # Nobody to show it to (run --headless): it stays due, never "taken",
            # until the clerk steps away long enough for a natural break.
            self.phase = Phase.WORKING
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
