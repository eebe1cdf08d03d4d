"""Activity sampling for the break service: failures count as work, idle time ages between reads."""

from __future__ import annotations

from app.core.breaks.activity import ActivitySampler
from sensors.idle import ActivitySource, IdleUnavailable
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
