"""Sessions of the binary pollutant sensors: Plantower PMS5003/7003/5003T/5003ST and Winsen ZE08-CH2O.

Both talk in checksummed binary frames at 9600 8N1 and have two modes:
``active`` (the sensor sends on its own, every 0.2–2.3 s; every ``period``
seconds the session takes what the tty has buffered meanwhile in one
non-blocking read, checks every frame in it, counts the bad ones and keeps
the newest valid one, so the thread wakes once a cycle whatever the
sensor's pace, and a pulled cable is noticed at the next cycle, as for an
MH-Z19 that is asked every ``period``) and ``passive``
(the session asks every ``period`` seconds and waits for the answer, so a
silent sensor is told apart from a quiet one).  The first cycle
after every (re)connection sends the mode command, so a sensor left in the
other mode by a previous program — or by a power cut mid-way — is brought
back to the configured one.  Parsing is in :mod:`sensors.plantower` and
:mod:`sensors.ze08`; the sessions only move bytes and count.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from sensors import plantower, ze08
from sensors.framing import WinsenScanner
from sensors.measurement import HCHO, checked
from sensors.reader import CycleResult, LinkLost, _SerialSession
from sensors.serial_transport import TRANSPORT_ERRORS, SerialSettings

MODES: tuple[str, ...] = ("active", "passive")

#: Room temperature (°C) for the formaldehyde conversion when no other sensor of the
#: monitor reports one: 25 °C, the reference temperature of most gas-sensor datasheets.
#: Not conservative in a cooler room: mg/m³ = ppb × M / V_m grows as the room cools
#: (V_m ∝ T), so at GB/T 18883's winter low of 16 °C the true value is 3.1 % above
#: the one computed at 25 °C (0.0825 instead of 0.080 mg/m³ at the limit).
FALLBACK_TEMPERATURE = 25.0
#: Room temperatures outside the ZE08's operating range (0…50 °C) are not used for
#: the conversion: the module is out of specification there, or the thermometer is wrong.
CONVERSION_TEMPERATURES = (0.0, 50.0)

#: How long the first read after (re)connecting waits for a frame in active mode (s), so the
#: first reading comes at once; later reads only take what the tty has buffered.  Short
#: enough for the reader to stop within its 2 s join.
ACTIVE_READ_TIMEOUT = 1.0
#: Longest pause between reads in active mode (s), whatever ``period`` says: in its fast
#: mode a PMS sends 160 B/s, and a pause must not let the 4 KiB tty buffer overflow (which
#: would cut frames and count them as corrupt).
ACTIVE_MAX_PAUSE = 10.0

Value = TypeVar("Value")


class Scanner(Protocol[Value]):
    """What a frame scanner offers a session (see :class:`sensors.plantower.FrameScanner`)."""

    buffer: bytearray
    bad_frames: int
    garbage_bytes: int

    def feed(self, data: bytes) -> list[Value]:
        """Parse received bytes; return the values of the valid frames found."""

    def newest(self, data: bytes) -> Value | None:
        """Parse received bytes, counting bad frames; the value of the newest valid frame."""


class _FrameSession(_SerialSession, Generic[Value]):
    """A binary sensor in active or passive mode (see the module docstring)."""

    #: For messages: the sensor family.
    label = ""
    #: Bytes of one data frame (read this many at a time while waiting).
    frame_length = 1

    def __init__(
        self, settings: SerialSettings, mode: str, period: float, reply_timeout: float = 1.0
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        super().__init__(settings)
        self.passive = mode == "passive"
        self.period = period
        self.reply_timeout = reply_timeout
        self.scanner = self.make_scanner()
        self._mode_sent = False

    @abstractmethod
    def make_scanner(self) -> Scanner[Value]:
        """A fresh scanner for this mode's frames."""

    @abstractmethod
    def mode_command(self) -> bytes:
        """The command that puts the sensor in this session's mode."""

    @abstractmethod
    def request(self) -> bytes:
        """The read command of passive mode."""

    @abstractmethod
    def reading(self, value: Value) -> dict[str, float]:
        """The quantities of one parsed frame."""

    def open(self) -> None:
        super().open()
        if not self.passive and self.port is not None:
            self.port.timeout = ACTIVE_READ_TIMEOUT
        self.scanner = self.make_scanner()  # a half frame from before the reconnect is noise
        self._mode_sent = False
        #: Active mode: the first read waits for a frame; the later ones do not (see cycle()).
        self._waiting_read = not self.passive

    def cycle(self, stop: threading.Event) -> CycleResult:
        started = time.monotonic()
        if not self._mode_sent:
            self._write(self.mode_command())
            self._mode_sent = True
        scanner = self.scanner
        bad_before, garbage_before = scanner.bad_frames, scanner.garbage_bytes
        answered: bool | None = None
        if self.passive:
            scanner.buffer.clear()  # whatever is left belongs to an earlier, unanswered request
            self._write(self.request())
            values: list[Value] = []
            deadline = started + self.reply_timeout
            while not values and time.monotonic() < deadline and not stop.is_set():
                values = scanner.feed(self._read(self.frame_length))
            answered = bool(values)
        elif self._waiting_read:
            values = scanner.feed(self._read_available())
            self._waiting_read = False
            self._set_timeout(0)  # from now on a read takes what has come, without waiting
        else:
            # One read of what the tty buffered since the last cycle (at most 160 B/s in the
            # fast mode: 4 KiB is 25 s of it).  With timeout 0 it returns at once; a port
            # that hung up (the cable pulled) is "ready" and fails it: LinkLost.
            newest = scanner.newest(self._read(4096))
            values = [] if newest is None else [newest]
        result = CycleResult(
            readings=[self.reading(v) for v in values[-1:]],
            bad_frames=scanner.bad_frames - bad_before,
            garbage_bytes=scanner.garbage_bytes - garbage_before,
            answered=answered,
        )
        if result.bad_frames:
            result.problem = f"{self.label} frame with a bad checksum, length or impossible value"
        elif answered is False:
            result.problem = f"no {self.label} answer within {self.reply_timeout:g} s"
        pause = self.period if self.passive else min(self.period, ACTIVE_MAX_PAUSE)
        stop.wait(max(0.0, pause - (time.monotonic() - started)))
        return result

    def _set_timeout(self, seconds: float) -> None:
        if self.port is None:
            raise LinkLost("port is not open")
        try:
            self.port.timeout = seconds
        except TRANSPORT_ERRORS as exc:
            raise LinkLost(str(exc)) from exc

    def _read_available(self) -> bytes:
        """What has arrived, and at least the rest of a frame (waiting at most the port timeout).

        Asking for a whole frame wakes the thread once per frame rather than
        once per byte, as the frame trickles in at 9600 baud.
        """
        try:
            waiting = self.port.in_waiting if self.port is not None else 0
        except TRANSPORT_ERRORS as exc:
            raise LinkLost(str(exc)) from exc
        rest_of_frame = max(1, self.frame_length - len(self.scanner.buffer))
        return self._read(min(max(waiting, rest_of_frame), 4096))


class PlantowerSession(_FrameSession[plantower.Sample]):
    """A Plantower particulate sensor: PM1, PM2.5 and PM10 in µg/m³.

    ``model`` (one of :data:`sensors.plantower.MODELS`) adds temperature and
    humidity (``pms5003t``, ``pms5003st``) and formaldehyde in mg/m³
    (``pms5003st``) to the readings.
    """

    label = "PMS"
    frame_length = plantower.FRAME_LENGTH

    def __init__(
        self,
        settings: SerialSettings,
        mode: str,
        period: float,
        model: str = "pms5003",
        reply_timeout: float = 1.0,
    ) -> None:
        if model not in plantower.MODELS:
            raise ValueError(f"model must be one of {', '.join(plantower.MODELS)}")
        self.model = model
        if model == "pms5003st":
            self.frame_length = plantower.ST_FRAME_LENGTH
        super().__init__(settings, mode, period, reply_timeout)

    def make_scanner(self) -> plantower.FrameScanner:
        return plantower.FrameScanner(self.model)

    def mode_command(self) -> bytes:
        return plantower.SET_PASSIVE if self.passive else plantower.SET_ACTIVE

    def request(self) -> bytes:
        return plantower.READ_REQUEST

    def reading(self, value: plantower.Sample) -> dict[str, float]:
        return value.reading()


class Ze08Session(_FrameSession[float]):
    """A Winsen ZE08-CH2O formaldehyde module: HCHO in mg/m³ at the room's temperature.

    ``room_temperature`` returns the room's current temperature (°C) from
    another sensor of the same monitor, or ``None``; without one the
    conversion uses :data:`FALLBACK_TEMPERATURE`.  Passive mode is the
    manual's question-and-answer mode.
    """

    label = "ZE08"
    frame_length = ze08.FRAME_LENGTH

    def __init__(
        self,
        settings: SerialSettings,
        mode: str,
        period: float,
        room_temperature: Callable[[], float | None] | None = None,
        reply_timeout: float = 1.0,
    ) -> None:
        self.room_temperature = room_temperature
        #: The temperature the last conversion used (°C), for diagnostics and tests.
        self.conversion_temperature = FALLBACK_TEMPERATURE
        super().__init__(settings, mode, period, reply_timeout)

    def make_scanner(self) -> WinsenScanner:
        return ze08.answer_scanner() if self.passive else ze08.upload_scanner()

    def mode_command(self) -> bytes:
        return ze08.SET_QA if self.passive else ze08.SET_ACTIVE

    def request(self) -> bytes:
        return ze08.READ_REQUEST

    def temperature(self) -> float:
        """The temperature to convert at now (°C)."""
        measured = self.room_temperature() if self.room_temperature is not None else None
        low, high = CONVERSION_TEMPERATURES
        if measured is None or not low <= measured <= high:
            return FALLBACK_TEMPERATURE
        return measured

    def reading(self, value: float) -> dict[str, float]:
        self.conversion_temperature = celsius = self.temperature()
        return {HCHO: checked(HCHO, round(ze08.ppb_to_mg_m3(value, celsius), 4))}
