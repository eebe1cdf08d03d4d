"""Plantower PMS5003 / PMS7003 particulate sensors, UART protocol (9600 8N1).

Written from Plantower's data manual (PMS5003 series V2.3, PMS7003 V2.5).
The sensor sends 32-byte frames::

    42 4D  00 1C  d1 … d13 (13 big-endian 16-bit words)  cs_hi cs_lo

The frame length field is 2×13 + 2 = 28 (data and checksum), and the
checksum is the 16-bit sum of every byte before it, start bytes included.
Words 1–3 are PM1.0, PM2.5 and PM10 "CF=1" (standard particle), words 4–6
the same "under atmospheric environment", words 7–12 particle counts per
0.1 L above 0.3, 0.5, 1.0, 2.5, 5.0 and 10 µm, word 13 is reserved.

In active mode (the default after power-up) the sensor sends a frame every
0.2–2.3 s on its own; in passive mode it answers each read command.  Host
commands are 7 bytes, ``42 4D cmd data_hi data_lo cs_hi cs_lo`` with the same
sum checksum: ``E1 00 00`` passive, ``E1 00 01`` active, ``E2 00 00`` read.
A mode change is acknowledged by an 8-byte frame whose length field is 4:
``42 4D 00 04 E1 mode cs_hi cs_lo``.  Pure code: no I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from sensors.framing import skip_to_header
from sensors.measurement import PM1, PM10, PM25, FrameError, checked

START = b"\x42\x4d"
FRAME_LENGTH = 32
#: Value of the frame length field of a data frame: 13 data words and the checksum.
DATA_LENGTH_FIELD = 2 * 13 + 2
ACK_LENGTH = 8
#: Value of the frame length field of a command acknowledgement.
ACK_LENGTH_FIELD = 4
WORDS = 13

CMD_MODE = 0xE1
CMD_READ = 0xE2
PASSIVE = 0
ACTIVE = 1


def checksum(data: bytes) -> int:
    """The 16-bit sum of ``data`` (every byte before the checksum field)."""
    return sum(data) & 0xFFFF


def _sealed(body: bytes) -> bytes:
    return body + checksum(body).to_bytes(2, "big")


def command(code: int, data: int = 0) -> bytes:
    """A 7-byte host command with its checksum."""
    return _sealed(START + bytes([code & 0xFF]) + (data & 0xFFFF).to_bytes(2, "big"))


#: Host commands: switch to passive mode, to active mode, and read once (passive mode).
SET_PASSIVE: bytes = command(CMD_MODE, PASSIVE)
SET_ACTIVE: bytes = command(CMD_MODE, ACTIVE)
READ_REQUEST: bytes = command(CMD_READ)


@dataclass(frozen=True)
class Sample:
    """One data frame's mass concentrations (µg/m³) and particle counts (per 0.1 L)."""

    #: PM1.0, PM2.5, PM10 "under atmospheric environment".
    atmospheric: tuple[int, int, int]
    #: PM1.0, PM2.5, PM10 with CF=1 ("standard particle", for factory calibration).
    cf1: tuple[int, int, int]
    #: Particles above 0.3, 0.5, 1.0, 2.5, 5.0 and 10 µm in 0.1 L of air.
    counts: tuple[int, int, int, int, int, int]

    def reading(self) -> dict[str, float]:
        """The room's PM1, PM2.5 and PM10 in µg/m³."""
        # The manual: "CF=1 should be used in the factory environment"; the
        # atmospheric values are the ones corrected for ambient air, which is
        # what a room sensor measures and what GB/T 18883 limits refer to.
        pm1, pm25, pm10 = self.atmospheric
        return {PM1: float(pm1), PM25: float(pm25), PM10: float(pm10)}


def encode_frame(
    atmospheric: tuple[int, int, int],
    cf1: tuple[int, int, int] | None = None,
    counts: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0),
    reserved: int = 0,
) -> bytes:
    """A sensor's 32-byte data frame (for simulators and tests); ``cf1`` defaults to ``atmospheric``."""
    words = (*(cf1 or atmospheric), *atmospheric, *counts, reserved)
    if len(words) != WORDS or any(not 0 <= w <= 0xFFFF for w in words):
        raise ValueError("a data frame holds 13 words of 0…65535")
    body = START + DATA_LENGTH_FIELD.to_bytes(2, "big") + b"".join(w.to_bytes(2, "big") for w in words)
    return _sealed(body)


def encode_ack(code: int, data: int) -> bytes:
    """The sensor's 8-byte acknowledgement of command ``code`` with data byte ``data``."""
    return _sealed(START + ACK_LENGTH_FIELD.to_bytes(2, "big") + bytes([code & 0xFF, data & 0xFF]))


def _sum_ok(frame: bytes) -> None:
    expected = checksum(frame[:-2])
    got = int.from_bytes(frame[-2:], "big")
    if got != expected:
        raise FrameError(f"PMS checksum mismatch: got {got:04x}, expected {expected:04x}")


def parse_frame(frame: bytes) -> Sample:
    """The values of one 32-byte data frame; :class:`FrameError` if it is not valid."""
    if len(frame) != FRAME_LENGTH:
        raise FrameError(f"PMS frame has {len(frame)} bytes, expected {FRAME_LENGTH}")
    if frame[:2] != START:
        raise FrameError(f"not a PMS frame: starts {frame[:2].hex(' ')}")
    length = int.from_bytes(frame[2:4], "big")
    if length != DATA_LENGTH_FIELD:
        raise FrameError(f"PMS frame length field {length}, expected {DATA_LENGTH_FIELD}")
    _sum_ok(frame)
    words = struct.unpack_from(f">{WORDS}H", frame, 4)
    cf1 = (words[0], words[1], words[2])
    atmospheric = (words[3], words[4], words[5])
    for name, (pm1, pm25, pm10) in (("CF=1", cf1), ("atmospheric", atmospheric)):
        # PM2.5 includes PM1 and PM10 includes PM2.5: anything else is corruption
        # the weak sum checksum let through.
        if not pm1 <= pm25 <= pm10:
            raise FrameError(f"PMS {name} values not cumulative: PM1 {pm1}, PM2.5 {pm25}, PM10 {pm10}")
    sample = Sample(atmospheric, cf1, (words[6], words[7], words[8], words[9], words[10], words[11]))
    for quantity, value in sample.reading().items():
        checked(quantity, value)
    return sample


def parse_ack(frame: bytes) -> tuple[int, int]:
    """``(command, data)`` of an 8-byte acknowledgement; :class:`FrameError` if it is not valid."""
    if len(frame) != ACK_LENGTH or frame[:2] != START:
        raise FrameError("not a PMS acknowledgement")
    if int.from_bytes(frame[2:4], "big") != ACK_LENGTH_FIELD:
        raise FrameError("PMS acknowledgement length field is not 4")
    _sum_ok(frame)
    return frame[4], frame[5]


@dataclass
class FrameScanner:
    """Finds data frames and acknowledgements in a byte stream with noise and broken frames.

    A candidate starts at ``42 4D``; its length field says whether it is a
    data frame (28) or an acknowledgement (4).  A bad candidate costs one
    byte, not the frame boundary: scanning resumes right after its first
    start byte, so a valid frame behind a truncated one is still found.  The
    buffer never holds more than one frame's worth of bytes.
    """

    buffer: bytearray = field(default_factory=bytearray)
    #: Candidates rejected so far (bad length field, checksum or value).
    bad_frames: int = 0
    #: Bytes discarded because they could not start a frame.
    garbage_bytes: int = 0
    #: ``(command, data)`` of the acknowledgements seen, oldest first (the latest few).
    acks: list[tuple[int, int]] = field(default_factory=list)

    def feed(self, data: bytes) -> list[Sample]:
        """Add received bytes; return the samples of the complete valid data frames found."""
        self.buffer += data
        samples: list[Sample] = []
        while self._drop_to_start() and len(self.buffer) >= 4:
            length = int.from_bytes(self.buffer[2:4], "big")
            size = {DATA_LENGTH_FIELD: FRAME_LENGTH, ACK_LENGTH_FIELD: ACK_LENGTH}.get(length)
            if size is None:
                self._reject()
                continue
            if len(self.buffer) < size:
                break
            candidate = bytes(self.buffer[:size])
            try:
                if size == FRAME_LENGTH:
                    samples.append(parse_frame(candidate))
                else:
                    self.acks = [*self.acks[-7:], parse_ack(candidate)]
            except FrameError:
                self._reject()
                continue
            del self.buffer[:size]
        return samples

    def _reject(self) -> None:
        self.bad_frames += 1
        del self.buffer[:1]

    def _drop_to_start(self) -> bool:
        """Drop bytes before the next ``42 4D``; True if a whole start is left."""
        self.garbage_bytes += skip_to_header(self.buffer, START)
        return len(self.buffer) >= 2
