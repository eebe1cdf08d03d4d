"""Glue between the thread-safe core and the GUI thread.

The engine calls its listeners on whichever worker thread produced a change;
:class:`EngineBridge` re-emits them as Qt signals, which Qt queues onto the
GUI thread.  :class:`Worker` runs blocking calls (history queries, reloads,
writing files) off the GUI thread and hands the result back as a signal.
:class:`LoopWatch` measures how late the GUI event loop runs timers, for the
computer monitor's freeze indicator.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.core.alerts import AlertEvent
from app.core.engine import Engine, IndicatorState
from app.kernel.monitor import LoopLatencyProbe

log = logging.getLogger(__name__)


class EngineBridge(QObject):
    """Re-emits engine listener callbacks as queued signals on the GUI thread."""

    #: list[IndicatorState] changed in one batch of readings.
    states_changed = Signal(list)
    #: One :class:`AlertEvent`.
    alert_event = Signal(object)

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._alive = True
        engine.add_state_listener(self._on_states)
        engine.add_alert_listener(self._on_alert)

    def detach(self) -> None:
        """Stop forwarding (the engine keeps its listener list; we just go quiet)."""
        self._alive = False

    def _on_states(self, states: list[IndicatorState]) -> None:
        if self._alive:
            self.states_changed.emit(list(states))

    def _on_alert(self, event: AlertEvent) -> None:
        if self._alive:
            self.alert_event.emit(event)


class Worker(QObject):
    """Runs callables on a small thread pool; results come back on the GUI thread."""

    # One tuple (callback, result, error): PySide6 6.12 drops a reference to
    # None for every None passed as a queued ``object`` argument, which ends
    # in a crash at exit, so None never travels through the signal on its own.
    _done = Signal(object)

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deskwatch-ui")
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._closed = False

    def submit(
        self,
        function: Callable[[], Any],
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``function()`` off the GUI thread, then ``on_result(value)`` on it."""
        if self._closed:
            return

        def job() -> None:
            try:
                result = function()
            except Exception as exc:
                log.exception("background task failed")
                self._done.emit((on_error, None, exc))
                return
            self._done.emit((on_result, result, None))

        self._pool.submit(job)

    def _deliver(self, outcome: tuple[Any, Any, Any]) -> None:
        callback, result, error = outcome
        if callback is None or self._closed:
            return
        try:
            callback(error if error is not None else result)
        except Exception:
            log.exception("handling a background result failed")

    def shutdown(self, wait: bool = True) -> None:
        """Finish queued jobs (when ``wait``) and stop delivering results."""
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class LoopWatch(QObject):
    """A heartbeat timer whose lateness measures GUI event-loop stalls.

    A timer due every ``period_ms`` that fires late by *x* ms means the loop
    was busy (blocked) for about *x* ms.  Each lateness goes to the probe,
    which the computer monitor turns into ``computer.app_stall``.
    """

    stalled = Signal(float)

    def __init__(self, probe: LoopLatencyProbe, period_ms: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.probe = probe
        self.period_ms = period_ms
        self.worst_ms = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(period_ms)
        self._timer.timeout.connect(self._beat)
        self._last = 0.0

    def start(self) -> None:
        """Begin measuring."""
        self._last = time.monotonic()
        self._timer.start()

    def stop(self) -> None:
        """Stop measuring."""
        self._timer.stop()

    def _beat(self) -> None:
        now = time.monotonic()
        lateness = max(0.0, (now - self._last) * 1000.0 - self.period_ms)
        self._last = now
        self.worst_ms = max(self.worst_ms, lateness)
        self.probe.report(lateness)
        if lateness > 100:
            self.stalled.emit(lateness)
