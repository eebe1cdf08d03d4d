"""Streams opening and closing on PulseAudio / PipeWire, as they happen (``pactl subscribe``).

Polling ``pactl list`` every few seconds made a call known up to a poll late
(issue 19).  ``pactl subscribe`` prints one line per server event::

    Event 'new' on source-output #12
    Event 'remove' on sink-input #7
    Event 'change' on sink #0

:func:`parse_event` reads such a line (pure and defensive: anything else is a
counted bad line, never an exception).  :class:`PulseStreamWatcher` runs the
subscription on a thread; on each ``new`` / ``change`` / ``remove`` of a
source output (a recording) or sink input (a playback) it waits a few
milliseconds for the rest of the burst, asks ``pactl list`` for that kind
again, and hands a :class:`StreamSnapshot` to its callback when the answer
changed.  When the server goes away (PulseAudio restarted, the session
ended) the subscription ends; the watcher reports "unknown" and reconnects
with a short back-off.  Only when ``subscribe`` itself does not work while
``list`` does (an old or partial PipeWire) does it fall back to polling.

Which streams count follows the rule of :mod:`sensors.pulse`: streams that
belong to a client application (named by ``application.name``), not those
PulseAudio modules own (loopback, remap, echo-cancel: ``Client: n/a``), and
never Deskwatch's own.
"""

from __future__ import annotations

import logging
import os
import re
import selectors
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sensors import pulse
from sensors.untrusted import clean_text

log = logging.getLogger(__name__)

#: ``Event '<action>' on <facility> #<index>``, ASCII only.
_EVENT = re.compile(r"Event '(new|change|remove)' on ([a-z][a-z-]{0,31}) #([0-9]{1,10})")
#: Longer lines are not events (and are not kept in memory).
MAX_LINE = 200
RECORDING = "source-output"
PLAYBACK = "sink-input"
WATCHED = frozenset({RECORDING, PLAYBACK})
#: A microphone (or a sink's monitor) appearing or going: the headset may have gone.
SOURCE = "source"
#: A playback device changing (its volume, mute or state), appearing or going.
SINK = "sink"


def _notify(listener: Callable[[], None] | None, what: str) -> None:
    if listener is None:
        return
    try:
        listener()
    except Exception:  # a broken listener must not stop the watcher
        log.exception("%s listener failed", what)


@dataclass(frozen=True)
class PulseEvent:
    """One parsed ``pactl subscribe`` line."""

    action: str
    facility: str
    index: int


def parse_event(line: str | bytes) -> PulseEvent | None:
    """The event on ``line``, or ``None`` when it is not a well-formed event line."""
    if isinstance(line, bytes):
        try:
            line = line.decode("ascii")
        except UnicodeDecodeError:
            return None
    line = line.strip()
    if len(line) > MAX_LINE:
        return None
    match = _EVENT.fullmatch(line)
    if match is None:
        return None
    return PulseEvent(match[1], match[2], int(match[3]))


@dataclass(frozen=True)
class PlaybackStream:
    """A client application playing sound (a sink input)."""

    index: int
    app: str
    #: ``media.role`` ("phone" for telephony, "event" for notification sounds), or "".
    role: str = ""


def playback_applications(inputs: Iterable[pulse.PulseObject], own_pid: int) -> list[PlaybackStream]:
    """Other applications' playback streams that are playing (not corked) right now.

    The same rule as for recordings (``pulse.recording_applications``): only
    client streams count, never a module's own (``Client: n/a``) or Deskwatch's.
    """
    streams: list[PlaybackStream] = []
    for stream in inputs:
        props = stream.properties
        if pulse.client_index(stream) is None:
            continue
        if pulse.ascii_int(props.get("application.process.id", "")) == own_pid:
            continue
        if stream.fields.get("Corked", "no").lower() == "yes":
            continue
        name = pulse.application_name(stream)
        streams.append(PlaybackStream(stream.index, _clean(name), _clean(props.get("media.role", ""))))
    return streams


def _clean(text: str) -> str:
    """Printable one-line text of bounded length (names come from other programs)."""
    return clean_text(text, limit=80)


@dataclass(frozen=True)
class StreamSnapshot:
    """Who records and who plays, at one moment."""

    recording: tuple[str, ...] = ()
    playing: tuple[PlaybackStream, ...] = ()


@dataclass
class WatcherStats:
    """Counters for diagnostics."""

    events: int = 0
    bad_lines: int = 0
    queries: int = 0
    connects: int = 0
    mode: str = "starting"  # "events", "polling", "unavailable"
    errors: list[str] = field(default_factory=list)


SnapshotListener = Callable[[StreamSnapshot | None], None]


class StreamWatcherBase:
    """What every stream watcher shares: the published snapshot, its listener, counters.

    ``on_change(snapshot)`` runs on the watcher's thread whenever the snapshot
    changes; ``None`` means the sound system cannot be asked (unknown, not "no call").
    """

    def __init__(self, on_change: SnapshotListener, own_pid: int | None = None) -> None:
        self.on_change = on_change
        self.own_pid = os.getpid() if own_pid is None else own_pid
        self.stats = WatcherStats()
        self._lock = threading.Lock()
        self._published: StreamSnapshot | None = None
        self._has_published = False

    @property
    def snapshot(self) -> StreamSnapshot | None:
        """The latest snapshot; ``None`` while unknown."""
        with self._lock:
            return self._published

    def _deliver(self, snapshot: StreamSnapshot | None) -> None:
        """Publish ``snapshot`` and tell the listener, when it differs from the last one."""
        with self._lock:
            if self._has_published and snapshot == self._published:
                return
            self._published = snapshot
            self._has_published = True
        try:
            self.on_change(snapshot)
        except Exception:  # a broken listener must not stop the watcher
            log.exception("stream listener failed")

    def _note_error(self, message: str) -> None:
        self.stats.errors = [*self.stats.errors[-9:], message]


class PulseStreamWatcher(StreamWatcherBase):
    """Keeps a :class:`StreamSnapshot` current from ``pactl subscribe`` (see the module docstring).

    ``on_change(snapshot)`` runs on the watcher thread whenever the snapshot
    changes; ``None`` means the server cannot be asked (unknown, not "no call").
    """

    #: Further events of a burst (a stream opening sends several) are awaited this long.
    DEBOUNCE_S = 0.04
    #: Reconnect delays after the server went away: 0.1, 0.2, 0.4 … up to POLL_S.
    FIRST_RETRY_S = 0.1
    #: Polling cadence when subscriptions are not available.
    POLL_S = 2.0
    #: A subscription that ends sooner than this counts as "subscribe does not work".
    SHORT_LIVED_S = 1.0
    #: After this many short-lived subscriptions in a row (with ``list`` working): poll.
    FAILURES_BEFORE_POLLING = 3
    #: While polling, try subscribing again this often.
    RESUBSCRIBE_S = 30.0

    def __init__(
        self,
        on_change: SnapshotListener,
        headset_source: str | Callable[[], str] = "",
        own_pid: int | None = None,
        pactl: str | None = None,
        on_sources: Callable[[], None] | None = None,
        on_sinks: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(on_change, own_pid)
        self._headset_source = headset_source
        #: Called (on the watcher thread) when a source is added or removed, so the
        #: capture checks its headset is still there at once instead of at its next poll.
        self.on_sources = on_sources
        #: Called (on the watcher thread) on any event on a sink: its volume or mute
        #: changed, it started or stopped playing, it came or went (the dose meter
        #: reads the sink's volume again then, instead of asking ``pactl`` each poll).
        self.on_sinks = on_sinks
        self.pactl = pactl or shutil.which("pactl")
        self._recording: tuple[str, ...] | None = None
        #: Our own recordings' indices: their changes (Deskwatch pausing the headset
        #: between listening spells corks and uncorks it) change nobody's call.
        self._own_outputs: frozenset[int] = frozenset()
        #: The sources (which are sink monitors) as last listed; asked again only when
        #: one comes or goes, so a recording opening costs one ``pactl`` run, not two.
        self._sources: list[pulse.PulseObject] | None = None
        self._playing: tuple[PlaybackStream, ...] | None = None
        self._stop = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Start the watcher thread (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="deskwatch-pulse-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the subscription and the thread (idempotent)."""
        self._stop.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # -- the thread ----------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        retry = self.FIRST_RETRY_S
        while not self._stop.is_set():
            if self.pactl is None:
                self.stats.mode = "unavailable"
                self._publish_unknown()
                return
            started = time.monotonic()
            try:
                self._subscribe_once()
            except Exception as exc:  # nothing a peer sends may stop the watcher
                log.exception("pulse event subscription failed")
                self._note_error(f"{type(exc).__name__}: {exc}")
            if self._stop.is_set():
                return
            lived = time.monotonic() - started
            failures = failures + 1 if lived < self.SHORT_LIVED_S else 0
            self._refresh(WATCHED)  # the server may be back already, or be gone
            if failures >= self.FAILURES_BEFORE_POLLING and self._recording is not None:
                self._poll_for(self.RESUBSCRIBE_S)
                failures = 0
                continue
            retry = self.FIRST_RETRY_S if lived >= self.SHORT_LIVED_S else min(retry * 2, self.POLL_S)
            self._stop.wait(retry)

    def _subscribe_once(self) -> None:
        assert self.pactl is not None
        env = {**os.environ, "LC_ALL": "C"}
        process = subprocess.Popen(
            [self.pactl, "subscribe"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        with self._lock:
            self._process = process
        self.stats.connects += 1
        self._sources = None  # a new connection (the server may have restarted): list afresh
        assert process.stdout is not None
        try:
            # Subscribe first, then list: a stream opened in between is in the list
            # or produces an event, never neither.
            self._refresh(WATCHED)
            self._read_events(process.stdout.fileno())
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(2)
            process.stdout.close()
            self._sources = None  # the server may be restarting: its sources are listed afresh
            with self._lock:
                self._process = None

    def _read_events(self, fd: int) -> None:
        """Read event lines until EOF; re-query after each burst of relevant events."""
        buffer = b""
        dirty: set[str] = set()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while not self._stop.is_set():
                # Block until something arrives (stop() ends pactl, which ends the wait);
                # once events are pending, wait only for the rest of their burst.  Until
                # the subscription has shown it is alive, look up after a quiet second.
                timeout = self.DEBOUNCE_S if dirty else (None if self.stats.mode == "events" else 1.0)
                if not selector.select(timeout):
                    self.stats.mode = "events"  # the subscription is alive
                    if dirty:
                        self._refresh(dirty)
                        dirty = set()
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    if dirty:
                        self._refresh(dirty)
                    return
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                if len(buffer) > MAX_LINE:  # no newline in sight: not an event line
                    self.stats.bad_lines += 1
                    buffer = b""
                for line in lines:
                    dirty |= self._classify(line)

    def _classify(self, line: bytes) -> set[str]:
        if not line.strip():
            return set()
        event = parse_event(line)
        if event is None:
            self.stats.bad_lines += 1
            return set()
        self.stats.events += 1
        self.stats.mode = "events"
        if event.facility == RECORDING and event.action == "change" and event.index in self._own_outputs:
            return set()
        if event.facility == SOURCE and event.action != "change":
            self._sources = None
            _notify(self.on_sources, "source")
        if event.facility == SINK:
            _notify(self.on_sinks, "sink")
        return {event.facility} if event.facility in WATCHED else set()

    def _poll_for(self, seconds: float) -> None:
        """Subscriptions do not work here: ask every :attr:`POLL_S` for ``seconds``."""
        self.stats.mode = "polling"
        log.info("pactl subscribe unavailable; polling streams every %.0f s", self.POLL_S)
        deadline = time.monotonic() + seconds
        while not self._stop.wait(self.POLL_S) and time.monotonic() < deadline:
            self._sources = None  # no events tell when they change
            self._refresh(WATCHED)

    # -- queries ----------------------------------------------------------------------------
    def _refresh(self, facilities: Iterable[str]) -> None:
        wanted = set(facilities)
        self.stats.queries += 1
        if RECORDING in wanted:
            outputs = pulse.list_source_outputs()
            if outputs is None:
                self._recording = None
            else:
                if self._sources is None:
                    self._sources = pulse.list_sources()
                sources = self._sources or []
                apps = pulse.recording_applications(outputs, sources, self.own_pid, self.headset_source)
                self._recording = tuple(_clean(a) for a in apps)
                self._own_outputs = frozenset(
                    out.index
                    for out in outputs
                    if pulse.ascii_int(out.properties.get("application.process.id", "")) == self.own_pid
                )
        if PLAYBACK in wanted:
            text = pulse.run_pactl("list", "sink-inputs")
            if text is None:
                self._playing = None
            else:
                self._playing = tuple(playback_applications(pulse.parse_list(text), self.own_pid))
        if self._recording is None or self._playing is None:
            self._publish_unknown()
        else:
            self._publish(StreamSnapshot(self._recording, self._playing))

    @property
    def headset_source(self) -> str:
        """The source that counts as a microphone even though it is a sink monitor."""
        source = self._headset_source
        return source() if callable(source) else source

    def _publish_unknown(self) -> None:
        self._publish(None)

    def _publish(self, snapshot: StreamSnapshot | None) -> None:
        self._deliver(snapshot)
