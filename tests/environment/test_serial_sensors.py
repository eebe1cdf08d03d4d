"""The environment monitor against simulated sensors on real pty pairs.

A text-line board, an MH-Z19 responder and a Modbus RTU slave (written from
the spec, in ``simulators.py``) sit on the far end of pseudo-terminals; the
monitor reads them through its own reader threads exactly as it reads a USB
adapter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app.core.engine import Engine
from app.kernel.model import Level, Reading
from monitors.environment import EnvironmentMonitor
from tests.environment.conftest import MakeMonitor, by_key, judged
from tests.environment.simulators import Mhz19Responder, ModbusTransmitter, TextLineBoard

SUMMER = 'season = "summer"\n'
WINTER = 'season = "winter"\n'


def poll_until(
    monitor: EnvironmentMonitor, check: Callable[[dict[str, Reading]], bool], timeout: float = 8.0
) -> dict[str, Reading]:
    """Poll until ``check`` holds for the readings (the scheduler would poll like this)."""
    deadline = time.monotonic() + timeout
    while True:
        readings = by_key(monitor.poll())
        if check(readings):
            return readings
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met; last readings: {readings}")
        time.sleep(0.05)


def value(readings: dict[str, Reading], key: str) -> Any:
    reading = readings.get(key)
    return None if reading is None else reading.value


def text_config(board: TextLineBoard, extra: str = "") -> str:
    return (
        f"[monitors.environment]\n{SUMMER}{extra}"
        f'[[monitors.environment.sensors]]\nname = "desk"\nprotocol = "text"\nport = "{board.link}"\n'
    )


# -- text lines -------------------------------------------------------------------
def test_text_board_readings_arrive_with_the_right_values(
    text_board: TextLineBoard, make_monitor: MakeMonitor, engine: Engine
) -> None:
    text_board.values = {"t": 23.4, "h": 51.2}
    monitor = make_monitor(text_config(text_board))
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 23.4)
    assert value(readings, "environment.humidity[desk]") == 51.2
    assert judged(engine, readings.values())["environment.temperature[desk]"].level is Level.OK
    assert readings["environment.sensor[desk]"].level is Level.OK
    assert readings["environment.data_age[desk]"].level is Level.OK
    assert readings["environment.bad_frames[desk]"].value == 0
    engine.ingest(readings.values())
    assert engine.worst_level() is Level.OK


def test_out_of_range_temperature_and_humidity_raise_alerts(
    text_board: TextLineBoard, make_monitor: MakeMonitor, engine: Engine
) -> None:
    monitor = make_monitor(text_config(text_board))
    text_board.values = {"t": 29.0, "h": 85.0}  # summer range 22–28 °C, 40–80 %
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 29.0)
    states = judged(engine, readings.values())
    assert states["environment.temperature[desk]"].level is Level.WARNING
    assert "Above the summer range 22–28 °C" in states["environment.temperature[desk]"].message.en
    assert "高于夏季范围 22–28 °C" in states["environment.temperature[desk]"].message.zh
    assert states["environment.humidity[desk]"].level is Level.WARNING
    raised = {a.key: a.level for a in engine.alerts.visible()}
    assert raised == {
        "environment.temperature[desk]": Level.WARNING,
        "environment.humidity[desk]": Level.WARNING,
    }
    text_board.values = {"t": 34.0, "h": 60.0}  # 6 °C beyond the range: critical
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 34.0)
    assert judged(engine, readings.values())["environment.temperature[desk]"].level is Level.CRITICAL
    text_board.values = {"t": 25.0, "h": 60.0}
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 25.0)
    engine.ingest(readings.values())
    assert engine.worst_level() is Level.OK
    assert all(a.ended is not None for a in engine.alerts.visible())


def test_winter_ranges_apply_in_winter(
    text_board: TextLineBoard, make_monitor: MakeMonitor, engine: Engine
) -> None:
    text_board.values = {"t": 20.0, "h": 70.0}  # fine in winter for temperature, too humid (30–60 %)
    monitor = make_monitor(text_config(text_board).replace(SUMMER, WINTER))
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 20.0)
    states = judged(engine, readings.values())
    assert states["environment.temperature[desk]"].level is Level.OK
    assert states["environment.humidity[desk]"].level is Level.WARNING
    assert "winter range 30–60 %" in states["environment.humidity[desk]"].message.en


def test_garbage_and_corrupt_lines_are_counted_and_survived(
    text_board: TextLineBoard, make_monitor: MakeMonitor
) -> None:
    monitor = make_monitor(text_config(text_board))
    poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 24.0)
    text_board.write(b"\x00\xff\xfe\x80 line noise\r\nT=abc,H=50\r\n" + b"x" * 2000 + b"\r\nT=999,H=50\r\n")
    text_board.values = {"t": 22.5, "h": 41.0}
    readings = poll_until(
        monitor,
        lambda r: (
            value(r, "environment.temperature[desk]") == 22.5
            and value(r, "environment.bad_frames[desk]") >= 4
        ),
    )
    assert readings["environment.sensor[desk]"].level is Level.OK
    assert readings["environment.bad_frames[desk]"].level is Level.OK
    assert "Last problem" in readings["environment.bad_frames[desk]"].message.en


def test_pulled_board_raises_disconnected_and_recovers_without_restart(
    text_board: TextLineBoard, make_monitor: MakeMonitor, engine: Engine
) -> None:
    monitor = make_monitor(text_config(text_board))
    poll_until(monitor, lambda r: value(r, "environment.sensor[desk]") is True)
    text_board.unplug()
    readings = poll_until(monitor, lambda r: value(r, "environment.sensor[desk]") is False)
    link = readings["environment.sensor[desk]"]
    assert link.level is Level.CRITICAL
    assert "Sensor disconnected" in link.message.en and "传感器已断开" in link.message.zh
    engine.ingest(readings.values())
    alert = engine.alerts.open_for("environment.sensor[desk]")
    assert alert is not None and alert.level is Level.CRITICAL

    text_board.values = {"t": 26.5, "h": 55.0}
    text_board.plug()
    readings = poll_until(
        monitor,
        lambda r: (
            value(r, "environment.sensor[desk]") is True and value(r, "environment.temperature[desk]") == 26.5
        ),
    )
    assert readings["environment.sensor[desk]"].detail["reconnects"] == 1
    engine.ingest(readings.values())
    assert engine.alerts.open_for("environment.sensor[desk]") is None
    assert engine.worst_level() is Level.OK


def test_silent_board_goes_stale(text_board: TextLineBoard, make_monitor: MakeMonitor) -> None:
    monitor = make_monitor(text_config(text_board, "stale_after = 1\n"))
    poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 24.0)
    text_board.interval = 3600.0  # the board keeps the port open but stops talking
    readings = poll_until(monitor, lambda r: r["environment.data_age[desk]"].level is Level.WARNING)
    assert "No valid reading for" in readings["environment.data_age[desk]"].message.en
    assert readings["environment.temperature[desk]"].value is None
    assert readings["environment.temperature[desk]"].level is Level.UNKNOWN
    assert readings["environment.sensor[desk]"].level is Level.OK  # connected, just silent


# -- MH-Z19 -------------------------------------------------------------------------
def mhz19_config(sensor: Mhz19Responder, extra: str = "") -> str:
    return (
        f"[monitors.environment]\n{SUMMER}"
        f'[[monitors.environment.sensors]]\nname = "co2"\nprotocol = "mhz19"\n'
        f'port = "{sensor.link}"\nperiod = 0.2\n{extra}'
    )


def test_mhz19_co2_arrives_and_high_co2_raises_an_alert(
    mhz19_sensor: Mhz19Responder, make_monitor: MakeMonitor, engine: Engine
) -> None:
    mhz19_sensor.ppm = 612
    monitor = make_monitor(mhz19_config(mhz19_sensor))
    readings = poll_until(monitor, lambda r: value(r, "environment.co2[co2]") == 612)
    engine.ingest(readings.values())
    assert engine.state("environment.co2[co2]").level is Level.OK  # type: ignore[union-attr]
    assert bytes(mhz19_sensor.received[:9]).hex(" ") == "ff 01 86 00 00 00 00 00 79"
    mhz19_sensor.ppm = 1350  # above the GB/T 18883 limit of 1000 ppm
    readings = poll_until(monitor, lambda r: value(r, "environment.co2[co2]") == 1350)
    engine.ingest(readings.values())
    alert = engine.alerts.open_for("environment.co2[co2]")
    assert alert is not None and alert.level is Level.WARNING
    mhz19_sensor.ppm = 2500
    engine.ingest(poll_until(monitor, lambda r: value(r, "environment.co2[co2]") == 2500).values())
    assert engine.state("environment.co2[co2]").level is Level.CRITICAL  # type: ignore[union-attr]


def test_mhz19_bad_checksums_and_noise_are_survived(
    mhz19_sensor: Mhz19Responder, make_monitor: MakeMonitor
) -> None:
    monitor = make_monitor(mhz19_config(mhz19_sensor))
    poll_until(monitor, lambda r: value(r, "environment.co2[co2]") == 600)
    mhz19_sensor.ppm = 7000 // 10  # 700 ppm, only believable if a frame checks out
    mhz19_sensor.corrupt_next = 3
    mhz19_sensor.noise = b"\x00\x13\xff\x86\x01"  # even a fake frame start
    readings = poll_until(
        monitor,
        lambda r: value(r, "environment.co2[co2]") == 700 and value(r, "environment.bad_frames[co2]") >= 3,
    )
    assert readings["environment.sensor[co2]"].level is Level.OK


def test_mhz19_that_stops_answering_is_reported(
    mhz19_sensor: Mhz19Responder, make_monitor: MakeMonitor
) -> None:
    monitor = make_monitor(mhz19_config(mhz19_sensor))
    poll_until(monitor, lambda r: value(r, "environment.co2[co2]") == 600)
    mhz19_sensor.silent = True
    readings = poll_until(monitor, lambda r: r["environment.sensor[co2]"].level is Level.WARNING)
    assert "gives no valid answer" in readings["environment.sensor[co2]"].message.en
    mhz19_sensor.silent = False
    poll_until(monitor, lambda r: r["environment.sensor[co2]"].level is Level.OK)


def test_mhz19_unplugged_and_plugged_back(mhz19_sensor: Mhz19Responder, make_monitor: MakeMonitor) -> None:
    monitor = make_monitor(mhz19_config(mhz19_sensor))
    poll_until(monitor, lambda r: value(r, "environment.co2[co2]") == 600)
    mhz19_sensor.unplug()
    poll_until(monitor, lambda r: r["environment.sensor[co2]"].level is Level.CRITICAL)
    mhz19_sensor.ppm = 880
    mhz19_sensor.plug()
    readings = poll_until(monitor, lambda r: value(r, "environment.co2[co2]") == 880)
    assert readings["environment.sensor[co2]"].level is Level.OK


# -- Modbus RTU ---------------------------------------------------------------------
def link_level(readings: dict[str, Reading]) -> Level | None:
    link = readings.get("environment.sensor[rs485]")
    return None if link is None else link.level


def modbus_config(transmitter: ModbusTransmitter, table: str, season: str = SUMMER) -> str:
    return (
        f"[monitors.environment]\n{season}"
        f'[[monitors.environment.sensors]]\nname = "rs485"\nprotocol = "modbus"\n'
        f'port = "{transmitter.host_link}"\nperiod = 0.2\n{table}'
    )


def test_modbus_preset_reads_signed_temperature(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor, engine: Engine
) -> None:
    # XY-MD02 layout: input registers, temperature at 1 (signed, ×10), humidity at 2.
    modbus_transmitter.set_registers(4, 1, [(-35) & 0xFFFF, 456])
    monitor = make_monitor(modbus_config(modbus_transmitter, 'preset = "xy-md02"\n', WINTER))
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[rs485]") is not None)
    assert value(readings, "environment.temperature[rs485]") == -3.5
    assert value(readings, "environment.humidity[rs485]") == 45.6
    # Winter range 16–24 °C, critical 5 °C beyond: −3.5 °C is critical.
    states = judged(engine, readings.values())
    assert states["environment.temperature[rs485]"].level is Level.CRITICAL
    assert "Below the winter range" in states["environment.temperature[rs485]"].message.en


def test_modbus_custom_map_with_co2_and_32_bit_little_endian(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor
) -> None:
    # A vendor map: holding registers, temperature 10/11 as 32-bit hundredths,
    # low word first; humidity absent; CO₂ in 20/21.
    hundredths = 2345
    modbus_transmitter.set_registers(3, 10, [hundredths & 0xFFFF, hundredths >> 16])
    modbus_transmitter.set_registers(3, 20, [1500, 0])
    table = (
        "function = 3\ntemperature_register = 10\ntemperature_scale = 0.01\n"
        "humidity_register = -1\nco2_register = 20\nco2_scale = 1.0\n"
        'words = 2\nword_order = "little"\nslave = 1\n'
    )
    monitor = make_monitor(modbus_config(modbus_transmitter, table))
    readings = poll_until(monitor, lambda r: value(r, "environment.co2[rs485]") is not None)
    assert value(readings, "environment.temperature[rs485]") == 23.4  # shown to 0.1 °C
    assert value(readings, "environment.co2[rs485]") == 1500
    assert "environment.humidity[rs485]" not in readings


def test_modbus_bad_crc_is_counted_and_survived(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor
) -> None:
    modbus_transmitter.set_registers(3, 0, [500, 231])
    monitor = make_monitor(modbus_config(modbus_transmitter, ""))  # default map: holding, RH 0, T 1
    poll_until(monitor, lambda r: value(r, "environment.temperature[rs485]") == 23.1)
    modbus_transmitter.corrupt = True
    modbus_transmitter.set_registers(3, 0, [500, 999])  # 99.9 °C must never get through
    readings = poll_until(monitor, lambda r: value(r, "environment.bad_frames[rs485]") >= 2)
    assert value(readings, "environment.temperature[rs485]") == 23.1
    assert "CRC" in readings["environment.bad_frames[rs485]"].message.en
    modbus_transmitter.corrupt = False
    modbus_transmitter.set_registers(3, 0, [500, 245])
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[rs485]") == 24.5)
    assert readings["environment.sensor[rs485]"].level is Level.OK


def test_modbus_wrong_slave_address_is_no_answer(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor
) -> None:
    monitor = make_monitor(modbus_config(modbus_transmitter, "slave = 7\n"))
    readings = poll_until(monitor, lambda r: link_level(r) is Level.WARNING, timeout=15)
    assert "gives no valid answer" in readings["environment.sensor[rs485]"].message.en
    assert "no reply" in readings["environment.sensor[rs485]"].message.en


def test_modbus_exception_reply_is_reported(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor
) -> None:
    # Register 40 does not exist on the device: it answers "illegal address".
    monitor = make_monitor(modbus_config(modbus_transmitter, "temperature_register = 40\n"))
    readings = poll_until(monitor, lambda r: link_level(r) is Level.WARNING, timeout=15)
    assert "Modbus exception 2" in readings["environment.sensor[rs485]"].message.en


def test_modbus_cable_pulled_and_back(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor
) -> None:
    modbus_transmitter.set_registers(3, 0, [500, 231])
    monitor = make_monitor(modbus_config(modbus_transmitter, ""))
    poll_until(monitor, lambda r: value(r, "environment.temperature[rs485]") == 23.1)
    modbus_transmitter.unplug()
    readings = poll_until(monitor, lambda r: r["environment.sensor[rs485]"].level is Level.CRITICAL)
    assert "Sensor disconnected" in readings["environment.sensor[rs485]"].message.en
    modbus_transmitter.set_registers(3, 0, [500, 262])
    modbus_transmitter.plug()
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[rs485]") == 26.2)
    assert readings["environment.sensor[rs485]"].level is Level.OK


def test_modbus_slow_answers_then_an_exception_then_unplugged_and_back(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor
) -> None:
    modbus_transmitter.set_registers(3, 0, [500, 231])
    modbus_transmitter.delay = 0.5  # slow, but within the 1 s the reader waits
    monitor = make_monitor(modbus_config(modbus_transmitter, ""))
    readings = poll_until(monitor, lambda r: value(r, "environment.temperature[rs485]") == 23.1)
    assert link_level(readings) is Level.OK
    assert value(readings, "environment.bad_frames[rs485]") == 0

    modbus_transmitter.delay = 0
    modbus_transmitter.exception = 4  # the device answers, but only "server device failure"
    readings = poll_until(monitor, lambda r: link_level(r) is Level.WARNING, timeout=15)
    message = readings["environment.sensor[rs485]"].message.en
    assert "gives no valid answer" in message
    assert "Modbus exception 4 (server device failure)" in message
    assert value(readings, "environment.bad_frames[rs485]") == 0  # an exception is an answer, not corruption

    modbus_transmitter.exception = 0
    modbus_transmitter.set_registers(3, 0, [500, 244])
    poll_until(
        monitor,
        lambda r: value(r, "environment.temperature[rs485]") == 24.4 and link_level(r) is Level.OK,
    )

    modbus_transmitter.unplug()
    readings = poll_until(monitor, lambda r: link_level(r) is Level.CRITICAL)
    assert "Sensor disconnected" in readings["environment.sensor[rs485]"].message.en
    modbus_transmitter.set_registers(3, 0, [500, 262])
    modbus_transmitter.delay = 0.5
    modbus_transmitter.plug()
    readings = poll_until(
        monitor,
        lambda r: value(r, "environment.temperature[rs485]") == 26.2 and link_level(r) is Level.OK,
        timeout=15,
    )
    assert readings["environment.sensor[rs485]"].detail["reconnects"] == 1
    assert value(readings, "environment.bad_frames[rs485]") == 0


# -- several sensors ------------------------------------------------------------------
def test_several_sensors_at_once(
    text_board: TextLineBoard, mhz19_sensor: Mhz19Responder, make_monitor: MakeMonitor
) -> None:
    mhz19_sensor.ppm = 777
    monitor = make_monitor(
        text_config(text_board)
        + '[[monitors.environment.sensors]]\nname = "co2"\nprotocol = "mhz19"\n'
        + f'port = "{mhz19_sensor.link}"\n'
    )
    readings = poll_until(
        monitor,
        lambda r: (
            value(r, "environment.co2[co2]") == 777 and value(r, "environment.temperature[desk]") == 24.0
        ),
    )
    assert {r.instance for r in readings.values()} == {"desk", "co2"}
    assert "environment.temperature[co2]" not in readings
