"""Sensor simulators on the far end of real pseudo-terminals.

Each simulator owns the master side of a pty pair (``os.openpty``) and
publishes the slave side under a fixed symlink, which is the "serial port"
Deskwatch is configured with.  ``unplug()`` closes the pair and removes the
link, exactly what a USB adapter pulled from its socket looks like to the
reader (EIO, then no such file); ``plug()`` makes a new pair under the same
name.  The Modbus device is an RTU slave written here from the spec, on a
``socat`` pty pair.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import threading
import time
import tty
from pathlib import Path

from sensors import mhz19


class PtyDevice:
    """A device behind a pty pair; subclasses answer in :meth:`on_data` and :meth:`on_tick`."""

    tick_seconds = 0.05

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master: int | None = None
        self.slave: int | None = None
        self.received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- wiring ---------------------------------------------------------------
    def plug(self) -> None:
        """Create a new pty pair behind the link and start answering."""
        master, slave = os.openpty()
        tty.setraw(slave)
        # Holding the slave open keeps reads on the master from failing
        # while Deskwatch has the port closed.
        self.master, self.slave = master, slave
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.link.name}", daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """Close the pair and remove the link: the port vanishes."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self.link.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master = self.slave = None

    def write(self, data: bytes) -> None:
        """Send bytes to whoever has the port open."""
        with self._lock:
            if self.master is not None:
                os.write(self.master, data)

    def _run(self) -> None:
        master = self.master
        assert master is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], self.tick_seconds)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                if data:
                    self.received += data
                    self.on_data(data)
            self.on_tick()

    def on_data(self, data: bytes) -> None:
        """Bytes arrived from Deskwatch."""

    def on_tick(self) -> None:
        """Called every :attr:`tick_seconds`."""


class TextLineBoard(PtyDevice):
    """A USB board that prints ``T=…,H=…`` lines every ``interval`` seconds."""

    def __init__(self, link: Path, interval: float = 0.1, template: str = "T={t:.1f},H={h:.1f}\r\n") -> None:
        super().__init__(link)
        self.interval = interval
        self.template = template
        self.values: dict[str, float] = {"t": 24.0, "h": 50.0}
        self.lines_sent = 0
        self._last = 0.0

    def on_tick(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.write(self.template.format(**self.values).encode())
            self.lines_sent += 1


class Mhz19Responder(PtyDevice):
    """An MH-Z19 that answers each read request with the current ``ppm``.

    ``corrupt_next`` replies with that many frames with a wrong checksum and
    ``noise`` is sent before each reply.
    """

    def __init__(self, link: Path, ppm: int = 600) -> None:
        super().__init__(link)
        self.ppm = ppm
        self.corrupt_next = 0
        self.noise = b""
        self.silent = False
        self.requests = 0
        #: Monotonic times at which each request was taken (a benchmark reads the readers' phases).
        self.request_times: list[float] = []
        self._pending = bytearray()

    def on_data(self, data: bytes) -> None:
        self._pending += data
        while True:
            index = self._pending.find(mhz19.READ_REQUEST)
            if index < 0:
                del self._pending[: max(0, len(self._pending) - mhz19.FRAME_LENGTH)]
                return
            del self._pending[: index + mhz19.FRAME_LENGTH]
            self.requests += 1
            self.request_times.append(time.monotonic())
            if self.silent:
                continue
            reply = mhz19.encode_reply(self.ppm)
            if self.corrupt_next:
                self.corrupt_next -= 1
                reply = reply[:8] + bytes([(reply[8] + 1) & 0xFF])
            self.write(self.noise + reply)


def rtu_crc(body: bytes) -> bytes:
    """The CRC of an RTU frame as sent, low byte first (serial line spec 6.2.2).

    Written here again, bit by bit as the spec describes it, so that the
    simulated device shares no code with the client it answers.
    """
    crc = 0xFFFF
    for byte in body:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc.to_bytes(2, "little")


class ModbusTransmitter(PtyDevice):
    """A Modbus RTU slave (read holding / input registers) on one end of a ``socat`` pty pair.

    Written from *MODBUS over Serial Line V1.02* and the application protocol
    spec, independently of :mod:`sensors.modbus_rtu`: it frames requests by
    the line's silence, stays silent for another address, a broadcast or a
    bad CRC, and answers exception 1 (illegal function), 3 (illegal quantity)
    or 2 (illegal address).  Registers 0…31 exist; tests choose their values
    through :meth:`set_registers`.  Faults: ``corrupt`` flips the CRC of
    replies, ``delay`` answers that many seconds late (a slow device), and
    ``exception`` answers every read with that exception code.  ``socat``
    is the cable: :meth:`unplug` ends it and both ports vanish.
    """

    REGISTERS = 32
    #: The slave's own end-of-frame silence: longer than t3.5 at 9600 baud (4 ms)
    #: because a pty delivers a burst with scheduling gaps.
    END_OF_FRAME = 0.02

    @property  # type: ignore[override]
    def tick_seconds(self) -> float:
        """Short while a frame or a late reply is pending, the usual tick otherwise."""
        return 0.01 if self._frame or self._due else PtyDevice.tick_seconds

    def __init__(self, device_link: Path, host_link: Path, slave: int = 1) -> None:
        super().__init__(device_link)
        self.device_link = device_link
        self.host_link = host_link
        #: The Modbus address (``slave`` is the pty end, in :class:`PtyDevice`).
        self.device_id = slave
        self.corrupt = False
        self.delay = 0.0
        self.exception = 0
        self.requests = 0
        self.replies = 0
        #: Monotonic times at which each request was taken and each reply written.
        self.request_times: list[float] = []
        self.reply_times: list[float] = []
        self.holding: dict[int, int] = {}
        self.input: dict[int, int] = {}
        self._socat: subprocess.Popen[bytes] | None = None
        self._frame = bytearray()
        self._last_byte = 0.0
        self._due: list[tuple[float, bytes]] = []

    def set_registers(self, function: int, address: int, values: list[int]) -> None:
        """Store register values (function 3 = holding, 4 = input)."""
        table = self.holding if function == 3 else self.input
        table.update({address + n: v for n, v in enumerate(values)})

    # -- the slave ------------------------------------------------------------
    def on_data(self, data: bytes) -> None:
        self._frame += data
        self._last_byte = time.monotonic()
        # A read request is 8 bytes with a valid CRC: answer it without waiting for the silence.
        frame = self._frame
        if len(frame) == 8 and frame[1] in (3, 4) and rtu_crc(bytes(frame[:6])) == bytes(frame[6:]):
            self._take(bytes(frame))
            frame.clear()

    def on_tick(self) -> None:
        now = time.monotonic()
        if self._frame and now - self._last_byte >= self.END_OF_FRAME:
            frame, self._frame = bytes(self._frame), bytearray()
            self._take(frame)
        while self._due and self._due[0][0] <= now:
            self._send(self._due.pop(0)[1])

    def _take(self, frame: bytes) -> None:
        """One frame, ended by silence: answer it as the spec says, or stay silent."""
        if len(frame) < 4 or rtu_crc(frame[:-2]) != frame[-2:]:
            return  # a frame with a CRC error is discarded without a reply
        if frame[0] != self.device_id:
            return  # another device's request, or a broadcast (never answered)
        self.requests += 1
        self.request_times.append(time.monotonic())
        function = frame[1]
        if function not in (3, 4):
            reply = self._exception(function, 1)
        elif len(frame) != 8:
            reply = self._exception(function, 3)
        else:
            start = int.from_bytes(frame[2:4], "big")
            count = int.from_bytes(frame[4:6], "big")
            if not 1 <= count <= 125:
                reply = self._exception(function, 3)
            elif start + count > self.REGISTERS:
                reply = self._exception(function, 2)
            elif self.exception:
                reply = self._exception(function, self.exception)
            else:
                table = self.holding if function == 3 else self.input
                data = b"".join((table.get(start + n, 0) & 0xFFFF).to_bytes(2, "big") for n in range(count))
                body = bytes((self.device_id, function, len(data))) + data
                reply = body + rtu_crc(body)
        if self.delay > 0:
            self._due.append((time.monotonic() + self.delay, reply))
        else:
            self._send(reply)

    def _exception(self, function: int, code: int) -> bytes:
        body = bytes((self.device_id, function | 0x80, code))
        return body + rtu_crc(body)

    def _send(self, reply: bytes) -> None:
        if self.corrupt:
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        self.write(reply)
        self.replies += 1
        self.reply_times.append(time.monotonic())

    # -- wiring ---------------------------------------------------------------
    def plug(self) -> None:
        """Start socat (the cable) and answer on its device end."""
        socat = shutil.which("socat")
        if socat is None:
            raise RuntimeError("socat is not installed (Debian package socat); CI installs it")
        for link in (self.device_link, self.host_link):
            link.unlink(missing_ok=True)
        self._socat = subprocess.Popen(
            [
                socat,
                f"pty,raw,echo=0,link={self.device_link}",
                f"pty,raw,echo=0,link={self.host_link}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not (self.device_link.exists() and self.host_link.exists()):
            if time.monotonic() > deadline or self._socat.poll() is not None:
                raise RuntimeError("socat did not create the pty pair")
            time.sleep(0.01)
        self.master = os.open(self.device_link, os.O_RDWR | os.O_NOCTTY)
        self._frame.clear()
        self._due.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-modbus", daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """Stop answering and end socat: both ports vanish."""
        super().unplug()  # stops the thread, closes the device end
        if self._socat is not None:
            self._socat.terminate()
            self._socat.wait(5)
            self._socat = None
        for link in (self.device_link, self.host_link):
            link.unlink(missing_ok=True)


class ScriptedRtuDevice(PtyDevice):
    """A Modbus RTU "device" that answers every 8-byte read request with :attr:`reply`, whatever it is.

    For fuzzing the host side: the reply can be any bytes — a valid frame,
    a frame with a wrong CRC, byte count or function code, or plain noise.
    """

    REQUEST_LENGTH = 8  # device id, function, address (2), count (2), CRC (2)

    def __init__(self, link: Path) -> None:
        super().__init__(link)
        self.reply = b""
        self.requests = 0
        self._pending = bytearray()

    def on_data(self, data: bytes) -> None:
        self._pending += data
        while len(self._pending) >= self.REQUEST_LENGTH:
            del self._pending[: self.REQUEST_LENGTH]
            self.requests += 1
            if self.reply:
                self.write(self.reply)
