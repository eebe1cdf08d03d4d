"""Fuzz: Modbus RTU replies and register maps.

Replies come over a real pty from a device that answers each request with
bytes chosen by hypothesis (valid frames, wrong CRC, wrong byte count or
function, exception replies, noise); the host side is the real session with
its RTU client (:mod:`sensors.modbus_rtu`).  The client alone also gets any
bytes, cut into pieces arriving at any pace, on an in-memory line with a
stepped clock, so thousands of cases run in seconds.  Register maps and
register values are fuzzed through the pure decoder.  Either way: a reading,
or a counted bad frame / no answer — never an exception, never an impossible
value.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.measurement import QUANTITIES, FrameError
from sensors.modbus_env import PRESETS, build_map
from sensors.modbus_rtu import RtuClient
from sensors.reader import ModbusSession
from sensors.serial_transport import SerialSettings
from tests.environment.fuzz import EXAMPLES, FUZZ, assert_sound
from tests.environment.simulators import ScriptedRtuDevice, rtu_crc


def crc16(frame: bytes) -> bytes:
    """Modbus CRC-16 (poly 0xA001, start 0xFFFF), low byte first as sent on the wire."""
    crc = 0xFFFF
    for byte in frame:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return bytes([crc & 0xFF, crc >> 8])


def frame_of(body: bytes) -> bytes:
    return body + crc16(body)


def registers_reply(words: list[int]) -> bytes:
    """Device 1's well-formed answer to "read holding registers" with these values."""
    data = b"".join(w.to_bytes(2, "big") for w in words)
    return frame_of(bytes([1, 3, len(data)]) + data)


words_of_a_reply = st.lists(st.integers(0, 0xFFFF), min_size=2, max_size=2)


@st.composite
def mangled_replies(draw: st.DrawFn) -> bytes:
    """A reply to "read 2 holding registers from 0" at device 1 with something wrong, or not."""
    device = draw(st.sampled_from([1, 1, 2, 0, 255]))
    function = draw(st.sampled_from([3, 3, 4, 0x83, 0x90, 0]))
    if function & 0x80:
        body = bytes([device, function, draw(st.integers(0, 255))])
    else:
        words = draw(st.lists(st.integers(0, 0xFFFF), max_size=4))
        data = b"".join(w.to_bytes(2, "big") for w in words)
        count = draw(st.sampled_from([len(data), 4, 0, 255, len(data) + 1]))
        body = bytes([device, function, count & 0xFF]) + data
    frame = frame_of(body)
    mutation = draw(st.sampled_from(["none", "crc", "truncate", "extra"]))
    if mutation == "crc":
        frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
    elif mutation == "truncate":
        frame = frame[: draw(st.integers(1, max(1, len(frame) - 1)))]
    elif mutation == "extra":
        frame += draw(st.binary(min_size=1, max_size=8))
    return frame


replies = st.one_of(
    words_of_a_reply.map(registers_reply), mangled_replies(), st.binary(min_size=1, max_size=24)
)


@pytest.fixture(scope="module")
def rtu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScriptedRtuDevice, ModbusSession]]:
    device = ScriptedRtuDevice(Path(tmp_path_factory.mktemp("dev")) / "ttyRS485")
    device.plug()
    session = ModbusSession(
        SerialSettings(port=str(device.link), timeout=0.05),
        PRESETS["holding-h0-t1"],
        device_id=1,
        period=0.0,
        reply_timeout=0.08,
    )
    session.open()
    yield device, session
    session.close()
    device.unplug()


@settings(FUZZ, max_examples=max(40, EXAMPLES // 10))
@given(reply=replies)
def test_any_reply_is_a_reading_or_a_counted_problem(
    rtu: tuple[ScriptedRtuDevice, ModbusSession], reply: bytes
) -> None:
    device, session = rtu
    device.reply = reply
    result = session.cycle(threading.Event())
    assert_sound(result)
    if result.readings:
        assert result.answered and result.bad_frames == 0
    else:
        assert result.problem, "no reading must say why"


def signed16(word: int) -> int:
    return word - 0x10000 if word >= 0x8000 else word


@settings(FUZZ, max_examples=max(30, EXAMPLES // 10))
@given(words=words_of_a_reply)
def test_a_valid_reply_reads_what_it_carries(
    rtu: tuple[ScriptedRtuDevice, ModbusSession], words: list[int]
) -> None:
    device, session = rtu
    device.reply = registers_reply(words)
    result = session.cycle(threading.Event())
    assert_sound(result)
    humidity, temperature = words[0] / 10, signed16(words[1]) / 10  # the preset: RH at 0, T at 1, ×10
    if 0 <= humidity <= 100 and -40 <= temperature <= 125:
        assert result.readings == [{"humidity": humidity, "temperature": temperature}]
    else:  # a real frame carrying an impossible value
        assert (result.readings, result.bad_frames) == ([], 1)


class SteppedLine:
    """An in-memory serial line on a stepped clock: each piece of the reply arrives at its time.

    ``read`` behaves like pyserial's: at most ``size`` bytes, waiting up to
    ``timeout`` for the first one; waiting moves the clock instead of sleeping.
    """

    def __init__(self, stale: bytes, pieces: list[tuple[float, bytes]]) -> None:
        self.now = 0.0
        self.timeout: float | None = 0.05
        self.pieces = pieces
        self.sent_at: float | None = None
        self._due: list[tuple[float, bytes]] = []
        self._arrived = bytearray(stale)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def _deliver(self) -> None:
        while self._due and self._due[0][0] <= self.now:
            self._arrived += self._due.pop(0)[1]

    @property
    def in_waiting(self) -> int:
        self._deliver()
        return len(self._arrived)

    def read(self, size: int = 1) -> bytes:
        self._deliver()
        if not self._arrived:
            waited = self.now + (self.timeout or 0.0)
            self.now = min(waited, self._due[0][0]) if self._due else waited
            self._deliver()
        data = bytes(self._arrived[:size])
        del self._arrived[:size]
        return data

    def write(self, data: bytes, /) -> int:
        self.sent_at = self.now
        self._due = sorted((self.now + at, piece) for at, piece in self.pieces)
        return len(data)

    def flush(self) -> None:
        pass

    def reset_input_buffer(self) -> None:
        self._deliver()
        self._arrived.clear()


@st.composite
def paced_replies(draw: st.DrawFn) -> list[tuple[float, bytes]]:
    """Up to three replies (good, mangled or noise) back to back, cut anywhere, arriving at any pace."""
    stream = b"".join(draw(st.lists(replies, max_size=3)))
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    times = sorted(draw(st.lists(st.floats(0, 0.8), min_size=len(pieces), max_size=len(pieces))))
    return list(zip(times, pieces, strict=True))


RESPONSE_TIMEOUT = 0.5


@settings(FUZZ, max_examples=EXAMPLES * 5)
@given(stale=st.binary(max_size=12), pieces=paced_replies())
def test_the_client_gives_registers_or_a_counted_bad_frame_never_an_exception(
    stale: bytes, pieces: list[tuple[float, bytes]]
) -> None:
    line = SteppedLine(stale, pieces)
    client = RtuClient(line, 9600, RESPONSE_TIMEOUT, clock=line.clock, sleep=line.sleep)
    reply = client.read_registers(1, 3, 0, 2)
    assert line.sent_at is not None
    assert line.now - line.sent_at <= RESPONSE_TIMEOUT + 1e-9, "waited past the response timeout"
    in_time = b"".join(piece for at, piece in pieces if at <= RESPONSE_TIMEOUT)
    if reply.registers is not None:
        # Only a whole frame from device 1, function 3, 4 data bytes and a good CRC gives registers.
        body = bytes((1, 3, 4)) + b"".join(word.to_bytes(2, "big") for word in reply.registers)
        assert len(reply.registers) == 2 and body + rtu_crc(body) in in_time
        assert not reply.bad_frame and client.replies == 1
    elif reply.exception_code is not None:
        body = bytes((1, 0x83, reply.exception_code))
        assert body + rtu_crc(body) in in_time and client.exceptions == 1
    elif reply.bad_frame:
        assert in_time and reply.problem and client.bad_frames == 1
    else:
        assert not in_time and client.no_replies == 1
    assert reply.garbage_bytes >= len(stale) and client.garbage_bytes == reply.garbage_bytes


register_values = st.integers(-(2**33), 2**33)  # also values no register can hold
finite_scales = st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda s: s != 0)


@FUZZ
@given(
    preset=st.sampled_from(["", *PRESETS]),
    scale=st.one_of(finite_scales, st.sampled_from([math.nan, math.inf, -math.inf, 0.0])),
    signed=st.booleans(),
    words=st.sampled_from([1, 2, 3]),
    order=st.sampled_from(["big", "little", "middle"]),
    registers=st.dictionaries(st.integers(0, 8), register_values, max_size=9),
)
def test_any_map_and_any_registers_decode_to_a_reading_or_a_frame_error(
    preset: str, scale: float, signed: bool, words: int, order: str, registers: dict[int, int]
) -> None:
    try:
        register_map = build_map(
            preset, temperature_scale=scale, temperature_signed=signed, words=words, word_order=order
        )
    except ValueError:
        return  # an impossible map is refused when the config is read, before any byte arrives
    try:
        values = register_map.decode(registers)
    except FrameError:
        return
    assert set(values) <= set(QUANTITIES)
    assert_sound_values(values)


def assert_sound_values(values: dict[str, float]) -> None:
    from sensors.reader import CycleResult

    assert_sound(CycleResult(readings=[values]))
