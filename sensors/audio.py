"""Headset microphone capture through PyAudio (PortAudio), shared by everyone who listens.

One :class:`AudioCapture` per process (kept in ``MonitorContext.services``
under :data:`SERVICE_KEY`) owns one input stream; the headset monitor's
analysis, call-state detection and the recorder self-test subscribe to it
instead of opening the device three times.

Why it is built this way (measured, see DESIGN.md §5 and the benchmark):

* Callback mode with 100 ms buffers: PortAudio's ALSA thread wakes ten times
  a second and hands over a block together with its status flags
  (``paInputOverflow`` / ``paInputUnderflow``, the dropout signal), which the
  blocking ``read()`` API hides.
* The stream stays open: opening costs 1–2 s of CPU in PortAudio's first
  ALSA→pulse read, so duty-cycling the stream would cost more than it saves.
* PortAudio enumerates devices only when it is initialised, so a headset
  that is plugged back in is found by a *new* ``PyAudio()`` on each retry.
* On Linux the headset is usually a PulseAudio/PipeWire source reached
  through ALSA's ``pulse`` device; it is chosen with ``PULSE_SOURCE``, and
  while open its presence is checked with ``pactl`` because PulseAudio may
  quietly move the stream to another microphone when the headset goes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sensors import pulse

log = logging.getLogger(__name__)

SERVICE_KEY = "audio_capture"

Samples = npt.NDArray[np.int16]
#: ``consumer(samples, status_flags, rate)``, called on PortAudio's thread: keep it short.
BlockConsumer = Callable[[Samples, int, int], None]

#: Rates tried after the configured one, for devices PortAudio cannot resample for.
FALLBACK_RATES = (48000, 44100)


@dataclass(frozen=True)
class InputChoice:
    """Which PortAudio device to open, and which PulseAudio source behind it."""

    index: int | None
    name: str
    pulse_source: str = ""
    #: True when the named device was missing and the default input is used instead.
    fallback: bool = False


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


#: PortAudio's initialise/terminate and stream set-up are not thread-safe
#: (concurrent Pa_Initialize/Pa_Terminate crash), so every such call takes this lock.
_PORTAUDIO_LOCK = threading.RLock()


@contextlib.contextmanager
def _portaudio(quiet: bool = True) -> Iterator[None]:
    """Serialise a PortAudio set-up call, silencing ALSA/JACK's probing chatter on fd 2."""
    with _PORTAUDIO_LOCK:
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


class AudioCapture:
    """One shared input stream that reopens itself when the device comes back."""

    def __init__(
        self,
        device: str = "",
        rate: int = 16000,
        block_ms: float = 100.0,
        retry_seconds: float = 3.0,
        presence_seconds: float = 15.0,
        stall_seconds: float = 3.0,
        fallback_to_default: bool = False,
    ) -> None:
        self.device = device
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
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pa: Any = None
        self._stream: Any = None
        self._choice: InputChoice | None = None
        self._connected = False
        self._error = "not started"
        self._losses = 0
        self._opened_at = 0.0
        self._last_block: float | None = None
        self._last_presence = 0.0
        self._changed = threading.Condition(self._lock)

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

    def acquire(self) -> None:
        """Declare a user; the first one starts the stream and its supervisor."""
        with self._lock:
            self._users += 1
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._supervise, name="deskwatch-audio", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Drop a user; the last one closes the stream."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users or self._thread is None:
                return
            thread, self._thread = self._thread, None
        self._stop.set()
        thread.join(5.0)
        self._close(lost=False)

    # -- state --------------------------------------------------------------------
    def status(self) -> CaptureStatus:
        """Connection state for the headset monitor."""
        with self._lock:
            name = self._choice.name if self._choice else self.device
            age = None if self._last_block is None else time.monotonic() - self._last_block
            fallback = bool(self._choice and self._choice.fallback and self._connected)
            return CaptureStatus(self._connected, name, self.rate, self._error, self._losses, age, fallback)

    @property
    def pulse_source(self) -> str:
        """The PulseAudio source being recorded ("" when not chosen through PulseAudio)."""
        choice = self._choice
        return choice.pulse_source if choice is not None else ""

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the stream is open (or the first attempt failed); True when open."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._connected and self._error in ("not started", "opening"):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return self._connected

    def record(self, seconds: float, timeout: float) -> tuple[Samples, int]:
        """Collect ``seconds`` of audio from the shared stream; returns samples and rate.

        Raises ``TimeoutError`` when not enough audio arrives within ``timeout``
        (device missing or stalled).
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
        try:
            if not got.wait(timeout):
                have = sum(c.size for c in chunks) / max(rate_seen[0], 1)
                raise TimeoutError(f"only {have:.1f} s of audio arrived in {timeout:g} s")
        finally:
            self.unsubscribe(collect)
            self.release()
        audio = np.concatenate(chunks)[: int(seconds * rate_seen[0])]
        return audio, rate_seen[0]

    # -- the supervisor thread -------------------------------------------------
    def _supervise(self) -> None:
        next_attempt = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if self._stream is None:
                if now >= next_attempt and not self._open():
                    next_attempt = time.monotonic() + self.retry_seconds
            elif self._stream_lost(now):
                log.warning("audio input lost: %s", self._error)
                self._close(lost=True)
                next_attempt = time.monotonic() + min(self.retry_seconds, 1.0)
            self._stop.wait(0.5)

    def _stream_lost(self, now: float) -> bool:
        stream = self._stream
        try:
            active = bool(stream.is_active())
        except OSError:
            active = False
        if not active:
            self._set_error("the audio stream stopped (device removed?)")
            return True
        last = self._last_block if self._last_block is not None else self._opened_at
        if now - self._opened_at > 2 * self.stall_seconds and now - last > self.stall_seconds:
            self._set_error(f"no audio for {now - last:.0f} s")
            return True
        choice = self._choice
        if choice is not None and choice.pulse_source and now - self._last_presence >= self.presence_seconds:
            self._last_presence = now
            sources = pulse.list_sources()
            if sources is not None and not any(s.name == choice.pulse_source for s in sources):
                self._set_error(f"PulseAudio source {choice.pulse_source} is gone")
                return True
        return False

    def _set_error(self, error: str) -> None:
        with self._changed:
            changed, self._error = error != self._error, error
            self._changed.notify_all()
        if changed and error not in ("opening", "stopped"):
            log.info("audio input: %s", error)

    def _open(self) -> bool:
        import pyaudio

        if self._error == "not started":
            self._set_error("opening")
        with _portaudio():
            pa = pyaudio.PyAudio()
        try:
            choice = self._resolve(pa)
            if choice is None:
                wanted = self.device or "default input"
                self._set_error(f"no audio input matching '{wanted}'")
                with _portaudio(quiet=False):
                    pa.terminate()
                return False
            if choice.pulse_source:
                # Read by libpulse (through ALSA's pulse plugin) when the stream connects.
                os.environ["PULSE_SOURCE"] = choice.pulse_source
            elif self._choice is not None and os.environ.get("PULSE_SOURCE") == self._choice.pulse_source:
                del os.environ["PULSE_SOURCE"]
            stream, rate = self._open_stream(pa, choice)
        except Exception as exc:  # PortAudio reports everything as OSError/ValueError
            log.info("cannot open audio input: %s", exc)
            self._set_error(f"cannot open audio input: {exc}")
            with _portaudio(quiet=False):
                pa.terminate()
            return False
        with self._changed:
            self._pa, self._stream, self._choice, self.rate = pa, stream, choice, rate
            self._connected, self._error = True, ""
            self._opened_at = self._last_presence = time.monotonic()
            self._last_block = None
            self._changed.notify_all()
        log.info("audio input open: %s at %d Hz", choice.name, rate)
        return True

    def _resolve(self, pa: Any) -> InputChoice | None:
        devices = []
        default_index: int | None = None
        with _portaudio(quiet=False):
            for index in range(pa.get_device_count()):
                info = dict(pa.get_device_info_by_index(index))
                info["index"] = index
                devices.append(info)
            with contextlib.suppress(OSError):
                default_index = int(pa.get_default_input_device_info()["index"])
        sources = pulse.list_sources() if sys.platform.startswith("linux") and self.device else None
        choice = choose_input(devices, default_index, self.device, sources)
        if choice is None and self.device and self.fallback_to_default:
            default = choose_input(devices, default_index, "")
            if default is not None:
                return InputChoice(default.index, default.name, fallback=True)
        return choice

    def _open_stream(self, pa: Any, choice: InputChoice) -> tuple[Any, int]:
        import pyaudio

        error: Exception | None = None
        for rate in dict.fromkeys((self.requested_rate, *FALLBACK_RATES)):
            frames = max(64, int(rate * self.block_ms / 1000))
            try:
                with _portaudio():
                    stream = pa.open(
                        format=pyaudio.paInt16,
                        channels=1,
                        rate=rate,
                        input=True,
                        input_device_index=choice.index,
                        frames_per_buffer=frames,
                        stream_callback=self._make_callback(rate),
                    )
                return stream, rate
            except (OSError, ValueError) as exc:
                error = exc
        raise error if error is not None else OSError("no sample rate accepted")

    def _make_callback(self, rate: int) -> Callable[[bytes | None, int, Any, int], tuple[None, int]]:
        import pyaudio

        def callback(data: bytes | None, _frames: int, _time: Any, status: int) -> tuple[None, int]:
            if data:
                block = np.frombuffer(data, dtype=np.int16)
                with self._lock:
                    self._last_block = time.monotonic()
                    consumers = list(self._consumers)
                for consumer in consumers:
                    try:
                        consumer(block, int(status), rate)
                    except Exception:  # one broken listener must not stop the stream
                        log.exception("audio consumer failed")
            return None, pyaudio.paContinue

        return callback

    def _close(self, lost: bool) -> None:
        with self._changed:
            stream, pa = self._stream, self._pa
            self._stream = self._pa = None
            was_connected, self._connected = self._connected, False
            if lost and was_connected:
                self._losses += 1
            if not lost:
                self._error = "stopped"
            self._changed.notify_all()
        with _portaudio(quiet=False):
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.stop_stream()
                with contextlib.suppress(Exception):
                    stream.close()
            if pa is not None:
                with contextlib.suppress(Exception):
                    pa.terminate()


def shared_capture(services: dict[str, Any], **options: Any) -> AudioCapture:
    """The process's :class:`AudioCapture` from ``services``, created with ``options`` if absent."""
    capture = services.get(SERVICE_KEY)
    if not isinstance(capture, AudioCapture):
        capture = services[SERVICE_KEY] = AudioCapture(**options)
    return capture


def play(samples: Samples, rate: int, timeout: float = 30.0) -> None:
    """Play mono int16 ``samples`` on the default output (blocking)."""
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
