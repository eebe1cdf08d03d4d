"""Keyboard/mouse activity for the break service: the idle-time source, read on its own thread.

A D-Bus source (Mutter) can block for seconds, so the source is set up and
read on a thread of its own, once a second -- or, given ``next_read``, as
late as the sample allows: idle time can only grow by the time that passes,
so a clerk who touched the keyboard 3 s ago cannot be on a 20 s break for
another 17 s whatever they do meanwhile.  The break service ticks with the
latest sample, aged by the time since it was taken, and never waits for a
read.  A read that fails counts as work, never as rest: a reminder that comes
too early is better than a missed one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.kernel.i18n import Text
from sensors.idle import ActivitySample, ActivitySource, IdleUnavailable

log = logging.getLogger(__name__)

#: What an unreadable source amounts to: input just now (work).
AT_WORK = ActivitySample(0.0, False)
SourceFactory = Callable[[], ActivitySource]


class ActivitySampler:
    """The activity source and its latest sample (thread-safe).

    ``source`` is a source, or a factory that is called on the sampling
    thread at the first read (probing D-Bus sources may block).
    ``on_sample`` is called on that thread after every read; ``next_read``,
    given the sample just read, says how many seconds the next read may wait
    (never less than :attr:`INTERVAL`; without it, every :attr:`INTERVAL`).
    """

    INTERVAL = 1.0

    def __init__(
        self,
        source: ActivitySource | SourceFactory,
        clock: Callable[[], float] = time.time,
        on_sample: Callable[[], None] | None = None,
        next_read: Callable[[ActivitySample], float] | None = None,
    ) -> None:
        self.clock = clock
        self.on_sample = on_sample
        self.next_read = next_read
        #: Reads made so far (the benchmark's and the tests' view of the sampling pace).
        self.reads = 0
        self._lock = threading.Lock()
        self._source: ActivitySource | None = source if isinstance(source, ActivitySource) else None
        self._make_source = None if isinstance(source, ActivitySource) else source
        self._sample = AT_WORK
        self._sample_at: float | None = None
        self._stop = threading.Event()
        #: Set to read now (the pace changed: a notice came up), or to stop.
        self._poke = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        """The source in use (``"none"`` until one is chosen)."""
        source = self._source
        return source.name if source is not None else ActivitySource.name

    @property
    def label(self) -> Text:
        """The source in use, for people."""
        source = self._source
        return source.label if source is not None else ActivitySource.label

    @property
    def has_sample(self) -> bool:
        """Whether a first read has finished (until then the source is not even chosen)."""
        with self._lock:
            return self._sample_at is not None

    def read(self) -> ActivitySample:
        """Read the source once now (may block: the sampling thread calls this; tests may too)."""
        if self._source is None:
            assert self._make_source is not None
            try:
                self._source = self._make_source()
            except Exception:
                log.exception("no activity source could be set up")
                self._source = ActivitySource()
        source = self._source
        try:
            sample = source.sample()
        except IdleUnavailable as exc:
            log.warning("activity source %s failed: %s", source.name, exc)
            sample = AT_WORK
        except Exception:
            log.exception("activity source %s failed", source.name)
            sample = AT_WORK
        with self._lock:
            self._sample, self._sample_at = sample, self.clock()
            self.reads += 1
        return sample

    def latest(self, now: float) -> ActivitySample:
        """The last sample, its idle time aged to ``now`` (input since would have reset it)."""
        with self._lock:
            sample, taken_at = self._sample, self._sample_at
        if taken_at is None or sample.idle_seconds <= 0:
            return sample
        return ActivitySample(sample.idle_seconds + max(0.0, now - taken_at), sample.locked)

    def start(self) -> None:
        """Read once a second on a thread of its own until :meth:`close`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="deskwatch-idle", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            sample = self.read()
            if self.on_sample is not None and not self._stop.is_set():
                try:
                    self.on_sample()
                except Exception:  # a failing consumer must not end the sampling
                    log.exception("activity listener failed")
            self._poke.wait(self._wait_after(sample))
            self._poke.clear()

    def read_soon(self) -> None:
        """Read now rather than at the planned time (any thread)."""
        self._poke.set()

    def _wait_after(self, sample: ActivitySample) -> float:
        """Seconds until the next read (``next_read``'s answer, at least :attr:`INTERVAL`)."""
        if self.next_read is None:
            return self.INTERVAL
        try:
            return max(self.INTERVAL, float(self.next_read(sample)))
        except Exception:  # a failing consumer must not slow the sampling
            log.exception("activity pace failed")
            return self.INTERVAL

    def close(self) -> None:
        """Stop reading and release the source (idempotent)."""
        self._stop.set()
        self._poke.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            # A read blocked in D-Bus gives up within its own timeout; do not hang the shutdown on it.
            thread.join(5.0)
        if self._source is not None:
            self._source.close()
