"""Headset microphone capture, shared by everyone who listens: libpulse on Linux, PyAudio elsewhere.

One :class:`AudioCapture` per process (kept in ``MonitorContext.services``
under :data:`SERVICE_KEY`) owns one input stream; the headset monitor's
analysis, call-state detection and the recorder self-test subscribe to it
instead of opening the device three times.

Two backends, chosen each time the stream is opened (:data:`BACKENDS`):

* **libpulse** (:mod:`sensors.pulse_capture`) on Linux whenever a
  PulseAudio/PipeWire server answers.  The source is chosen by name and
  connected with ``PA_STREAM_DONT_MOVE``, so a headset that goes kills the
  stream at once (noticed without ``pactl``), and PulseAudio never moves us
  to another microphone.  The supervisor thread reads what libpulse queued
  once a second (:data:`READ_S`; sleeping through a pause) and calls the
  consumers itself; the duty cycle's pause is a cork.  PyAudio is never imported, so neither PortAudio nor
  alsa-lib's plugins (~16 MiB) are loaded, and there is no PortAudio
  callback thread.  Audio lost because a consumer was late (more than
  :data:`PULSE_QUEUE_S` behind) is flagged ``PA_INPUT_OVERFLOW`` on the next
  buffer, as PortAudio would.
* **PyAudio** (PortAudio) on Windows, and on Linux when no sound server
  answers (bare ALSA), imported only then.

Why the PyAudio path is built this way (measured, see DESIGN.md §5 and the benchmark):

* Callback mode with 500 ms buffers: PortAudio's ALSA thread hands over a
  block twice a second together with its status flags (``paInputOverflow`` /
  ``paInputUnderflow``, the dropout signal), which the blocking ``read()`` API
  hides.  (100 ms buffers woke it ten times a second; the analysis cuts the
  buffer into 100 ms blocks itself, see ``audio_analysis.analyse_blocks``.)
* The stream stays open: opening costs 1–2 s of CPU in PortAudio's first
  ALSA→pulse read.  Outside a call the headset monitor asks for a duty cycle
  (:meth:`AudioCapture.set_duty_cycle`): the open stream is *stopped* and
  *started* again (the ALSA pulse plugin corks and uncorks it: no reopening,
  start is instant), and while stopped neither PulseAudio nor PortAudio
  wakes this process.  Receiving audio costs the same whatever the buffer
  when the sound server sends it in its own small packets, so listening
  less is the only way to pay less for it.
* PortAudio enumerates devices only when it is initialised, so a headset
  that is plugged back in as a new sound card is found by a *new*
  ``PyAudio()``.  But only then: a fresh initialisation costs memory for
  good (~12.5 KiB each on Debian 12, see :func:`devices_signature`), so
  retries reuse the initialised PortAudio until the sound cards or the
  sound server change.
* PortAudio 19.6's ALSA callback thread can spin for ever when a stream fails
  before its first buffer (:mod:`sensors.spinning_threads`): its threads are
  started on fresh stacks (which keeps the loop from starting), and are watched
  every supervisor round; one that spins is parked, its stream kept unclosed
  for good (closing it would join that thread), and the capture reads
  ``STUCK`` until a new stream opens (after :data:`MAX_SPINS`, for good).
* Through ALSA's ``pulse`` device the source is chosen with ``PULSE_SOURCE``,
  and while open its presence is checked with ``pactl`` because PulseAudio
  may quietly move the stream to another microphone when the headset goes.
"""

from __future__ import annotations

import contextlib
import enum
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.kernel.lazy import lazy_import
from sensors import pulse, spinning_threads
from sensors.audio_analysis import CONTINUITY_BREAK, PA_INPUT_OVERFLOW
from sensors.pulse_capture import PulseConnection, PulseError, PulseStream, Source

log = logging.getLogger(__name__)

SERVICE_KEY = "audio_capture"

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.int16]
    #: ``consumer(samples, status_flags, rate)``, called on the audio thread (PortAudio's, or the
    #: capture's own with libpulse): keep it short.
    BlockConsumer = Callable[[Samples, int, int], None]
else:  # loaded with the monitors; numpy is needed only once the headset is really listened to
    np = lazy_import("numpy", globals())

#: Rates tried after the configured one, for devices PortAudio cannot resample for.
FALLBACK_RATES = (48000, 44100)

#: How the microphone is reached: libpulse straight to the PulseAudio/PipeWire
#: server, or PyAudio (PortAudio).  ``auto``: libpulse on Linux when a server
#: answers, else PyAudio (Windows, bare ALSA).  ``DESKWATCH_AUDIO_BACKEND``
#: overrides it (diagnostics, benchmarks).
BACKENDS = ("auto", "pulse", "portaudio")
BACKEND_ENV = "DESKWATCH_AUDIO_BACKEND"
#: libpulse's client-side queue holds this much audio (at least four buffers, and four of the
#: reads, :data:`READ_S`): a consumer late by less loses nothing; later,
#: the lost audio is flagged as an overflow.
PULSE_QUEUE_S = 4.0
#: (libpulse backend) The queue is read this often rather than every buffer (and not at all
#: while corked): half the wake-ups and analysis calls of 500 ms for the same audio.  Nothing
#: waits on a buffer's news: a headset that goes (a source event), a call that starts and a
#: recording all wake the supervisor at once, and readings are made every poll (seconds).
READ_S = 1.0

#: Longest wait for PortAudio to close a stream.  Closing a stream that
#: delivers nothing (a suspended PulseAudio source, an echo canceller whose
#: master stalled) can block for ever inside ALSA; after this the stream is
#: left to its (daemon) thread and the capture goes on without it.
CLOSE_TIMEOUT_S = 3.0
#: Longest wait for the supervisor thread to notice it should stop
#: (it may be in the middle of opening a device or running ``pactl``).
JOIN_TIMEOUT_S = 2.0
#: Longest wait for another thread's PortAudio set-up call to finish.
LOCK_TIMEOUT_S = 10.0
#: Upper bound of :meth:`AudioCapture.release`: what closing the headset adds
#: to a one-shot command or to shutting down, whatever the device does.
RELEASE_BOUND_S = JOIN_TIMEOUT_S + CLOSE_TIMEOUT_S
#: After this many PortAudio streams spun (see :mod:`sensors.spinning_threads`), PortAudio is
#: not used again in this process: each one leaves a parked thread and a stream that never closes.
MAX_SPINS = 3
#: Streams whose PortAudio thread spun, and their PortAudio, kept for the life of the process:
#: closing one (or terminating its PortAudio, or dropping the last reference) joins a thread
#: that never ends.
_SPUN: list[tuple[Any, Any]] = []


def devices_signature() -> str | None:
    """What a fresh PortAudio initialisation would enumerate differently, or ``None`` if unknown.

    Each full ``Pa_Initialize``/``Pa_Terminate`` costs ~12.5 KiB that is never
    given back (measured: malloc in use grows linearly, ``malloc_trim`` does
    not help): PortAudio's ALSA enumeration makes alsa-lib load every PCM
    plugin, and loading the a52 plugin (libasound2-plugins, built on FFmpeg)
    runs library constructors that allocate again at each load.  Retrying a
    missing headset every few seconds with a new ``PyAudio()`` was ~1.5 MiB
    an hour, for as long as it stays unplugged.

    So a fresh initialisation is made only when this signature changed: the
    ALSA cards and PCM devices (a USB headset plugged in as a new card) and
    whether a PulseAudio-compatible server answers (PortAudio's ``pulse`` and
    ``default`` devices are probed through it).  A PulseAudio *source* coming
    and going needs none (it is chosen through ``PULSE_SOURCE`` when the
    stream opens).  Off Linux there is no cheap signature: ``None`` (always fresh).
    """
    if not sys.platform.startswith("linux"):
        return None
    parts = []
    for name in ("cards", "pcm"):
        try:
            with open(f"/proc/asound/{name}", encoding="utf-8", errors="replace") as handle:
                parts.append(handle.read())
        except OSError:
            parts.append("")  # no ALSA (a container): nothing there to change
    parts.append("pulse" if pulse.run_pactl("info") is not None else "no pulse")
    return "\n".join(parts)


#: The supervisor thread's name in ``/proc/PID/task/*/comm`` (per-thread CPU from outside).
THREAD_COMM = "dw-audio"


def _name_this_thread(name: str) -> None:
    """Give the calling thread a kernel-visible name (Linux; Python's names stay inside)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


@contextlib.contextmanager
def _pulse_source(source: str | None) -> Iterator[None]:
    """``PULSE_SOURCE`` set to ``source`` while a stream connects, then put back as it was.

    ALSA's pulse plugin reads it (process-wide) when the stream connects.  Left
    set, it would send the next capture that asks for the *default* input (the
    headset's, after the hearing monitor opened a sink's monitor) to this source.
    Callers hold the PortAudio lock, so no other opening sees it meanwhile.
    """
    if not source:
        yield
        return
    saved = os.environ.get("PULSE_SOURCE")
    os.environ["PULSE_SOURCE"] = source
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PULSE_SOURCE", None)
        else:
            os.environ["PULSE_SOURCE"] = saved


class PortAudioBusy(OSError):
    """Another PortAudio call did not finish in time (a stuck device)."""


class NoAudio(TimeoutError):
    """:meth:`AudioCapture.record` got too little audio; ``status`` says why."""

    def __init__(self, message: str, status: CaptureStatus) -> None:
        super().__init__(message)
        self.status = status


class CaptureState(enum.Enum):
    """What the capture knows about its input, as the headset monitor judges it."""

    #: Not opened yet (first attempt under way): nothing observed, no fault.
    STARTING = "starting"
    #: The stream is open (and delivering, or its first block is not due yet).
    OPEN = "open"
    #: A device is there but no audio arrives (stalled or never started).
    SILENT = "silent"
    #: The configured device is not there (unplugged, source gone).
    ABSENT = "absent"
    #: The device is there but could not be opened.
    FAILED = "failed"
    #: No device name configured and the system has no audio input at all.
    NO_INPUT = "no_input"
    #: Closed by its last user.
    STOPPED = "stopped"
    #: The audio library's stream thread spun and was stopped (PortAudio 19.6's ALSA error
    #: loop): nothing is observed until a new stream opens.
    STUCK = "stuck"


@dataclass(frozen=True)
class InputChoice:
    """Which PortAudio device to open, and which PulseAudio source behind it."""

    index: int | None
    name: str
    pulse_source: str = ""
    #: True when the named device was missing and the default input is used instead.
    fallback: bool = False
    #: A WASAPI loopback device is opened in its mix format: all its channels, at its rate.
    channels: int = 1
    rate: int | None = None


#: PyAudioWPatch (PortAudio with WASAPI loopback) on Windows: its loopback devices are inputs.
LOOPBACK_MODULE = "pyaudiowpatch"


def choose_loopback(
    devices: Sequence[Mapping[str, Any]], default_name: str, wanted: str
) -> InputChoice | None:
    """The WASAPI loopback device of the render endpoint ``wanted`` names (empty: the default output).

    ``devices`` are PyAudioWPatch device infos; loopback ones carry
    ``isLoopbackDevice`` and are named after their endpoint ("Headset
    Earphone (Jabra EVOLVE 20) [Loopback]").  ``default_name`` is the default
    loopback device's name (``PyAudio.get_default_wasapi_loopback()``).
    """
    loopbacks = [d for d in devices if d.get("isLoopbackDevice") and int(d.get("maxInputChannels", 0)) > 0]
    if wanted:
        needle = wanted.casefold()
        found = next((d for d in loopbacks if needle in str(d.get("name", "")).casefold()), None)
    else:
        found = next((d for d in loopbacks if str(d.get("name", "")) == default_name), None)
    if found is None:
        return None
    try:
        channels = max(1, min(8, int(found.get("maxInputChannels", 1))))
        rate = int(float(found.get("defaultSampleRate", 48000)))
        index = int(found["index"])
    except (KeyError, TypeError, ValueError):
        return None
    return InputChoice(index, str(found.get("name", "")), channels=channels, rate=rate)


def louder_channel(block: Samples, channels: int) -> Samples:
    """Of interleaved ``channels``-channel int16 ``block``, the channel with most energy (the louder ear)."""
    if channels <= 1:
        return block
    frames = block[: block.size - block.size % channels].reshape(-1, channels)
    energy = np.einsum("ij,ij->j", frames.astype(np.float64), frames.astype(np.float64))
    return np.ascontiguousarray(frames[:, int(np.argmax(energy))])


def choose_input(
    devices: Sequence[Mapping[str, Any]],
    default_index: int | None,
    wanted: str,
    sources: Sequence[pulse.PulseObject] | None = None,
) -> InputChoice | None:
    """Pick the input for ``wanted`` (a case-insensitive name fragment; empty = default).

    ``devices`` are PortAudio device infos (``index``, ``name``,
    ``maxInputChannels``); ``sources`` the PulseAudio sources, if there is a
    server.  Returns ``None`` when nothing matches: the headset is absent.
    """
    inputs = [d for d in devices if int(d.get("maxInputChannels", 0)) > 0]
    if not wanted:
        for d in inputs:
            if d.get("index") == default_index:
                return InputChoice(default_index, str(d.get("name", "")))
        return None
    needle = wanted.casefold()
    for d in inputs:
        if needle in str(d.get("name", "")).casefold():
            return InputChoice(int(d["index"]), str(d["name"]))
    source = pulse.match_source(sources or (), wanted)
    if source is None:
        return None
    via = next((d for d in inputs if str(d.get("name")) == "pulse"), None)
    index = int(via["index"]) if via is not None else default_index
    if index is None:
        return None
    return InputChoice(index, source.description or source.name, source.name)


@dataclass(frozen=True)
class CaptureStatus:
    """What the capture knows about its device right now."""

    connected: bool
    device: str
    rate: int
    error: str = ""
    #: Times the stream was lost (unplugged, server gone) since start.
    losses: int = 0
    #: Seconds since audio last arrived (``None`` before the first block).
    silence_age: float | None = None
    #: The named device was missing; the default input is open instead.
    fallback: bool = False
    state: CaptureState = CaptureState.STARTING
    #: Seconds since the capture was first asked to run (``None`` when not running).
    running_for: float | None = None
    #: Seconds without audio, when :attr:`state` is ``SILENT``.
    silent_seconds: float | None = None


#: PortAudio's initialise/terminate and stream set-up are not thread-safe
#: (concurrent Pa_Initialize/Pa_Terminate crash), so every such call takes this lock.
_PORTAUDIO_LOCK = threading.RLock()


@contextlib.contextmanager
def _portaudio(quiet: bool = True, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Serialise a PortAudio set-up call, silencing ALSA/JACK's probing chatter on fd 2.

    Raises :class:`PortAudioBusy` when another thread's call (a close stuck
    in ALSA) holds PortAudio for more than ``timeout`` seconds: waiting for
    ever would freeze whoever asked (a one-shot check, shutting down).
    """
    if not _PORTAUDIO_LOCK.acquire(timeout=timeout):
        raise PortAudioBusy(f"PortAudio busy for more than {timeout:g} s (a device is stuck)")
    try:
        saved = None
        if quiet:
            try:
                saved = os.dup(2)
            except OSError:
                saved = None
        if saved is None:
            yield
            return
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 2)
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    finally:
        _PORTAUDIO_LOCK.release()


class AudioCapture:
    """One shared input stream that reopens itself when the device comes back.

    Nothing here may block its caller for long: :meth:`release` returns
    within :data:`RELEASE_BOUND_S` and :meth:`status` never touches
    PortAudio or libpulse, whatever the device or the sound server does.
    ``backend`` is one of :data:`BACKENDS` (``$DESKWATCH_AUDIO_BACKEND`` wins).
    """

    def __init__(
        self,
        device: str = "",
        rate: int = 16000,
        block_ms: float = 500.0,
        retry_seconds: float = 3.0,
        presence_seconds: float = 15.0,
        stall_seconds: float = 3.0,
        fallback_to_default: bool = False,
        backend: str = "auto",
        loopback: bool = False,
    ) -> None:
        self.device = device
        #: Record what a render endpoint plays (WASAPI loopback, Windows), not a microphone.
        self.loopback = loopback
        backend = os.environ.get(BACKEND_ENV, "") or backend
        if backend not in BACKENDS:
            log.warning("unknown audio backend %r; using auto", backend)
            backend = "auto"
        self.backend = backend
        self.fallback_to_default = fallback_to_default
        self.requested_rate = rate
        self.block_ms = block_ms
        self.retry_seconds = retry_seconds
        self.presence_seconds = presence_seconds
        self.stall_seconds = stall_seconds
        self.rate = rate
        self._lock = threading.Lock()
        self._consumers: list[BlockConsumer] = []
        self._users = 0
        #: Each supervisor thread has its own stop event, so a late one (stuck
        #: opening a device when it was told to stop) cannot be revived.
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pa: Any = None
        self._stream: Any = None
        self._choice: InputChoice | None = None
        self._connected = False
        self._state = CaptureState.STARTING
        self._error = "not started"
        self._losses = 0
        self._opened_at = 0.0
        self._acquired_at: float | None = None
        self._last_block: float | None = None
        #: Since when no audio has arrived, across reopenings (``None`` while it flows).
        self._silent_since: float | None = None
        self._last_presence = 0.0
        #: Streams PortAudio could not close in time (left behind on their thread).
        self.stuck_closes = 0
        #: An initialised PortAudio kept between attempts (see :func:`devices_signature`)
        #: and the signature of the devices it enumerated.
        self._spare_pa: Any = None
        self._spare_signature: str | None = None
        #: Fresh PortAudio initialisations (each one enumerates the devices).
        self.portaudio_inits = 0
        #: PortAudio's own threads of the open stream, watched for a spin (Linux).
        self._spin_watch: spinning_threads.Watch | None = None
        self._opened_tids: set[int] = set()
        #: PortAudio streams whose thread spun (stopped, see :mod:`sensors.spinning_threads`).
        self.spins = 0
        self._changed = threading.Condition(self._lock)
        #: ``(listen, every)`` seconds outside a call, ``None``: listen continuously.
        self._duty: tuple[float, float] | None = None
        #: Users that need every sample for now (a recording): no pausing meanwhile.
        self._continuous = 0
        #: The open stream is stopped between listening spells.
        self._paused = False
        #: When the current listening spell or pause began, and the last restart.
        self._phase_at = 0.0
        self._resumed_at = 0.0
        #: The next block is the first after a pause (consumers see CONTINUITY_BREAK).
        self._gap = False
        #: Pauses made (diagnostics and tests).
        self.pauses = 0
        #: Set to make the supervisor look again now (duty cycle changed, stop).
        self._poke = threading.Event()
        #: Held while the open stream is stopped or started between spells (one per
        #: stream: a stop that hung must not hold up closing the next stream).
        self._stream_op = threading.Lock()
        #: The connection to the sound server (libpulse backend), kept across streams.
        self._pulse: PulseConnection | None = None
        #: A sound server answered once: while it restarts, wait for it rather than PortAudio.
        self._pulse_seen = False
        #: Audio read from libpulse not yet making a whole buffer, and whether some was lost.
        self._pending = bytearray()
        self._lost = False
        #: Buffers delivered with audio lost before them (libpulse backend's overflows).
        self.overflows = 0
        #: The backend of the open (or last) stream: "pulse", "portaudio" or "".
        self.backend_in_use = ""

    # -- subscribers ------------------------------------------------------------
    def subscribe(self, consumer: BlockConsumer) -> None:
        """Have ``consumer`` called with every block (on the audio thread)."""
        with self._lock:
            self._consumers.append(consumer)

    def unsubscribe(self, consumer: BlockConsumer) -> None:
        """Stop calling ``consumer``."""
        with self._lock:
            if consumer in self._consumers:
                self._consumers.remove(consumer)

    def set_duty_cycle(self, listen_seconds: float | None, every_seconds: float = 5.0) -> None:
        """Listen ``listen_seconds`` in every ``every_seconds`` (``None``: continuously, at once).

        Between spells the open stream is stopped, not closed; presence checks
        go on, so an unplugged headset is still noticed.  A :meth:`record`
        in progress always gets continuous audio.
        """
        duty = None
        if listen_seconds is not None and 0 < listen_seconds < every_seconds:
            duty = (float(listen_seconds), float(every_seconds))
        with self._lock:
            changed, self._duty = duty != self._duty, duty
        if changed:
            self._poke.set()

    #: After a source came or went, the headset's presence is checked this much later:
    #: a stream whose source went away stops by itself within half a second, and
    #: is better closed as a dead stream (at once) than as a dying one (closing a
    #: stream while PortAudio's thread still reads it can hang, and is left behind).
    PRESENCE_AFTER_EVENT_S = 1.5

    def check_presence_soon(self) -> None:
        """A PulseAudio source came or went: check the headset's is still there shortly (any thread).

        What this catches is a headset that went while PulseAudio moved the
        stream to another microphone (so it goes on delivering), or while the
        stream was paused: seen within :attr:`PRESENCE_AFTER_EVENT_S` (paused:
        at once) instead of at the next periodic check.
        """
        with self._lock:
            # A paused stream is not being read: nothing to wait for, and resuming one
            # whose source went away hangs (see _resume), so it is checked first, now.
            delay = 0.0 if self._paused else self.PRESENCE_AFTER_EVENT_S
            due = time.monotonic() - self.presence_seconds + delay
            self._last_presence = min(self._last_presence, due)
        # libpulse: a stream the server killed is seen on the next read, so read now
        # rather than at the end of a (longer, outside a call) sleep.
        if delay == 0.0 or isinstance(self._stream, PulseStream):
            self._poke.set()

    @property
    def server_events(self) -> int:
        """Events from the sound server handled so far (libpulse backend; 0 otherwise): its traffic."""
        connection = self._pulse
        return connection.dispatched if connection is not None else 0

    @property
    def paused(self) -> bool:
        """Whether the stream is stopped between listening spells right now."""
        with self._lock:
            return self._paused

    def acquire(self) -> None:
        """Declare a user; the first one starts the stream and its supervisor."""
        with self._lock:
            self._users += 1
            if self._thread is not None:
                return
            self._stop = stop = threading.Event()
            if self._state is CaptureState.STOPPED:
                self._state, self._error = CaptureState.STARTING, "not started"
            self._acquired_at = time.monotonic()
            thread = self._thread = threading.Thread(
                target=self._supervise, args=(stop,), name="deskwatch-audio", daemon=True
            )
        thread.start()

    def release(self) -> None:
        """Drop a user; the last one closes the stream (within :data:`RELEASE_BOUND_S`)."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users or self._thread is None:
                return
            thread, self._thread = self._thread, None
            stop = self._stop
        stop.set()
        self._poke.set()
        thread.join(JOIN_TIMEOUT_S)
        if thread.is_alive():
            log.warning("audio supervisor still busy after %.0f s; closing without it", JOIN_TIMEOUT_S)
        self._close(lost=False)
        with self._lock:
            spare, self._spare_pa = self._spare_pa, None
        self._teardown(None, spare)
        connection, self._pulse = self._pulse, None
        if connection is not None:
            if thread.is_alive():  # it may be using the connection: left to it (and the process end)
                log.warning("audio supervisor busy; the sound server connection is left open")
            else:
                connection.close()

    # -- state --------------------------------------------------------------------
    def status(self) -> CaptureStatus:
        """Connection state for the headset monitor (never blocks on the device)."""
        with self._lock:
            now = time.monotonic()
            name = self._choice.name if self._choice else self.device
            age = None if self._last_block is None else now - self._last_block
            fallback = bool(self._choice and self._choice.fallback and self._connected)
            state, error = self._state, self._error
            silent = self._silent_for(now)
            if silent is not None and state in (CaptureState.OPEN, CaptureState.SILENT):
                state, error = CaptureState.SILENT, f"no audio for {silent:.0f} s"
            running = None if self._acquired_at is None else now - self._acquired_at
            return CaptureStatus(
                self._connected, name, self.rate, error, self._losses, age, fallback, state, running, silent
            )

    def _silent_for(self, now: float) -> float | None:
        """Seconds without audio when that is a fault, else ``None`` (call with the lock held).

        Once audio has stopped, reopening the stream does not reset the
        count: only audio arriving does.
        """
        if self._silent_since is not None and (not self._connected or self._last_block is None):
            return now - self._silent_since
        return self._stream_silence(now)

    def _stream_silence(self, now: float) -> float | None:
        """Seconds the open stream has gone without audio, once that means it stalled.

        A fresh stream gets twice :attr:`stall_seconds` for its first block
        (PortAudio's first ALSA→pulse read is slow).
        """
        if not self._connected or self._paused:
            return None
        last = self._last_block if self._last_block is not None else self._opened_at
        last = max(last, self._resumed_at)  # a pause is not a stall
        if now - self._opened_at > 2 * self.stall_seconds and now - last > self.stall_seconds:
            return now - last
        return None

    @property
    def pulse_source(self) -> str:
        """The PulseAudio source being recorded ("" when not chosen through PulseAudio)."""
        choice = self._choice
        return choice.pulse_source if choice is not None else ""

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the stream is open (or the first attempt failed); True when open."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._connected and self._state is CaptureState.STARTING:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self._connected

    def record(self, seconds: float, timeout: float) -> tuple[Samples, int]:
        """Collect ``seconds`` of audio from the shared stream; returns samples and rate.

        Raises :class:`NoAudio` (a ``TimeoutError``) when not enough audio
        arrives within ``timeout`` (device missing or stalled), with the
        capture's status as it was then (before this user let it go).
        """
        chunks: list[Samples] = []
        got = threading.Event()
        rate_seen = [self.rate]

        def collect(block: Samples, _flags: int, rate: int) -> None:
            if rate != rate_seen[0]:
                chunks.clear()
                rate_seen[0] = rate
            chunks.append(block.copy())
            if sum(c.size for c in chunks) >= seconds * rate:
                got.set()

        self.acquire()
        self.subscribe(collect)
        with self._lock:
            self._continuous += 1
        self._poke.set()
        try:
            if not got.wait(timeout):
                have = sum(c.size for c in chunks) / max(rate_seen[0], 1)
                raise NoAudio(f"only {have:.1f} s of audio arrived in {timeout:g} s", self.status())
        finally:
            with self._lock:
                self._continuous -= 1
            self.unsubscribe(collect)
            self.release()
        audio = np.concatenate(chunks)[: int(seconds * rate_seen[0])]
        return audio, rate_seen[0]

    # -- the supervisor thread -------------------------------------------------
    def _supervise(self, stop: threading.Event) -> None:
        _name_this_thread(THREAD_COMM)
        next_attempt = 0.0
        while not stop.is_set():
            now = time.monotonic()
            stream = self._stream
            if isinstance(stream, PulseStream):
                # Read first: the consumers run on this thread, so time spent in
                # them is no silence of the source (and a spell's end is used).
                self._pump(stream)
                now = time.monotonic()
            if self._stream is None:
                if now >= next_attempt and not self._open(stop):
                    next_attempt = time.monotonic() + self.retry_seconds
            elif self._stream_spun(stream):
                next_attempt = time.monotonic() + self.retry_seconds
            elif self._stream_lost(now):
                log.warning("audio input lost: %s", self._error)
                self._close(lost=True, stop=stop)
                # A replugged headset is back within a second; a silent input
                # is retried at the normal pace (opening costs 1-2 s of CPU).
                pause = self.retry_seconds if self._state is CaptureState.SILENT else 1.0
                next_attempt = time.monotonic() + min(self.retry_seconds, pause)
            else:
                self._duty_step(now, stop)
            wait = 0.5
            if isinstance(self._stream, PulseStream):
                wait = self._pulse_wait(time.monotonic())
            self._poke.wait(wait)
            self._poke.clear()

    def _pulse_wait(self, now: float) -> float:
        """How long the supervisor sleeps before reading libpulse's queue again (libpulse backend).

        Every :data:`READ_S` (or buffer, if longer) while listening -- outside
        a call no longer than the listening spell lasts -- and while corked
        until the pause ends (nothing arrives; a source that goes pokes it,
        see :meth:`check_presence_soon`, as does a call that starts).
        """
        buffer = self.block_ms / 1000
        with self._lock:
            duty = None if self._continuous else self._duty
            paused, phase_at = self._paused, self._phase_at
        if duty is None:
            return max(buffer, READ_S)
        listen, every = duty
        if paused:
            return max(buffer, phase_at + every - listen - now)
        return max(buffer, min(READ_S, phase_at + listen - now))

    def _pump(self, stream: PulseStream, flush: bool = False) -> None:
        """Take what libpulse has queued and hand it on in whole buffers (supervisor thread).

        Runs every :data:`READ_S`, so Python wakes that often however small
        the server's packets are.  Consumers run here (as on PortAudio's
        callback thread): one that stalls for longer than
        :data:`PULSE_QUEUE_S` loses audio, and the next buffer carries
        ``PA_INPUT_OVERFLOW``.  ``flush`` (a pause is next): the part buffer
        left goes too, cut to whole analysis blocks (100 ms), as it would not
        be continued after the pause.
        """
        size = 2 * max(64, int(self.rate * self.block_ms / 1000))
        while True:
            try:
                data, lost = stream.read()
            except PulseError:
                return  # gone: _stream_lost sees it on the next round
            with self._lock:
                if self._stream is not stream or self._paused:
                    return
                if data:
                    self._last_block = time.monotonic()
                    self._silent_since = None
            if lost:
                self._lost = True
            pending = self._pending
            pending += data
            if len(pending) >= size:
                # Every whole buffer in one call: analysed together, for the cost of about one.
                self._deliver_pending(len(pending) // size * size)
            # A consumer slower than a buffer: read again, what came meanwhile is
            # no silence (and no stall of the source).
            if len(data) < size:
                break
        if flush:
            tenth = 2 * max(1, self.rate // 10)
            if len(pending) >= tenth:
                self._deliver_pending(len(pending) // tenth * tenth)
            pending.clear()

    def _deliver_pending(self, size: int) -> None:
        """Deliver the first ``size`` bytes read from libpulse, flagged if audio was lost before them."""
        block = np.frombuffer(bytes(self._pending[:size]), dtype=np.int16)
        del self._pending[:size]
        flags = 0
        if self._lost:
            self._lost = False
            self.overflows += 1
            flags = PA_INPUT_OVERFLOW
        self._deliver(block, flags, self.rate)

    def _duty_step(self, now: float, stop: threading.Event) -> None:
        """Stop the stream after a listening spell, start it after a pause (supervisor thread)."""
        with self._lock:
            duty = None if self._continuous else self._duty
            paused, phase_at, last = self._paused, self._phase_at, self._last_block
        if paused:
            if duty is None or now - phase_at >= duty[1] - duty[0]:
                self._resume(stop)
        # Only a stream that delivers is stopped: stopping waits for the callback
        # thread, which never wakes on a stalled source (see _teardown).
        elif (
            duty is not None
            and now - phase_at >= duty[0]
            and last is not None
            and now - last < self.stall_seconds
        ):
            self._pause(stop)

    def _pause(self, stop: threading.Event) -> None:
        stream, op = self._stream, self._stream_op
        if isinstance(stream, PulseStream):
            self._pump(stream, flush=True)
        if not self._stream_call(stream.stop_stream, "pause", op):
            self._abandon(stream, "the audio stream did not pause", CaptureState.SILENT)
            return
        with self._lock:
            if self._stream is stream:  # (not closed meanwhile by the last user leaving)
                self._paused, self._phase_at = True, time.monotonic()
                self.pauses += 1
        self._pending.clear()  # (libpulse backend) a part buffer is not continued after the pause
        self._lost = False

    def _resume(self, stop: threading.Event) -> None:
        stream, op = self._stream, self._stream_op
        failed: list[Exception] = []

        def start() -> None:
            try:
                with spinning_threads.fresh_thread_stacks():  # (its new callback thread's)
                    stream.start_stream()
            except Exception as exc:  # PortAudio reports everything as OSError/ValueError
                failed.append(exc)

        before = spinning_threads.task_ids()
        if not self._stream_call(start, "resume", op):
            # Seen when the source went away during the pause: starting never returns.
            error = "the audio stream did not start again (device removed?)"
            self._abandon(stream, error, CaptureState.ABSENT)
            return
        if failed:
            self._set_error(f"the audio stream did not start again: {failed[0]}", CaptureState.ABSENT)
            self._close(lost=True, stop=stop)
            return
        with self._lock:
            if self._stream is stream:
                now = time.monotonic()
                self._paused, self._gap = False, True
                self._phase_at = self._resumed_at = now
                if self._spin_watch is not None:  # starting made PortAudio a new callback thread
                    self._spin_watch = spinning_threads.Watch(self._portaudio_threads(before))

    @staticmethod
    def _stream_call(call: Callable[[], object], what: str, op: threading.Lock) -> bool:
        """Run a stop or start of the stream on a helper thread; False when it hung.

        Holds ``op`` (the stream's :attr:`_stream_op`), which closing that
        stream waits for, so it is never closed under a start or stop still running.
        """

        def work() -> None:
            with op, contextlib.suppress(Exception):
                call()

        helper = threading.Thread(target=work, name=f"deskwatch-audio-{what}", daemon=True)
        helper.start()
        helper.join(CLOSE_TIMEOUT_S)
        return not helper.is_alive()

    def _abandon(self, stream: Any, error: str, state: CaptureState) -> None:
        """Leave a stream stuck in PortAudio to its helper thread (as :meth:`_teardown` does)."""
        self.stuck_closes += 1
        log.warning("%s within %.0f s; left behind", error, CLOSE_TIMEOUT_S)
        pa, watch = self._pa, self._spin_watch
        if self._give_up(stream, error, state) and self._park_spinning(stream, pa, watch):
            self._set_error(self._spun_error(), CaptureState.STUCK)  # stuck because its thread spins

    def _give_up(self, stream: Any, error: str, state: CaptureState) -> bool:
        """Forget the open ``stream`` without closing it; False if it was closed meanwhile."""
        with self._changed:
            if self._stream is not stream:
                return False  # closed meanwhile by the last user leaving
            was_connected = self._connected
            self._stream = self._pa = self._spin_watch = None
            self._paused = self._connected = False
            if was_connected:
                self._losses += 1
            self._changed.notify_all()
        self._set_error(error, state)
        return True

    def _stream_spun(self, stream: Any) -> bool:
        """Whether the open PortAudio stream's thread spins; if so it is parked and the stream given up.

        Seen when the stream's source or sound server goes away before its
        first buffer: PortAudio 19.6's ALSA thread loops for ever printing
        to stderr (see :mod:`sensors.spinning_threads`); a close would hang
        on it.  Nothing is observed until a new stream opens: ``STUCK``.
        """
        if not self._park_spinning(stream, self._pa, self._spin_watch):
            return False
        self._give_up(stream, self._spun_error(), CaptureState.STUCK)
        return True

    def _spun_error(self) -> str:
        error = "the audio library's stream thread spun after the input failed and was stopped"
        if self.spins >= MAX_SPINS:
            error += f" ({self.spins} times: PortAudio is not used again until Deskwatch restarts)"
        return error

    def _park_spinning(self, stream: Any, pa: Any, watch: spinning_threads.Watch | None) -> bool:
        """Park the threads of ``watch`` that spin, keeping their stream for good; True if any spun.

        Any thread: the supervisor's round and a closing user may look at the
        same stream at once; only one of them parks (:meth:`Watch.claim_spinning`).
        """
        spinning = watch.claim_spinning() if watch is not None else []
        if not spinning:
            return False
        self.spins += 1
        _SPUN.append((stream, pa))  # never closed, never terminated, never collected
        parked = [tid for tid in spinning if spinning_threads.park(tid)]
        log.error(
            "PortAudio's stream thread %s spun (PortAudio's ALSA error loop); %s",
            ", ".join(map(str, spinning)),
            "parked" if len(parked) == len(spinning) else "could not be parked (runs at idle priority)",
        )
        return True

    def _stream_lost(self, now: float) -> bool:
        stream = self._stream
        with self._lock:
            paused = self._paused
        choice = self._choice
        if isinstance(stream, PulseStream):
            # Killed by the server (PA_STREAM_DONT_MOVE: the source went), or the
            # server itself went: seen at once, paused or not, without pactl.
            gone = self._pulse_gone(stream, choice)
            if gone:
                self._set_error(gone, CaptureState.ABSENT)
                return True
        elif not paused:  # a paused stream is stopped on purpose and delivers nothing
            try:
                active = bool(stream.is_active())
            except OSError:
                active = False
            if not active:
                self._set_error("the audio stream stopped (device removed?)", CaptureState.ABSENT)
                return True
        if not paused:
            with self._lock:
                silent = self._stream_silence(now)
                if silent is not None and self._silent_since is None:
                    self._silent_since = now - silent
            if silent is not None:
                self._set_error(f"no audio for {silent:.0f} s", CaptureState.SILENT)
                return True
        if isinstance(stream, PulseStream):
            return False
        if choice is not None and choice.pulse_source and now - self._last_presence >= self.presence_seconds:
            self._last_presence = now
            sources = pulse.list_sources()
            if sources is not None and not any(s.name == choice.pulse_source for s in sources):
                self._set_error(f"PulseAudio source {choice.pulse_source} is gone", CaptureState.ABSENT)
                return True
        return False

    def _set_error(self, error: str, state: CaptureState) -> None:
        with self._changed:
            changed, self._error, self._state = error != self._error, error, state
            if state in (CaptureState.ABSENT, CaptureState.NO_INPUT):
                self._silent_since = None  # gone, not silent
            self._changed.notify_all()
        if changed and state not in (CaptureState.STARTING, CaptureState.STOPPED):
            log.info("audio input: %s", error)

    @staticmethod
    def _pulse_gone(stream: PulseStream, choice: InputChoice | None) -> str:
        """Why the libpulse stream no longer records what it should ("" while it does)."""
        if stream.is_active():
            wanted = choice.pulse_source if choice is not None else ""
            if wanted and stream.moved and stream.device_name != wanted:
                return f"PulseAudio moved the stream from {wanted} to {stream.device_name}"
            return ""
        if not stream.connection_alive:
            return "the sound server went away"
        what = choice.pulse_source if choice is not None and choice.pulse_source else "the input"
        return f"PulseAudio source {what} is gone ({stream.error or 'stream ended'})"

    def _open(self, stop: threading.Event) -> bool:
        if self._state is CaptureState.STARTING:
            self._set_error("opening", CaptureState.STARTING)
        if self.loopback:  # WASAPI loopback: PortAudio's (on Linux a sink's monitor is a source)
            return self._open_portaudio(stop)
        if self.backend == "pulse" or (self.backend == "auto" and sys.platform.startswith("linux")):
            opened = self._open_pulse(stop)
            if opened is not None:
                return opened
            if self.backend == "pulse" or self._pulse_seen:
                # The server is restarting (or must be used): PortAudio would not find it either.
                self._set_error("no sound server answers", CaptureState.FAILED)
                return False
        return self._open_portaudio(stop)

    def _open_pulse(self, stop: threading.Event) -> bool | None:
        """Open the headset through libpulse; ``None`` when no sound server answers."""
        connection = self._pulse
        if connection is not None and not connection.alive:
            self._pulse = None
            connection.close()
            connection = None
        if connection is None:
            connection = PulseConnection.open(self._poke.set)
            if connection is None:
                return None
            self._pulse, self._pulse_seen = connection, True
        sources = connection.sources()
        if sources is None:
            self._set_error("the sound server does not answer", CaptureState.FAILED)
            return False
        choice = self._choose_source(connection, sources)
        if choice is None:
            wanted = self.device or "default input"
            state = CaptureState.ABSENT if self.device or sources else CaptureState.NO_INPUT
            self._set_error(f"no audio input matching '{wanted}'", state)
            return False
        max_ms = max(PULSE_QUEUE_S * 1000, 4 * self.block_ms)
        try:
            stream = connection.record(
                choice.pulse_source or None,
                self.requested_rate,
                fragment_ms=self.block_ms,
                max_ms=max_ms,
                # Named: killed when it goes, never moved to another microphone.
                # The default input follows the server's default.
                dont_move=bool(choice.pulse_source),
            )
        except PulseError as exc:
            log.info("cannot open audio input: %s", exc)
            # Gone between the look-up and the connect, most likely (retried).
            self._set_error(f"cannot open audio input: {exc}", CaptureState.FAILED)
            return False
        self._pending.clear()
        self._lost = False
        return self._install(stop, stream, None, choice, self.requested_rate, "pulse")

    def _choose_source(self, connection: PulseConnection, sources: list[Source]) -> InputChoice | None:
        """The source for :attr:`device` (a name fragment; empty: the server's default)."""
        objects = [
            pulse.PulseObject("Source", s.index, {"Name": s.name, "Description": s.description})
            for s in sources
        ]
        if self.device:
            found = pulse.match_source(objects, self.device)
            if found is not None:
                return InputChoice(None, found.description or found.name, found.name)
            if not self.fallback_to_default:
                return None
        if not sources:
            return None
        default = connection.default_source() or ""
        named = next((s for s in sources if s.name == default), None)
        name = named.description if named is not None and named.description else default or "default input"
        return InputChoice(None, name, fallback=bool(self.device))

    def _install(
        self, stop: threading.Event, stream: Any, pa: Any, choice: InputChoice, rate: int, backend: str
    ) -> bool:
        """Make ``stream`` the open one, unless the capture was stopped meanwhile."""
        with self._changed:
            if stop.is_set():  # released while opening: nobody wants this stream any more
                installed = False
            else:
                installed = True
                self._pa, self._stream, self._choice, self.rate = pa, stream, choice, rate
                self._connected, self._error, self._state = True, "", CaptureState.OPEN
                self._opened_at = self._last_presence = time.monotonic()
                self._last_block = None
                self._paused, self._phase_at, self._resumed_at = False, self._opened_at, 0.0
                self._stream_op = threading.Lock()
                self.backend_in_use = backend
                self._spin_watch = None
                if backend == "portaudio" and self._opened_tids:
                    self._spin_watch = spinning_threads.Watch(self._opened_tids)
                self._opened_tids = set()
                self._changed.notify_all()
        if not installed:
            self._teardown(stream, pa)
            return False
        log.info("audio input open: %s at %d Hz (%s)", choice.name, rate, backend)
        return True

    def _pyaudio(self) -> Any:
        """The PyAudio module: PyAudioWPatch for loopback, else PyAudio (both imported only here)."""
        return importlib.import_module(LOOPBACK_MODULE if self.loopback else "pyaudio")

    def _open_portaudio(self, stop: threading.Event) -> bool:
        if self.spins >= MAX_SPINS:
            return False  # (STUCK, said when the last one spun)
        try:
            pyaudio = self._pyaudio()
        except ImportError as exc:  # PyAudioWPatch is a Windows-only dependency
            self._set_error(f"cannot record: {exc}", CaptureState.FAILED)
            return False

        signature = devices_signature()
        with self._lock:
            pa, self._spare_pa = self._spare_pa, None
        if pa is not None and (signature is None or signature != self._spare_signature):
            self._teardown(None, pa)  # the devices changed: enumerate them again
            pa = None
        if pa is None:
            try:
                with _portaudio():
                    pa = pyaudio.PyAudio()
            except PortAudioBusy as exc:
                self._set_error(str(exc), CaptureState.FAILED)
                return False
            self.portaudio_inits += 1
            self._spare_signature = signature
        try:
            choice, any_input = self._resolve(pa)
            if choice is None:
                wanted = self.device or "default input"
                state = CaptureState.ABSENT if self.device or any_input else CaptureState.NO_INPUT
                self._set_error(f"no audio input matching '{wanted}'", state)
                self._keep_spare(pa, stop)
                return False
            stream, rate = self._open_stream(pa, choice)
        except Exception as exc:  # PortAudio reports everything as OSError/ValueError
            log.info("cannot open audio input: %s", exc)
            self._set_error(f"cannot open audio input: {exc}", CaptureState.FAILED)
            self._keep_spare(pa, stop)
            return False
        return self._install(stop, stream, pa, choice, rate, "portaudio")

    def _keep_spare(self, pa: Any, stop: threading.Event) -> None:
        """Keep ``pa`` for the next attempt, unless the capture was stopped meanwhile."""
        with self._lock:
            if not stop.is_set() and self._spare_pa is None:
                self._spare_pa, pa = pa, None
        self._teardown(None, pa)

    def _resolve(self, pa: Any) -> tuple[InputChoice | None, bool]:
        """The input to open, and whether the system has any audio input at all."""
        devices = []
        default_index: int | None = None
        with _portaudio(quiet=False):
            for index in range(pa.get_device_count()):
                info = dict(pa.get_device_info_by_index(index))
                info["index"] = index
                devices.append(info)
            with contextlib.suppress(OSError):
                default_index = int(pa.get_default_input_device_info()["index"])
        any_input = any(int(d.get("maxInputChannels", 0)) > 0 for d in devices)
        if self.loopback:
            default_name = ""
            with _portaudio(quiet=False), contextlib.suppress(OSError, LookupError):
                default_name = str(pa.get_default_wasapi_loopback()["name"])
            return choose_loopback(devices, default_name, self.device), any_input
        sources = pulse.list_sources() if sys.platform.startswith("linux") and self.device else None
        choice = choose_input(devices, default_index, self.device, sources)
        if choice is None and self.device and self.fallback_to_default:
            default = choose_input(devices, default_index, "")
            if default is not None:
                return InputChoice(default.index, default.name, fallback=True), any_input
        return choice, any_input

    def _open_stream(self, pa: Any, choice: InputChoice) -> tuple[Any, int]:
        pyaudio = self._pyaudio()

        error: Exception | None = None
        # A loopback stream is opened in the endpoint's mix format (WASAPI shared mode).
        rates = (choice.rate,) if choice.rate else (self.requested_rate, *FALLBACK_RATES)
        for rate in dict.fromkeys(rates):
            frames = max(64, int(rate * self.block_ms / 1000))
            try:
                with _portaudio(), _pulse_source(choice.pulse_source):
                    before = spinning_threads.task_ids()
                    with spinning_threads.fresh_thread_stacks():  # (its callback thread's)
                        stream = pa.open(
                            format=pyaudio.paInt16,
                            channels=choice.channels,
                            rate=rate,
                            input=True,
                            input_device_index=choice.index,
                            frames_per_buffer=frames,
                            stream_callback=self._make_callback(rate, choice.channels),
                        )
                    self._opened_tids = self._portaudio_threads(before)
                return stream, rate
            except (OSError, ValueError) as exc:
                error = exc
        raise error if error is not None else OSError("no sample rate accepted")

    @staticmethod
    def _portaudio_threads(before: set[int]) -> set[int]:
        """Threads PortAudio started since ``before`` (its callback thread takes its starter's name)."""
        return {
            tid
            for tid in spinning_threads.foreign_task_ids() - before
            if spinning_threads.thread_name(tid) == THREAD_COMM
        }

    def _make_callback(
        self, rate: int, channels: int = 1
    ) -> Callable[[bytes | None, int, Any, int], tuple[None, int]]:
        continue_ = self._pyaudio().paContinue

        def callback(data: bytes | None, _frames: int, _time: Any, status: int) -> tuple[None, int]:
            if data:
                with self._lock:
                    self._last_block = time.monotonic()
                    self._silent_since = None
                block = louder_channel(np.frombuffer(data, dtype=np.int16), channels)
                self._deliver(block, int(status), rate)
            return None, continue_

        return callback

    def _deliver(self, block: Samples, flags: int, rate: int) -> None:
        """Hand one buffer to every consumer (the audio thread: PortAudio's, or the supervisor)."""
        with self._lock:
            consumers = list(self._consumers)
            gap, self._gap = self._gap, False
        flags |= CONTINUITY_BREAK if gap else 0
        for consumer in consumers:
            try:
                consumer(block, flags, rate)
            except Exception:  # one broken listener must not stop the stream
                log.exception("audio consumer failed")

    def _close(self, lost: bool, stop: threading.Event | None = None) -> None:
        """Close the stream; a lost one's PortAudio is kept for reopening (``stop``: the supervisor's)."""
        with self._changed:
            stream, pa, op, watch = self._stream, self._pa, self._stream_op, self._spin_watch
            self._spin_watch = None
            # A stream still delivering is stopped gently (its callback thread
            # ends by itself); only a dead or silent one is aborted.
            now = time.monotonic()
            flowing = self._last_block is not None and now - self._last_block < self.stall_seconds
            graceful = not lost and flowing
            self._stream = self._pa = None
            self._paused = False
            was_connected, self._connected = self._connected, False
            if lost and was_connected:
                self._losses += 1
            if not lost:
                self._error, self._state = "stopped", CaptureState.STOPPED
                self._silent_since = self._acquired_at = None
            self._changed.notify_all()
        if lost and stop is not None and pa is not None:
            # Reopened on the same PortAudio; a stream stuck closing keeps its
            # PortAudio for ever (see _teardown), so that one is not reused.
            if self._teardown(stream, None, op=op):
                self._keep_spare(pa, stop)
            elif self._park_spinning(stream, pa, watch):  # (left behind because its thread spins?)
                self._set_error(self._spun_error(), CaptureState.STUCK)
            return
        if not self._teardown(stream, pa, graceful, op):
            self._park_spinning(stream, pa, watch)

    def _teardown(
        self, stream: Any, pa: Any, graceful: bool = False, op: threading.Lock | None = None
    ) -> bool:
        """Close ``stream`` and terminate ``pa`` on a helper thread, waiting at most :data:`CLOSE_TIMEOUT_S`.

        ``stop_stream()`` only when ``graceful`` (the stream was delivering):
        PortAudio's ALSA stop waits for the callback thread, which never wakes
        when the source delivers nothing (seen with a suspended source and
        with module-echo-cancel), so it blocks for ever.  A lost stream is
        only closed, which aborts it and usually returns at once -- but not
        when the PulseAudio connection behind ALSA's pulse plugin died (the
        server was restarted): then it blocks for ever.  So the close runs outside
        :data:`_PORTAUDIO_LOCK`, and a stuck one is left on its daemon thread.
        Its ``PyAudio`` is then never terminated, which is what keeps
        PortAudio usable: ``Pa_Terminate`` of the last instance would abort
        (and hang on) that stream again.  Later streams open on the same
        initialised PortAudio, through a new connection to the sound server.
        Returns False when the close was left behind.
        """
        if stream is None and pa is None:
            return True

        def work() -> None:
            if stream is not None:
                # Not under a pause or resume of this stream still running (one that
                # hung keeps this closer waiting: left behind like any stuck close).
                with op if op is not None else contextlib.nullcontext():
                    close(stream)
            if pa is not None:
                log.debug("terminating PortAudio")
                try:
                    with _portaudio(quiet=False), contextlib.suppress(Exception):
                        pa.terminate()
                except PortAudioBusy as exc:
                    log.warning("PortAudio not terminated: %s", exc)
            log.debug("audio stream closed")

        def close(stream: Any) -> None:
            if graceful:
                log.debug("stopping the audio stream")
                with contextlib.suppress(Exception):
                    stream.stop_stream()
            log.debug("closing the audio stream")
            with contextlib.suppress(Exception):
                stream.close()

        closer = threading.Thread(target=work, name="deskwatch-audio-close", daemon=True)
        closer.start()
        closer.join(CLOSE_TIMEOUT_S)
        if closer.is_alive():
            self.stuck_closes += 1
            log.warning("PortAudio did not close the stream within %.0f s; left behind", CLOSE_TIMEOUT_S)
            return False
        return True


def shared_capture(services: dict[str, Any], **options: Any) -> AudioCapture:
    """The process's :class:`AudioCapture` from ``services``, created with ``options`` if absent."""
    capture = services.get(SERVICE_KEY)
    if not isinstance(capture, AudioCapture):
        capture = services[SERVICE_KEY] = AudioCapture(**options)
    return capture


def play(samples: Samples, rate: int, timeout: float = 30.0) -> None:
    """Play mono int16 ``samples`` on the default output (blocking).

    Through libpulse when a sound server answers (so the recorder self-test
    does not load PyAudio on a PulseAudio seat either), else PyAudio.
    """
    if os.environ.get(BACKEND_ENV, "") != "portaudio" and sys.platform.startswith("linux"):
        connection = PulseConnection.open(lambda: None)
        if connection is not None:
            try:
                connection.play(samples.astype("<i2").tobytes(), rate, timeout)
            finally:
                connection.close()
            return
    import pyaudio

    with _portaudio():
        pa = pyaudio.PyAudio()
    try:
        with _portaudio():
            stream = pa.open(format=pyaudio.paInt16, channels=1, rate=rate, output=True)
        try:
            deadline = time.monotonic() + timeout
            step = rate // 10
            data = samples.astype(np.int16).tobytes()
            for start in range(0, samples.size, step):
                if time.monotonic() > deadline:
                    raise TimeoutError("playback did not finish in time")
                stream.write(data[start * 2 : (start + step) * 2])
            with _portaudio(quiet=False):
                stream.stop_stream()
        finally:
            with _portaudio(quiet=False):
                stream.close()
    finally:
        with _portaudio(quiet=False):
            pa.terminate()
