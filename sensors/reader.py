"""One background reader per sensor: keeps the port open, parses, remembers the latest values.

Serial reads block, so each sensor gets a daemon thread started by the
monitor's ``start()``; the monitor's ``poll()`` only takes a snapshot and
never waits on the port.  A port that vanishes is reopened with backoff;
garbage and corrupt frames are counted and logged, never fatal.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import serial

from sensors import mhz19
from sensors.measurement import FrameError
from sensors.modbus_env import RegisterMap
from sensors.modbus_rtu import RegisterReply, RtuClient
from sensors.serial_transport import (
    TRANSPORT_ERRORS,
    Backoff,
    PortUnavailable,
    SerialSettings,
    open_port,
)
from sensors.textline import MAX_LINE_BYTES, LineFormat, LineSplitter, parse_line

log = logging.getLogger(__name__)

#: Link states of a sensor.
CONNECTING = "connecting"
CONNECTED = "connected"
DISCONNECTED = "disconnected"
NO_ANSWER = "no_answer"

#: Unanswered requests in a row before a request/response sensor counts as silent.
NO_ANSWER_AFTER = 3
#: Corrupt data is logged at most once per this many seconds per sensor, so a
#: board spewing garbage costs a few log lines an hour, not one per line.
BAD_DATA_LOG_INTERVAL = 60.0
#: Pause after a read cycle failed in an unexpected way, so that a fault that
#: repeats on every cycle cannot turn the reader thread into a busy loop.
UNEXPECTED_ERROR_PAUSE = 0.2
#: How long a read waits for a board that talks by itself, where a stop request can cut
#: the wait short (``cancel_read``).  A pulled cable ends the wait at once (the port
#: hangs up) and a silent board is judged by the age of its last reading, so waiting
#: long costs nothing; short waits woke the thread five times a second for nothing.
LISTEN_TIMEOUT = 5.0


class LinkLost(Exception):
    """The port failed while in use (unplugged, pty closed); the reader reopens it."""


@dataclass
class CycleResult:
    """What one read cycle of a session produced."""

    readings: list[dict[str, float]] = field(default_factory=list)
    bad_frames: int = 0
    garbage_bytes: int = 0
    #: For request/response protocols: whether the device answered (``None``: it just talks).
    answered: bool | None = None
    problem: str = ""
    #: Exceptions a parser raised that it should not have (logged, rate-limited, with traceback).
    parser_errors: list[Exception] = field(default_factory=list)


class Session(ABC):
    """An open conversation with one sensor over its port."""

    @abstractmethod
    def open(self) -> None:
        """Open the port; raise :class:`PortUnavailable` (or ``OSError``) when it is absent."""

    @abstractmethod
    def cycle(self, stop: threading.Event) -> CycleResult:
        """Read (and request) once; return quickly; raise :class:`LinkLost` when the port fails."""

    @abstractmethod
    def close(self) -> None:
        """Close the port (safe to call twice)."""

    def cancel(self) -> None:  # noqa: B027 -- optional: a session that cannot cut a read short does nothing
        """Cut a read in progress short (any thread), so a stop request is seen at once."""


class _SerialSession(Session):
    """Common port handling for the sessions that use pyserial directly."""

    def __init__(self, settings: SerialSettings) -> None:
        self.settings = settings
        self.port: serial.SerialBase | None = None
        # Closing and cancelling never overlap: a cancel must not write into a closed port's pipe.
        self._port_lock = threading.Lock()

    def open(self) -> None:
        self.port = open_port(self.settings)

    def close(self) -> None:
        with self._port_lock:
            port, self.port = self.port, None
        if port is not None:
            # A port that is already gone has nothing left to release.
            with contextlib.suppress(*TRANSPORT_ERRORS):
                port.close()

    @property
    def cancellable(self) -> bool:
        """Whether a read on this port can be cut short from another thread (OS ports can)."""
        # A class attribute check: some pyserial classes define cancel_read as an unreadable property.
        return self.port is not None and callable(getattr(type(self.port), "cancel_read", None))

    def cancel(self) -> None:
        with self._port_lock:
            if self.cancellable:
                assert self.port is not None
                with contextlib.suppress(*TRANSPORT_ERRORS):
                    self.port.cancel_read()

    def _waiting(self) -> int:
        """Bytes received and not yet read."""
        try:
            return int(self.port.in_waiting) if self.port is not None else 0
        except TRANSPORT_ERRORS as exc:
            raise LinkLost(str(exc)) from exc

    def _read(self, size: int) -> bytes:
        if self.port is None:
            raise LinkLost("port is not open")
        try:
            data: bytes = self.port.read(size)
        except TRANSPORT_ERRORS as exc:
            raise LinkLost(str(exc)) from exc
        return data

    def _write(self, data: bytes) -> None:
        if self.port is None:
            raise LinkLost("port is not open")
        try:
            self.port.reset_input_buffer()
            self.port.write(data)
            self.port.flush()
        except TRANSPORT_ERRORS as exc:
            raise LinkLost(str(exc)) from exc


class TextLineSession(_SerialSession):
    """A board that prints readings as text lines on its own."""

    def __init__(self, settings: SerialSettings, line_format: LineFormat) -> None:
        super().__init__(settings)
        self.line_format = line_format
        self.splitter = LineSplitter()

    def open(self) -> None:
        super().open()
        self.splitter = LineSplitter()  # a half line from before the reconnect is noise
        if self.cancellable and self.port is not None:
            # Wait for the board's next line in one read; stop requests cancel it.
            try:
                self.port.timeout = max(self.settings.timeout, LISTEN_TIMEOUT)
            except TRANSPORT_ERRORS as exc:
                self.close()
                raise PortUnavailable(f"cannot set up {self.settings.where}: {exc}") from exc

    def cycle(self, stop: threading.Event) -> CycleResult:
        waiting = self._waiting()
        data = self._read(max(1, min(waiting, 4096)))
        if data and not waiting:
            # Woken by a line's first byte: take the rest that came with it in the same pass.
            rest = self._waiting()
            if rest:
                data += self._read(min(rest, 4096))
        return self.take(data)

    def take(self, data: bytes) -> CycleResult:
        """Parse bytes received from the board: readings, or counted bad frames (never raises)."""
        result = CycleResult()
        dropped_before = self.splitter.dropped
        for line in self.splitter.feed(data):
            try:
                result.readings.append(parse_line(line, self.line_format))
            except FrameError as exc:
                result.bad_frames += 1
                result.problem = f"{exc}: {line[:60]!r}"
            except Exception as exc:  # a parser bug is still only one bad line, not a lost link
                result.bad_frames += 1
                result.problem = f"unreadable line ({type(exc).__name__}): {line[:60]!r}"
                result.parser_errors.append(exc)
        dropped = self.splitter.dropped - dropped_before
        if dropped:
            result.bad_frames += dropped
            result.problem = f"{dropped} line(s) not UTF-8 text or longer than {MAX_LINE_BYTES} bytes"
        return result


class Mhz19Session(_SerialSession):
    """An MH-Z19 CO₂ sensor: ask every ``period`` seconds, read the 9-byte reply."""

    def __init__(self, settings: SerialSettings, period: float, reply_timeout: float = 1.0) -> None:
        super().__init__(settings)
        self.period = period
        self.reply_timeout = reply_timeout
        self.scanner = mhz19.ReplyScanner()

    def cycle(self, stop: threading.Event) -> CycleResult:
        started = time.monotonic()
        bad_before, garbage_before = self.scanner.bad_frames, self.scanner.garbage_bytes
        self.scanner.buffer.clear()
        self._write(mhz19.READ_REQUEST)
        values: list[float] = []
        deadline = started + self.reply_timeout
        while not values and time.monotonic() < deadline and not stop.is_set():
            values = self.scanner.feed(self._read(mhz19.FRAME_LENGTH))
        result = CycleResult(
            readings=[{"co2": v} for v in values[-1:]],
            bad_frames=self.scanner.bad_frames - bad_before,
            garbage_bytes=self.scanner.garbage_bytes - garbage_before,
            answered=bool(values),
        )
        if result.bad_frames:
            result.problem = "MH-Z19 reply with a bad checksum or impossible value"
        stop.wait(max(0.0, self.period - (time.monotonic() - started)))
        return result


class ModbusSession(_SerialSession):
    """A Modbus RTU transmitter read every ``period`` seconds through :mod:`sensors.modbus_rtu`."""

    def __init__(
        self,
        settings: SerialSettings,
        register_map: RegisterMap,
        device_id: int,
        period: float,
        reply_timeout: float = 1.0,
    ) -> None:
        super().__init__(settings)
        self.register_map = register_map
        self.device_id = device_id
        self.period = period
        self.reply_timeout = reply_timeout
        self.client: RtuClient | None = None
        #: The requests of one reading, worked out once: the map is frozen.
        self.blocks = register_map.blocks()
        #: (device id, function, start, count) of a map read in one request, else ``None``.
        self._single: tuple[int, int, int, int] | None = None
        if len(self.blocks) == 1:
            ((start, count),) = self.blocks
            self._single = (device_id, register_map.function, start, count)
        #: The words of the last good one-block reply and their reading (see cycle).
        self._last_registers: tuple[int, ...] | None = None
        self._last_reading: dict[str, float] = {}

    def open(self) -> None:
        super().open()
        assert self.port is not None
        self.client = RtuClient(self.port, self.settings.baudrate, self.reply_timeout)

    def close(self) -> None:
        self.client = None
        super().close()

    def cycle(self, stop: threading.Event) -> CycleResult:
        started = time.monotonic()
        client = self.client
        if client is None:
            raise LinkLost("port is not open")
        single = self._single
        if single is None:
            result = self._blocks(client, stop)
        else:
            # A map read in one request (most transmitters), inline: decoded straight from the
            # reply's words, or not at all when they are the last good reply's.
            device_id, function, start, count = single
            try:
                reply = client.read_registers(device_id, function, start, count, stop)
            except TRANSPORT_ERRORS as exc:  # the port failed, not the device
                raise LinkLost(str(exc) or type(exc).__name__) from exc
            registers = reply.registers
            if registers is None:
                result = self._failed(reply, start, count)
            elif registers == self._last_registers:
                # The same words as last time decode to the same reading (the map is frozen and
                # decoding pure); a reply that did not decode is never remembered.
                result = CycleResult(
                    readings=[self._last_reading.copy()], garbage_bytes=reply.garbage_bytes, answered=True
                )
            else:
                result = self._decode(reply, start, registers)
        stop.wait(max(0.0, self.period - (time.monotonic() - started)))
        return result

    def _ask(self, client: RtuClient, start: int, count: int, stop: threading.Event) -> RegisterReply:
        try:
            return client.read_registers(self.device_id, self.register_map.function, start, count, stop)
        except TRANSPORT_ERRORS as exc:  # the port failed, not the device
            raise LinkLost(str(exc) or type(exc).__name__) from exc

    def _decode(self, reply: RegisterReply, start: int, registers: tuple[int, ...]) -> CycleResult:
        """A one-request map's reading from new words, remembered for the next cycle."""
        try:
            reading = self.register_map.decode_block(start, registers)
        except FrameError as exc:
            return CycleResult(
                bad_frames=1, garbage_bytes=reply.garbage_bytes, answered=True, problem=str(exc)
            )
        self._last_registers, self._last_reading = registers, reading.copy()
        return CycleResult(readings=[reading], garbage_bytes=reply.garbage_bytes, answered=True)

    def _blocks(self, client: RtuClient, stop: threading.Event) -> CycleResult:
        """A map read in several requests, stopping at the first that gets no registers."""
        garbage = 0
        registers: dict[int, int] = {}
        for start, count in self.blocks:
            reply = self._ask(client, start, count, stop)
            garbage += reply.garbage_bytes
            if reply.registers is None:
                failed = self._failed(reply, start, count)
                failed.garbage_bytes = garbage
                return failed
            registers.update(zip(range(start, start + count), reply.registers, strict=True))
        try:
            reading = self.register_map.decode(registers)
        except FrameError as exc:
            return CycleResult(bad_frames=1, garbage_bytes=garbage, answered=True, problem=str(exc))
        return CycleResult(readings=[reading], garbage_bytes=garbage, answered=True)

    @staticmethod
    def _failed(reply: RegisterReply, start: int, count: int) -> CycleResult:
        """What a request that got no registers tells: an exception, a garbled reply or silence."""
        result = CycleResult(garbage_bytes=reply.garbage_bytes, answered=False)
        if reply.exception_code is not None:
            result.problem = (
                f"device answered with Modbus exception {reply.exception_code} "
                f"({reply.exception_name}) for registers {start}+{count}"
            )
        elif reply.bad_frame:
            result.bad_frames = 1
            result.problem = f"garbled reply: {reply.problem}"
        else:
            result.problem = reply.problem
        return result


@dataclass(frozen=True)
class SensorStatus:
    """A consistent snapshot of one sensor, taken by the monitor's poll."""

    name: str
    state: str = CONNECTING
    error: str = ""
    values: dict[str, float] = field(default_factory=dict)
    #: Clock time of the last valid reading of each quantity.
    times: dict[str, float] = field(default_factory=dict)
    last_valid: float | None = None
    bad_frames: int = 0
    garbage_bytes: int = 0
    reconnects: int = 0
    last_problem: str = ""
    #: True once the reader has either a valid reading or a definite failure.
    settled: bool = False


class SensorReader:
    """Runs one sensor's session on a daemon thread and keeps its latest :class:`SensorStatus`."""

    def __init__(
        self,
        name: str,
        session_factory: Callable[[], Session],
        where: str = "",
        clock: Callable[[], float] = time.monotonic,
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.where = where
        self._factory = session_factory
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._lock = threading.Lock()
        self._status = SensorStatus(name)
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: Session | None = None
        self._unanswered = 0
        self._last_bad_log: float | None = None
        self._unlogged_frames = self._unlogged_garbage = 0
        self._parser_error: Exception | None = None

    def start(self) -> None:
        """Start the reader thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"deskwatch-sensor-{self.name}", daemon=True
            )
            self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to end its current read and close the port (does not wait)."""
        self._stop.set()
        session = self._session
        if session is not None:
            session.cancel()  # a read waiting for a quiet board ends now, not at its timeout

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and close the port; safe to call more than once."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> SensorStatus:
        """The latest snapshot."""
        with self._lock:
            return self._status

    def wait_settled(self, timeout: float) -> bool:
        """Wait until the first reading or failure; True if settled in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._status.settled:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    # -- thread ------------------------------------------------------------
    def _update(self, **changes: Any) -> None:
        with self._changed:
            # dataclasses.replace() walks the fields' metadata in Python on every call (every read
            # cycle of every sensor: a sixth of an MH-Z19's cycle); the fields are all init fields.
            self._status = SensorStatus(**(vars(self._status) | changes))
            self._changed.notify_all()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._session is None and not self._connect():
                    self._stop.wait(self._backoff.next_delay())
                    continue
                assert self._session is not None
                try:
                    result = self._session.cycle(self._stop)
                except LinkLost as exc:
                    self._lose(str(exc))
                    continue
                except TRANSPORT_ERRORS as exc:  # the port itself failed
                    self._lose(str(exc) or type(exc).__name__)
                    continue
                except Exception as exc:
                    # Not the cable: what the device sent upset a parser (ours or the
                    # library's).  The link is fine; the data was bad.
                    reason = f"{type(exc).__name__}: {exc}"[:200]
                    result = CycleResult(
                        bad_frames=1, problem=f"unreadable data ({reason})", parser_errors=[exc]
                    )
                    self._stop.wait(UNEXPECTED_ERROR_PAUSE)
                self._record(result)
        finally:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _connect(self) -> bool:
        session: Session | None = None
        try:
            session = self._factory()
            session.open()
        except Exception as exc:  # absent port, permission denied, bad URL …
            if session is not None:
                session.close()
            message = str(exc) or type(exc).__name__
            if self.status().state != DISCONNECTED or self.status().error != message:
                log.warning("sensor %s (%s) unavailable: %s", self.name, self.where, message)
            self._update(state=DISCONNECTED, error=message, settled=True)
            return False
        self._session = session
        self._backoff.reset()
        self._unanswered = 0
        previous = self.status()
        if previous.state == DISCONNECTED:
            log.info("sensor %s (%s) connected again", self.name, self.where)
        self._update(
            state=CONNECTED,
            error="",
            reconnects=previous.reconnects + (1 if previous.state == DISCONNECTED else 0),
        )
        return True

    def _lose(self, reason: str) -> None:
        log.warning("sensor %s (%s) lost: %s", self.name, self.where, reason)
        if self._session is not None:
            self._session.close()
            self._session = None
        self._update(state=DISCONNECTED, error=reason, settled=True)
        self._stop.wait(self._backoff.next_delay())

    def _log_bad_data(self, result: CycleResult) -> None:
        """Log corrupt data at most once per :data:`BAD_DATA_LOG_INTERVAL`, with what was held back."""
        self._unlogged_frames += result.bad_frames
        self._unlogged_garbage += result.garbage_bytes
        if self._parser_error is None and result.parser_errors:
            self._parser_error = result.parser_errors[0]
        now = self._clock()
        if self._last_bad_log is not None and now - self._last_bad_log < BAD_DATA_LOG_INTERVAL:
            return
        self._last_bad_log = now
        log.info(
            "sensor %s: %d corrupt frame(s), %d garbage byte(s) (logged at most every %g s); last: %s",
            self.name,
            self._unlogged_frames,
            self._unlogged_garbage,
            BAD_DATA_LOG_INTERVAL,
            result.problem,
        )
        error, self._parser_error = self._parser_error, None
        if error is not None:
            log.warning(
                "sensor %s: a parser raised instead of rejecting the data",
                self.name,
                exc_info=(type(error), error, error.__traceback__),
            )
        self._unlogged_frames = self._unlogged_garbage = 0

    def _record(self, result: CycleResult) -> None:
        if not (result.readings or result.bad_frames or result.garbage_bytes or result.problem) and (
            result.answered is None and not result.parser_errors
        ):
            return  # a read that timed out on a board that just talks: nothing changed
        if result.bad_frames or result.garbage_bytes:
            self._log_bad_data(result)
        status = self.status()
        changes: dict[str, Any] = {
            "bad_frames": status.bad_frames + result.bad_frames,
            "garbage_bytes": status.garbage_bytes + result.garbage_bytes,
        }
        if result.problem:
            changes["last_problem"] = result.problem
        if result.answered is False:
            self._unanswered += 1
            if self._unanswered >= NO_ANSWER_AFTER:
                changes.update(state=NO_ANSWER, error=result.problem or "no reply", settled=True)
        elif result.answered:
            self._unanswered = 0
        if result.readings:
            now = self._clock()
            values, times = dict(status.values), dict(status.times)
            for reading in result.readings:
                values.update(reading)
                times.update(dict.fromkeys(reading, now))
            changes.update(values=values, times=times, last_valid=now, settled=True)
            if result.answered is not False:
                changes.update(state=CONNECTED, error="")
        self._update(**changes)
