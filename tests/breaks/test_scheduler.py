"""The break scheduler stepped through workdays with a simulated clerk (milliseconds each)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from app.core.breaks import (
    PRESETS,
    BreakKind,
    BreakPlan,
    BreakRule,
    BreakScheduler,
    BreakSettings,
    EventKind,
    MemoryBreakStore,
    Phase,
)
from tests.breaks.sim import Clerk

MIN = 60.0
#: Only micro-breaks, to look at one kind at a time.
MICRO_ONLY = BreakSettings(plan=BreakPlan(BreakRule(20 * MIN, 20), BreakRule(0, 0), 0))
REST_ONLY = BreakSettings(plan=BreakPlan(BreakRule(0, 0), BreakRule(50 * MIN, 10 * MIN), 0))


def test_micro_break_notice_then_window_then_taken() -> None:
    clerk = Clerk(MICRO_ONLY)
    assert clerk.run_until_phase(Phase.NOTICE) == 20 * MIN
    status = clerk.scheduler.status()
    assert status.kind is BreakKind.MICRO and status.remaining == 30 and status.can_postpone
    assert clerk.run_until_phase(Phase.BREAK) == 30  # the notice's countdown starts it
    status = clerk.scheduler.status()
    assert status.exercise is not None and status.exercise.id == "eyes"
    assert status.remaining == 20 and status.duration == 20
    assert clerk.run_until_phase(Phase.WORKING) == 20
    stats = clerk.scheduler.today
    assert (stats.due, stats.taken, stats.skipped, stats.natural) == (1, 1, 0, 0)
    assert clerk.kinds() == [EventKind.DUE, EventKind.NOTICE, EventKind.BREAK_STARTED, EventKind.BREAK_TAKEN]
    assert stats.longest_stretch == 20 * MIN + 30


def test_a_full_workday_with_the_default_preset() -> None:
    clerk = Clerk()
    started = time.perf_counter()
    clerk.run(8 * 3600)
    elapsed = time.perf_counter() - started
    stats = clerk.scheduler.today
    taken = [e.break_kind for e in clerk.events if e.kind is EventKind.BREAK_TAKEN]
    # 50 min + notice + 10 min per rest cycle, micro-breaks between: ~7.9 cycles in 8 h.
    assert taken.count(BreakKind.REST) == 7
    assert taken.count(BreakKind.MICRO) >= 14
    assert BreakKind.DAILY in taken  # 6 h of screen work is reached within the day
    # Never more than the rest interval (plus the notice) without a rest break.
    assert stats.longest_stretch <= 20 * MIN + 30
    assert stats.due == stats.taken and stats.skipped == 0
    assert elapsed < 5.0, f"a simulated workday took {elapsed:.2f} s"


def test_idle_as_long_as_a_break_is_a_natural_break() -> None:
    clerk = Clerk(MICRO_ONLY)
    clerk.run(15 * MIN)
    clerk.run(25, typing=False)  # reading a leaflet, eyes off the screen
    assert clerk.kinds(EventKind.NATURAL) == [EventKind.NATURAL]
    assert clerk.scheduler.today.natural == 1
    clerk.run(15 * MIN)
    assert clerk.scheduler.phase is Phase.WORKING  # the interval restarted at the natural break
    # Micro interval restarted when the idle reached 20 s; 15 min of it are gone.
    assert clerk.run_until_phase(Phase.NOTICE) == 5 * MIN


def test_short_idle_is_still_screen_work() -> None:
    clerk = Clerk(MICRO_ONLY)
    for _ in range(20):
        clerk.run(50)
        clerk.run(10, typing=False)  # reading the screen without touching anything
    assert clerk.scheduler.today.natural == 0
    assert clerk.scheduler.phase is Phase.NOTICE


def test_a_long_idle_counts_once_as_the_heaviest_break() -> None:
    clerk = Clerk()
    clerk.run(40 * MIN)
    clerk.run(11 * MIN, typing=False)  # lunch queue
    assert clerk.scheduler.today.natural == 1
    assert [e.break_kind for e in clerk.events if e.kind is EventKind.NATURAL] == [
        BreakKind.MICRO,
        BreakKind.REST,
    ]
    assert clerk.scheduler.work[BreakKind.REST] == 0
    clerk.run(45 * MIN)
    # 45 more minutes: micro-breaks fall due, but the rest break does not.
    due = [e.break_kind for e in clerk.events if e.kind is EventKind.DUE]
    assert due and set(due) == {BreakKind.MICRO}


def test_listening_to_a_caller_is_work_not_rest() -> None:
    clerk = Clerk(REST_ONLY)
    clerk.call(45 * MIN)  # no keyboard input at all
    assert clerk.scheduler.today.natural == 0
    assert clerk.scheduler.today.work_seconds == 45 * MIN
    assert clerk.scheduler.today.call_seconds == 45 * MIN
    # After hanging up the OS idle time is 45 min, but none of it was rest.
    clerk.run(60, typing=False)
    assert clerk.scheduler.today.natural == 0
    assert clerk.scheduler.work[BreakKind.REST] >= 45 * MIN


def test_break_due_during_a_call_waits_for_the_call_and_the_grace() -> None:
    clerk = Clerk(REST_ONLY)
    clerk.run(40 * MIN)
    clerk.call(14 * MIN)  # the break falls due 10 min into the call
    assert clerk.violations == []
    assert clerk.scheduler.phase is Phase.HELD
    assert clerk.kinds(EventKind.HELD) == [EventKind.HELD]
    assert clerk.scheduler.today.held_for_calls == 1
    clerk.hang_up()
    assert clerk.scheduler.phase is Phase.GRACE
    waited = clerk.run_until_phase(Phase.NOTICE)
    assert waited == 30  # the wrap-up grace, from the moment the call is seen to end
    assert clerk.scheduler.phase is Phase.NOTICE


@pytest.mark.parametrize("when", ["notice", "break"])
def test_a_call_closes_the_notice_or_break_at_once(when: str) -> None:
    clerk = Clerk(REST_ONLY)
    clerk.run_until_phase(Phase.NOTICE if when == "notice" else Phase.BREAK)
    clerk.call(5 * MIN)
    assert clerk.violations == []
    assert EventKind.BREAK_INTERRUPTED in clerk.kinds()
    assert clerk.scheduler.today.taken == 0
    clerk.run_until_phase(Phase.NOTICE)  # shows again after the call and the grace
    clerk.run_until_phase(Phase.WORKING)
    assert clerk.scheduler.today.taken == 1


def test_a_call_that_starts_after_the_break_fell_due_but_while_postponed() -> None:
    clerk = Clerk(REST_ONLY)
    clerk.run_until_phase(Phase.NOTICE)
    assert clerk.scheduler.postpone()
    clerk.run(2 * MIN)
    clerk.call(10 * MIN)  # the postponement runs out mid-call
    assert clerk.violations == []
    assert clerk.scheduler.phase is Phase.HELD
    clerk.hang_up()
    assert clerk.run_until_phase(Phase.NOTICE) == 30


def test_a_call_that_ends_before_the_break_falls_due_does_not_delay_it() -> None:
    clerk = Clerk(REST_ONLY)
    clerk.call(20 * MIN)
    assert clerk.run_until_phase(Phase.NOTICE) == pytest.approx(30 * MIN)
    assert clerk.scheduler.today.held_for_calls == 0


def test_the_cap_turns_a_held_break_into_a_quiet_notice_never_a_window() -> None:
    settings = replace(REST_ONLY, sounds=True)
    clerk = Clerk(settings)
    clerk.run(49 * MIN)
    clerk.call(60 * MIN)  # due one minute in: the cap is reached 16 min into the call
    assert clerk.violations == []
    assert clerk.kinds(EventKind.QUIET_NOTICE) == [EventKind.QUIET_NOTICE]
    overdue_at = clerk.phases.index(Phase.OVERDUE)
    held_at = clerk.phases.index(Phase.HELD)
    assert overdue_at - held_at == 15 * MIN
    assert clerk.scheduler.phase is Phase.OVERDUE
    status = clerk.scheduler.status()
    assert status.kind is BreakKind.REST and status.held_for == pytest.approx(59 * MIN, abs=2)
    assert not clerk.scheduler.start_now(clerk.now)  # still (just) in the call: refused
    clerk.in_call = True
    clerk.scheduler.tick(clerk.now, 0, True)
    assert not clerk.scheduler.start_now(clerk.now)
    clerk.hang_up()
    # After the call: wrap-up grace (the quiet notice stays), then the normal notice with a sound.
    assert clerk.run_until_phase(Phase.NOTICE) == 30
    assert clerk.kinds(EventKind.SOUND) == [EventKind.SOUND]


def test_sounds_are_never_emitted_during_calls_all_day() -> None:
    clerk = Clerk(replace(BreakSettings(), sounds=True))
    for _ in range(16):  # a busy day: 12 min calls with 3 min of typing between
        clerk.call(12 * MIN)
        clerk.run(3 * MIN)
    assert clerk.violations == []
    assert clerk.kinds(EventKind.SOUND)  # but there were sounds between calls
    assert clerk.scheduler.today.held_for_calls > 0
    assert clerk.scheduler.today.taken > 0


def test_postpone_is_limited_per_break() -> None:
    clerk = Clerk(MICRO_ONLY)
    for n in range(2):
        clerk.run_until_phase(Phase.NOTICE)
        assert clerk.scheduler.status().postpones_left == 2 - n
        assert clerk.scheduler.postpone()
        assert clerk.scheduler.phase is Phase.WORKING
    assert clerk.run_until_phase(Phase.NOTICE) == 5 * MIN
    status = clerk.scheduler.status()
    assert status.postpones_left == 0 and not status.can_postpone
    assert not clerk.scheduler.postpone()
    assert clerk.scheduler.today.postponed == 2
    clerk.run_until_phase(Phase.WORKING)
    # The next break has its own postpones.
    clerk.run_until_phase(Phase.NOTICE)
    assert clerk.scheduler.status().postpones_left == 2


def test_skip_is_counted_and_restarts_the_interval_but_not_the_stretch() -> None:
    clerk = Clerk(MICRO_ONLY)
    clerk.run_until_phase(Phase.NOTICE)
    assert clerk.scheduler.skip()
    assert clerk.scheduler.today.skipped == 1
    assert clerk.scheduler.stretch >= 20 * MIN
    assert clerk.run_until_phase(Phase.NOTICE) == 20 * MIN
    clerk.run_until_phase(Phase.BREAK)
    assert clerk.scheduler.skip()  # from the break window too
    assert clerk.scheduler.today.skipped == 2
    assert clerk.scheduler.today.longest_stretch >= 40 * MIN


def test_strict_mode_allows_neither_postpone_nor_skip() -> None:
    clerk = Clerk(replace(MICRO_ONLY, strict=True))
    clerk.run_until_phase(Phase.NOTICE)
    status = clerk.scheduler.status()
    assert status.strict and not status.can_postpone and not status.can_skip
    assert not clerk.scheduler.postpone() and not clerk.scheduler.skip()
    clerk.run_until_phase(Phase.BREAK)
    assert not clerk.scheduler.skip()
    clerk.run_until_phase(Phase.WORKING)
    assert clerk.scheduler.today.taken == 1


def test_strict_break_still_gives_way_to_a_call() -> None:
    clerk = Clerk(replace(REST_ONLY, strict=True))
    clerk.run_until_phase(Phase.BREAK)
    clerk.call(MIN)
    assert clerk.violations == []


def test_a_locked_screen_is_rest_even_if_the_lock_screen_resets_idle_time() -> None:
    clerk = Clerk(REST_ONLY)
    clerk.run(30 * MIN)
    clerk.locked = True
    clerk.run(10 * MIN, typing=True)  # clerk.run never types while locked; idle grows
    clerk.scheduler.tick(clerk.now + 1, 0.0, False, True)  # a lock screen that reports idle 0
    clerk.locked = False
    assert clerk.scheduler.today.natural == 1
    assert clerk.scheduler.work[BreakKind.REST] == 0


def test_locked_with_zero_idle_from_the_start() -> None:
    scheduler = BreakScheduler(REST_ONLY, clock=lambda: 1_800_000_000.0)
    now = 1_800_000_000.0
    for _ in range(11 * 60):
        now += 1
        scheduler.tick(now, 0.0, False, True)
    assert scheduler.today.natural == 1
    assert scheduler.today.work_seconds == 0


def test_the_daily_limit_falls_due_and_repeats_hourly() -> None:
    plan = BreakPlan(BreakRule(0, 0), BreakRule(0, 0), 2 * 3600)
    clerk = Clerk(BreakSettings(plan=plan), obeys=True)
    clerk.run_until_phase(Phase.NOTICE)
    assert clerk.scheduler.pending is not None and clerk.scheduler.pending.kind is BreakKind.DAILY
    assert clerk.scheduler.today.work_seconds == 2 * 3600
    assert clerk.scheduler.skip()
    assert clerk.run_until_phase(Phase.NOTICE) == 3600


def test_take_a_break_now_starts_at_once_or_after_the_call() -> None:
    clerk = Clerk(REST_ONLY)
    clerk.run(5 * MIN)
    clerk.scheduler.take_break_now(clerk.now)
    status = clerk.scheduler.status()
    assert status.phase is Phase.BREAK and status.kind is BreakKind.REST and status.remaining == 10 * MIN
    clerk.run_until_phase(Phase.WORKING)
    assert clerk.scheduler.today.taken == 1 and clerk.scheduler.today.due == 0
    clerk.in_call = True
    clerk.run(10)
    clerk.scheduler.take_break_now(clerk.now)
    assert clerk.scheduler.phase is Phase.HELD
    clerk.call(MIN)
    clerk.hang_up()
    assert clerk.violations == []
    assert clerk.run_until_phase(Phase.BREAK) == 30


def test_pause_holds_reminders_but_counts_work() -> None:
    clerk = Clerk(MICRO_ONLY)
    clerk.run(10 * MIN)
    clerk.scheduler.pause(30, clerk.now)
    clerk.run(29 * MIN)
    assert set(clerk.phases[-29 * 60 :]) == {Phase.PAUSED}
    assert clerk.scheduler.today.work_seconds == 39 * MIN
    assert clerk.run_until_phase(Phase.NOTICE) == pytest.approx(MIN, abs=1)
    assert EventKind.RESUMED in clerk.kinds()


def test_a_suspend_gap_is_time_away() -> None:
    clerk = Clerk(REST_ONLY)
    clerk.run(45 * MIN)
    clerk.clock.advance(15 * MIN)  # laptop lid closed: no ticks
    clerk.last_input = clerk.now
    clerk.run(2)
    assert clerk.scheduler.work[BreakKind.REST] == 1
    assert clerk.scheduler.today.work_seconds == 45 * MIN + 1
    assert clerk.scheduler.today.natural == 0  # nobody saw it, so it is not counted as a break


def test_day_rollover_archives_the_day() -> None:
    store = MemoryBreakStore()
    clerk = Clerk(MICRO_ONLY, store=store, start=time.mktime((2026, 11, 23, 23, 0, 0, 0, 0, -1)))
    clerk.run(90 * MIN, step=5)
    assert [d.date for d in store.days] == ["2026-11-23"]
    assert store.days[0].work_seconds > 55 * MIN
    assert clerk.scheduler.today.date == "2026-11-24"
    assert clerk.scheduler.today.work_seconds < 35 * MIN


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_runs_a_day_without_calls_intruding(name: str) -> None:
    clerk = Clerk(BreakSettings(plan=PRESETS[name]))
    for _ in range(10):
        clerk.run(30 * MIN, step=2)
        clerk.call(17 * MIN, step=2)
    assert clerk.violations == []
    assert clerk.scheduler.today.taken > 0
