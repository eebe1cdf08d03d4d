"""Monitors run on their own threads; a hung or failing one goes unknown, the rest go on."""

from __future__ import annotations

import time
from pathlib import Path

from app.core.engine import Engine
from app.core.history import History
from app.core.scheduler import Scheduler
from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from tests.bench.threads import wakes
from tests.core.fakes import CLASSES, FailingMonitor, FakeMonitor, HangingMonitor, fake_config


def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached in time")


def build(tmp_path: Path) -> tuple[Engine, Scheduler, FakeMonitor, HangingMonitor, FailingMonitor]:
    config = fake_config()
    engine = Engine(config, [i for c in CLASSES.values() for i in c.indicators], user="t")
    context = MonitorContext(data_dir=tmp_path)
    fake = FakeMonitor(config.monitor("fake"), context)
    hang = HangingMonitor(config.monitor("hang"), context)
    boom = FailingMonitor(config.monitor("boom"), context)
    return engine, Scheduler(engine, [fake, hang, boom]), fake, hang, boom


def test_hanging_monitor_goes_unknown_and_others_keep_running(tmp_path: Path) -> None:
    engine, scheduler, _fake, hang, _ = build(tmp_path)
    scheduler.start()
    try:
        wait_for(lambda: hang.calls >= 2)  # second call hangs
        wait_for(lambda: engine.state("hang.value").level is Level.UNKNOWN)  # type: ignore[union-attr]
        state = engine.state("hang.value")
        assert state is not None and state.message is not None
        assert "0.3 s" in state.message("en")
        before = scheduler.poll_counts()["fake"]
        time.sleep(0.5)
        assert scheduler.poll_counts()["fake"] >= before + 4, "the healthy monitor stopped"
        assert hang.calls == 2, "a hung monitor must not be polled again while it hangs"
        hang.release.set()
        wait_for(lambda: engine.state("hang.value").level is Level.OK)  # type: ignore[union-attr]
    finally:
        hang.release.set()
        scheduler.stop()


def test_failing_monitor_is_unknown_retried_with_backoff_and_recovers(tmp_path: Path) -> None:
    engine, scheduler, _fake, hang, boom = build(tmp_path)
    hang.release.set()
    scheduler.start()
    try:
        wait_for(lambda: boom.calls >= 2)
        state = engine.state("boom.value")
        assert state is not None and state.level is Level.UNKNOWN
        assert "OSError: device gone" in state.message("en")  # type: ignore[misc]
        # Backoff: interval 0.05 s is raised to ≥ 1 s, doubling; far fewer calls than fake's.
        time.sleep(1.2)
        assert boom.calls <= 3
        assert scheduler.poll_counts()["fake"] > 15
        boom.broken = False
        wait_for(lambda: engine.state("boom.value").level is Level.OK, timeout=6)  # type: ignore[union-attr]
    finally:
        scheduler.stop()


def test_poll_once_reports_timeouts_without_waiting_for_the_hung_poll(tmp_path: Path) -> None:
    engine, scheduler, _fake, hang, _boom = build(tmp_path)
    hang.calls = 1  # make the first call hang
    started = time.monotonic()
    scheduler.poll_once()
    assert time.monotonic() - started < 2.0
    assert engine.state("fake.gauge").level is Level.OK  # type: ignore[union-attr]
    assert engine.state("hang.value").level is Level.UNKNOWN  # type: ignore[union-attr]
    assert engine.state("boom.value").level is Level.UNKNOWN  # type: ignore[union-attr]
    hang.release.set()


def test_a_monitor_keeps_polling_when_handling_its_readings_raises(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    config = fake_config()
    engine = Engine(config, FakeMonitor.indicators, history, user="t")
    calls = {"n": 0}

    def broken(changed: object) -> None:
        calls["n"] += 1

    engine.add_state_listener(broken)
    fake = FakeMonitor(config.monitor("fake"), MonitorContext(data_dir=tmp_path))
    scheduler = Scheduler(engine, [fake])
    original = engine.ingest

    def failing_ingest(readings, now=None):  # type: ignore[no-untyped-def]
        original(readings, now)
        raise RuntimeError("a listener deep in the engine failed")

    engine.ingest = failing_ingest  # type: ignore[method-assign]
    scheduler.start()
    try:
        wait_for(lambda: scheduler.poll_counts()["fake"] >= 5)
    finally:
        scheduler.stop()
        history.close()
    assert calls["n"] >= 5


def test_finished_polls_do_not_wake_the_scheduler_that_already_waits_for_their_next(tmp_path: Path) -> None:
    config = fake_config()
    engine = Engine(config, list(FakeMonitor.indicators), user="t")
    context = MonitorContext(data_dir=tmp_path)
    options = {**config.monitor("fake"), "interval": 0.2, "timeout": 1.0}
    monitors = [FakeMonitor(options, context) for _ in range(3)]  # three polls every 0.2 s
    scheduler = Scheduler(engine, monitors)
    scheduler.start()
    try:
        wait_for(lambda: scheduler.poll_counts()["fake"] >= 1)
        thread = scheduler._thread
        assert thread is not None
        before = wakes(thread)
        time.sleep(2.0)
        woke = wakes(thread) - before
    finally:
        scheduler.stop()
    # Ten rounds of three polls: one wake a round to launch them (it woke four times a round).
    assert woke <= 15, woke
