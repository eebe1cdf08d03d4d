"""The PMS5003 and ZE08-CH2O sessions through the real reader thread, against pty simulators.

Each test configures the sensor the way the config file does
(:func:`define_sensor`), runs a :class:`SensorReader` on it and watches its
snapshot: the values the monitor judges, the counted bad frames, the link
state the monitor turns into the "sensor connected" alert.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.engine import Engine
from app.kernel.model import Level, Reading
from sensors import plantower, ze08
from sensors.environment_sensors import define_sensor, room_temperature
from sensors.measurement import HCHO, HUMIDITY, PM1, PM10, PM25, TEMPERATURE, TVOC
from sensors.pollutant_sessions import FALLBACK_TEMPERATURE, PlantowerSession
from sensors.reader import (
    CONNECTED,
    DISCONNECTED,
    NO_ANSWER,
    CycleResult,
    LinkLost,
    SensorReader,
    SensorStatus,
)
from sensors.serial_transport import Backoff, SerialSettings
from tests.environment.conftest import MakeMonitor, by_key, plugged
from tests.environment.pollutant_simulators import Pms5003, Ze08
from tests.environment.simulators import ModbusTransmitter
from tests.environment.test_serial_sensors import poll_until, value


@pytest.fixture
def run_reader() -> Iterator[Callable[..., SensorReader]]:
    """Start a reader on a sensor table (stopped at the end of the test)."""
    readers: list[SensorReader] = []

    def start(
        table: dict[str, Any], room_temperature: Callable[[], float | None] | None = None
    ) -> SensorReader:
        definition = define_sensor({"period": 0.2, **table}, 1, room_temperature)
        reader = SensorReader(
            definition.name, definition.make_session, definition.where, backoff=Backoff(0.05, 0.3)
        )
        reader.start()
        readers.append(reader)
        return reader

    yield start
    for reader in readers:
        reader.stop()


def wait_for(
    reader: SensorReader, check: Callable[[SensorStatus], bool], timeout: float = 10.0
) -> SensorStatus:
    """Poll the reader's snapshot until ``check`` holds (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        status = reader.status()
        if check(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met; last status: {status}")
        time.sleep(0.05)


def pm_of(status: SensorStatus) -> tuple[float | None, ...]:
    return tuple(status.values.get(q) for q in (PM1, PM25, PM10))


# -- Plantower PMS5003 -------------------------------------------------------------
def test_pms_active_frames_give_the_atmospheric_values(
    pms: Pms5003, run_reader: Callable[..., SensorReader]
) -> None:
    pms.atmospheric = (21, 35, 52)  # the frames' CF=1 values are 10 % higher: not these
    reader = run_reader({"name": "pm", "protocol": "pms", "port": str(pms.link)})
    status = wait_for(reader, lambda s: pm_of(s) == (21.0, 35.0, 52.0))
    assert status.state == CONNECTED and status.bad_frames == 0
    # The session put the sensor in active mode (it may have been left passive) and got the ack.
    assert pms.commands[0] == bytes.fromhex("42 4D E1 00 01 01 71")
    pms.atmospheric = (30, 61, 90)
    wait_for(reader, lambda s: pm_of(s) == (30.0, 61.0, 90.0))


def test_pms_passive_mode_reads_by_command(pms: Pms5003, run_reader: Callable[..., SensorReader]) -> None:
    pms.atmospheric = (5, 9, 14)
    reader = run_reader({"name": "pm", "protocol": "pms", "port": str(pms.link), "mode": "passive"})
    wait_for(reader, lambda s: pm_of(s) == (5.0, 9.0, 14.0))
    pms.atmospheric = (7, 11, 18)
    status = wait_for(reader, lambda s: pm_of(s) == (7.0, 11.0, 18.0))
    assert status.state == CONNECTED
    assert not pms.active, "the session switched the sensor to passive mode"
    assert pms.commands[0] == bytes.fromhex("42 4D E1 00 00 01 70")
    reads = [c for c in pms.commands if c == bytes.fromhex("42 4D E2 00 00 01 71")]
    assert len(reads) >= 2, pms.commands


def test_pms_passive_sensor_that_stops_answering_is_no_answer(
    pms: Pms5003, run_reader: Callable[..., SensorReader]
) -> None:
    reader = run_reader({"name": "pm", "protocol": "pms", "port": str(pms.link), "mode": "passive"})
    wait_for(reader, lambda s: s.values.get(PM25) == 12.0)
    pms.silent = True
    status = wait_for(reader, lambda s: s.state == NO_ANSWER)
    assert "no PMS answer" in status.error
    pms.silent = False
    wait_for(reader, lambda s: s.state == CONNECTED)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda sim: setattr(sim, "corrupt_next", 10**6), id="bad-checksum"),
        pytest.param(lambda sim: setattr(sim, "truncate_next", 10**6), id="partial-frames"),
    ],
)
def test_pms_corrupt_frames_are_counted_and_never_read(
    pms: Pms5003, run_reader: Callable[..., SensorReader], fault: Callable[[Pms5003], None]
) -> None:
    reader = run_reader({"name": "pm", "protocol": "pms", "port": str(pms.link)})
    wait_for(reader, lambda s: s.values.get(PM25) == 12.0)
    fault(pms)
    pms.atmospheric = (400, 450, 480)
    status = wait_for(reader, lambda s: s.bad_frames >= 3)
    assert pm_of(status) == (8.0, 12.0, 15.0), "no value of a corrupt frame got through"
    assert status.state == CONNECTED and "PMS frame" in status.last_problem
    pms.corrupt_next = pms.truncate_next = 0
    wait_for(reader, lambda s: pm_of(s) == (400.0, 450.0, 480.0))


def test_pms_garbage_between_frames_is_skipped(pms: Pms5003, run_reader: Callable[..., SensorReader]) -> None:
    pms.noise = b"\x42\x00\xff\x42\x4d\x00"  # a false start among the noise
    pms.atmospheric = (3, 4, 6)
    reader = run_reader({"name": "pm", "protocol": "pms", "port": str(pms.link)})
    status = wait_for(reader, lambda s: pm_of(s) == (3.0, 4.0, 6.0) and s.garbage_bytes >= 6)
    assert status.state == CONNECTED


def test_pms_unplugged_and_plugged_back(pms: Pms5003, run_reader: Callable[..., SensorReader]) -> None:
    reader = run_reader({"name": "pm", "protocol": "pms", "port": str(pms.link)})
    wait_for(reader, lambda s: s.values.get(PM25) == 12.0)
    pms.unplug()
    status = wait_for(reader, lambda s: s.state == DISCONNECTED)  # the monitor's critical link alert
    assert status.error
    pms.atmospheric = (10, 20, 30)
    pms.plug()
    status = wait_for(reader, lambda s: s.state == CONNECTED and pm_of(s) == (10.0, 20.0, 30.0))
    assert status.reconnects == 1 and status.error == ""  # the alert clears, polling goes on
    pms.atmospheric = (11, 21, 31)
    wait_for(reader, lambda s: pm_of(s) == (11.0, 21.0, 31.0))


def test_pms_active_cycle_reads_a_burst_at_once_and_keeps_the_newest_valid_frame(pms: Pms5003) -> None:
    # After its first reading the session only takes what the tty buffered since the last cycle,
    # without waiting: several frames at once (fast mode: up to ten a cycle), one of them bad.
    session = PlantowerSession(SerialSettings(str(pms.link)), "active", period=0.0)
    session.open()
    stop = threading.Event()
    try:
        assert wait_cycle(session, stop, lambda r: bool(r.readings)).readings[0][PM25] == 12.0
        pms.active = False  # the test sends the frames now
        time.sleep(0.1)
        session.cycle(stop)  # whatever the sensor sent meanwhile
        started = time.monotonic()
        assert session.cycle(stop) == CycleResult()  # nothing buffered: no wait, no reading
        assert time.monotonic() - started < 0.1
        corrupt = bytearray(plantower.encode_frame((30, 40, 50)))
        corrupt[-1] ^= 0x01
        pms.write(
            plantower.encode_frame((1, 2, 3)) + bytes(corrupt) + plantower.encode_frame((4, 5, 6))
            + bytes(corrupt) + plantower.encode_frame((7, 8, 9))
        )  # fmt: skip
        time.sleep(0.1)
        result = session.cycle(stop)
        assert result.readings == [{PM1: 7.0, PM25: 8.0, PM10: 9.0}]
        assert result.bad_frames == 2 and "checksum" in result.problem
        # A pulled cable is noticed at the next cycle: the read fails, it does not wait.
        pms.unplug()
        with pytest.raises(LinkLost):
            session.cycle(stop)
    finally:
        session.close()


def wait_cycle(
    session: PlantowerSession, stop: threading.Event, check: Callable[[CycleResult], bool]
) -> CycleResult:
    """Cycle the session until a result passes ``check`` (bounded)."""
    deadline = time.monotonic() + 10.0
    while True:
        result = session.cycle(stop)
        if check(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


# -- Plantower PMS5003ST / PMS5003T: one sensor, PM + HCHO + T/RH ---------------------
@pytest.fixture
def pms_t(ports: Path) -> Iterator[Pms5003]:
    yield from plugged(Pms5003(ports / "ttyAMA2", model="pms5003t"))


@pytest.mark.parametrize("mode", ["active", "passive"])
def test_pms5003st_gives_pm_formaldehyde_temperature_and_humidity(
    pms_st: Pms5003, run_reader: Callable[..., SensorReader], mode: str
) -> None:
    pms_st.atmospheric, pms_st.hcho, pms_st.temperature, pms_st.humidity = (6, 18, 25), 0.065, 26.3, 55.0
    table = {"name": "air", "protocol": "pms", "model": "pms5003st", "port": str(pms_st.link), "mode": mode}
    reader = run_reader(table)
    wanted = {PM1: 6.0, PM25: 18.0, PM10: 25.0, HCHO: 0.065, TEMPERATURE: 26.3, HUMIDITY: 55.0}
    status = wait_for(reader, lambda s: s.values == wanted)
    assert status.state == CONNECTED and status.bad_frames == 0
    pms_st.hcho, pms_st.temperature = 0.12, -2.5  # a cold store room, and a fresh carpet
    wait_for(reader, lambda s: (s.values.get(HCHO), s.values.get(TEMPERATURE)) == (0.12, -2.5))


def test_pms5003st_corrupt_and_partial_frames_are_counted_then_unplugged_and_back(
    pms_st: Pms5003, run_reader: Callable[..., SensorReader]
) -> None:
    reader = run_reader({"name": "air", "protocol": "pms", "model": "pms5003st", "port": str(pms_st.link)})
    wait_for(reader, lambda s: s.values.get(HCHO) == 0.03)
    pms_st.corrupt_next, pms_st.hcho = 10**6, 1.5
    status = wait_for(reader, lambda s: s.bad_frames >= 3)
    assert status.values.get(HCHO) == 0.03, "no value of a frame with a bad checksum got through"
    pms_st.corrupt_next, pms_st.truncate_next = 0, 10**6
    status = wait_for(reader, lambda s: s.bad_frames >= 6)
    assert status.values.get(HCHO) == 0.03 and "PMS frame" in status.last_problem
    pms_st.truncate_next = 0
    wait_for(reader, lambda s: s.values.get(HCHO) == 1.5)
    pms_st.unplug()
    wait_for(reader, lambda s: s.state == DISCONNECTED)
    pms_st.humidity = 61.5
    pms_st.plug()
    wait_for(reader, lambda s: s.state == CONNECTED and s.values.get(HUMIDITY) == 61.5)


def test_pms5003t_gives_pm_temperature_and_humidity(
    pms_t: Pms5003, run_reader: Callable[..., SensorReader]
) -> None:
    pms_t.temperature, pms_t.humidity = 23.4, 41.2
    reader = run_reader({"name": "air", "protocol": "pms", "model": "pms5003t", "port": str(pms_t.link)})
    status = wait_for(reader, lambda s: s.values.get(TEMPERATURE) == 23.4)
    assert status.values == {PM1: 8.0, PM25: 12.0, PM10: 15.0, TEMPERATURE: 23.4, HUMIDITY: 41.2}
    assert status.bad_frames == 0


def test_a_pms5003t_configured_as_a_plain_pms5003_gives_no_temperature(
    pms_t: Pms5003, run_reader: Callable[..., SensorReader]
) -> None:
    # The frames look alike: without the model its T/RH words are particle counts, never a reading.
    reader = run_reader({"name": "air", "protocol": "pms", "port": str(pms_t.link)})
    status = wait_for(reader, lambda s: s.values.get(PM25) == 12.0)
    assert TEMPERATURE not in status.values and HUMIDITY not in status.values


def test_an_unknown_pms_model_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="model must be one of pms5003, pms5003t, pms5003st"):
        define_sensor({"name": "air", "protocol": "pms", "model": "pms9003m", "port": "/dev/null"}, 1)


# -- Winsen ZE08-CH2O -----------------------------------------------------------------
def test_ze08_upload_is_converted_at_the_room_temperature(
    formaldehyde: Ze08, run_reader: Callable[..., SensorReader]
) -> None:
    room: list[float | None] = [None]
    formaldehyde.ppb = 65
    reader = run_reader({"name": "hcho", "protocol": "ze08", "port": str(formaldehyde.link)}, lambda: room[0])
    # No thermometer: 25 °C.  65 ppb × 30.03 g/mol / 24.465 L/mol = 0.0798 mg/m³.
    status = wait_for(reader, lambda s: HCHO in s.values)
    assert status.values[HCHO] == pytest.approx(0.0798, abs=1e-4)
    assert FALLBACK_TEMPERATURE == 25.0
    room[0] = 16.0  # a cold room: the same ppb is more mass per m³ (V_m = 23.727 L/mol)
    status = wait_for(reader, lambda s: s.values.get(HCHO) == pytest.approx(0.0823, abs=1e-4))
    assert status.bad_frames == 0 and status.state == CONNECTED
    room[0] = 95.0  # outside the module's 0…50 °C: not trusted, back to 25 °C
    wait_for(reader, lambda s: s.values.get(HCHO) == pytest.approx(0.0798, abs=1e-4))
    assert formaldehyde.commands[0] == ze08.SET_ACTIVE


def test_ze08_question_and_answer_mode(formaldehyde: Ze08, run_reader: Callable[..., SensorReader]) -> None:
    formaldehyde.ppb = 120
    reader = run_reader(
        {"name": "hcho", "protocol": "ze08", "port": str(formaldehyde.link), "mode": "passive"}
    )
    status = wait_for(reader, lambda s: s.values.get(HCHO) == pytest.approx(0.1473, abs=1e-4))
    assert status.state == CONNECTED
    assert not formaldehyde.active and formaldehyde.commands[0] == bytes.fromhex("FF 01 78 41 00 00 00 00 46")
    assert bytes.fromhex("FF 01 86 00 00 00 00 00 79") in formaldehyde.commands


def test_ze08_bad_checksums_partial_frames_and_garbage(
    formaldehyde: Ze08, run_reader: Callable[..., SensorReader]
) -> None:
    reader = run_reader({"name": "hcho", "protocol": "ze08", "port": str(formaldehyde.link)})
    wait_for(reader, lambda s: HCHO in s.values)
    before = reader.status().values[HCHO]
    formaldehyde.corrupt_next = 10**6
    formaldehyde.ppb = 4000
    status = wait_for(reader, lambda s: s.bad_frames >= 3)
    assert status.values[HCHO] == before
    formaldehyde.corrupt_next, formaldehyde.truncate_next = 0, 10**6
    status = wait_for(reader, lambda s: s.bad_frames >= 6)
    assert status.values[HCHO] == before
    formaldehyde.truncate_next, formaldehyde.noise = 0, b"\xff\x17\x00garbage"
    status = wait_for(reader, lambda s: s.values[HCHO] != before and s.garbage_bytes > 0)
    assert status.values[HCHO] == pytest.approx(4.91, abs=0.01)  # 4000 ppb at 25 °C


def test_ze08_unplugged_and_plugged_back(formaldehyde: Ze08, run_reader: Callable[..., SensorReader]) -> None:
    reader = run_reader({"name": "hcho", "protocol": "ze08", "port": str(formaldehyde.link)})
    wait_for(reader, lambda s: HCHO in s.values)
    formaldehyde.unplug()
    wait_for(reader, lambda s: s.state == DISCONNECTED)
    formaldehyde.ppb = 20
    formaldehyde.plug()
    status = wait_for(
        reader, lambda s: s.state == CONNECTED and s.values.get(HCHO) == pytest.approx(0.0245, abs=1e-4)
    )
    assert status.reconnects == 1


# -- Modbus float32 ------------------------------------------------------------------------
def float_words(value: float, order: str, swap: bool) -> list[int]:
    """``value`` as two registers the way a transmitter with this layout sends it."""
    a, b, c, d = struct.pack(">f", value)
    high, low = (a, b), (c, d)
    if swap:
        high, low = (b, a), (d, c)
    words = [(x << 8) | y for x, y in (high, low)]
    return words if order == "big" else words[::-1]


@pytest.mark.parametrize(
    ("order", "swap"),
    [("big", False), ("little", False), ("big", True), ("little", True)],
    ids=["ABCD", "CDAB", "BADC", "DCBA"],
)
def test_modbus_float32_temperature_and_humidity_through_the_monitor(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor, order: str, swap: bool
) -> None:
    modbus_transmitter.set_registers(3, 0, float_words(48.5, order, swap) + float_words(-3.5, order, swap))
    table = (
        f'value_type = "float32"\nword_order = "{order}"\nbyte_swap = {str(swap).lower()}\n'
        "humidity_register = 0\ntemperature_register = 2\n"
    )
    monitor = make_monitor(
        '[monitors.environment]\nseason = "winter"\n[[monitors.environment.sensors]]\nname = "rs485"\n'
        f'protocol = "modbus"\nport = "{modbus_transmitter.host_link}"\nperiod = 0.2\n{table}'
    )
    deadline = time.monotonic() + 10
    readings: dict[str, Reading] = {}
    while time.monotonic() < deadline:
        readings = by_key(monitor.poll())
        if "environment.temperature[rs485]" in readings:
            break
        time.sleep(0.05)
    assert readings["environment.temperature[rs485]"].value == -3.5
    assert readings["environment.humidity[rs485]"].value == 48.5
    assert readings["environment.sensor[rs485]"].level is Level.OK


def test_modbus_float32_tvoc_and_a_nan_register(
    modbus_transmitter: ModbusTransmitter, run_reader: Callable[..., SensorReader]
) -> None:
    modbus_transmitter.set_registers(3, 6, float_words(0.42, "little", False))
    reader = run_reader(
        {
            "name": "tvoc",
            "protocol": "modbus",
            "port": str(modbus_transmitter.host_link),
            "temperature_register": -1,
            "humidity_register": -1,
            "tvoc_register": 6,
            "value_type": "float32",
            "word_order": "little",
        }
    )
    status = wait_for(reader, lambda s: TVOC in s.values)
    assert status.values[TVOC] == pytest.approx(0.42, abs=1e-6)
    modbus_transmitter.set_registers(3, 6, [0x0000, 0x7FC0])  # NaN (CDAB): "no value yet" on several devices
    status = wait_for(reader, lambda s: s.bad_frames >= 2)
    assert status.values[TVOC] == pytest.approx(0.42, abs=1e-6) and "not a finite" in status.last_problem


# -- the room temperature a formaldehyde sensor converts at ---------------------------------
def test_room_temperature_is_the_mean_of_the_fresh_thermometers() -> None:
    statuses = [
        SensorStatus("wall", values={"temperature": 20.0}, times={"temperature": 100.0}),
        SensorStatus("desk", values={"temperature": 23.0, "humidity": 40.0}, times={"temperature": 45.0}),
        SensorStatus("old", values={"temperature": 30.0}, times={"temperature": 10.0}),  # 90 s old
        SensorStatus("hcho", values={HCHO: 0.05}, times={HCHO: 100.0}),
    ]
    assert room_temperature(statuses, now=100.0, max_age=60.0) == 21.5
    assert room_temperature(statuses[2:], now=100.0, max_age=60.0) is None
    assert room_temperature([], now=100.0, max_age=60.0) is None


# -- through the environment monitor ---------------------------------------------------------
def test_pms_through_the_monitor_link_alert_raised_and_cleared(
    pms: Pms5003, make_monitor: MakeMonitor, engine: Engine
) -> None:
    pms.atmospheric = (9, 21, 33)
    monitor = make_monitor(
        '[monitors.environment]\nseason = "summer"\n[[monitors.environment.sensors]]\nname = "pm"\n'
        f'protocol = "pms"\nport = "{pms.link}"\nperiod = 0.2\n'
    )
    readings = poll_until(monitor, lambda r: value(r, "environment.pm25_now[pm]") == 21.0)
    assert value(readings, "environment.pm10_now[pm]") == 33.0
    assert readings["environment.sensor[pm]"].level is Level.OK
    pms.unplug()
    readings = poll_until(monitor, lambda r: value(r, "environment.sensor[pm]") is False)
    assert readings["environment.sensor[pm]"].level is Level.CRITICAL
    engine.ingest(readings.values())
    assert engine.alerts.open_for("environment.sensor[pm]") is not None
    pms.atmospheric = (10, 25, 40)
    pms.plug()
    # Polling goes on: the link is back and the new frames reach the monitor's reader.
    readings = poll_until(
        monitor,
        lambda r: (
            value(r, "environment.sensor[pm]") is True and monitor.readers[0].status().values[PM25] == 25.0
        ),
    )
    engine.ingest(readings.values())
    assert engine.alerts.open_for("environment.sensor[pm]") is None
    assert readings["environment.sensor[pm]"].detail["reconnects"] == 1
