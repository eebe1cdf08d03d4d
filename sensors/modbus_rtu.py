"""A small Modbus RTU master over pyserial: read holding (03) or input (04) registers.

Written from *MODBUS over Serial Line, Specification and Implementation
Guide V1.02* (modbus.org; "the serial spec" below) and the *MODBUS
Application Protocol Specification V1.1b3* ("the application spec").  It
does only what an environment transmitter needs, so it costs a few hundred
kilobytes where pymodbus brought asyncio and ssl with it.

An RTU frame is ``device id, function, data…, CRC low, CRC high`` (serial
spec 2.5.1); a reply to "read N registers" is ``id, function, 2N, N
big-endian words, CRC`` and an exception reply ``id, function | 0x80,
exception code, CRC`` (application spec 6.3, 6.4 and 7).

Every byte from the device is untrusted.  The reply is looked for in
whatever arrives before the response timeout: bytes in front of it (line
noise, an adapter's echo of the request) are counted as garbage; anything
that never becomes the awaited frame (a wrong device id or function, a bad
CRC, a short frame, a byte count other than the one asked for) is one
counted bad frame with a reason.  Nothing the device sends makes
:meth:`RtuClient.read_registers` raise; only the port failing does
(``OSError``, ``serial.SerialException``, ``termios.error``), which callers
take as a lost link.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import os
import select
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

READ_HOLDING_REGISTERS = 0x03
READ_INPUT_REGISTERS = 0x04
FUNCTIONS: tuple[int, ...] = (READ_HOLDING_REGISTERS, READ_INPUT_REGISTERS)
#: Set in the function code of an exception reply (application spec 7).
EXCEPTION_FLAG = 0x80
#: Most registers one request may ask for (application spec 6.3: 1 to 125).
MAX_REGISTERS = 125
#: Largest RTU frame (serial spec 2.5.1: 256 bytes).
MAX_FRAME = 256
#: Unicast addresses (serial spec 2.2: 0 is broadcast, which a read never uses; 248–255 reserved).
DEVICE_IDS = range(1, 248)
#: Bytes kept while waiting for a reply; a device that talks on and on loses its oldest bytes.
MAX_BUFFER = 2 * MAX_FRAME
#: Exception codes of the application spec (section 7), for messages.
EXCEPTION_NAMES: dict[int, str] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}

_POLYNOMIAL = 0xA001  # serial spec 6.2.2: x¹⁶ + x¹⁵ + x² + 1, bit-reversed


def _crc_table() -> tuple[int, ...]:
    # The spec's bit-by-bit procedure (shift right, XOR 0xA001 when the LSB was 1),
    # run once per byte value so that checking a frame costs one lookup per byte.
    table = []
    for value in range(256):
        crc = value
        for _ in range(8):
            crc = (crc >> 1) ^ _POLYNOMIAL if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray | memoryview, crc: int = 0xFFFF) -> int:
    """CRC-16/MODBUS of ``data`` (register preloaded with 0xFFFF, serial spec 6.2.2).

    ``crc``: the register after the bytes before ``data``, to go on from there.
    Over a frame followed by its own CRC (low byte first) the register ends at 0.
    """
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def with_crc(body: bytes) -> bytes:
    """``body`` followed by its CRC, low-order byte first as the serial spec puts it on the wire."""
    return body + crc16(body).to_bytes(2, "little")


def _crc_ok(frame: bytes | bytearray) -> bool:
    return len(frame) >= 4 and crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little")


# The same few requests go out every cycle: built and CRC'd once (a ValueError is not cached).
@functools.lru_cache(maxsize=64)
def read_request(device_id: int, function: int, start: int, count: int) -> bytes:
    """The RTU frame asking ``device_id`` for ``count`` registers from ``start``.

    ``ValueError`` for a request the spec does not allow (these come from the
    configuration, never from the device).
    """
    if device_id not in DEVICE_IDS:
        raise ValueError(f"device id {device_id} is not a unicast address (1…247)")
    if function not in FUNCTIONS:
        raise ValueError(f"function {function} is not 3 (holding) or 4 (input registers)")
    if not 1 <= count <= MAX_REGISTERS:
        raise ValueError(f"a read asks for 1…{MAX_REGISTERS} registers, not {count}")
    if not 0 <= start <= 0x10000 - count:
        raise ValueError(f"registers {start}+{count} are outside 0…65535")
    return with_crc(bytes((device_id, function)) + start.to_bytes(2, "big") + count.to_bytes(2, "big"))


@functools.lru_cache(maxsize=64)
def _exchange(
    device_id: int, function: int, start: int, count: int
) -> tuple[bytes, bytes, int, int, struct.Struct]:
    """One request's frame and what its register reply looks like, worked out once (one cache
    look-up a cycle): the request, the reply's header, the CRC register after that header, the
    reply's length and its word layout.  ``ValueError`` as :func:`read_request`."""
    header = bytes((device_id, function, 2 * count))
    request = read_request(device_id, function, start, count)
    return request, header, crc16(header), 5 + 2 * count, struct.Struct(f">{count}H")


def silent_interval(baudrate: int) -> float:
    """t3.5, the silence that separates two frames, in seconds (serial spec 2.5.1.1).

    An RTU character is 11 bits whatever the parity (serial spec 2.5.1), so
    3.5 characters are 38.5 bit times; above 19200 baud the spec fixes
    t3.5 at 1.75 ms.
    """
    if baudrate > 19200:
        return 0.00175
    return 3.5 * 11 / baudrate


def exception_name(code: int) -> str:
    """An exception code's name in the application spec (section 7)."""
    return EXCEPTION_NAMES.get(code, "an exception code the spec does not define")


@dataclass(frozen=True)
class Found:
    """The awaited reply, found in the received bytes at ``[start:end]``."""

    start: int
    end: int
    registers: tuple[int, ...] | None = None
    exception_code: int | None = None


def find_reply(data: bytes | bytearray, device_id: int, function: int, count: int) -> Found | None:
    """The first whole, CRC-checked reply to "read ``count`` registers" in ``data``, or ``None``.

    Only a frame from ``device_id`` for ``function`` counts: its register
    reply with a byte count of exactly ``2 * count``, or its exception reply.
    """
    found: Found | None = None
    length = 5 + 2 * count
    header = bytes((device_id, function, 2 * count))
    index = data.find(header)
    while index >= 0 and found is None:
        frame = data[index : index + length]
        if len(frame) == length and _crc_ok(frame):
            # One call for all the big-endian words rather than one per register.
            found = Found(index, index + length, registers=struct.unpack_from(f">{count}H", frame, 3))
        index = data.find(header, index + 1)
    exception_header = bytes((device_id, function | EXCEPTION_FLAG))
    index = data.find(exception_header)
    while index >= 0 and (found is None or index < found.start):
        frame = data[index : index + 5]
        if len(frame) == 5 and _crc_ok(frame):
            return Found(index, index + 5, exception_code=frame[2])
        index = data.find(exception_header, index + 1)
    return found


def bytes_needed(data: bytes | bytearray, device_id: int, function: int, count: int) -> int:
    """How many bytes to read next so that the read returns as soon as a reply can be whole.

    With nothing begun, the whole reply, as the MH-Z19's 9 bytes are asked
    for at once: one read for a reply that comes in one burst.  With a frame
    begun (a prefix of its header in the last bytes), the rest of the first
    such frame.  A read asking for more than will come (an exception reply
    is 5 bytes) only waits until the port's read timeout, cut to the time
    left, so a guess too long costs at most one read slice, never a reply or
    the response timeout.
    """
    size = len(data)
    length = 5 + 2 * count
    header = bytes((device_id, function, 2 * count))
    exception_header = bytes((device_id, function | EXCEPTION_FLAG))
    # A frame that could still be whole began in its length's last bytes and starts with the id.
    index = data.find(header[:1], max(0, size - length + 1))
    while index >= 0:
        begun = size - index
        tail = bytes(data[index : index + 3])
        if header.startswith(tail):
            return length - begun
        if begun < 5 and exception_header.startswith(tail[:2]):
            return 5 - begun
        index = data.find(header[:1], index + 1)
    return length


def _any_frame(data: bytes | bytearray) -> tuple[int, bytes] | None:
    """The first CRC-valid register-read or exception frame from anyone: (offset, frame)."""
    for index in range(len(data) - 4):
        function = data[index + 1]
        if function & EXCEPTION_FLAG:
            length = 5
        elif function in (1, 2, 3, 4):  # the reads, whose replies carry a byte count
            length = 5 + data[index + 2]
        else:
            continue
        frame = bytes(data[index : index + length])
        if len(frame) == length and _crc_ok(frame):
            return index, frame
    return None


def diagnose(data: bytes | bytearray, device_id: int, function: int, count: int) -> str:
    """Why ``data`` (not empty) is no reply to "read ``count`` registers": a reason for the log."""
    size = len(data)
    other = _any_frame(data)
    if other is not None:
        _, frame = other
        if frame[0] != device_id:
            return f"a reply from device {frame[0]}, not {device_id} ({size} bytes)"
        if frame[1] & 0x7F != function:
            return f"a reply with function {frame[1]:#04x} to a function {function} request ({size} bytes)"
        return f"a byte count of {frame[2]} where {2 * count} was asked for ({size} bytes)"
    index = data.find(bytes((device_id, function)))
    if index >= 0:
        needed = 5 + 2 * count
        declared = data[index + 2] if index + 2 < size else 2 * count
        if declared != 2 * count:
            return f"a byte count of {declared} where {2 * count} was asked for ({size} bytes)"
        if size - index < needed:
            return f"a short frame: {size - index} of {needed} bytes"
        return f"a reply that failed its CRC check ({size} bytes)"
    index = data.find(bytes((device_id, function | EXCEPTION_FLAG)))
    if index >= 0:
        if size - index < 5:
            return f"a short exception frame: {size - index} of 5 bytes"
        return f"an exception reply that failed its CRC check ({size} bytes)"
    return f"{size} bytes that hold no Modbus frame (wrong framing or CRC)"


@dataclass(frozen=True, slots=True)
class RegisterReply:
    """What one request got: registers, an exception code, a bad frame or nothing."""

    registers: tuple[int, ...] | None = None
    exception_code: int | None = None
    #: The device sent bytes that never became its reply (``problem`` says how).
    bad_frame: bool = False
    #: Bytes thrown away: left over from before the request, or in front of the reply.
    garbage_bytes: int = 0
    problem: str = ""

    @property
    def exception_name(self) -> str:
        """The exception code's name in the application spec (``""`` for none)."""
        if self.exception_code is None:
            return ""
        return exception_name(self.exception_code)


class SerialLine(Protocol):
    """What the client uses of a pyserial port."""

    @property
    def in_waiting(self) -> int: ...

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...


class RtuClient:
    """A Modbus RTU master on an open port it owns (one request at a time).

    ``response_timeout`` bounds each request's wait for its reply, counted
    from when the request has left.  The port's own read timeout is the
    longest single wait, so a stop request is seen that often; it is cut to
    the time left near the end so that the response timeout is never
    overrun.  Counters add up over the client's life.
    """

    def __init__(
        self,
        port: SerialLine,
        baudrate: int,
        response_timeout: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (math.isfinite(response_timeout) and response_timeout > 0):
            raise ValueError("the response timeout must be a positive number of seconds")
        self.port = port
        self.response_timeout = response_timeout
        self.silence = silent_interval(baudrate)
        self._clock = clock
        self._sleep = sleep
        self._read_slice = port.timeout if port.timeout else min(0.2, response_timeout)
        #: When the line last carried a byte we saw or sent (opening a port can glitch it too).
        self._last_activity = clock()
        #: The port's file descriptor where it has one (an OS serial port), for a cheap look
        #: at whether anything came in: a zero-timeout select costs about half an in_waiting.
        self._fd: int | None = None
        fileno = getattr(port, "fileno", None)
        if callable(fileno):
            with contextlib.suppress(Exception):  # pyserial's URL ports raise rather than have none
                self._fd = int(fileno())
        #: On a POSIX pyserial port (a non-blocking descriptor and the pipe its cancel_read()
        #: writes to) the usual exchange goes to the descriptor itself: pyserial's write and
        #: read build and ask timers on every call, and its write looks for writability once
        #: more after writing, which an 8-byte request on an idle line never needs.  The
        #: descriptors read with select() as pyserial's read does, so a stop request still
        #: ends the wait; anything out of the ordinary goes through pyserial as before.
        self._watch: tuple[int, int] | None = None
        abort = getattr(port, "pipe_abort_read_r", None)
        if self._fd is not None and isinstance(abort, int) and abort >= 0:
            with contextlib.suppress(OSError):
                if not os.get_blocking(self._fd):
                    self._watch = (self._fd, abort)
        #: The last register reply taken whole from one read, the request it answered, and
        #: its bytes: the same bytes again are the same CRC-checked frame (see read_registers).
        self._last_frame = b""
        self._last_request = b""
        self._last_reply: RegisterReply | None = None
        self.requests = 0
        self.replies = 0
        self.exceptions = 0
        self.bad_frames = 0
        self.no_replies = 0
        self.garbage_bytes = 0

    def read_registers(
        self,
        device_id: int,
        function: int,
        start: int,
        count: int,
        stop: threading.Event | None = None,
    ) -> RegisterReply:
        """Ask for ``count`` registers from ``start`` and wait for the reply.

        Returns the registers, or why there are none; never raises over what
        the device sent.  ``ValueError`` for an impossible request; the
        port's own errors pass through.
        """
        request, header, header_crc, length, words = _exchange(device_id, function, start, count)
        port, clock = self.port, self._clock
        fd = self._fd
        # The usual case inline (one look, as in _quiet_line): the line has been silent since
        # the last reply, long ago, and nothing waits; else _quiet_line reads stale bytes away.
        quiet = clock() - self._last_activity >= self.silence
        if quiet and fd is not None and not select.select((fd,), (), (), 0)[0]:
            stale = 0
        else:
            stale = self._quiet_line()
        watch = self._watch
        if watch is None:
            port.write(request)
        else:
            self._write_direct(watch[0], request)
        port.flush()  # waits until the request is on the wire (tcdrain), so the timeout starts after it
        sent = self._last_activity = clock()
        self.requests += 1
        deadline = sent + self.response_timeout
        # The first read asks for the whole reply, as the MH-Z19's 9 bytes are asked for at once.
        wait = min(self._read_slice, self.response_timeout)
        if watch is None:
            if port.timeout != wait:
                port.timeout = wait
            first = port.read(length)
        else:
            first = self._read_direct(watch, length, wait)
        if first:
            self._last_activity = clock()
            last = self._last_reply
            if last is not None and first == self._last_frame and request == self._last_request:
                # Byte for byte the frame the last cycle checked (a transmitter's value seldom
                # changes from one reading to the next): its header, length and CRC are what
                # they were, so it is that reply again.
                self.replies += 1
                if stale:
                    self.garbage_bytes += stale
                    return RegisterReply(last.registers, garbage_bytes=stale)
                return last
            # The usual case, checked in fewer steps than find_reply takes but for the same
            # things: the reply from offset 0 with its header (device id, function, byte
            # count), its length and its CRC (run on from the header's, ending at 0 over the
            # frame's own CRC).
            if len(first) == length and first.startswith(header) and crc16(first[3:], header_crc) == 0:
                self.replies += 1
                self.garbage_bytes += stale
                reply = RegisterReply(words.unpack_from(first, 3))
                self._last_frame, self._last_request, self._last_reply = first, request, reply
                return reply if not stale else RegisterReply(reply.registers, garbage_bytes=stale)
        data, found, dropped = self._collect(device_id, function, count, stop, deadline, first)
        if found is not None:
            # Bytes in front of the reply, and any read in after it, are no part of it.
            garbage = stale + dropped + found.start + len(data) - found.end
            if found.exception_code is not None:
                self.exceptions += 1
                name = exception_name(found.exception_code)
                reply = RegisterReply(
                    exception_code=found.exception_code,
                    garbage_bytes=garbage,
                    problem=f"exception {found.exception_code} ({name})",
                )
            else:
                self.replies += 1
                reply = RegisterReply(registers=found.registers, garbage_bytes=garbage)
        elif data:
            self.bad_frames += 1
            reason = diagnose(data, device_id, function, count)
            reply = RegisterReply(bad_frame=True, garbage_bytes=stale + dropped, problem=reason)
        else:
            self.no_replies += 1
            reply = RegisterReply(garbage_bytes=stale, problem=f"no reply within {self.response_timeout:g} s")
        self.garbage_bytes += reply.garbage_bytes
        return reply

    def _write_direct(self, fd: int, request: bytes) -> None:
        """Write ``request`` to the port's descriptor; what it does not take, through pyserial."""
        try:
            written = os.write(fd, request)
        except BlockingIOError:  # the output buffer is full (a line held by flow control)
            written = 0
        if written < len(request):
            self.port.write(request[written:])  # pyserial waits for room, up to its write timeout

    def _read_direct(self, watch: tuple[int, int], size: int, wait: float) -> bytes:
        """Up to ``size`` bytes once some have come, within ``wait`` s (``b""`` at a timeout or a
        cancel): one select on the port and its cancel pipe, then one read, as pyserial's read
        does its first pass; the rest of a reply split in bursts is read by _collect."""
        fd, abort = watch
        ready = select.select(watch, (), (), wait)[0]
        if abort in ready:
            os.read(abort, 1000)  # a stop request (cancel_read): the caller sees the stop event
        if fd not in ready:
            return b""
        try:
            data = os.read(fd, size)
        except BlockingIOError:
            return b""
        if not data:
            # Ready but nothing to read: the other end hung up (a pulled adapter), as pyserial says.
            raise OSError(errno.EIO, "device reports readiness to read but returned no data")
        return data

    def _quiet_line(self) -> int:
        """Wait for t3.5 of silence since the last byte, then flush; the stale bytes read away.

        A frame may only start after the line was silent for t3.5 (serial
        spec 2.5.1.1).  Whatever a device still sends now belongs to no
        request of ours (a reply that came too late, noise); it is read away
        and counted, so it can never be taken for the next reply.  A line
        that never falls silent is given up on after the response timeout.
        One zero-timeout look per request when the line is quiet (a select;
        ``in_waiting`` on a port without a file descriptor), as it is
        before every request but the first after a late reply.
        """
        if self._clock() - self._last_activity >= self.silence and not self._input_pending():
            return 0  # the usual case: nothing came since the last reply, long ago
        stale = 0
        give_up = self._clock() + self.response_timeout
        while True:
            waiting = self.port.in_waiting
            if waiting:
                stale += len(self.port.read(min(waiting, MAX_BUFFER)))
                self._last_activity = self._clock()
            now = self._clock()
            quiet = now - self._last_activity
            if quiet >= self.silence or now >= give_up:
                break
            self._sleep(self.silence - quiet)
        # No flush of the input buffer after this: every byte waiting has been read
        # and counted, and one that comes in now, after t3.5 of silence, lands in
        # front of the reply, where it is counted as garbage too, not thrown away
        # uncounted (a tcflush would cost one more system call per request as well).
        return stale

    def _input_pending(self) -> bool:
        """Whether bytes (or a hang-up, which the read then reports) wait on the port."""
        if self._fd is None:
            return bool(self.port.in_waiting)
        readable, _, _ = select.select((self._fd,), (), (), 0)
        return bool(readable)

    def _collect(
        self,
        device_id: int,
        function: int,
        count: int,
        stop: threading.Event | None,
        deadline: float,
        first: bytes = b"",
    ) -> tuple[bytearray, Found | None, int]:
        """Read until the reply is whole or ``deadline``: (bytes kept, the reply, bytes dropped).

        ``first`` is what the first read got.  The line's silence does
        not end the wait, and a gap inside a frame
        (the spec's t1.5 rule) does not void it: USB adapters and ptys
        deliver bytes in bursts with gaps longer than t3.5, and a device may
        glitch the line before a late answer, so only a whole, CRC-checked
        reply (or the timeout) ends it.  A garbled reply therefore costs the
        whole timeout, which only a faulty device pays.

        Each read asks for :func:`bytes_needed`, so the port returns once per
        burst of the reply (one read for a whole one) rather than once per
        byte or after an ``in_waiting`` each time; a read still waits at most
        the read slice, cut to the time left.
        """
        data = bytearray()
        dropped = self._append(data, first)
        if first:
            found = find_reply(data, device_id, function, count)
            if found is not None:
                return data, found, dropped
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0 or (stop is not None and stop.is_set()):
                # What is in by the deadline still counts (read once, so a device
                # that never stops talking cannot hold us); nothing after it does.
                waiting = self.port.in_waiting
                if not waiting:
                    return data, None, dropped
                dropped += self._append(data, self.port.read(min(waiting, MAX_BUFFER)))
                return data, find_reply(data, device_id, function, count), dropped
            wait = min(self._read_slice, remaining)
            if self.port.timeout != wait:
                self.port.timeout = wait
            chunk = self.port.read(bytes_needed(data, device_id, function, count))
            if not chunk:
                continue
            dropped += self._append(data, chunk)
            found = find_reply(data, device_id, function, count)
            if found is not None:
                return data, found, dropped

    def _append(self, data: bytearray, chunk: bytes) -> int:
        """Add received bytes, keeping the newest :data:`MAX_BUFFER`; how many old ones were dropped."""
        if chunk:
            self._last_activity = self._clock()
        data += chunk
        excess = max(0, len(data) - MAX_BUFFER)
        del data[:excess]
        return excess
