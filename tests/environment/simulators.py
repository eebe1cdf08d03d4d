"""Sensor simulators on the far end of real pseudo-terminals.

Each simulator owns the master side of a pty pair (``os.openpty``) and
publishes the slave side under a fixed symlink, which is the "serial port"
Deskwatch is configured with.  ``unplug()`` closes the pair and removes the
link, exactly what a USB adapter pulled from its socket looks like to the
reader (EIO, then no such file); ``plug()`` makes a new pair under the same
name.  The Modbus device is pymodbus's own RTU server on a ``socat`` pty pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import shutil
import subprocess
import threading
import time
import tty
from pathlib import Path
from typing import Any

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
            if self.silent:
                continue
            reply = mhz19.encode_reply(self.ppm)
            if self.corrupt_next:
                self.corrupt_next -= 1
                reply = reply[:8] + bytes([(reply[8] + 1) & 0xFF])
            self.write(self.noise + reply)


class ModbusTransmitter:
    """pymodbus's RTU server on one end of a ``socat`` pty pair.

    Registers 0…31 exist (others answer "illegal address"); tests choose
    their values through :meth:`set_registers`.  ``corrupt`` flips the CRC of outgoing
    replies (through pymodbus's packet trace hook).
    """

    REGISTERS = 32

    def __init__(self, device_link: Path, host_link: Path, slave: int = 1) -> None:
        self.device_link = device_link
        self.host_link = host_link
        self.slave = slave
        self.corrupt = False
        self.replies = 0
        self._socat: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.holding: dict[int, int] = {}
        self.input: dict[int, int] = {}

    def _make_device(self) -> Any:
        from pymodbus.simulator import DataType, SimData, SimDevice

        async def serve_current_values(
            function_code: int,
            start_address: int,
            address: int,
            count: int,
            registers: list[int],
            set_values: list[int] | list[bool] | None,
        ) -> None:
            # Copy the values the test chose into the block being answered.
            table = self.holding if function_code in (3, 6, 16) else self.input
            for n in range(len(registers)):
                registers[n] = table.get(start_address + n, 0) & 0xFFFF

        def block(datatype: Any) -> list[Any]:
            value: Any = False if datatype == DataType.BITS else 0
            return [SimData(0, count=self.REGISTERS, values=value, datatype=datatype)]

        return SimDevice(
            id=self.slave,
            simdata=(
                block(DataType.BITS),
                block(DataType.BITS),
                block(DataType.REGISTERS),
                block(DataType.REGISTERS),
            ),
            action=serve_current_values,
        )

    def set_registers(self, function: int, address: int, values: list[int]) -> None:
        """Store register values (function 3 = holding, 4 = input)."""
        table = self.holding if function == 3 else self.input
        table.update({address + n: v for n, v in enumerate(values)})

    # -- wiring ---------------------------------------------------------------
    def plug(self) -> None:
        """Start socat (the cable) and the server (the device)."""
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
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,), name="sim-modbus", daemon=True)
        self._thread.start()
        if not started.wait(5):
            raise RuntimeError("the pymodbus server did not start")

    def _serve(self, started: threading.Event) -> None:
        from pymodbus.server import ModbusSerialServer

        loop = asyncio.new_event_loop()
        self._loop = loop

        def trace(sending: bool, data: bytes) -> bytes:
            if not sending and data and data[0] != self.slave:
                # Another device's request: a real RS-485 bus stays silent
                # (pymodbus 3.11's SimDevice server would answer with an error).
                return b""
            if sending:
                self.replies += 1
                if self.corrupt and len(data) > 2:
                    return data[:-1] + bytes([data[-1] ^ 0xFF])
            return data

        async def main() -> None:
            self._server = ModbusSerialServer(
                self._make_device(),
                port=str(self.device_link),
                baudrate=9600,
                trace_packet=trace,
            )
            started.set()
            await self._server.serve_forever()

        try:
            loop.run_until_complete(main())
        except Exception:  # the server ends when its port vanishes or when stopped
            pass
        finally:
            loop.close()

    def unplug(self) -> None:
        """Stop the server and socat: both ports vanish."""
        if self._loop is not None and self._server is not None:
            future = asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop)
            with contextlib.suppress(Exception):
                future.result(5)
        if self._thread is not None:
            self._thread.join(5)
        self._thread = self._loop = self._server = None
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
