"""Glue between the thread-safe core and the GUI thread.

The engine calls its listeners on whichever worker thread produced a change;
:class:`EngineBridge` re-emits them as Qt signals, which Qt queues onto the
GUI thread.  :class:`Worker` is the UI's one way to run blocking calls (history queries,
reloads, writing files, checks) off the GUI thread; results come back on it.
:class:`LoopWatch` times how long queued work waits for the GUI event loop
and how long it holds it, for the computer monitor's freeze indicator.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread, QTimer, Signal, SignalInstance

from app.core.alerts import AlertEvent
from app.core.engine import Engine, IndicatorState
from app.kernel.monitor import LoopLatencyProbe

log = logging.getLogger(__name__)

T = TypeVar("T")


#: Input filters installed on the application, kept alive until removed (see ``_loop_runs``).
_INSTALLED_FILTERS: set[QObject] = set()


class EngineBridge(QObject):
    """Re-emits engine listener callbacks as signals on the GUI thread.

    From another thread a batch travels as one queued call, whatever the
    number of receivers, and the :class:`LoopWatch` (when one is attached)
    times how long it waited for the loop and how long its receivers took;
    from the GUI thread itself (tests, the settings dialog) it is delivered
    at once.
    """

    #: list[IndicatorState] changed in one batch of readings.
    states_changed = Signal(list)
    #: One :class:`AlertEvent`.
    alert_event = Signal(object)
    #: frozenset[str]: keys of states that are gone (a monitor switched off), never to come again.
    states_removed = Signal(object)
    # The same, queued from worker threads with the time they were queued at.
    _states_queued = Signal(list, float)
    _alert_queued = Signal(object, float)
    _removal_queued = Signal(object, float)

    def __init__(self, engine: Engine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._alive = True
        #: Times deliveries for the freeze indicator (set by the app once it has one).
        self.watch: LoopWatch | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._states_queued.connect(self._deliver_states, queued)
        self._alert_queued.connect(self._deliver_alert, queued)
        self._removal_queued.connect(self._deliver_removal, queued)
        engine.add_state_listener(self._on_states)
        engine.add_alert_listener(self._on_alert)
        engine.add_removal_listener(self._on_removal)

    def detach(self) -> None:
        """Stop forwarding (the engine keeps its listener list; we just go quiet)."""
        self._alive = False

    def _stamp(self) -> float | None:
        """``None`` on the GUI thread (deliver now), else the moment the batch is queued."""
        if QThread.currentThread() is self.thread():
            return None
        watch = self.watch
        return watch.probe.queued() if watch is not None else time.monotonic()

    def _forward(self, now: SignalInstance, queued: SignalInstance, news: object) -> None:
        """Emit ``now`` at once on the GUI thread, else ``queued`` with the time it was queued."""
        if self._alive:
            stamp = self._stamp()
            if stamp is None:
                now.emit(news)
            else:
                queued.emit(news, stamp)

    def _on_states(self, states: list[IndicatorState]) -> None:
        self._forward(self.states_changed, self._states_queued, list(states))

    def _on_alert(self, event: AlertEvent) -> None:
        self._forward(self.alert_event, self._alert_queued, event)

    def _on_removal(self, keys: frozenset[str]) -> None:
        self._forward(self.states_removed, self._removal_queued, keys)

    def _deliver_states(self, states: list[IndicatorState], stamp: float) -> None:
        self._deliver(stamp, lambda: self.states_changed.emit(states))

    def _deliver_alert(self, event: AlertEvent, stamp: float) -> None:
        self._deliver(stamp, lambda: self.alert_event.emit(event))

    def _deliver_removal(self, keys: frozenset[str], stamp: float) -> None:
        self._deliver(stamp, lambda: self.states_removed.emit(keys))

    def _deliver(self, stamp: float, emit: Callable[[], None]) -> None:
        if not self._alive:
            return
        watch = self.watch
        if watch is None:
            emit()
        else:
            watch.run_queued(stamp, emit)


class WorkerBusy(RuntimeError):
    """The worker refused a job: too many are waiting already (something is stuck)."""


class Job(Generic[T]):
    """One piece of background work: what to run, where its result goes, whether it is done."""

    def __init__(
        self,
        function: Callable[[], T],
        on_result: Callable[[T], None] | None,
        on_error: Callable[[BaseException], None] | None,
        context: QObject | None,
    ) -> None:
        self.function = function
        self.on_result = on_result
        self.on_error = on_error
        self.context = context
        self.result: T | None = None
        self.error: BaseException | None = None
        self._finished = threading.Event()

    def done(self) -> bool:
        """Whether the function has returned or raised (its callback may still be on its way)."""
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done (tests and shutdown only, never the GUI thread); False on timeout."""
        return self._finished.wait(timeout)

    def refuse(self, error: BaseException) -> None:
        """Mark the job as not run, with ``error`` for its ``on_error``."""
        self.error = error
        self._finished.set()

    def run(self) -> None:
        """Run the function (on a pool thread); a failure is kept for ``on_error``, never raised."""
        try:
            self.result = self.function()
        except Exception as exc:
            log.exception("background task failed")
            # Without its traceback: the traceback's frames refer back to this job, and the
            # garbage collector that would free such a cycle may run on any thread (see _Outbox).
            self.error = exc.with_traceback(None)
        finally:
            self._finished.set()


class _Outbox(QObject):
    """Hands finished jobs over to the GUI thread, which then holds their last reference.

    Whoever drops the last reference to a Python-owned QObject destroys it, on
    its own thread.  A lane thread that held the last reference to a job (whose
    callbacks may be a dialog's bound methods) or to the :class:`Worker` itself
    (its thread's target, when the worker was dropped while a job was stuck)
    would destroy a QObject off its thread, while the GUI thread may be handing
    that object an event: a crash (seen as a segfault in pytest-qt's event
    processing after a left-behind lane finished).  So a lane thread refers to
    its worker only weakly, and passes each job on through this queue, letting
    go of it before it wakes the GUI thread.  One outbox serves every worker; it
    lives as long as the application.
    """

    _wake = Signal()

    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        self.items: deque[tuple[weakref.ref[Worker], Job[Any]]] = deque()
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    def wake(self) -> None:
        """Ask the GUI thread to deliver what is queued (from any thread)."""
        with contextlib.suppress(RuntimeError):  # the application is gone (exit)
            self._wake.emit()

    def _drain(self) -> None:
        while self.items:
            owner, job = self.items.popleft()
            worker = owner()
            if worker is not None:
                worker._deliver(job)
            del worker, job  # dropped here, on the GUI thread


_OUTBOX: _Outbox | None = None


def _outbox() -> _Outbox:
    """The application's outbox, made on first use (on the GUI thread, by the first worker)."""
    global _OUTBOX
    if _OUTBOX is None or not shiboken6.isValid(_OUTBOX):
        _OUTBOX = _Outbox(QCoreApplication.instance())
    return _OUTBOX


class _Lanes:
    """A worker's lanes and their threads: plain Python, so a lane thread holds no QObject."""

    def __init__(self, owner: weakref.ref[Worker], outbox: _Outbox, max_pending: int) -> None:
        self.owner = owner
        self.outbox = outbox
        self.max_pending = max_pending
        self.lock = threading.Lock()
        self.queues: dict[str, deque[Job[Any]]] = {}
        self.threads: dict[str, threading.Thread] = {}
        self.pending = 0
        self.closed = False
        self.cancelled = False

    def hand_over(self, job_holder: list[Job[Any]]) -> None:
        """Queue the job in ``job_holder`` for the GUI thread, keeping no reference to it here."""
        self.outbox.items.append((self.owner, job_holder.pop()))
        self.outbox.wake()

    def run_lane(self, lane: str) -> None:
        """Run a lane's jobs in order until it is empty (one thread per busy lane)."""
        while True:
            with self.lock:
                queue = self.queues[lane]
                holder = [queue[0]]
                cancelled = self.cancelled
            if cancelled:
                holder[0].refuse(WorkerBusy("the worker was shut down"))
            else:
                holder[0].run()
            with self.lock:
                queue.popleft()
                self.pending -= 1
                last = not queue
                if last:
                    del self.queues[lane]
                    del self.threads[lane]
            # Even a cancelled job goes: its callbacks must be let go of on the GUI thread too.
            self.hand_over(holder)
            if last:
                return


class Worker(QObject):
    """The UI's one way to run blocking work; results come back on the GUI thread.

    Jobs run in *lanes*: jobs of one lane run one after another, in the order
    submitted (acknowledgements, reloads and history reads share the default
    lane, as they always have); different lanes run side by side on their own
    threads, so a slow self-test or a blocked D-Bus read never holds up the
    panel.  Lanes are few and named in the code, so are the threads.
    Submitting never blocks: with ``skip_if_busy`` a job is dropped while its
    lane is still busy (a periodic read skips a beat instead of piling up),
    and past ``max_pending`` jobs the worker refuses new ones (``on_error``
    gets :class:`WorkerBusy`).  Callbacks run on the GUI thread, not after
    :meth:`shutdown`, and not once their ``context`` object is deleted; a
    worker dropped while a job still runs is freed at once (the lane threads
    refer to it weakly) and that job's result goes nowhere.
    """

    DEFAULT_LANE = "ui"

    def __init__(self, parent: QObject | None = None, max_pending: int = 256) -> None:
        super().__init__(parent)
        self._lanes = _Lanes(weakref.ref(self), _outbox(), max_pending)

    @property
    def max_pending(self) -> int:
        """How many jobs may wait or run at once before new ones are refused."""
        return self._lanes.max_pending

    @max_pending.setter
    def max_pending(self, value: int) -> None:
        self._lanes.max_pending = value

    def submit(
        self,
        function: Callable[[], T],
        on_result: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        *,
        lane: str = DEFAULT_LANE,
        skip_if_busy: bool = False,
        context: QObject | None = None,
    ) -> Job[T] | None:
        """Run ``function()`` off the GUI thread, then ``on_result(value)`` (or ``on_error``) on it.

        Returns the job, or ``None`` when it was not taken: the worker is shut
        down, ``skip_if_busy`` and the lane is busy, or too many jobs wait.
        """
        job = Job(function, on_result, on_error, context)
        lanes = self._lanes
        with lanes.lock:
            if lanes.closed:
                return None
            queue = lanes.queues.get(lane)
            if skip_if_busy and queue:
                return None
            refused = lanes.pending >= lanes.max_pending
            if not refused:
                lanes.pending += 1
                if queue is None:
                    queue = lanes.queues[lane] = deque()
                queue.append(job)
                if len(queue) == 1:
                    # Daemon: a job stuck in a call that never returns cannot hold up the exit.
                    thread = threading.Thread(
                        target=lanes.run_lane, args=(lane,), name=f"deskwatch-ui-{lane}", daemon=True
                    )
                    lanes.threads[lane] = thread
                    thread.start()
        if refused:
            log.warning("background work refused: %d jobs are waiting", lanes.max_pending)
            job.refuse(WorkerBusy(f"{lanes.max_pending} background jobs are waiting already"))
            lanes.hand_over([job])
            return None
        return job

    def busy(self, lane: str = DEFAULT_LANE) -> bool:
        """Whether a job of ``lane`` is waiting or running."""
        with self._lanes.lock:
            return bool(self._lanes.queues.get(lane))

    def _deliver(self, job: Job[Any]) -> None:
        """Call the job's callback (GUI thread, from the outbox) unless it is no longer wanted."""
        if self._lanes.closed or (job.context is not None and not shiboken6.isValid(job.context)):
            return
        try:
            if job.error is not None:
                if job.on_error is not None:
                    job.on_error(job.error)
            elif job.on_result is not None:
                job.on_result(job.result)
        except Exception:
            log.exception("handling a background result failed")

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> bool:
        """Take no more jobs and deliver no more results.

        With ``wait``, the queued jobs still run (acknowledgements reach the
        history before it closes) and this returns when they are done or
        after ``timeout`` seconds, whichever comes first; without, jobs not
        yet started are dropped.  Returns whether every lane is idle.
        """
        lanes = self._lanes
        with lanes.lock:
            lanes.closed = True
            lanes.cancelled = not wait
            threads = list(lanes.threads.values())
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads if wait else ():
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with lanes.lock:
            busy = sorted(lanes.queues)
        if busy and wait:
            log.warning("background work still running at shutdown: %s", ", ".join(busy))
        return not busy


class LoopWatch(QObject):
    """Measures GUI event-loop stalls from the work the loop does anyway, for ``computer.app_stall``.

    No heartbeat timer wakes the loop to find out (a 200 ms one used to, five
    times a second all day): every batch of readings and alert event the
    :class:`EngineBridge` queues for the loop is timed instead -- how long it
    waited before the loop took it up (the loop was busy with something else
    meanwhile), and how long its receivers then kept the loop (the stall they
    caused).  The computer monitor's own readings pass by every poll, so each
    of its polls has a measurement to report, and work still waiting counts
    when it asks (:class:`~app.kernel.monitor.LoopLatencyProbe`), so a loop
    that hangs is reported while it hangs.

    A stall with nothing of ours queued matters when the clerk acts meanwhile
    (a click on the panel waits for it): the window system stamps each click
    and key press when it happens, so an application event filter compares
    that stamp with the moment the loop takes the event up.  The stamps run on
    the window system's clock (X server time, ``GetMessageTime``) in 32-bit
    milliseconds: the quickest delivery seen is the offset between the clocks,
    and a click's wait is how much later than that it came.
    """

    #: A stall longer than :attr:`STALL_MS` (its length in ms).
    stalled = Signal(float)
    STALL_MS = 100.0

    def __init__(self, probe: LoopLatencyProbe, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.probe = probe
        #: The longest stall seen since start (tests, diagnostics).
        self.worst_ms = 0.0
        #: How many deliveries were timed (tests, diagnostics).
        self.measured = 0
        self._running = False
        #: When the loop first ran after :meth:`start`: waits that began before are start-up, not stalls.
        self._since = float("inf")
        #: ``monotonic ms − event stamp`` (mod 2³²) of the quickest input delivery seen: the clocks' offset.
        self._input_offset: int | None = None
        self._filtering = False

    def attach(self, bridge: EngineBridge) -> None:
        """Time ``bridge``'s deliveries from now on."""
        bridge.watch = self

    def start(self) -> None:
        """Begin measuring once the event loop runs (start-up work before that is no stall)."""
        self._running = True
        QTimer.singleShot(0, self, self._loop_runs)

    def _loop_runs(self) -> None:
        if self._running:
            self._since = time.monotonic()
            self.probe.watch(True)
            qapp = QCoreApplication.instance()
            if qapp is not None and not self._filtering:
                # Held while installed: Python's garbage collector may free an unreferenced
                # QObject from any thread, and one freed while the GUI thread hands it an
                # event is a crash; until stop() it stays alive, so only the GUI thread drops it.
                _INSTALLED_FILTERS.add(self)
                qapp.installEventFilter(self)
                self._filtering = True

    def stop(self) -> None:
        """Stop measuring."""
        self._running = False
        self._since = float("inf")
        self.probe.watch(False)
        qapp = QCoreApplication.instance()
        if qapp is not None and self._filtering:
            qapp.removeEventFilter(self)
        _INSTALLED_FILTERS.discard(self)
        self._filtering = False
        self._input_offset = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Times the clerk's clicks and key presses from the window system's stamp (never consumes them)."""
        if event.type() in _USER_INPUT and event.spontaneous():
            stamp = getattr(event, "timestamp", None)
            if stamp is not None:
                self.input_delivered(int(stamp()))
        return False

    def input_delivered(self, stamp_ms: int, now: float | None = None) -> float | None:
        """Note a click or key press stamped ``stamp_ms`` (window-system clock) taken up now.

        Returns how long it waited (ms), or ``None`` when that cannot be told
        yet (the first stamp, or a stamp from another clock).
        """
        if not stamp_ms:
            return None  # Qt's "no stamp"
        now_ms = int((time.monotonic() if now is None else now) * 1000.0)
        offset = (now_ms - stamp_ms) & _STAMP_MASK
        if self._input_offset is None:
            self._input_offset = offset
            return None
        # Signed difference modulo 2³²: the stamps wrap after 49.7 days.
        waited = ((offset - self._input_offset + _STAMP_HALF) & _STAMP_MASK) - _STAMP_HALF
        if waited < 0 or waited > _INPUT_CLOCK_JUMP_MS:
            # Quicker than any before (the offset is smaller than thought), or another clock.
            self._input_offset = offset
            return None
        self.probe.report(float(waited))
        self._note(float(waited))
        return float(waited)

    def run_queued(self, stamp: float, work: Callable[[], None]) -> None:
        """Run ``work`` queued at ``stamp`` (GUI thread), noting its wait and how long it took."""
        if not self._running:
            work()
            return
        started = time.monotonic()
        # Queued before the loop ran (start-up): only how long it holds the loop counts.
        waited = self.probe.dequeued(stamp) if stamp >= self._since else 0.0
        try:
            work()
        finally:
            busy = (time.monotonic() - started) * 1000.0
            self.probe.report(busy)
            self.measured += 1
            self._note(max(waited, busy))

    def _note(self, stall_ms: float) -> None:
        self.worst_ms = max(self.worst_ms, stall_ms)
        if stall_ms > self.STALL_MS:
            self.stalled.emit(stall_ms)


#: The clerk's own acts, which the window system stamps when they happen.
_USER_INPUT = frozenset(
    {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.KeyPress, QEvent.Type.Wheel}
)
_STAMP_MASK = 0xFFFFFFFF
_STAMP_HALF = 0x80000000
#: A click "later" than this is on another clock (a re-stamped or synthetic event), not a stall.
_INPUT_CLOCK_JUMP_MS = 60_000
