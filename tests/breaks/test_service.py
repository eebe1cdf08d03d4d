"""The break service without Qt: its threads, calls waking it, views, the runtime driving it."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

from app.core.breaks import (
    STATE_KEY,
    BreakPlan,
    BreakRule,
    BreakService,
    BreakSettings,
    BreakUpdate,
    Phase,
)
from app.core.engine import Engine
from app.core.history import History
from app.core.runtime import HISTORY_FILE, build_runtime
from app.kernel.callstate import CallState
from sensors.idle import ActivitySource
from tests.breaks.sim import MONDAY_9AM, FakeSource
from tests.conftest import FakeClock
from tests.core.fakes import fake_config

#: A micro-break after 1 s of screen work, shown at once (no notice), held by calls.
QUICK = BreakSettings(
    plan=BreakPlan(BreakRule(1, 600), BreakRule(0, 0), 0), notice_seconds=0, call_grace_seconds=60
)


def wait_until(predicate: object, timeout: float = 5.0) -> float:
    """Seconds until ``predicate()`` held (fails after ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.005)
    raise AssertionError("not reached in time")


def test_the_activity_source_is_chosen_on_the_sampling_thread() -> None:
    made_on: list[str] = []

    def factory() -> ActivitySource:
        made_on.append(threading.current_thread().name)
        return FakeSource()

    service = BreakService(QUICK, source=factory)
    assert service.source_name == "none"  # not chosen yet
    service.start()
    try:
        wait_until(lambda: service.source_name == "fake")
        assert made_on == ["deskwatch-idle"]
    finally:
        service.close()


def test_nothing_is_published_before_the_first_sample() -> None:
    release = threading.Event()

    def slow() -> ActivitySource:
        release.wait(10)  # a D-Bus source still probing
        return FakeSource("x11")

    engine = Engine(fake_config(), [])
    service = BreakService(QUICK, engine, source=slow)
    service.start()
    try:
        time.sleep(2.2)  # past the thread's longest wait without a sample
        assert engine.state("breaks.activity_source") is None  # not "none": not yet observed
        release.set()
        wait_until(lambda: engine.state("breaks.activity_source") is not None)
        state = engine.state("breaks.activity_source")
        assert state is not None and state.detail == {"source": "x11"}
    finally:
        service.close()


def test_a_call_ends_a_break_at_once_on_the_services_own_thread() -> None:
    calls = CallState(hangover_seconds=0)
    service = BreakService(QUICK, call_state=calls, source=FakeSource())
    service.attach_view()
    updates: list[BreakUpdate] = []
    service.add_listener(updates.append)
    service.start()
    try:
        wait_until(lambda: service.phase is Phase.BREAK)
        assert all(u.serial < v.serial for u, v in itertools.pairwise(updates))
        calls.set_source("softphone", True)
        took = wait_until(lambda: service.phase is Phase.HELD)
        # Well inside the 1 s between samples: the call state's change woke the thread.
        assert took < 0.5, took
        assert updates[-1].in_call and updates[-1].status.phase is Phase.HELD
    finally:
        service.close()
    assert calls._change_listeners == []
    assert service.step(0.0, False) == []  # closed: nothing ticks any more


def test_a_listener_that_raises_does_not_stop_the_reminders() -> None:
    service = BreakService(QUICK, source=FakeSource())
    service.attach_view()

    def broken(update: BreakUpdate) -> None:
        raise RuntimeError("a view went away")

    service.add_listener(broken)
    service.start()
    try:
        wait_until(lambda: service.phase is Phase.BREAK)
    finally:
        service.close()


def test_without_a_view_a_due_break_stays_due_and_is_never_taken() -> None:
    clock = FakeClock(MONDAY_9AM)
    settings = BreakSettings(plan=BreakPlan(BreakRule(60, 20), BreakRule(0, 0), 0))
    service = BreakService(settings, source=FakeSource(), clock=clock)

    def run(seconds: int, idle: bool = False) -> None:
        for second in range(seconds):
            clock.advance(1)
            service.step(float(second + 1) if idle else 0.0, False)

    run(30 * 60)  # headless: half an hour of work, nobody to show a break to
    assert service.phase is Phase.WORKING
    assert service.scheduler.pending is not None and service.status().next_in == 0
    today = service.today()
    assert (today.due, today.taken, today.skipped) == (1, 0, 0)
    assert service.scheduler.stretch >= 30 * 60 - 1
    run(20, idle=True)  # the clerk looks away: a natural break
    assert service.scheduler.pending is None and service.today().natural == 1
    run(61)
    service.attach_view()  # the tray app: announced at once
    run(1)
    assert service.phase is Phase.NOTICE
    service.detach_view()
    service.close()


def test_the_headless_runtime_runs_break_reminders_and_saves_them(tmp_path: Path) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text('[breaks]\nactivity_source = "none"\n', "utf-8")
    runtime = build_runtime(data_dir=tmp_path / "data", monitor_classes={}, config_path=config)
    assert runtime.breaks is not None
    runtime.start()
    try:
        wait_until(lambda: runtime.engine.state("breaks.screen_work_today") is not None)
        state = runtime.engine.state("breaks.activity_source")
        assert state is not None and state.detail == {"source": "none"}
        wait_until(lambda: runtime.breaks is not None and runtime.breaks.today().work_seconds >= 1)
    finally:
        runtime.stop()
    history = History(tmp_path / "data" / HISTORY_FILE)
    try:
        saved = history.get_state(STATE_KEY)
        assert saved is not None and saved["stats"]["work_seconds"] >= 1
    finally:
        history.close()
    check = build_runtime(data_dir=tmp_path / "data", monitor_classes={}, config_path=config, mode="check")
    assert check.breaks is None  # one-shot checks keep no break clock
    check.stop()


def test_new_timing_from_a_reload_reaches_the_running_service(tmp_path: Path) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text('[breaks]\nactivity_source = "none"\n', "utf-8")
    runtime = build_runtime(data_dir=tmp_path / "data", monitor_classes={}, config_path=config)
    try:
        assert runtime.breaks is not None and runtime.breaks.settings.plan.micro.interval == 20 * 60
        config.write_text('[breaks]\nactivity_source = "none"\npreset = "hse"\n', "utf-8")
        runtime.reload()
        assert not runtime.breaks.settings.plan.micro.enabled
    finally:
        runtime.stop()


def test_the_activity_source_reading_is_grey_when_none_is_the_sites_choice() -> None:
    """``activity_source = "none"`` on purpose is not a fault; an automatic choice that found nothing is."""
    from app.core.breaks.readings import source_reading
    from app.kernel.i18n import Text
    from app.kernel.model import Level

    label = Text("none", "无")
    assert source_reading("x11", Text("X11", "X11")).level is Level.OK
    assert source_reading("none", label).level is Level.WARNING
    chosen = source_reading("none", label, chosen_none=True)
    assert chosen.level is Level.NOT_SET_UP and not chosen.level.is_problem
