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
``42 4D 00 04 E1 mode cs_hi cs_lo``.

Two variants Chinese offices buy add a thermometer and hygrometer, and one a
formaldehyde cell (Plantower's PMS5003T and PMS5003ST data manuals):

- **PMS5003ST**: a 40-byte frame, length field 2×17 + 2 = 36 (``00 24``).
  Words 1–12 as above; word 13 formaldehyde in µg/m³ (the manual: real value
  = word / 1000 mg/m³), word 14 temperature in 0.1 °C (signed), word 15
  relative humidity in 0.1 %, word 16 reserved, word 17 firmware version
  (high byte) and error code (low byte).  The length field tells it apart.
- **PMS5003T**: the plain 32-byte frame (length 28) with only four particle
  counts (0.3, 0.5, 1.0, 2.5 µm, words 7–10); word 11 is the temperature in
  0.1 °C (signed), word 12 the humidity in 0.1 %, word 13 version and error
  code.  Nothing in the frame tells it from a PMS5003, whose words 11–12 are
  the 5 µm and 10 µm counts: the model has to be configured
  (``model = "pms5003t"``).

Pure code: no I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from sensors.measurement import (
    HCHO,
    HUMIDITY,
    PM1,
    PM10,
    PM25,
    TEMPERATURE,
    VALID_RANGE,
    FrameError,
    checked,
)

START = b"\x42\x4d"
FRAME_LENGTH = 32
#: Value of the frame length field of a data frame: 13 data words and the checksum.
DATA_LENGTH_FIELD = 2 * 13 + 2
ACK_LENGTH = 8
#: Value of the frame length field of a command acknowledgement.
ACK_LENGTH_FIELD = 4
WORDS = 13
#: The PMS5003ST's longer data frame: 17 data words.
ST_WORDS = 17
ST_FRAME_LENGTH = 2 * ST_WORDS + 6
#: Value of the PMS5003ST's frame length field: 17 data words and the checksum (``00 24``).
ST_LENGTH_FIELD = 2 * ST_WORDS + 2

#: Models whose frames differ: ``pms5003`` also stands for the PMS7003 and PMS1003 (same
#: frame); a ``pms5003st`` frame is recognised by its length whatever is configured, a
#: ``pms5003t`` frame only by the configured model.
MODELS: tuple[str, ...] = ("pms5003", "pms5003t", "pms5003st")
#: The model whose 32-byte frame carries temperature and humidity in words 11 and 12.
THERMO_MODEL = "pms5003t"
#: Frame length field → bytes of the whole frame.
_SIZES = {DATA_LENGTH_FIELD: FRAME_LENGTH, ST_LENGTH_FIELD: ST_FRAME_LENGTH, ACK_LENGTH_FIELD: ACK_LENGTH}

CMD_MODE = 0xE1
CMD_READ = 0xE2
PASSIVE = 0
ACTIVE = 1


def checksum(data: bytes | bytearray) -> int:
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
    """One data frame's values: mass concentrations (µg/m³), particle counts (per 0.1 L) and,
    from the T and ST variants, formaldehyde, temperature and humidity."""

    #: PM1.0, PM2.5, PM10 "under atmospheric environment".
    atmospheric: tuple[int, int, int]
    #: PM1.0, PM2.5, PM10 with CF=1 ("standard particle", for factory calibration).
    cf1: tuple[int, int, int]
    #: Particles above 0.3, 0.5, 1.0, 2.5, 5.0 and 10 µm in 0.1 L of air (the PMS5003T: the first four).
    counts: tuple[int, ...]
    #: Formaldehyde in mg/m³ (PMS5003ST).
    hcho: float | None = None
    #: Temperature in °C (PMS5003T, PMS5003ST).
    temperature: float | None = None
    #: Relative humidity in % (PMS5003T, PMS5003ST).
    humidity: float | None = None

    def reading(self) -> dict[str, float]:
        """The room's PM1, PM2.5 and PM10 in µg/m³, and what else the model measures."""
        # The manual: "CF=1 should be used in the factory environment"; the
        # atmospheric values are the ones corrected for ambient air, which is
        # what a room sensor measures and what GB/T 18883 limits refer to.
        pm1, pm25, pm10 = self.atmospheric
        values = {PM1: float(pm1), PM25: float(pm25), PM10: float(pm10)}
        for quantity, value in (
            (HCHO, self.hcho),
            (TEMPERATURE, self.temperature),
            (HUMIDITY, self.humidity),
        ):
            if value is not None:
                values[quantity] = value
        return values


def _signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def encode_frame(
    atmospheric: tuple[int, int, int],
    cf1: tuple[int, int, int] | None = None,
    counts: tuple[int, ...] = (0, 0, 0, 0, 0, 0),
    reserved: int = 0,
    *,
    model: str = "pms5003",
    hcho: float = 0.0,
    temperature: float = 0.0,
    humidity: float = 0.0,
) -> bytes:
    """A sensor's data frame (for simulators and tests); ``cf1`` defaults to ``atmospheric``.

    ``model`` ``pms5003`` gives the 32-byte frame with six ``counts``; ``pms5003t``
    the 32-byte frame with four counts, ``temperature`` (°C) and ``humidity`` (%);
    ``pms5003st`` the 40-byte frame with six counts, ``hcho`` (mg/m³), temperature
    and humidity.  ``reserved`` fills the last word.
    """
    pm = (*(cf1 or atmospheric), *atmospheric)
    thermo = (round(temperature * 10) & 0xFFFF, round(humidity * 10))
    if model == "pms5003":
        words, length = (*pm, *counts, reserved), DATA_LENGTH_FIELD
    elif model == THERMO_MODEL:
        words, length = (*pm, *counts[:4], *thermo, reserved), DATA_LENGTH_FIELD
    elif model == "pms5003st":
        words, length = (*pm, *counts, round(hcho * 1000), *thermo, 0, reserved), ST_LENGTH_FIELD
    else:
        raise ValueError(f"model must be one of {', '.join(MODELS)}")
    if len(words) != (length - 2) // 2 or any(not 0 <= w <= 0xFFFF for w in words):
        raise ValueError(f"a {model} data frame holds {(length - 2) // 2} words of 0…65535")
    body = START + length.to_bytes(2, "big") + b"".join(w.to_bytes(2, "big") for w in words)
    return _sealed(body)


def encode_ack(code: int, data: int) -> bytes:
    """The sensor's 8-byte acknowledgement of command ``code`` with data byte ``data``."""
    return _sealed(START + ACK_LENGTH_FIELD.to_bytes(2, "big") + bytes([code & 0xFF, data & 0xFF]))


def _sum_ok(frame: bytes | bytearray) -> None:
    expected = checksum(frame[:-2])
    got = int.from_bytes(frame[-2:], "big")
    if got != expected:
        raise FrameError(f"PMS checksum mismatch: got {got:04x}, expected {expected:04x}")


#: The data words of the two data frames, unpacked in one call each.
_WORDS = {DATA_LENGTH_FIELD: struct.Struct(f">{WORDS}H"), ST_LENGTH_FIELD: struct.Struct(f">{ST_WORDS}H")}
_PM_MAX = (VALID_RANGE[PM1][1], VALID_RANGE[PM25][1], VALID_RANGE[PM10][1])


def _checked_words(frame: bytes | bytearray, length: int, model: str) -> tuple[int, ...]:
    """The data words of a candidate whose start and length field fit its size; :class:`FrameError`
    if its checksum or its values are not possible.

    Everything :func:`parse_frame` rejects is rejected here, on the raw words,
    so a scanner can check every frame and build a :class:`Sample` for the
    newest only.
    """
    if (sum(frame) - frame[-2] - frame[-1]) & 0xFFFF != (frame[-2] << 8) | frame[-1]:
        _sum_ok(frame)  # raises, with the sums
    words: tuple[int, ...] = _WORDS[length].unpack_from(frame, 4)
    # PM2.5 includes PM1 and PM10 includes PM2.5 (CF=1 in words 1-3, atmospheric in 4-6):
    # anything else is corruption the weak sum checksum let through.
    if not (words[0] <= words[1] <= words[2] and words[3] <= words[4] <= words[5]):
        name, (pm1, pm25, pm10) = (
            ("CF=1", words[0:3]) if not words[0] <= words[1] <= words[2] else ("atmospheric", words[3:6])
        )
        raise FrameError(f"PMS {name} values not cumulative: PM1 {pm1}, PM2.5 {pm25}, PM10 {pm10}")
    # Unsigned words are never negative: only the upper ends of the atmospheric values (the
    # ones reported) need a look; checked() gives the message.
    if words[3] > _PM_MAX[0] or words[4] > _PM_MAX[1] or words[5] > _PM_MAX[2]:
        for quantity, value in ((PM1, words[3]), (PM25, words[4]), (PM10, words[5])):
            checked(quantity, float(value))
    if length == ST_LENGTH_FIELD:
        checked(HCHO, words[12] / 1000)
        checked(TEMPERATURE, _signed(words[13]) / 10)
        checked(HUMIDITY, words[14] / 10)
    elif model == THERMO_MODEL:
        checked(TEMPERATURE, _signed(words[10]) / 10)
        checked(HUMIDITY, words[11] / 10)
    return words


def _sample(words: tuple[int, ...], length: int, model: str) -> Sample:
    """The :class:`Sample` of data words :func:`_checked_words` accepted."""
    cf1 = (words[0], words[1], words[2])
    atmospheric = (words[3], words[4], words[5])
    if length == ST_LENGTH_FIELD:
        return Sample(
            atmospheric,
            cf1,
            tuple(words[6:12]),
            hcho=words[12] / 1000,
            temperature=_signed(words[13]) / 10,
            humidity=words[14] / 10,
        )
    if model == THERMO_MODEL:
        return Sample(
            atmospheric, cf1, tuple(words[6:10]), temperature=_signed(words[10]) / 10, humidity=words[11] / 10
        )
    return Sample(atmospheric, cf1, tuple(words[6:12]))


def parse_frame(frame: bytes, model: str = "pms5003") -> Sample:
    """The values of one data frame; :class:`FrameError` if it is not valid.

    The frame's length field decides between the 32-byte frame and the
    PMS5003ST's 40-byte one; ``model`` says whether a 32-byte frame is a
    PMS5003T's (temperature and humidity in words 11–12).
    """
    if frame[:2] != START:
        raise FrameError(f"not a PMS frame: starts {frame[:2].hex(' ')}")
    length = int.from_bytes(frame[2:4], "big")
    if length not in (DATA_LENGTH_FIELD, ST_LENGTH_FIELD):
        raise FrameError(
            f"PMS frame length field {length}, expected {DATA_LENGTH_FIELD} or {ST_LENGTH_FIELD}"
        )
    if len(frame) != _SIZES[length]:
        raise FrameError(f"PMS frame has {len(frame)} bytes, its length field says {_SIZES[length]}")
    return _sample(_checked_words(frame, length, model), length, model)


def parse_ack(frame: bytes | bytearray) -> tuple[int, int]:
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
    data frame (28, or 36 from a PMS5003ST) or an acknowledgement (4); any
    other length is a bad frame.  ``model`` is the configured model, for the
    PMS5003T's frame that only it tells apart.  A bad candidate costs one
    byte, not the frame boundary: scanning resumes right after its first
    start byte, so a valid frame behind a truncated one is still found.  The
    buffer never holds more than one (longest) frame's worth of bytes.
    """

    model: str = "pms5003"
    buffer: bytearray = field(default_factory=bytearray)
    #: Candidates rejected so far (bad length field, checksum or value).
    bad_frames: int = 0
    #: Bytes discarded because they could not start a frame.
    garbage_bytes: int = 0
    #: ``(command, data)`` of the acknowledgements seen, oldest first (the latest few).
    acks: list[tuple[int, int]] = field(default_factory=list)

    def feed(self, data: bytes) -> list[Sample]:
        """Add received bytes; return the samples of the complete valid data frames found."""
        return [_sample(words, length, self.model) for length, words in self._scan(data, every=True)]

    def newest(self, data: bytes) -> Sample | None:
        """Add received bytes; the sample of the newest complete valid data frame, or ``None``.

        Every frame is checked and every bad one counted as by :meth:`feed`;
        only the newest valid one becomes a :class:`Sample`, which is all a
        reader that takes a burst of frames at once keeps.
        """
        found = self._scan(data, every=False)
        return _sample(found[0][1], found[0][0], self.model) if found else None

    def _scan(self, data: bytes, every: bool) -> list[tuple[int, tuple[int, ...]]]:
        """(length field, words) of the valid data frames in the buffer and ``data`` (``every``:
        all of them, else the newest); the buffer keeps only a frame that is not whole yet."""
        buffer = self.buffer
        buffer += data
        found: list[tuple[int, tuple[int, ...]]] = []
        end = len(buffer)
        pos = 0
        while True:
            index = buffer.find(START, pos)
            if index < 0:
                # A last 42 may be the start of a frame split across two reads: keep it.
                keep = end - 1 if end > pos and buffer[end - 1] == START[0] else end
                self.garbage_bytes += keep - pos
                pos = keep
                break
            self.garbage_bytes += index - pos
            pos = index
            if end - pos < 4:
                break
            length = (buffer[pos + 2] << 8) | buffer[pos + 3]
            size = _SIZES.get(length)
            if size is None:
                self.bad_frames += 1
                pos += 1
                continue
            if end - pos < size:
                break
            candidate = buffer[pos : pos + size]
            try:
                if size == ACK_LENGTH:
                    self.acks = [*self.acks[-7:], parse_ack(candidate)]
                elif every:
                    found.append((length, _checked_words(candidate, length, self.model)))
                else:
                    found = [(length, _checked_words(candidate, length, self.model))]
            except FrameError:
                self.bad_frames += 1
                pos += 1
                continue
            pos += size
        del buffer[:pos]
        return found
