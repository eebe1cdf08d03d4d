"""The engine bridge and the loop watch: the freeze indicator measured from work the loop does anyway.

No heartbeat timer wakes the GUI thread; the batches of readings the
engine queues for it are timed instead.  A loop kept busy is measured, and
one that hangs is seen while it hangs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QTimer

from tests.ui.conftest import CPU, reading


def _ingest_from_a_worker(app: Any, value: float) -> None:
    thread = threading.Thread(target=lambda: app.engine.ingest([reading(CPU, value)]))
    thread.start()
    thread.join(5)


def test_work_that_holds_the_loop_is_measured(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    app.loop_watch.start()
    qtbot.wait(50)  # the loop runs: measuring begins
    stalls: list[float] = []
    app.loop_watch.stalled.connect(stalls.append)
    delivered: list[float] = []

    def slow_receiver(_states: list[Any]) -> None:
        delivered.append(time.monotonic())
        if len(delivered) == 1:
            time.sleep(0.4)  # a receiver that blocks the GUI thread

    app.surface.bridge.states_changed.connect(slow_receiver)
    _ingest_from_a_worker(app, 10.0)
    qtbot.waitUntil(lambda: len(delivered) == 1, timeout=3000)
    assert app.probe.take_max() >= 390  # type: ignore[operator]
    assert stalls and stalls[0] >= 390 and app.loop_watch.worst_ms >= 390
    # Quick work is measured as quick: no false alarm.
    _ingest_from_a_worker(app, 11.0)
    qtbot.waitUntil(lambda: len(delivered) == 2, timeout=3000)
    assert app.probe.take_max() < 100  # type: ignore[operator]
    assert len(stalls) == 1


def test_a_hanging_loop_is_seen_while_it_hangs(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    app.loop_watch.start()
    qtbot.wait(50)
    seen: list[float | None] = []

    def computer_monitor() -> None:  # its poll asks from its own thread
        app.engine.ingest([reading(CPU, 12.0)])
        time.sleep(0.6)
        seen.append(app.probe.take_max())

    asker = threading.Thread(target=computer_monitor)
    asker.start()
    time.sleep(1.0)  # the GUI thread hangs: nothing is delivered meanwhile
    asker.join(5)
    assert seen and seen[0] is not None and seen[0] >= 550
    qtbot.wait(100)  # the loop runs again and takes the batch up
    assert app.probe.take_max() >= 900  # type: ignore[operator]  # its whole wait, reported once done
    assert app.probe.take_max() is None  # nothing waits any more


def test_start_up_work_before_the_loop_runs_is_no_stall(make_app: Any, qtbot: Any) -> None:
    app = make_app()
    app.loop_watch.start()
    _ingest_from_a_worker(app, 10.0)  # queued while the app is still being set up
    time.sleep(0.3)  # more set-up on the GUI thread (the panel, the tray …)
    qtbot.wait(100)
    assert app.probe.take_max() < 100  # type: ignore[operator]  # only its own handling
    assert app.loop_watch.measured == 1
    # Once the loop runs, the same wait is a stall.
    _ingest_from_a_worker(app, 11.0)
    time.sleep(0.3)
    qtbot.wait(100)
    assert app.probe.take_max() >= 290  # type: ignore[operator]


def test_readings_from_the_gui_thread_arrive_at_once(make_app: Any) -> None:
    app = make_app()
    got: list[Any] = []
    app.surface.bridge.states_changed.connect(got.append)
    app.engine.ingest([reading(CPU, 10.0)])
    assert len(got) == 1  # no queue, nothing to wait for


def test_an_idle_app_runs_no_timer_more_often_than_every_30_s(make_app: Any, qtbot: Any) -> None:
    app = make_app(tray=True)
    app.start()
    app.engine.ingest([reading(CPU, 10.0)])
    qtbot.wait(300)
    running = [
        (t.objectName() or type(t.parent()).__name__, t.interval())
        for t in app.findChildren(QTimer)
        if t.isActive() and (not t.isSingleShot() and t.interval() < 30_000)
    ]
    assert running == [], running
