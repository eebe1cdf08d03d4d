"""Recording from a PulseAudio / PipeWire-pulse source through libpulse itself (ctypes).

On a Linux seat the headset is a sound-server source.  Reaching it through
PyAudio meant PortAudio → alsa-lib's ``pulse`` plugin → libpulse: PortAudio's
device enumeration makes alsa-lib load every PCM plugin (~16 MiB mapped for
good: FFmpeg, JACK, librsvg…) and its callback thread wakes on top of
libpulse's own.  This module talks to the server with libpulse's
asynchronous API directly:

* one :class:`PulseConnection` (a ``pa_mainloop`` and a context) per
  capture, kept across streams: looking the headset up again while it is
  unplugged costs a query on the open connection, not a new process or a
  PortAudio initialisation;
* no mainloop thread: the capture's own thread runs the mainloop, every
  buffer's length (:meth:`PulseConnection.drain`).  The server sends a
  record stream's audio in the source's own packets, whatever ``fragsize``
  asks (protocol-native pushes each chunk as the source posts it; measured
  on the test seat's null-sink monitor: ~100 packets/s for fragsize
  20–2000 ms), and a ``pa_threaded_mainloop`` wakes for every one of them
  (0.32 CPU-s/min here, as much as the whole PortAudio capture).  Run every
  second, one wake takes all the packets the socket holds (and the server
  coalesces into ``fragsize`` chunks once it holds many);
* a :class:`PulseStream` connected to the source *by name* with
  ``PA_STREAM_DONT_MOVE``: when the headset goes the server kills the stream
  (the state callback fires at once) instead of quietly moving it to another
  microphone; ``PA_STREAM_ADJUST_LATENCY`` with a large ``fragsize`` lets a
  real (ALSA, timer-scheduled) source wake us once per fragment;
* no read callback: the data goes to libpulse's client-side queue (in C,
  while the mainloop runs) and is taken from there with
  ``pa_stream_peek``/``pa_stream_drop``, so Python runs once a second however
  small the server's packets are;
* pausing is ``pa_stream_cork``: a corked stream gets nothing from the
  server, so neither thread wakes for audio.

What libpulse does *not* give a record stream is an overflow callback
(``pa_stream_set_overflow_callback`` is for playback streams only), and a
client that reads too late loses data silently: libpulse drops a packet that
does not fit ``maxlength``.  :meth:`PulseStream.read` therefore reports
data lost when the queue it found was within one fragment of ``maxlength``
(the only state in which a packet can have been refused), and a hole
(``pa_stream_peek`` giving no data but a length) as lost too.

libpulse is not thread-safe: every call is made holding the connection's
lock (:meth:`PulseConnection.lock`), and the callbacks run inside the
mainloop iteration of whoever holds it; they only set plain attributes and
:class:`threading.Event` objects.  Waits are bounded: the mainloop is run
with a poll timeout until the answer came or the time is up.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# pulse/def.h
_CONTEXT_READY, _CONTEXT_FAILED, _CONTEXT_TERMINATED = 4, 5, 6
_CONTEXT_NOAUTOSPAWN = 0x1
_STREAM_READY, _STREAM_FAILED, _STREAM_TERMINATED = 2, 3, 4
STREAM_DONT_MOVE = 0x200
STREAM_ADJUST_LATENCY = 0x2000
# pulse/sample.h
_SAMPLE_S16LE = 3
_BYTES_PER_FRAME = 2  # mono int16

#: Longest wait for the server to answer (connect, a query, a stream becoming ready).
ANSWER_TIMEOUT_S = 3.0
#: Most mainloop events one :meth:`PulseConnection.drain` dispatches (a bound, never reached:
#: 2 s of 10 ms packets is ~200 packets, each a few events).
MAX_EVENTS_PER_DRAIN = 20000


class _SampleSpec(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("rate", ctypes.c_uint32), ("channels", ctypes.c_uint8)]


class _BufferAttr(ctypes.Structure):
    _fields_ = [
        ("maxlength", ctypes.c_uint32),
        ("tlength", ctypes.c_uint32),
        ("prebuf", ctypes.c_uint32),
        ("minreq", ctypes.c_uint32),
        ("fragsize", ctypes.c_uint32),
    ]


class _SourceInfoHead(ctypes.Structure):
    """The first fields of ``pa_source_info`` (the same since PulseAudio 0.9; only these are read)."""

    _fields_ = [("name", ctypes.c_char_p), ("index", ctypes.c_uint32), ("description", ctypes.c_char_p)]


class _ServerInfoHead(ctypes.Structure):
    """The first fields of ``pa_server_info`` up to the default source's name."""

    _fields_ = [
        ("user_name", ctypes.c_char_p),
        ("host_name", ctypes.c_char_p),
        ("server_version", ctypes.c_char_p),
        ("server_name", ctypes.c_char_p),
        ("sample_spec", _SampleSpec),
        ("default_sink_name", ctypes.c_char_p),
        ("default_source_name", ctypes.c_char_p),
    ]


_CONTEXT_NOTIFY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_STREAM_NOTIFY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_SOURCE_INFO = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.POINTER(_SourceInfoHead), ctypes.c_int, ctypes.c_void_p
)
_SUCCESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_SERVER_INFO = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(_ServerInfoHead), ctypes.c_void_p)

_LIB: Any = None
_LIB_LOCK = threading.Lock()


def _signatures(lib: Any) -> None:
    p, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    table: dict[str, tuple[Any, list[Any]]] = {
        "pa_mainloop_new": (p, []),
        "pa_mainloop_free": (None, [p]),
        "pa_mainloop_get_api": (p, [p]),
        "pa_mainloop_prepare": (i, [p, i]),
        "pa_mainloop_poll": (i, [p]),
        "pa_mainloop_dispatch": (i, [p]),
        "pa_mainloop_iterate": (i, [p, i, p]),
        "pa_context_new": (p, [p, ctypes.c_char_p]),
        "pa_context_unref": (None, [p]),
        "pa_context_connect": (i, [p, ctypes.c_char_p, i, p]),
        "pa_context_disconnect": (None, [p]),
        "pa_context_get_state": (i, [p]),
        "pa_context_errno": (i, [p]),
        "pa_context_set_state_callback": (None, [p, _CONTEXT_NOTIFY, p]),
        "pa_context_get_source_info_list": (p, [p, _SOURCE_INFO, p]),
        "pa_context_get_server_info": (p, [p, _SERVER_INFO, p]),
        "pa_operation_unref": (None, [p]),
        "pa_operation_cancel": (None, [p]),
        "pa_strerror": (ctypes.c_char_p, [i]),
        "pa_stream_new": (p, [p, ctypes.c_char_p, ctypes.POINTER(_SampleSpec), p]),
        "pa_stream_unref": (None, [p]),
        "pa_stream_connect_record": (i, [p, ctypes.c_char_p, ctypes.POINTER(_BufferAttr), i]),
        "pa_stream_disconnect": (i, [p]),
        "pa_stream_get_state": (i, [p]),
        "pa_stream_set_state_callback": (None, [p, _STREAM_NOTIFY, p]),
        "pa_stream_set_moved_callback": (None, [p, _STREAM_NOTIFY, p]),
        "pa_stream_get_device_name": (ctypes.c_char_p, [p]),
        "pa_stream_get_buffer_attr": (ctypes.POINTER(_BufferAttr), [p]),
        "pa_stream_readable_size": (sz, [p]),
        "pa_stream_peek": (i, [p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(sz)]),
        "pa_stream_drop": (i, [p]),
        "pa_stream_cork": (p, [p, i, p, p]),
        "pa_stream_connect_playback": (i, [p, ctypes.c_char_p, p, i, p, p]),
        "pa_stream_writable_size": (sz, [p]),
        "pa_stream_write": (i, [p, ctypes.c_char_p, sz, p, ctypes.c_int64, i]),
        "pa_stream_drain": (p, [p, _SUCCESS, p]),
        "pa_stream_is_corked": (i, [p]),
    }
    for name, (restype, argtypes) in table.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes


def libpulse() -> Any:
    """libpulse.so.0 with the signatures used here, or ``None`` when it is not installed."""
    global _LIB
    with _LIB_LOCK:
        if _LIB is None:
            name = ctypes.util.find_library("pulse") or "libpulse.so.0"
            try:
                lib = ctypes.CDLL(name)
                _signatures(lib)
            except (OSError, AttributeError) as exc:
                log.debug("libpulse not usable: %s", exc)
                _LIB = False
            else:
                _LIB = lib
        return _LIB or None


class PulseError(OSError):
    """The sound server refused or dropped something (the message is libpulse's)."""


@dataclass(frozen=True)
class Source:
    """A capture source as the server names and describes it."""

    name: str
    index: int
    description: str


class PulseConnection:
    """A connection to the sound server with its own mainloop thread.

    :meth:`open` returns ``None`` when no server answers (none running, or no
    libpulse): the caller then uses another way to the microphone.
    ``on_change`` is called (on the mainloop thread; keep it to setting an
    event) when the connection or one of its streams changes state.
    """

    def __init__(self, lib: Any, on_change: Callable[[], None]) -> None:
        self._lib = lib
        self._on_change = on_change
        self._mutex = threading.RLock()
        #: Mainloop events dispatched so far (diagnostics and tests: server traffic).
        self.dispatched = 0
        self._loop: int | None = None
        self._context: int | None = None
        self._state = 0
        # Kept referenced for as long as libpulse may call them.
        self._context_cb = _CONTEXT_NOTIFY(self._context_state)

    @classmethod
    def open(cls, on_change: Callable[[], None], timeout: float = ANSWER_TIMEOUT_S) -> PulseConnection | None:
        """Connect to the server (``PULSE_SERVER``, client.conf, the session's); ``None`` if none answers."""
        lib = libpulse()
        if lib is None:
            return None
        connection = cls(lib, on_change)
        try:
            connection._connect(timeout)
        except PulseError as exc:
            log.debug("no sound server: %s", exc)
            connection.close()
            return None
        return connection

    def _connect(self, timeout: float) -> None:
        lib = self._lib
        loop = lib.pa_mainloop_new()
        if not loop:
            raise PulseError("pa_mainloop_new failed")
        self._loop = loop
        context = lib.pa_context_new(lib.pa_mainloop_get_api(loop), b"Deskwatch")
        if not context:
            raise PulseError("pa_context_new failed")
        self._context = context
        lib.pa_context_set_state_callback(context, self._context_cb, None)
        # No autospawn: a seat without a server must not get one started by us.
        if lib.pa_context_connect(context, None, _CONTEXT_NOAUTOSPAWN, None) < 0:
            raise PulseError(self._error())
        if not self._wait(
            lambda: self._state in (_CONTEXT_READY, _CONTEXT_FAILED, _CONTEXT_TERMINATED), timeout
        ):
            raise PulseError(f"the sound server did not answer within {timeout:g} s")
        if self._state != _CONTEXT_READY:
            raise PulseError(self._error())

    def _context_state(self, context: int, _userdata: int) -> None:
        # Inside an iteration, lock held: only plain attributes and events.
        self._state = self._lib.pa_context_get_state(context)
        if self._state in (_CONTEXT_FAILED, _CONTEXT_TERMINATED):
            self._on_change()

    def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        """Run the mainloop until ``done()``; False after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._loop is None:
                return False
            with self._mutex:
                lib, loop = self._lib, self._loop
                # At most 50 ms in poll: another thread may want the lock.
                if lib.pa_mainloop_prepare(loop, int(min(remaining, 0.05) * 1_000_000)) < 0:
                    return False
                if lib.pa_mainloop_poll(loop) < 0:
                    return False
                dispatched = lib.pa_mainloop_dispatch(loop)
                if dispatched < 0:
                    return False
                self.dispatched += dispatched
        return True

    def drain(self) -> None:
        """Handle everything the server sent since the last call, and send what is queued (no waiting)."""
        with self._mutex:
            if self._loop is None:
                return
            lib, loop = self._lib, self._loop
            for _ in range(MAX_EVENTS_PER_DRAIN):
                dispatched = lib.pa_mainloop_iterate(loop, 0, None)
                if dispatched <= 0:
                    break
                self.dispatched += dispatched

    def _error(self) -> str:
        lib = self._lib
        if self._context is None:
            return "no context"
        text = lib.pa_strerror(lib.pa_context_errno(self._context))
        return text.decode("utf-8", "replace") if text else "unknown error"

    @property
    def alive(self) -> bool:
        """Whether the server is still connected."""
        return self._context is not None and self._state == _CONTEXT_READY

    # -- locking -------------------------------------------------------------------
    def lock(self) -> None:
        """Take the connection's lock (needed around every libpulse call)."""
        self._mutex.acquire()

    def unlock(self) -> None:
        """Give the lock back."""
        self._mutex.release()

    # -- queries -------------------------------------------------------------------
    def sources(self, timeout: float = ANSWER_TIMEOUT_S) -> list[Source] | None:
        """The server's sources, or ``None`` when it does not answer."""
        found: list[Source] = []
        done = threading.Event()

        def each(_context: int, info: Any, eol: int, _userdata: int) -> None:
            if eol or not info:
                done.set()
                return
            head = info.contents
            found.append(Source(_text(head.name), int(head.index), _text(head.description)))

        callback = _SOURCE_INFO(each)
        if not self._query(lambda: self._lib.pa_context_get_source_info_list(self._context, callback, None),
                           done, timeout):  # fmt: skip
            return None
        return found

    def default_source(self, timeout: float = ANSWER_TIMEOUT_S) -> str | None:
        """The server's default source name ("" when it has none), ``None`` when it does not answer."""
        name: list[str] = []
        done = threading.Event()

        def info(_context: int, server: Any, _userdata: int) -> None:
            name.append(_text(server.contents.default_source_name) if server else "")
            done.set()

        callback = _SERVER_INFO(info)
        if not self._query(lambda: self._lib.pa_context_get_server_info(self._context, callback, None),
                           done, timeout):  # fmt: skip
            return None
        return name[0] if name else ""

    def _query(self, start: Callable[[], int], done: threading.Event, timeout: float) -> bool:
        if not self.alive:
            return False
        self.lock()
        try:
            operation = start()
        finally:
            self.unlock()
        if not operation:
            return False
        answered = self._wait(done.is_set, timeout)
        self.lock()
        try:
            if not answered:
                self._lib.pa_operation_cancel(operation)  # the callback is never called after this
            self._lib.pa_operation_unref(operation)
        finally:
            self.unlock()
        return answered

    # -- streams --------------------------------------------------------------------
    def record(
        self,
        source: str | None,
        rate: int,
        fragment_ms: float,
        max_ms: float,
        dont_move: bool,
        timeout: float = ANSWER_TIMEOUT_S,
    ) -> PulseStream:
        """A mono int16 record stream on ``source`` (``None``: the default one), ready to read.

        Raises :class:`PulseError` when the server refuses it (no such
        source) or does not make it ready within ``timeout``.
        """
        if not self.alive:
            raise PulseError("not connected to the sound server")
        stream = PulseStream(self, rate)
        stream.connect(source, fragment_ms, max_ms, dont_move, timeout)
        return stream

    def play(self, data: bytes, rate: int, timeout: float) -> None:
        """Play mono int16 ``data`` on the default sink until played (:class:`TimeoutError`: not in time)."""
        stream = PulseStream(self, rate)
        stream.connect_playback(ANSWER_TIMEOUT_S)
        try:
            stream.write_all(data, time.monotonic() + timeout)
        finally:
            stream.close()

    def close(self) -> None:
        """Disconnect and free the mainloop (its streams must be closed first)."""
        with self._mutex:
            lib, loop, context = self._lib, self._loop, self._context
            if context is not None:
                lib.pa_context_disconnect(context)
                lib.pa_context_unref(context)
            if loop is not None:
                lib.pa_mainloop_free(loop)
            self._loop = self._context = None
            self._state = _CONTEXT_TERMINATED


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value else ""


class PulseStream:
    """One record stream; read from one thread at a time (the capture's)."""

    def __init__(self, connection: PulseConnection, rate: int) -> None:
        self._connection = connection
        self._lib = connection._lib
        self.rate = rate
        self._stream: int | None = None
        self._state = 0
        self._ready = threading.Event()
        self._corked = False
        #: The source the server connected us to (changes only if moved).
        self.device_name = ""
        self.moved = False
        self.error = ""
        self.maxlength = 0
        self.fragsize = 0
        self._state_cb = _STREAM_NOTIFY(self._stream_state)
        self._moved_cb = _STREAM_NOTIFY(self._stream_moved)

    def connect(
        self, source: str | None, fragment_ms: float, max_ms: float, dont_move: bool, timeout: float
    ) -> None:
        """Connect as a record stream on ``source`` (``None``: the default) and wait until it is ready."""
        lib = self._lib
        frag = max(_BYTES_PER_FRAME, int(self.rate * fragment_ms / 1000) * _BYTES_PER_FRAME)
        most = max(2 * frag, int(self.rate * max_ms / 1000) * _BYTES_PER_FRAME)
        # tlength/prebuf/minreq are playback-only: (uint32_t) -1 leaves them to the server.
        attr = _BufferAttr(most, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, frag)
        flags = STREAM_ADJUST_LATENCY | (STREAM_DONT_MOVE if dont_move else 0)
        device = source.encode() if source else None

        def connect(stream: int) -> int:
            lib.pa_stream_set_moved_callback(stream, self._moved_cb, None)
            return int(lib.pa_stream_connect_record(stream, device, ctypes.byref(attr), flags))

        self._connect(b"Headset monitoring", connect, timeout)
        with self._connection._mutex:
            self.device_name = _text(lib.pa_stream_get_device_name(self._stream))
            got = lib.pa_stream_get_buffer_attr(self._stream)
            if got:
                self.maxlength, self.fragsize = int(got.contents.maxlength), int(got.contents.fragsize)
        log.debug("record stream on %s: maxlength %d, fragsize %d bytes", self.device_name, self.maxlength,
                  self.fragsize)  # fmt: skip

    def connect_playback(self, timeout: float) -> None:
        """Connect as a playback stream on the default sink (the recorder self-test's playback)."""
        lib = self._lib

        def connect(stream: int) -> int:
            return int(lib.pa_stream_connect_playback(stream, None, None, 0, None, None))

        self._connect(b"Recorder self-test", connect, timeout)

    def _connect(self, name: bytes, connect: Callable[[int], int], timeout: float) -> None:
        """Create the stream, ``connect`` it (lock held; < 0: refused) and wait until it is ready."""
        lib, connection = self._lib, self._connection
        spec = _SampleSpec(_SAMPLE_S16LE, self.rate, 1)
        with connection._mutex:
            stream = lib.pa_stream_new(connection._context, name, ctypes.byref(spec), None)
            error = "" if stream else connection._error()
            if stream:
                self._stream = stream
                lib.pa_stream_set_state_callback(stream, self._state_cb, None)
                if connect(stream) < 0:
                    error = connection._error()
        if error:
            self.close()
            raise PulseError(error)
        if not connection._wait(self._ready.is_set, timeout) or self._state != _STREAM_READY:
            error = self.error or f"the stream was not ready within {timeout:g} s"
            self.close()
            raise PulseError(error)

    def write_all(self, data: bytes, deadline: float) -> None:
        """Write ``data`` as the server asks for it, then wait until it has been played."""
        lib, connection, stream = self._lib, self._connection, self._stream
        offset = 0
        while offset < len(data):
            if time.monotonic() > deadline:
                raise TimeoutError("playback did not finish in time")
            with connection._mutex:
                connection.drain()
                if not self.is_active():
                    raise PulseError(self.error or "the playback stream ended")
                room = lib.pa_stream_writable_size(stream)
                if room == ctypes.c_size_t(-1).value:
                    raise PulseError(connection._error())
                room -= room % _BYTES_PER_FRAME
                if room:
                    chunk = data[offset : offset + room]
                    if lib.pa_stream_write(stream, chunk, len(chunk), None, 0, 0) < 0:
                        raise PulseError(connection._error())
                    offset += len(chunk)
                    connection.drain()
                    continue
            connection._wait(lambda: False, 0.02)  # the server asks for more as it plays
        drained = threading.Event()
        callback = _SUCCESS(lambda _s, _ok, _u: drained.set())
        with connection._mutex:
            operation = lib.pa_stream_drain(stream, callback, None)
        if not operation:
            raise PulseError(connection._error())
        played = connection._wait(drained.is_set, max(0.0, deadline - time.monotonic()))
        with connection._mutex:
            if not played:
                lib.pa_operation_cancel(operation)
            lib.pa_operation_unref(operation)
        if not played:
            raise TimeoutError("playback did not finish in time")

    def _stream_state(self, stream: int, _userdata: int) -> None:
        # Inside an iteration, lock held.
        state = self._lib.pa_stream_get_state(stream)
        self._state = state
        if state in (_STREAM_FAILED, _STREAM_TERMINATED):
            if state == _STREAM_FAILED and not self.error:
                self.error = self._connection._error()
            self._ready.set()
            self._connection._on_change()
        elif state == _STREAM_READY:
            self._ready.set()

    def _stream_moved(self, stream: int, _userdata: int) -> None:
        self.moved = True
        self.device_name = _text(self._lib.pa_stream_get_device_name(stream))
        self._connection._on_change()

    # -- what the capture calls -----------------------------------------------------
    @property
    def connection_alive(self) -> bool:
        """Whether the server connection the stream lives on is still up."""
        return self._connection.alive

    def is_active(self) -> bool:
        """Whether the stream is still connected (a killed stream or a dead server: False)."""
        return self._stream is not None and self._state == _STREAM_READY and self._connection.alive

    def read(self) -> tuple[bytes, bool]:
        """All the audio waiting, and whether some was lost since the last read (overflow or hole)."""
        if self._stream is None:
            return b"", False
        lib, stream = self._lib, self._stream
        chunks: list[bytes] = []
        lost = False
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        self._connection.lock()
        try:
            self._connection.drain()  # what the socket holds, into libpulse's queue
            if self._stream is None:
                return b"", False  # closed by a state change just handled
            waiting = lib.pa_stream_readable_size(stream)
            if waiting == ctypes.c_size_t(-1).value:
                return b"", False  # the stream died: is_active() says so
            # A packet that did not fit maxlength was dropped by libpulse: a queue
            # within one fragment of full is the only state that can follow a drop.
            if self.maxlength and waiting > self.maxlength - max(self.fragsize, _BYTES_PER_FRAME):
                lost = True
            while lib.pa_stream_peek(stream, ctypes.byref(data), ctypes.byref(size)) == 0 and size.value:
                if data.value:
                    chunks.append(ctypes.string_at(data.value, size.value))
                else:
                    lost = True  # a hole: the server skipped ahead
                lib.pa_stream_drop(stream)
        finally:
            self._connection.unlock()
        return b"".join(chunks), lost

    def stop_stream(self) -> None:
        """Cork: the server stops sending (the duty cycle's pause)."""
        self._cork(True)

    def start_stream(self) -> None:
        """Uncork, first dropping what arrived before the pause."""
        self.read()
        self._cork(False)

    def _cork(self, corked: bool) -> None:
        if self._stream is None or not self.is_active():
            raise PulseError(self.error or "the record stream is gone")
        self._connection.lock()
        try:
            operation = self._lib.pa_stream_cork(self._stream, 1 if corked else 0, None, None)
            if operation:
                self._lib.pa_operation_unref(operation)
            self._connection.drain()  # sends the command
        finally:
            self._connection.unlock()
        self._corked = corked

    def close(self) -> None:
        """Disconnect the stream (the connection stays)."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        connection = self._connection
        connection.lock()
        try:
            # No callbacks into this object after it is gone.
            self._lib.pa_stream_set_state_callback(stream, _STREAM_NOTIFY(), None)
            self._lib.pa_stream_set_moved_callback(stream, _STREAM_NOTIFY(), None)
            if self._state == _STREAM_READY or self._state == 1:
                self._lib.pa_stream_disconnect(stream)
            self._lib.pa_stream_unref(stream)
            connection.drain()  # sends the disconnect
        finally:
            connection.unlock()
