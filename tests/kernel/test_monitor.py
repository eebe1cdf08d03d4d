"""The loop-latency probe: the worst wait since last asked, work still waiting included."""

from __future__ import annotations

from pytest import approx  # noqa: PT013 -- read as a number, not a test helper

from app.kernel.monitor import LoopLatencyProbe
from tests.conftest import FakeClock


def test_the_probe_reports_the_worst_since_last_asked(clock: FakeClock) -> None:
    probe = LoopLatencyProbe(clock)
    assert probe.take_max() is None
    probe.report(12.0)
    probe.report(3.0)
    assert probe.take_max() == 12.0
    assert probe.take_max() is None


def test_work_still_waiting_counts_while_it_waits(clock: FakeClock) -> None:
    probe = LoopLatencyProbe(clock)
    probe.watch(True)
    first = probe.queued()
    clock.advance(0.5)
    second = probe.queued()
    clock.advance(1.0)
    assert probe.take_max() == approx(1500.0)  # the loop has taken nothing up for 1.5 s
    assert probe.dequeued(first) == approx(1500.0)
    clock.advance(0.1)
    assert probe.take_max() == approx(1500.0)  # the first waited 1.5 s; the second waits 1.1 s so far
    clock.advance(1.0)
    assert probe.take_max() == approx(2100.0)  # the second, still waiting
    probe.dequeued(second)
    assert probe.take_max() == approx(2100.0)
    assert probe.take_max() is None


def test_nothing_waits_while_the_loop_is_not_watched(clock: FakeClock) -> None:
    probe = LoopLatencyProbe(clock)
    probe.queued()  # before the app started the watch: not counted as waiting
    clock.advance(10)
    assert probe.take_max() is None
    probe.watch(True)
    probe.queued()
    probe.watch(False)  # stopping forgets what was waiting
    clock.advance(10)
    assert probe.take_max() is None
