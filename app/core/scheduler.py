"""Runs every monitor at its own cadence on worker threads, with timeouts.

A monitor whose poll raises, or does not return within its timeout, turns its
indicators unknown and is retried with exponential backoff; the others go on.
Each monitor has one long-lived worker thread (daemon), woken when a poll is
due; a hung poll keeps that thread, and the monitor is never polled twice at
once, so a stuck driver costs one thread and the thread count stays fixed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from app.core.engine import MONITOR_FAILED, Engine
from app.kernel.i18n import Text
from app.kernel.model import Reading
from app.kernel.monitor import Monitor

log = logging.getLogger(__name__)

NO_ANSWER = Text("No answer within {seconds:g} s", "{seconds:g} 秒内无响应")
MAX_BACKOFF_SECONDS = 300.0


@dataclass
class _Slot:
    monitor: Monitor
    interval: float
    timeout: float
    next_due: float = 0.0
    running_since: float | None = None
    started: bool = False
    failures: int = 0
    timed_out: bool = False
    polls: int = 0
    wake: threading.Event = field(default_factory=threading.Event)
    worker: threading.Thread | None = None


class Scheduler:
    """Polls monitors off the GUI thread and feeds the engine."""

    def __init__(
        self,
        engine: Engine,
        monitors: Iterable[Monitor],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self._slots: list[_Slot] = []
        for monitor in monitors:
            options = monitor.options
            self._slots.append(
                _Slot(
                    monitor,
                    float(options.get("interval", type(monitor).interval)),
                    float(options.get("timeout", type(monitor).timeout)),
                )
            )
        self._cond = threading.Condition()
        #: When the polling thread means to wake next (``inf`` while it is not waiting).
        self._planned_wake = float("inf")
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def monitors(self) -> list[Monitor]:
        """The monitors this scheduler runs."""
        return [slot.monitor for slot in self._slots]

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread is not None

    def poll_counts(self) -> dict[str, int]:
        """How many polls of each monitor have completed (for tests and diagnostics)."""
        with self._cond:
            return {slot.monitor.id: slot.polls for slot in self._slots}

    # -- one-shot -------------------------------------------------------------
    def poll_once(self, deadline_seconds: float | None = None) -> None:
        """Poll every monitor once, concurrently; unknown for those that time out."""
        start = self.clock()
        with self._cond:
            for slot in self._slots:
                self._launch(slot, start)
            while True:
                now = self.clock()
                pending = [s for s in self._slots if s.running_since is not None and not s.timed_out]
                if not pending:
                    break
                for slot in pending:
                    limit = slot.timeout if deadline_seconds is None else min(slot.timeout, deadline_seconds)
                    if now - start >= limit:
                        self._report_timeout(slot, limit)
                waits = [
                    start
                    + (s.timeout if deadline_seconds is None else min(s.timeout, deadline_seconds))
                    - now
                    for s in pending
                ]
                self._cond.wait(max(0.005, min(waits)))

    # -- continuous -----------------------------------------------------------
    def start(self) -> None:
        """Start polling in the background."""
        if self._thread is not None:
            return
        now = self.clock()
        for slot in self._slots:
            slot.next_due = now
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="deskwatch-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling, wait briefly for polls in flight, end workers, close every monitor."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(s.running_since is not None for s in self._slots) and time.monotonic() < deadline:
                self._cond.wait(0.05)
            self._closed = True
        for slot in self._slots:
            slot.wake.set()  # lets idle workers exit
            try:
                slot.monitor.close()
            except Exception:
                log.exception("closing monitor %s failed", slot.monitor.id)

    def _run(self) -> None:
        with self._cond:
            while not self._stopping:
                now = self.clock()
                wake = now + 60.0
                for slot in self._slots:
                    if slot.running_since is None:
                        if now >= slot.next_due:
                            self._launch(slot, now)
                        else:
                            wake = min(wake, slot.next_due)
                    if slot.running_since is not None and not slot.timed_out:
                        if now - slot.running_since >= slot.timeout:
                            self._report_timeout(slot, slot.timeout)
                        else:
                            wake = min(wake, slot.running_since + slot.timeout)
                            # Its next poll is due an interval after this one began: planning
                            # for it now spares the poll that finishes meanwhile a wake-up.
                            due = slot.running_since + slot.interval
                            if due > now:
                                wake = min(wake, due)
                self._planned_wake = wake
                self._cond.wait(max(0.005, wake - self.clock()))
                self._planned_wake = float("inf")

    # -- internals (called with the condition held) ---------------------------
    def _launch(self, slot: _Slot, now: float) -> None:
        slot.running_since, slot.timed_out = now, False
        if slot.worker is None:
            slot.worker = threading.Thread(
                target=self._work, args=(slot,), name=f"deskwatch-poll-{slot.monitor.id}", daemon=True
            )
            slot.worker.start()
        slot.wake.set()

    def _work(self, slot: _Slot) -> None:
        """Worker loop of one monitor: poll each time the scheduler wakes it."""
        while True:
            slot.wake.wait()
            slot.wake.clear()
            if self._closed:
                return
            self._poll(slot)

    def _report_timeout(self, slot: _Slot, seconds: float) -> None:
        slot.timed_out = True
        slot.failures += 1
        log.warning("monitor %s did not answer within %.1f s", slot.monitor.id, seconds)
        self.engine.mark_unknown(slot.monitor.id, NO_ANSWER.format(seconds=seconds))

    def _backoff(self, slot: _Slot) -> float:
        return float(min(max(slot.interval, 1.0) * 2 ** max(slot.failures - 1, 0), MAX_BACKOFF_SECONDS))

    def _poll(self, slot: _Slot) -> None:
        monitor = slot.monitor
        readings: list[Reading] | None = None
        error: BaseException | None = None
        try:
            if not slot.started:
                monitor.start()
                slot.started = True
            readings = monitor.poll()
        except Exception as exc:  # any monitor fault becomes "unknown", never a crash
            error = exc
        # Feed the engine before marking the poll finished, so that anyone
        # waiting for the poll (poll_once, tests) sees its readings.  Whatever
        # the engine or a listener raises is logged here: the worker must go
        # on to mark the poll finished, or the monitor is never polled again.
        try:
            if error is not None:
                log.warning("monitor %s failed: %s", monitor.id, error, exc_info=error)
                message = MONITOR_FAILED.format(error=f"{type(error).__name__}: {error}")
                self.engine.mark_unknown(monitor.id, message)
            elif readings is not None:
                self.engine.ingest(readings)
        except Exception:
            log.exception("monitor %s: handling its readings failed", monitor.id)
        with self._cond:
            now = self.clock()
            started = slot.running_since if slot.running_since is not None else now
            if error is not None and not slot.timed_out:
                slot.failures += 1
            if error is None and not slot.timed_out:
                slot.failures = 0
                slot.next_due = max(now, started + slot.interval)
            else:
                slot.next_due = now + self._backoff(slot)
            slot.running_since = None
            slot.polls += 1
            # The polling thread already wakes in time for this monitor's next poll when
            # that is no earlier than it planned (usually: polls keep to one grid); then a
            # finished poll need not wake it.  One-shot waiters and stop() always hear.
            if self._thread is None or self._stopping or slot.next_due < self._planned_wake:
                self._cond.notify_all()
