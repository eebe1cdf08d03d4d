"""pty simulators of the pollutant sensors, written from their datasheets.

A Plantower PMS5003, PMS5003T or PMS5003ST (active: a 32-byte (ST: 40-byte) frame every ``interval`` seconds;
passive: a frame for each ``42 4D E2 00 00 01 71`` read command; mode commands
are acknowledged with the manual's 8-byte answer) and a Winsen ZE08-CH2O
(active upload of 9-byte ``FF 17 …`` frames; question-and-answer mode after
``FF 01 78 41 …``).  Faults a test can inject: the next frames with a wrong
checksum (``corrupt_next``), cut short (``truncate_next``), noise before each
frame (``noise``), silence (``silent``); ``unplug()``/``plug()`` as for every
:class:`PtyDevice`.
"""

from __future__ import annotations

import time
from pathlib import Path

from sensors import plantower, ze08
from tests.environment.simulators import PtyDevice


class _FramedSensor(PtyDevice):
    """Common fault injection and command matching of the two simulators."""

    #: Length of a host command frame.
    command_length = 1

    def __init__(self, link: Path, interval: float) -> None:
        super().__init__(link)
        self.interval = interval
        self.active = True
        self.corrupt_next = 0
        self.truncate_next = 0
        self.noise = b""
        self.silent = False
        self.frames_sent = 0
        self.commands: list[bytes] = []
        self._pending = bytearray()
        self._last = 0.0

    def frame(self) -> bytes:
        """The current reading as a frame of the active mode."""
        raise NotImplementedError

    def answer(self, command: bytes) -> bytes | None:
        """What the sensor says to a host command (``None``: not a command it knows)."""
        raise NotImplementedError

    def faulted(self, frame: bytes) -> bytes:
        """``frame`` with the next injected fault (if any) and the noise before it."""
        if self.corrupt_next:
            self.corrupt_next -= 1
            frame = frame[:-1] + bytes([(frame[-1] + 1) & 0xFF])
        elif self.truncate_next:
            self.truncate_next -= 1
            frame = frame[: len(frame) // 2]
        return self.noise + frame

    def send(self, frame: bytes) -> None:
        if not self.silent:
            self.write(self.faulted(frame))
            self.frames_sent += 1

    def on_data(self, data: bytes) -> None:
        self._pending += data
        while len(self._pending) >= self.command_length:
            candidate = bytes(self._pending[: self.command_length])
            reply = self.answer(candidate)
            if reply is None:  # not a command: a real UART drops the byte and resynchronises
                del self._pending[:1]
                continue
            del self._pending[: self.command_length]
            self.commands.append(candidate)
            if reply:
                self.send(reply)

    def on_tick(self) -> None:
        now = time.monotonic()
        if self.active and now - self._last >= self.interval:
            self._last = now
            self.send(self.frame())


class Pms5003(_FramedSensor):
    """A Plantower sensor with PM values ``atmospheric`` (µg/m³; CF=1 values 10 % higher).

    ``model`` ``pms5003`` (the default, also a PMS7003), ``pms5003t`` (adds
    ``temperature`` °C and ``humidity`` % in the 32-byte frame) or ``pms5003st``
    (the 40-byte frame, also ``hcho`` mg/m³).
    """

    command_length = 7

    def __init__(self, link: Path, interval: float = 0.2, model: str = "pms5003") -> None:
        super().__init__(link, interval)
        self.model = model
        self.atmospheric = (8, 12, 15)
        self.hcho = 0.03
        self.temperature = 24.5
        self.humidity = 48.0

    def frame(self) -> bytes:
        cf1 = (
            int(self.atmospheric[0] * 1.1),
            int(self.atmospheric[1] * 1.1),
            int(self.atmospheric[2] * 1.1),
        )
        return plantower.encode_frame(
            self.atmospheric,
            cf1,
            counts=(1200, 350, 60, 8, 2, 1),
            # The manuals' last word: firmware version (high byte) and error code 0.
            reserved=0x9100 if self.model != "pms5003" else 0,
            model=self.model,
            hcho=self.hcho,
            temperature=self.temperature,
            humidity=self.humidity,
        )

    def answer(self, command: bytes) -> bytes | None:
        if command[:2] != plantower.START or plantower.checksum(command[:5]) != int.from_bytes(
            command[5:], "big"
        ):
            return None
        code, data = command[2], command[4]
        if code == plantower.CMD_MODE and data in (plantower.PASSIVE, plantower.ACTIVE):
            self.active = data == plantower.ACTIVE
            return plantower.encode_ack(code, data)
        if code == plantower.CMD_READ:
            return b"" if self.active else self.frame()  # the manual: reads are for passive mode
        return b""


class Ze08(_FramedSensor):
    """A ZE08-CH2O reading ``ppb`` (full range 5000 ppb)."""

    command_length = ze08.FRAME_LENGTH

    def __init__(self, link: Path, interval: float = 0.2) -> None:
        super().__init__(link, interval)
        self.ppb = 40

    def frame(self) -> bytes:
        return ze08.encode_upload(self.ppb)

    def answer(self, command: bytes) -> bytes | None:
        if command not in (ze08.SET_QA, ze08.SET_ACTIVE, ze08.READ_REQUEST):
            return None
        if command == ze08.READ_REQUEST:
            # The module converts to µg/m³ itself (at a fixed 20 °C here); the host uses the ppb.
            return (
                b""
                if self.active
                else ze08.encode_answer(self.ppb, round(ze08.ppb_to_mg_m3(self.ppb, 20) * 1000))
            )
        self.active = command == ze08.SET_ACTIVE
        return b""  # the manual gives no answer to a mode change
