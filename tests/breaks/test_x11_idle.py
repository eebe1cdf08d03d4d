"""On a real X server: xdotool input resets the idle time Deskwatch reads; idling is a natural break."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from app.core.breaks import BreakPlan, BreakRule, BreakScheduler, BreakSettings, EventKind
from sensors.idle import X11IdleSource, select_source
from tests.xserver import XServer, xvfb


@pytest.fixture(scope="module")
def xserver() -> Iterator[XServer]:
    with xvfb(with_tray=False) as server:
        yield server


def xdotool(server: XServer, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=server.env, check=True, timeout=10)


def test_xdotool_input_resets_x11_idle_time(xserver: XServer) -> None:
    source = X11IdleSource(xserver.display)
    try:
        time.sleep(1.0)
        before = source.idle_seconds()
        assert before >= 0.9
        xdotool(xserver, "mousemove", "100", "120")
        assert source.idle_seconds() < 0.5
        time.sleep(0.6)
        assert source.idle_seconds() >= 0.5
        xdotool(xserver, "key", "a")
        assert source.idle_seconds() < 0.5
    finally:
        source.close()


def test_auto_selection_picks_x11(xserver: XServer) -> None:
    env = {"DISPLAY": xserver.display}
    source = select_source("auto", env, "linux")
    try:
        assert source.name == "x11"
    finally:
        source.close()


def test_idling_on_the_real_display_is_a_natural_break(xserver: XServer) -> None:
    # A 3 s "micro-break" so the real-time test stays short (and survives a busy machine).
    settings = BreakSettings(plan=BreakPlan(BreakRule(60, 3.0), BreakRule(0, 0), 0))
    scheduler = BreakScheduler(settings, clock=time.time)
    source = X11IdleSource(xserver.display)
    events: list[EventKind] = []
    try:
        deadline = time.monotonic() + 2.0
        x = 100
        while time.monotonic() < deadline:  # the clerk works: the mouse moves
            x += 7
            xdotool(xserver, "mousemove", str(x), "200")
            sample = source.sample()
            events += [e.kind for e in scheduler.tick(time.time(), sample.idle_seconds, False, sample.locked)]
            time.sleep(0.1)
        assert EventKind.NATURAL not in events
        worked = scheduler.today.work_seconds
        assert worked >= 1.5
        deadline = time.monotonic() + 8.0
        while time.monotonic() < deadline and EventKind.NATURAL not in events:  # hands off
            sample = source.sample()
            events += [e.kind for e in scheduler.tick(time.time(), sample.idle_seconds, False, sample.locked)]
            time.sleep(0.1)
        assert EventKind.NATURAL in events
        assert scheduler.today.natural == 1
        assert scheduler.work[next(iter(scheduler.work))] == 0  # the micro interval restarted
    finally:
        source.close()
