"""Fuzz: Modbus RTU replies and register maps.

Replies come over a real pty from a device that answers each request with
bytes chosen by hypothesis (valid frames, wrong CRC, wrong byte count or
function, exception replies, noise); the host side is the real session with
its RTU client (:mod:`sensors.modbus_rtu`).  Register maps and register values are fuzzed through the
pure decoder.  Either way: a reading, or a counted bad frame / no answer —
never an exception, never an impossible value.
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
from sensors.reader import ModbusSession
from sensors.serial_transport import SerialSettings
from tests.environment.fuzz import EXAMPLES, FUZZ, assert_sound
from tests.environment.simulators import ScriptedRtuDevice


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
