"""The break service: the scheduler driven by its own thread, with activity, calls, rings and stores.

Built by the runtime (:func:`app.core.runtime.build_runtime`) when ``[breaks]``
is on, started and stopped with it, so ``deskwatch run --headless`` and the
exporter have break state and screen-work time as the tray app has.  The UI
only shows what the service says (:meth:`BreakService.status`, updates to its
listeners) and asks through its actions (:meth:`BreakService.postpone` …).

Calls win at once: the shared :class:`~app.kernel.callstate.CallState` wakes
the service's thread the moment a call starts or ends or another program
starts to play, and the service ticks then, not at the next second; a ring
(:mod:`app.core.ringing`) counts as a call while a break is announced.

Thread-safety: every use of the scheduler holds the service's lock; the
service's thread ticks, the UI's thread acts.  Listeners are called on
whichever thread ticked or acted, outside the lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from app.core.breaks.activity import ActivitySampler, SourceFactory
from app.core.breaks.readings import INDICATORS, not_observed_here, readings
from app.core.breaks.scheduler import BreakEvent, BreakScheduler, BreakStatus, Phase
from app.core.breaks.settings import BreakKind, BreakSettings
from app.core.breaks.stats import DayStats
from app.core.breaks.stores import BreakStore, HistoryBreakStore, MemoryBreakStore
from app.core.ringing import RingPolicy
from app.kernel.callstate import CallState, OpenStream
from sensors.idle import ActivitySample, ActivitySource, select_source

if TYPE_CHECKING:  # imported lazily: app.core.config imports this package
    from app.core.engine import Engine
    from app.core.history import History

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakUpdate:
    """What a tick or an action did, for the listeners (the UI renders ``status``)."""

    events: tuple[BreakEvent, ...]
    status: BreakStatus
    #: A call (or a ring) was on at the tick: no sound, whatever the events say.
    in_call: bool
    #: Applications ringing at the tick (they hold the break as a call does).
    ringing: tuple[str, ...]
    #: Counts up with every tick and action: an update that reaches a view after a newer
    #: one (queued from another thread) has events to see but a status to ignore.
    serial: int


UpdateListener = Callable[[BreakUpdate], None]


class BreakService:
    """The scheduler, its activity sampling, the call state, the stores and the panel readings.

    Without :meth:`start` nothing runs by itself: tests step it with
    :meth:`step` and a fake clock.  Breaks are announced only while a view
    is attached (:meth:`attach_view`): headless, a due break stays due and
    is never counted as taken, since nobody was shown it.
    """

    INGEST_EVERY = 10.0
    #: The thread ticks at each activity sample; without one (a blocked source) after this long.
    TICK_SECONDS = 1.0

    def __init__(
        self,
        settings: BreakSettings,
        engine: Engine | None = None,
        history: History | None = None,
        *,
        call_state: CallState | None = None,
        source: ActivitySource | SourceFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.store: BreakStore = HistoryBreakStore(history) if history is not None else MemoryBreakStore()
        self.scheduler = BreakScheduler(settings, self.store, clock)
        self.scheduler.can_show = False  # until a view attaches
        self._views = 0
        self.clock = clock
        self.call_state = call_state
        self.sampler = ActivitySampler(
            source if source is not None else ActivitySource(), clock, self.wake, next_read=self._next_read
        )
        #: Applications ringing at the last tick.
        self.ringing: tuple[str, ...] = ()
        self.source_name = self.sampler.name
        #: The ``activity_source`` setting ("auto", "x11", … or "none" on purpose).
        self.source_preference = "auto"
        self._unobserved_at = -float("inf")
        self.source_label = self.sampler.label
        self._lock = threading.RLock()
        #: The phase at the last tick was WORKING (the sampler may be in one of its long waits).
        self._working = True
        #: A call (or a ring) was seen at the last tick (the sampler waits long in one).
        self._in_call = False
        self._listeners: list[UpdateListener] = []
        self._serial = 0
        self._last_ingest = -float("inf")
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._ticked = False  # nothing to save for a service that never ran (a runtime built and stopped)
        if call_state is not None:
            call_state.add_change_listener(self.wake)
        if engine is not None:
            engine.register_indicators(INDICATORS)

    @classmethod
    def from_config(
        cls,
        section: Mapping[str, Any],
        engine: Engine | None,
        history: History | None,
        call_state: CallState | None,
        source: ActivitySource | SourceFactory | None = None,
    ) -> BreakService:
        """The service the ``[breaks]`` section asks for; the source is chosen at the first read."""
        preference = str(section["activity_source"])
        service = cls(
            BreakSettings.from_config(section),
            engine,
            history,
            call_state=call_state,
            source=source if source is not None else (lambda: select_source(preference)),
        )
        service.source_preference = preference
        return service

    @property
    def settings(self) -> BreakSettings:
        """The timing in force."""
        return self.scheduler.settings

    def apply_settings(self, settings: BreakSettings) -> None:
        """New timing (the settings dialog): statistics and the running stretch are kept."""
        with self._lock:
            self.scheduler.settings = settings
        self.wake()

    # -- views and listeners ------------------------------------------------------------------
    def attach_view(self) -> None:
        """A view that shows notices and break windows is there (the tray app's controller)."""
        with self._lock:
            self._views += 1
            self.scheduler.can_show = True
        self.wake()

    def detach_view(self) -> None:
        """Undo :meth:`attach_view` (the view closed)."""
        with self._lock:
            self._views = max(0, self._views - 1)
            self.scheduler.can_show = self._views > 0

    def add_listener(self, listener: UpdateListener) -> None:
        """Call ``listener(update)`` after every tick and action (on the thread that did it)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: UpdateListener) -> None:
        """Undo :meth:`add_listener`."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self, update: BreakUpdate) -> None:
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:  # a broken view must not stop the reminders
                log.exception("break listener failed")

    # -- driving ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start sampling activity and ticking (the runtime calls this)."""
        if self._thread is not None or self._closed:
            return
        self._stopping.clear()
        self.sampler.start()
        self._thread = threading.Thread(target=self._loop, name="deskwatch-breaks", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Tick as soon as possible (a sample came, a call or a stream changed). Any thread."""
        self._wake.set()

    def _loop(self) -> None:
        timeout = self.TICK_SECONDS
        while not self._stopping.is_set():
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stopping.is_set():
                return
            if not self.sampler.has_sample:
                # Not yet observed: no readings (an unchosen source is not "none"), no clock.
                continue
            if self._views == 0 and self.sampler.name == "none" and self.source_preference != "none":
                # Headless and no idle time found: nobody to remind and no activity to
                # see. Wall-clock time is not screen work, so no clock runs (it would
                # reach the daily limit and warn on a seat nobody sits at). A site that
                # set "none" on purpose asked for every minute to count, and gets that.
                self._publish_not_observed()
                timeout = self.TICK_SECONDS
                continue
            try:
                self.tick()
                timeout = self._next_wait()
            except Exception:  # a failing tick must not end the reminders; the next one retries
                log.exception("break reminder tick failed")
                timeout = self.TICK_SECONDS

    #: The sampler reads this long before a working clerk's idle time could first amount to a break.
    READ_MARGIN_S = 2.0
    #: Longest wait between two reads, whatever the breaks' lengths.
    MAX_READ_WAIT_S = 30.0

    def _next_read(self, sample: ActivitySample) -> float:
        """Seconds the sampler may wait after ``sample`` (sampler thread).

        While the clerk works (nothing shown, screen unlocked), idle time can
        reach the shortest break no sooner than the break's length less the
        idle time just read: nothing the scheduler does can change until then
        (input meanwhile only keeps it below), so the next read comes
        :attr:`READ_MARGIN_S` before that.  In a call (or while a softphone
        rings) at work, :attr:`MAX_READ_WAIT_S`: the scheduler counts call
        time as work whatever the input and the lock say, and the first tick
        after the call (its hangover included) reads at once.  Away, locked, or with a notice
        or break up, every second: the clerk's return is noticed at once.
        """
        with self._lock:
            working = self.scheduler.phase is Phase.WORKING
            shortest = self.scheduler.settings.shortest_break
            in_call = self.in_call() or bool(self.ringing)
        if working and in_call:
            return self.MAX_READ_WAIT_S
        if sample.locked or not working:
            return ActivitySampler.INTERVAL
        return min(self.MAX_READ_WAIT_S, shortest - sample.idle_seconds - self.READ_MARGIN_S)

    def _next_wait(self) -> float:
        """Seconds until something changes between samples (a ring's threshold, the grace's end)."""
        now = self.clock()
        with self._lock:
            moments: list[float] = []
            since = self.scheduler.announced_at()
            ring = self._policy().next_change(self._playback(now), since, now)
            if ring is not None:
                moments.append(ring)
            status = self.scheduler.status(now)
        if status.phase in (Phase.GRACE, Phase.NOTICE, Phase.BREAK) and status.remaining > 0:
            moments.append(now + status.remaining)
        # A little after the moment, so the tick is past it; never longer than a missing sample.
        wait = min(moments, default=now + 2 * self.TICK_SECONDS) - now + 0.005
        return min(max(0.0, wait), 2 * self.TICK_SECONDS)

    def tick(self, now: float | None = None) -> list[BreakEvent]:
        """One tick with the latest activity sample, aged to ``now``."""
        now = self.clock() if now is None else now
        sample = self.sampler.latest(now)
        return self.step(sample.idle_seconds, sample.locked, now)

    def step(self, idle_seconds: float, locked: bool, now: float | None = None) -> list[BreakEvent]:
        """One tick of the scheduler with this activity (the thread's path; tests call it too)."""
        now = self.clock() if now is None else now
        with self._lock:
            if self._closed:
                return []
            self._ticked = True
            if self.sampler.name != self.source_name:
                self.source_name, self.source_label = self.sampler.name, self.sampler.label
                self._last_ingest = -float("inf")  # show the new source at once
            self.ringing = tuple(
                self._policy().ringing(self._playback(now), self.scheduler.announced_at(), now)
            )
            in_call = self.in_call() or bool(self.ringing)
            events = self.scheduler.tick(now, idle_seconds, in_call, locked)
            working = self.scheduler.phase is Phase.WORKING
            if (self._working and not working) or (self._in_call and not in_call):
                # A notice or break is up, or a call is over (its rest is timed from input
                # read after it): the sampler's long wait ends now.
                self.sampler.read_soon()
            self._working, self._in_call = working, in_call
            if events or now - self._last_ingest >= self.INGEST_EVERY:
                self._publish(now)
            update = self._update(now, events, in_call)
        self._notify(update)
        return events

    def _update(self, now: float, events: list[BreakEvent], in_call: bool) -> BreakUpdate:
        """The update after a tick or an action (lock held)."""
        self._serial += 1
        return BreakUpdate(tuple(events), self.scheduler.status(now), in_call, self.ringing, self._serial)

    def in_call(self) -> bool:
        """Whether the shared call state sees a call now (rings aside)."""
        return self.call_state is not None and self.call_state.in_call

    def _policy(self) -> RingPolicy:
        settings = self.scheduler.settings
        return RingPolicy(ring_after_seconds=settings.ring_seconds, softphones=settings.softphones)

    def _playback(self, now: float) -> list[OpenStream]:
        """Open playback streams, their opening times moved onto this service's clock."""
        if self.call_state is None:
            return []
        offset = now - self.call_state.clock()
        return [replace(s, opened_at=s.opened_at + offset) for s in self.call_state.playback()]

    def _publish_not_observed(self) -> None:
        now = self.clock()
        if self.engine is not None and now - self._unobserved_at >= self.INGEST_EVERY:
            self._unobserved_at = now
            self.engine.ingest([not_observed_here()], now)

    def _publish(self, now: float) -> None:
        """Push the current ``breaks.*`` readings to the engine (lock held)."""
        self._last_ingest = now
        if self.engine is not None:
            chosen_none = self.source_preference == "none"
            self.engine.ingest(
                readings(self.scheduler, self.source_name, self.source_label, chosen_none=chosen_none), now
            )

    # -- the clerk's actions (any thread) ---------------------------------------------------------
    def _act(self, action: Callable[[float], bool | None], now: float | None) -> bool:
        now = self.clock() if now is None else now
        with self._lock:
            if self._closed:
                return False
            self._ticked = True
            done = action(now) is not False
            self._publish(now)
            update = self._update(now, [], self.in_call())
        self._notify(update)
        self.wake()  # the phase changed: plan the next wake-up from it
        return done

    def postpone(self, now: float | None = None) -> bool:
        """Postpone the break in notice or window; False when not allowed now."""
        return self._act(self.scheduler.postpone, now)

    def skip(self, now: float | None = None) -> bool:
        """Skip the break in notice or window (counted); False when not allowed now."""
        return self._act(self.scheduler.skip, now)

    def start_now(self, now: float | None = None) -> bool:
        """Start the pending break at once (the notice's "start now"); never during a call."""
        return self._act(self.scheduler.start_now, now)

    def hold_for_phone(self, now: float | None = None) -> bool:
        """ "Back to work: phone call": hold the break as for a call (strict mode too)."""
        return self._act(self.scheduler.hold_for_phone, now)

    def take_break_now(self, now: float | None = None, kind: BreakKind = BreakKind.REST) -> bool:
        """ "Take a break now" (tray, card): a break without notice, held while a call is on."""
        return self._act(lambda at: self.scheduler.take_break_now(at, kind), now)

    def pause(self, minutes: float, now: float | None = None) -> bool:
        """Pause reminders for ``minutes`` (0 resumes); screen work is still counted."""
        return self._act(lambda at: self.scheduler.pause(minutes, at), now)

    # -- queries -------------------------------------------------------------------------------
    def status(self, now: float | None = None) -> BreakStatus:
        """The state to render now."""
        now = self.clock() if now is None else now
        with self._lock:
            return self.scheduler.status(now)

    def snapshot(self, now: float | None = None) -> BreakUpdate:
        """The state to render now, as an update without events (newer than every update sent)."""
        now = self.clock() if now is None else now
        with self._lock:
            return self._update(now, [], self.in_call())

    @property
    def phase(self) -> Phase:
        """The scheduler's phase now."""
        return self.scheduler.phase

    def today(self) -> DayStats:
        """A copy of today's statistics."""
        with self._lock:
            return replace(self.scheduler.today)

    def week(self, now: float | None = None) -> list[DayStats]:
        """The last seven days of statistics, today included (for the week chart)."""
        now = self.clock() if now is None else now
        with self._lock:
            today = replace(self.scheduler.today)
        return self.store.week(today, now)

    def publish(self, now: float | None = None) -> None:
        """Push the current ``breaks.*`` readings to the engine now."""
        now = self.clock() if now is None else now
        with self._lock:
            self._publish(now)

    def close(self, now: float | None = None) -> None:
        """Stop the threads and save the state if it ran (before the history closes; idempotent)."""
        if self._closed:
            return
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5.0)
        self.sampler.close()
        if self.call_state is not None:
            self.call_state.remove_change_listener(self.wake)
        with self._lock:
            self._closed = True
            if self._ticked:
                self.scheduler.save(now)
