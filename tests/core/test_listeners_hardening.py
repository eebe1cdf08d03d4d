"""Nothing raised after a poll stops a monitor: failing listeners are logged, the loop goes on."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from app.core.alerts import AlertBook, AlertEvent, AlertEventKind
from app.core.engine import Engine
from app.core.history import History
from app.core.scheduler import Scheduler
from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from tests import devices
from tests.core.fakes import FakeMonitor, fake_config
from tests.core.test_scheduler import wait_for


def test_a_failing_alert_listener_does_not_keep_the_event_from_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    book = AlertBook()
    seen: list[AlertEventKind] = []

    def broken(event: AlertEvent) -> None:
        raise UnicodeEncodeError("utf-8", "\udcc2", 0, 1, "surrogates not allowed")

    book.listeners += [broken, lambda event: seen.append(event.kind)]
    with caplog.at_level(logging.ERROR, "app.core.alerts"):
        alert = book.transition(
            key="k", indicator_id="k", instance="", device=devices.PRINTER,
            old=Level.OK, new=Level.CRITICAL, value="jam", message=None, now=1.0,
        )  # fmt: skip
        assert alert is not None
        book.acknowledge(alert.id, "clerk", 2.0)
    assert seen == [AlertEventKind.RAISED, AlertEventKind.ACKNOWLEDGED]
    assert "alert listener" in caplog.text and "UnicodeEncodeError" in caplog.text


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
