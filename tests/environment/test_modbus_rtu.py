"""The Modbus RTU master (sensors/modbus_rtu.py): CRC, framing, and every hostile reply.

Frames and CRCs are checked against published vectors; replies come over a
real pty from a device that answers each request with bytes the test
chose (:class:`ScriptedRtuDevice`), or from the spec-written RTU slave
(:class:`ModbusTransmitter`) for timing: slow answers, the response
timeout's bound, stale replies and the silence between frames.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from sensors.modbus_rtu import (
    READ_HOLDING_REGISTERS,
    READ_INPUT_REGISTERS,
    RtuClient,
    bytes_needed,
    crc16,
    diagnose,
    find_reply,
    read_request,
    silent_interval,
    with_crc,
)
from sensors.serial_transport import TRANSPORT_ERRORS, SerialSettings, open_port
from tests.environment.simulators import ModbusTransmitter, ScriptedRtuDevice, rtu_crc

ROOT = Path(__file__).resolve().parents[2]
#: Short enough for a test, long enough for a loaded 2-core machine to answer in.
TIMEOUT = 0.5


def frame(hex_body: str) -> bytes:
    """A frame from its body in hex, with the CRC the simulator computes (bit by bit, from the spec)."""
    body = bytes.fromhex(hex_body)
    return body + rtu_crc(body)


# -- CRC and request frames ---------------------------------------------------------------
def test_crc_check_value_of_the_crc_catalogue() -> None:
    # CRC-16/MODBUS in the CRC catalogue: check value over the ASCII digits 1…9.
    assert crc16(b"123456789") == 0x4B37


def test_crc_goes_on_the_wire_low_byte_first_as_the_spec_example_shows() -> None:
    # Serial line spec 6.2.2: "CRC value 1241 hex" is sent as CRC Lo 41, then CRC Hi 12.
    body = next(bytes((a, b)) for a in range(256) for b in range(256) if crc16(bytes((a, b))) == 0x1241)
    assert with_crc(body)[-2:] == b"\x41\x12"


@pytest.mark.parametrize(
    ("device", "function", "start", "count", "wire"),
    [
        # The read request printed in RS-485 transmitter manuals (slave 1, registers 0 and 1).
        (1, READ_HOLDING_REGISTERS, 0, 2, "01 03 00 00 00 02 C4 0B"),
        # The application spec's read of registers 108–110 (6.3), at device 17 as Simply Modbus frames it.
        (17, READ_HOLDING_REGISTERS, 0x6B, 3, "11 03 00 6B 00 03 76 87"),
        # The XY-MD02's input registers 1 and 2.
        (1, READ_INPUT_REGISTERS, 1, 2, "01 04 00 01 00 02 20 0B"),
    ],
)
def test_read_requests_match_published_frames(
    device: int, function: int, start: int, count: int, wire: str
) -> None:
    assert read_request(device, function, start, count) == bytes.fromhex(wire)


def test_a_published_reply_is_read() -> None:
    reply = bytes.fromhex("11 03 06 AE 41 56 52 43 40 49 AD")  # Simply Modbus's answer to the request above
    found = find_reply(reply, 17, READ_HOLDING_REGISTERS, 3)
    assert found is not None and found.registers == (0xAE41, 0x5652, 0x4340)


def test_the_client_and_the_simulator_agree_on_every_crc() -> None:
    # Two implementations written separately from the spec's procedure (table and bit by bit).
    for size in (0, 1, 2, 7, 64, 253):
        data = bytes((n * 37 + size) & 0xFF for n in range(size))
        assert with_crc(data) == data + rtu_crc(data)


@pytest.mark.parametrize(
    ("device", "function", "start", "count"),
    [(0, 3, 0, 1), (248, 3, 0, 1), (1, 6, 0, 1), (1, 3, 0, 0), (1, 3, 0, 126), (1, 3, 65535, 2)],
)
def test_impossible_requests_are_refused(device: int, function: int, start: int, count: int) -> None:
    with pytest.raises(ValueError):
        read_request(device, function, start, count)


def test_silent_interval_is_three_and_a_half_11_bit_characters_or_1_75_ms_above_19200() -> None:
    assert silent_interval(9600) == pytest.approx(38.5 / 9600)  # 4.01 ms
    assert silent_interval(19200) == pytest.approx(38.5 / 19200)
    assert silent_interval(38400) == silent_interval(115200) == pytest.approx(0.00175)


# -- finding the reply in what arrived ----------------------------------------------------------
def test_the_reply_is_found_behind_noise_and_an_echoed_request() -> None:
    reply = frame("01 03 04 01 F4 00 E7")
    data = b"\x00\xff" + read_request(1, 3, 0, 2) + reply + b"\x13"
    found = find_reply(data, 1, 3, 2)
    assert found is not None and found.registers == (500, 231)
    assert (found.start, found.end) == (10, 10 + len(reply))


def test_an_exception_reply_is_found_with_its_code() -> None:
    found = find_reply(frame("01 83 02"), 1, 3, 2)
    assert found is not None and (found.registers, found.exception_code) == (None, 2)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (frame("02 03 04 01 F4 00 E7"), "device 2, not 1"),
        (frame("01 04 04 01 F4 00 E7"), "function 0x04 to a function 3 request"),
        (frame("01 84 02"), "function 0x84 to a function 3 request"),
        (frame("01 03 06 01 F4 00 E7 00 00"), "byte count of 6 where 4 was asked for"),
        (frame("01 03 04 01 F4 00 E7")[:6], "short frame: 6 of 9 bytes"),
        (b"\x00\x01\x03", "short frame: 2 of 9 bytes"),
        (frame("01 03 04 01 F4 00 E7")[:-1] + b"\x00", "failed its CRC check"),
        (bytes.fromhex("01 03 FF") + bytes(40), "byte count of 255"),
        (frame("01 83 02")[:3], "short exception frame"),
        (b"\x55" * 12, "no Modbus frame"),
    ],
)
def test_what_is_not_the_reply_is_named(data: bytes, reason: str) -> None:
    assert find_reply(data, 1, 3, 2) is None
    assert reason in diagnose(data, 1, 3, 2)


# -- the client on a real pty ---------------------------------------------------------------
@pytest.fixture
def scripted(ports: Path) -> Iterator[ScriptedRtuDevice]:
    device = ScriptedRtuDevice(ports / "ttyRS485")
    device.plug()
    yield device
    device.unplug()


def client_on(
    link: Path, baudrate: int = 9600, port_timeout: float = 0.05
) -> tuple[serial.SerialBase, RtuClient]:
    port = open_port(SerialSettings(port=str(link), baudrate=baudrate, timeout=port_timeout))
    return port, RtuClient(port, baudrate, response_timeout=TIMEOUT)


def wait_until_received(port: serial.SerialBase, size: int, timeout: float = 5.0) -> None:
    """Wait (bounded) until ``size`` bytes wait unread at the host end."""
    deadline = time.monotonic() + timeout
    while port.in_waiting < size:
        assert time.monotonic() < deadline, f"{port.in_waiting} of {size} bytes arrived"
        time.sleep(0.01)


GOOD = frame("01 03 04 01 F4 00 E7")  # registers 500 and 231


@pytest.mark.parametrize(
    ("reply", "registers", "garbage"),
    [
        (GOOD, (500, 231), 0),
        (b"\x00\xff\x01\x03" + GOOD, (500, 231), 4),  # noise, even a false frame start, in front
        (GOOD + b"\x7e\x7e", (500, 231), None),  # trailing bytes are no part of the reply
    ],
)
def test_a_good_reply_gives_the_registers(
    scripted: ScriptedRtuDevice, reply: bytes, registers: tuple[int, ...], garbage: int | None
) -> None:
    scripted.reply = reply
    port, client = client_on(scripted.link)
    with port:
        result = client.read_registers(1, 3, 0, 2)
    assert result.registers == registers and not result.bad_frame
    if garbage is not None:
        assert result.garbage_bytes == garbage
    assert bytes(scripted.received[:8]) == read_request(1, 3, 0, 2)


@pytest.mark.parametrize(
    ("function", "reply", "code", "name"),
    [
        (3, frame("01 83 02"), 2, "illegal data address"),
        (4, frame("01 84 04"), 4, "server device failure"),
        (3, frame("01 83 63"), 0x63, "does not define"),
    ],
)
def test_an_exception_reply_gives_its_code_and_is_no_bad_frame(
    scripted: ScriptedRtuDevice, function: int, reply: bytes, code: int, name: str
) -> None:
    scripted.reply = reply
    port, client = client_on(scripted.link)
    with port:
        result = client.read_registers(1, function, 0, 2)
    assert (result.registers, result.exception_code, result.bad_frame) == (None, code, False)
    assert name in result.exception_name
    assert (client.exceptions, client.bad_frames) == (1, 0)


HOSTILE = [
    (frame("07 03 04 01 F4 00 E7"), "device 7"),  # wrong slave id
    (frame("01 04 04 01 F4 00 E7"), "function 0x04"),  # wrong function
    (frame("01 84 02"), "function 0x84"),  # an exception for a request we did not send
    (GOOD[:5], "short frame"),
    (GOOD[:-2] + bytes((GOOD[-2] ^ 1, GOOD[-1])), "CRC"),
    (GOOD[:-1] + bytes((GOOD[-1] ^ 0x80,)), "CRC"),  # the good frame but one bit of its CRC
    (GOOD[:3] + bytes((GOOD[3] ^ 1,)) + GOOD[4:], "CRC"),  # one bit of a register
    (frame("01 03 FF") + bytes(20), "byte count of 255"),  # over-long byte count
    (frame("01 03 08 01 F4 00 E7 00 00 00 00"), "byte count of 8"),  # more registers than asked
]


@pytest.mark.parametrize(("reply", "reason"), HOSTILE)
def test_a_hostile_reply_is_one_counted_bad_frame(
    scripted: ScriptedRtuDevice, reply: bytes, reason: str
) -> None:
    scripted.reply = reply
    port, client = client_on(scripted.link)
    with port:
        started = time.monotonic()
        result = client.read_registers(1, 3, 0, 2)
        elapsed = time.monotonic() - started
    assert (result.registers, result.exception_code, result.bad_frame) == (None, None, True)
    assert reason in result.problem
    assert (client.bad_frames, client.replies) == (1, 0)
    assert elapsed < TIMEOUT + 0.5  # the wait for the real reply ends with the timeout


@pytest.mark.parametrize(("reply", "reason"), HOSTILE)
def test_a_hostile_reply_after_a_good_one_is_still_a_counted_bad_frame(
    scripted: ScriptedRtuDevice, reply: bytes, reason: str
) -> None:
    # A reply byte for byte the last good one is taken without a second CRC check; anything
    # else, however close to it, is checked in full.
    port, client = client_on(scripted.link)
    with port:
        assert client._watch is not None  # an OS port: the exchange goes to its descriptor
        scripted.reply = GOOD
        for _ in range(2):
            time.sleep(0.01)  # t3.5 has passed, as it has every 2 s between readings
            assert client.read_registers(1, 3, 0, 2).registers == (500, 231)
        scripted.reply = reply
        time.sleep(0.01)
        result = client.read_registers(1, 3, 0, 2)
        assert (result.registers, result.exception_code, result.bad_frame) == (None, None, True)
        assert reason in result.problem
        # The good frame again, behind two stray bytes: the same registers, the bytes counted.
        scripted.reply = GOOD
        time.sleep(TIMEOUT)  # whatever was left of the hostile reply has come in and is stale
        stale = port.in_waiting
        scripted.write(b"\x55\x55")
        wait_until_received(port, stale + 2)
        again = client.read_registers(1, 3, 0, 2)
        assert again.registers == (500, 231) and again.garbage_bytes == stale + 2
    assert (client.replies, client.bad_frames, client.requests) == (3, 1, 4)


def test_a_stop_request_ends_the_wait_for_a_silent_device(scripted: ScriptedRtuDevice) -> None:
    # The reader's request_stop() cancels the port's read (pyserial's cancel pipe), which the
    # client's own wait on the port's descriptor watches too.
    port, client = client_on(scripted.link, port_timeout=5.0)  # one wait could last 5 s
    client.response_timeout = 5.0
    stop = threading.Event()

    def cancel() -> None:
        time.sleep(0.3)
        stop.set()
        port.cancel_read()

    canceller = threading.Thread(target=cancel)
    with port:
        canceller.start()
        started = time.monotonic()
        result = client.read_registers(1, 3, 0, 2, stop)
        elapsed = time.monotonic() - started
        canceller.join()
    assert result.registers is None and not result.bad_frame
    assert elapsed < 2.0, elapsed


def test_silence_is_no_reply_and_no_bad_frame(scripted: ScriptedRtuDevice) -> None:
    port, client = client_on(scripted.link)
    with port:
        result = client.read_registers(1, 3, 0, 2)
    assert (result.registers, result.bad_frame, result.problem) == (
        None,
        False,
        f"no reply within {TIMEOUT:g} s",
    )
    assert client.no_replies == 1


def test_bytes_sent_before_the_request_are_flushed_and_counted(scripted: ScriptedRtuDevice) -> None:
    scripted.reply = GOOD
    port, client = client_on(scripted.link)
    with port:
        scripted.write(GOOD.replace(b"\x01\xf4", b"\x03\xe7"))  # a stray "reply" nobody asked for
        wait_until_received(port, len(GOOD))
        result = client.read_registers(1, 3, 0, 2)
    assert result.registers == (500, 231)
    assert result.garbage_bytes == len(GOOD)


def test_a_pulled_cable_raises_a_transport_error(scripted: ScriptedRtuDevice) -> None:
    scripted.reply = GOOD
    port, client = client_on(scripted.link)
    with port:
        assert client.read_registers(1, 3, 0, 2).registers == (500, 231)
        scripted.unplug()
        with pytest.raises(TRANSPORT_ERRORS):
            client.read_registers(1, 3, 0, 2)
        scripted.plug()  # for the fixture's unplug


# -- timing against the spec-written slave ------------------------------------------------------
@pytest.fixture
def slave(modbus_transmitter: ModbusTransmitter) -> ModbusTransmitter:
    modbus_transmitter.set_registers(3, 0, [500, 231])
    return modbus_transmitter


def test_a_slow_answer_within_the_timeout_is_read(slave: ModbusTransmitter) -> None:
    slave.delay = 0.25
    port, client = client_on(slave.host_link)
    client.response_timeout = 2.0
    with port:
        assert client.read_registers(1, 3, 0, 2).registers == (500, 231)


def test_the_wait_never_outlasts_the_response_timeout_and_a_late_reply_is_never_taken(
    slave: ModbusTransmitter,
) -> None:
    slave.delay = 1.2
    # A port read timeout far longer than the response timeout must not stretch the wait.
    port, client = client_on(slave.host_link, port_timeout=3.0)
    with port:
        started = time.monotonic()
        late = client.read_registers(1, 3, 0, 2)
        elapsed = time.monotonic() - started
        assert late.registers is None and "no reply" in late.problem
        assert TIMEOUT <= elapsed < TIMEOUT + 0.4, elapsed
        wait_until_received(port, 9)  # the late reply comes in now, between two requests
        slave.delay = 0
        slave.set_registers(3, 0, [510, 245])
        fresh = client.read_registers(1, 3, 0, 2)
    assert fresh.registers == (510, 245)  # not the late (500, 231)
    assert fresh.garbage_bytes == 9


def test_requests_are_separated_by_the_silent_interval(slave: ModbusTransmitter) -> None:
    baudrate = 300  # t3.5 = 128 ms: long enough to see on a pty, where baud rates cost no time
    port, client = client_on(slave.host_link, baudrate=baudrate)
    with port:
        assert client.read_registers(1, 3, 0, 2).registers == (500, 231)
        assert client.read_registers(1, 3, 0, 2).registers == (500, 231)
    gap = slave.request_times[1] - slave.reply_times[0]
    # The slave stamps a request once its last byte is in; the client waited t3.5 before sending it.
    assert gap >= silent_interval(baudrate) - 0.005, gap


# -- what the Modbus path costs -----------------------------------------------------------------
READ_ONCE = """
import json, sys, threading
from sensors.modbus_env import PRESETS
from sensors.reader import ModbusSession
from sensors.serial_transport import SerialSettings
session = ModbusSession(SerialSettings(port=sys.argv[1]), PRESETS["holding-h0-t1"], 1, 0.0)
session.open()
result = session.cycle(threading.Event())
session.close()
print(json.dumps({"readings": result.readings, "modules": sorted(sys.modules)}))
"""


def test_reading_a_transmitter_loads_no_asyncio_and_no_ssl(slave: ModbusTransmitter) -> None:
    out = subprocess.run(
        [sys.executable, "-c", READ_ONCE, str(slave.host_link)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(out.stdout)
    assert seen["readings"] == [{"humidity": 50.0, "temperature": 23.1}]
    assert not {"asyncio", "ssl", "pymodbus"} & set(seen["modules"])


def _reply(count: int, device_id: int = 1, function: int = 3) -> bytes:
    body = bytes((device_id, function, 2 * count)) + bytes(range(1, 2 * count + 1))
    return body + rtu_crc(body)


@pytest.mark.parametrize("count", [1, 2, 16])
def test_bytes_needed_never_asks_past_the_end_of_a_reply(count: int) -> None:
    # Fed the reply in the pieces bytes_needed asks for, the read ends exactly on the frame's end:
    # never a read that would wait for bytes the device will not send.
    # (An exception reply is asked for as the whole reply first: the read returns at the port's
    # timeout with its 5 bytes, see test_an_exception_reply_costs_at_most_one_read_slice.)
    for stream in (_reply(count), b"\x00\x07" + _reply(count), b"\x01\x03" + _reply(count)):
        data = bytearray()
        while True:
            need = bytes_needed(data, 1, 3, count)
            assert 1 <= need <= len(stream) - len(data), (stream.hex(" "), data.hex(" "), need)
            data += stream[len(data) : len(data) + need]
            if find_reply(data, 1, 3, count) is not None:
                break
        assert bytes(data) == stream


def test_bytes_needed_asks_for_the_rest_of_a_begun_reply() -> None:
    assert bytes_needed(b"", 1, 3, 2) == 9  # nothing begun: the whole reply, in one read
    assert bytes_needed(_reply(2)[:5], 1, 3, 2) == 4
    assert bytes_needed(b"\x01\x83", 1, 3, 2) == 3  # an exception reply begun
    assert bytes_needed(b"\x02\x03\x04\x00\x00", 1, 3, 2) == 9  # another device's frame: nothing of ours


def test_a_whole_reply_costs_one_read_and_one_in_waiting(modbus_transmitter: ModbusTransmitter) -> None:
    # Per request: one in_waiting (the t3.5 check), no input flush, and one read of the whole
    # reply, not a read and an in_waiting per chunk.
    transmitter = modbus_transmitter
    transmitter.set_registers(3, 0, [11, 22])
    calls: list[str] = []
    port = open_port(SerialSettings(str(transmitter.host_link)))

    class Counting:
        timeout: float | None = port.timeout

        @property
        def in_waiting(self) -> int:
            calls.append("in_waiting")
            return int(port.in_waiting)

        def read(self, size: int = 1) -> bytes:
            calls.append(f"read {size}")
            port.timeout = self.timeout
            return bytes(port.read(size))

        def write(self, data: bytes, /) -> int | None:
            return port.write(data)

        def flush(self) -> None:
            port.flush()

        def reset_input_buffer(self) -> None:
            calls.append("reset_input_buffer")
            port.reset_input_buffer()

    try:
        client = RtuClient(Counting(), 9600, TIMEOUT)
        for _ in range(3):
            time.sleep(0.01)  # t3.5 (4 ms) has passed, as it has every 2 s between readings
            calls.clear()
            assert client.read_registers(1, 3, 0, 2).registers == (11, 22)
            # A pty may split the reply once more at a scheduling gap; never per byte.
            assert calls[:2] == ["in_waiting", "read 9"], calls
            assert len(calls) <= 3, calls
        assert client.garbage_bytes == 0
    finally:
        port.close()


def test_a_request_built_once_still_refuses_an_impossible_one() -> None:
    # read_request is cached (the same requests go out every cycle); a bad one must raise every time.
    assert read_request(1, 3, 0, 2) is read_request(1, 3, 0, 2)
    for _ in range(2):
        with pytest.raises(ValueError):
            read_request(0, 3, 0, 2)
        with pytest.raises(ValueError):
            read_request(1, 3, 0, 126)


def test_an_exception_reply_costs_at_most_one_read_slice(scripted: ScriptedRtuDevice) -> None:
    # Asked for as a whole reply (9 bytes), the 5-byte exception reply ends the read at the port's
    # timeout, not the response timeout: found, counted, well within TIMEOUT.
    scripted.reply = with_crc(bytes((1, 0x83, 2)))
    port, client = client_on(scripted.link, port_timeout=0.05)
    try:
        began = time.monotonic()
        reply = client.read_registers(1, 3, 0, 2)
        took = time.monotonic() - began
        assert reply.exception_code == 2 and not reply.bad_frame
        assert took < TIMEOUT * 0.8, took
    finally:
        port.close()
