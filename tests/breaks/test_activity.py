"""Activity sampling for the break service: failures count as work, idle time ages between reads."""

from __future__ import annotations

import time

from app.core.breaks import BreakPlan, BreakRule, BreakService, BreakSettings, Phase
from app.core.breaks.activity import ActivitySampler
from app.kernel.callstate import CallState
from sensors.idle import ActivitySample, ActivitySource, IdleUnavailable
from tests.breaks.sim import FakeSource


class Failing(ActivitySource):
    name = "failing"

    def idle_seconds(self) -> float:
        raise IdleUnavailable("the session bus went away")


def test_a_source_that_fails_counts_as_work_and_idle_time_ages_between_samples() -> None:
    now = [1000.0]
    sampler = ActivitySampler(Failing(), clock=lambda: now[0])
    assert sampler.read().idle_seconds == 0.0  # unknown input is work, never rest
    source = FakeSource()
    source.idle = 30.0
    sampler = ActivitySampler(source, clock=lambda: now[0])
    sampler.read()
    now[0] += 4
    assert sampler.latest(now[0]).idle_seconds == 34.0
    source.idle = 0.0
    sampler.read()
    now[0] += 4
    assert sampler.latest(now[0]).idle_seconds == 0.0  # typing: no ageing


def test_the_sampler_waits_as_long_as_it_is_told_and_reads_at_once_when_asked() -> None:
    source = FakeSource()
    sampler = ActivitySampler(source, next_read=lambda _sample: 30.0)
    sampler.start()
    try:
        deadline = time.monotonic() + 5
        while sampler.reads < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(1.5)  # past INTERVAL: a once-a-second sampler would have read again
        assert sampler.reads == 1
        sampler.read_soon()
        deadline = time.monotonic() + 5
        while sampler.reads < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sampler.reads == 2
    finally:
        sampler.close()


def test_a_working_clerk_is_read_again_just_before_idle_time_could_become_a_break() -> None:
    # Micro-breaks of 20 s, rests of 5 min: the shortest break is 20 s.
    settings = BreakSettings(plan=BreakPlan(BreakRule(600, 20), BreakRule(3600, 300), 0))
    service = BreakService(settings, source=FakeSource())
    pace = service.sampler._wait_after
    margin = service.READ_MARGIN_S
    assert pace(ActivitySample(0.0, False)) == 20 - margin
    assert pace(ActivitySample(15.0, False)) == 20 - 15 - margin
    # Almost away, away, or locked: every second, so the clerk's return is seen at once.
    assert pace(ActivitySample(19.5, False)) == ActivitySampler.INTERVAL
    assert pace(ActivitySample(45.0, False)) == ActivitySampler.INTERVAL
    assert pace(ActivitySample(0.0, True)) == ActivitySampler.INTERVAL
    # A notice or a break up: every second too.
    service.scheduler.phase = Phase.NOTICE
    assert pace(ActivitySample(0.0, False)) == ActivitySampler.INTERVAL
    # Long breaks: never more than MAX_READ_WAIT_S between reads.
    long = BreakSettings(plan=BreakPlan(BreakRule(600, 120), BreakRule(0, 0), 0))
    assert (
        BreakService(long, source=FakeSource()).sampler._wait_after(ActivitySample(0.0, False))
        == service.MAX_READ_WAIT_S
    )


def test_in_a_call_the_sampler_waits_long_and_the_first_tick_after_the_call_reads_at_once() -> None:
    # In a call the scheduler counts work whatever input and lock say: nothing to read for.
    settings = BreakSettings(plan=BreakPlan(BreakRule(600, 20), BreakRule(3600, 300), 0))
    now = [1000.0]
    calls = CallState(hangover_seconds=8.0, clock=lambda: now[0])
    source = FakeSource()
    source.idle = 45.0  # listening to the caller: no input
    service = BreakService(settings, call_state=calls, source=source, clock=lambda: now[0])
    pace = service.sampler._wait_after
    service.sampler.read()
    service.tick()
    assert pace(ActivitySample(45.0, False)) == ActivitySampler.INTERVAL  # away, no call
    calls.set_source("headset_voice", True)
    service.tick()
    assert pace(ActivitySample(45.0, False)) == pace(ActivitySample(0.0, True)) == service.MAX_READ_WAIT_S
    service.sampler._poke.clear()
    calls.set_source("headset_voice", False)  # the voice stops; the call ends after the hangover
    now[0] += 5
    service.tick()
    assert not service.sampler._poke.is_set()  # still in the hangover: still a call
    now[0] += 5
    service.tick()  # the call is over: its rest is timed from a fresh read
    assert service.sampler._poke.is_set()
    assert pace(ActivitySample(45.0, False)) == ActivitySampler.INTERVAL
