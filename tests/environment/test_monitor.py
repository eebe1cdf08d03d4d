"""The environment monitor's configuration, season choice and range judging."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import serial.tools.list_ports_common

from app.core.config import check_file, load_config
from app.core.engine import Engine
from app.kernel.i18n import Text
from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.environment import HUMIDITY_IND, TEMPERATURE_IND, EnvironmentMonitor, season_of
from sensors import serial_transport
from sensors.serial_transport import Backoff, PortUnavailable, SerialSettings, open_port, resolve_port
from tests.cli import run_deskwatch
from tests.environment.conftest import MakeMonitor, by_key, judged
from tests.environment.simulators import TextLineBoard


def errors_for(tmp_path: Path, toml: str) -> list[str]:
    path = tmp_path / "deskwatch.toml"
    path.write_text(toml, "utf-8")
    return [str(e) for e in check_file({"environment": EnvironmentMonitor}, path)]


# -- configuration ------------------------------------------------------------------------
def test_sensor_tables_are_validated_key_by_key(tmp_path: Path) -> None:
    errors = errors_for(
        tmp_path,
        "[[monitors.environment.sensors]]\n"
        'name = "a"\nport = "/dev/ttyUSB0"\nbaudrate = "fast"\n'
        "[[monitors.environment.sensors]]\n"
        'protocol = "zigbee"\nport = "COM3"\ncolour = "red"\n',
    )
    path = tmp_path / "deskwatch.toml"
    assert f"{path}: monitors.environment.sensors[1].baudrate: invalid value 'fast' " in errors[0]
    assert "(allowed: a whole number from 50 to 4e+06)" in errors[0]
    assert (
        "sensors[2].protocol: invalid value 'zigbee' "
        "(allowed: one of 'text', 'modbus', 'mhz19', 'pms', 'ze08')" in errors[1]
    )
    assert "sensors[2].colour: unknown key (allowed: one of baudrate," in errors[2]
    assert len(errors) == 3


def test_sensors_must_be_a_list_of_tables(tmp_path: Path) -> None:
    (error,) = errors_for(tmp_path, '[monitors.environment]\nsensors = ["/dev/ttyUSB0"]\n')
    assert "monitors.environment.sensors: invalid value ['/dev/ttyUSB0']" in error
    assert "a list of tables ([[…sensors]]) with keys name, protocol, port" in error


def test_config_check_explains_sensors_that_cannot_work(tmp_path: Path) -> None:
    errors = errors_for(
        tmp_path,
        '[[monitors.environment.sensors]]\nname = "no port"\n'
        '[[monitors.environment.sensors]]\nport = "x"\nformat = "regex"\nregex = "(?P<temp>.*)"\n'
        '[[monitors.environment.sensors]]\nport = "x"\nprotocol = "modbus"\npreset = "xy-md02"\n',
    )
    path = tmp_path / "deskwatch.toml"
    assert errors == [
        f"{path}: monitors.environment.sensors[1]: "
        "set port (a device path or pyserial URL) or usb_id (VID:PID)",
        f"{path}: monitors.environment.sensors[2]: the regular expression needs a named group "
        "(?P<temperature>…), (?P<humidity>…) or (?P<co2>…)",
    ]


def test_valid_tables_keep_only_the_given_keys(tmp_path: Path) -> None:
    path = tmp_path / "deskwatch.toml"
    path.write_text('[[monitors.environment.sensors]]\nport = "loop://"\nbaudrate = 4800\n', "utf-8")
    config = load_config({"environment": EnvironmentMonitor}, path, shipped_path=Path("/nonexistent"))
    assert config.errors == []
    assert config.monitor("environment")["sensors"] == [{"port": "loop://", "baudrate": 4800}]


def test_unconfigured_monitor_shows_how_to_add_a_sensor_and_no_fault(tmp_path: Path) -> None:
    config = load_config({"environment": EnvironmentMonitor}, None, shipped_path=Path("/nonexistent"))
    assert config.monitor("environment")["enabled"] is True
    monitor = EnvironmentMonitor(config.monitor("environment"), MonitorContext(data_dir=tmp_path))
    hint = monitor.setup_hint()
    assert hint is not None and "[[monitors.environment.sensors]]" in hint.en and "环境传感器" in hint.zh
    monitor.start()
    [reading] = monitor.poll()
    assert reading.level is Level.NOT_SET_UP and reading.message == hint
    monitor.close()


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ('protocol = "text"\n', "set port"),
        ('port = "x"\nformat = "regex"\nregex = "(unclosed"\n', "invalid regular expression"),
        ('port = "x"\nkeys = ["tmp"]\n', "name=quantity"),
        ('port = "x"\nusb_id = "ch340"\n', "VID:PID"),
        (
            'protocol = "modbus"\nport = "x"\ntemperature_register = -1\nhumidity_register = -1\n',
            "no temperature",
        ),
    ],
)
def test_unusable_sensor_definitions_are_reported_not_fatal(
    make_monitor: MakeMonitor, table: str, reason: str
) -> None:
    # Reported twice: by the config check, and on the card while Deskwatch runs.
    monitor = make_monitor(f'[[monitors.environment.sensors]]\nname = "bad"\n{table}', config_errors=1)
    readings = by_key(monitor.poll())
    link = readings["environment.sensor[bad]"]
    assert link.level is Level.CRITICAL and reason in link.message.en
    assert "配置有误" in link.message.zh


def test_sensor_names_cannot_break_indicator_keys(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor('[[monitors.environment.sensors]]\nname = "desk[1]"\nport = "loop://"\n')
    assert [d.name for d in monitor.definitions] == ["desk(1)"]


def test_missing_port_is_disconnected_not_a_crash(make_monitor: MakeMonitor, tmp_path: Path) -> None:
    monitor = make_monitor(
        f'[[monitors.environment.sensors]]\nname = "gone"\nport = "{tmp_path / "ttyUSB9"}"\n'
    )
    readings = by_key(monitor.poll())
    assert readings["environment.sensor[gone]"].level is Level.CRITICAL
    assert "No such file" in readings["environment.sensor[gone]"].message.en
    assert readings["environment.data_age[gone]"].value is None


# -- season and ranges ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("month", "season"), [(1, "winter"), (3, "winter"), (4, "summer"), (10, "summer"), (11, "winter")]
)
def test_season_follows_the_heating_months(month: int, season: str) -> None:
    assert season_of(dt.date(2026, month, 15), 11, 3) == season
    assert season_of(dt.date(2026, month, 15), 12, 2) == ("winter" if month in (12, 1, 2) else "summer")


def test_season_setting_overrides_the_date(
    make_monitor: MakeMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EnvironmentMonitor, "today", staticmethod(lambda: dt.date(2026, 7, 1)))
    assert make_monitor("").season() == "summer"
    assert make_monitor('[monitors.environment]\nseason = "winter"\n').season() == "winter"
    assert (
        make_monitor("[monitors.environment]\nwinter_from_month = 6\nwinter_to_month = 8\n").season()
        == "winter"
    )


def test_two_sided_range_with_hysteresis_and_critical_margin() -> None:
    # The seasonal ranges are the indicator's thresholds, judged by the one Thresholds.judge.
    temperature = TEMPERATURE_IND.thresholds
    assert temperature is not None

    def judge(value: float, previous: Level = Level.OK, season: str = "summer") -> Level:
        return temperature.judge(value, previous, season)

    assert judge(25) is Level.OK
    assert judge(28) is Level.OK and judge(22) is Level.OK  # the range's ends are normal
    assert judge(28.1) is Level.WARNING
    assert judge(21.9) is Level.WARNING
    assert judge(27.8, Level.WARNING) is Level.WARNING  # not yet 0.5 back inside
    assert judge(27.4, Level.WARNING) is Level.OK
    assert judge(33) is Level.CRITICAL and judge(17) is Level.CRITICAL
    assert judge(32.8, Level.CRITICAL) is Level.CRITICAL
    assert judge(32.4, Level.CRITICAL) is Level.WARNING
    assert judge(25, season="winter") is Level.WARNING and judge(17, season="winter") is Level.OK
    humidity = HUMIDITY_IND.thresholds
    assert humidity is not None
    assert humidity.judge(90, Level.OK, "summer") is Level.WARNING  # humidity: no critical
    assert humidity.judge(79, Level.WARNING, "summer") is Level.WARNING  # 2 % hysteresis
    assert humidity.judge(65, Level.OK, "winter") is Level.WARNING


def test_seasonal_ranges_are_overridden_under_indicators(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "deskwatch.toml"
    path.write_text(
        '[indicators."environment.temperature"]\nsummer_high = 26\ncritical_margin = 3\n'
        '[indicators."environment.humidity"]\nwinter_low = 35\nwinter_high = 55\n',
        "utf-8",
    )
    config = load_config({"environment": EnvironmentMonitor}, path, shipped_path=Path("/nonexistent"))
    assert config.errors == []
    th = config.indicator_thresholds(TEMPERATURE_IND)
    assert th is not None and th.judge(27, Level.OK, "summer") is Level.WARNING
    assert th.judge(29, Level.OK, "summer") is Level.CRITICAL
    engine.config = config
    states = judged(engine, [Reading(TEMPERATURE_IND.id, 27.0, instance="desk", band="summer")])
    assert states["environment.temperature[desk]"].level is Level.WARNING
    assert states["environment.temperature[desk]"].message == Text(
        "Above the summer range 22–26 °C", "高于夏季范围 22–26 °C"
    )
    errors = errors_for(tmp_path, '[indicators."environment.temperature"]\nwinter_low = 30\n')
    assert errors == [
        f'{tmp_path / "deskwatch.toml"}: indicators."environment.temperature": the low end of a range '
        "must not be above its high end (allowed: low ≤ high; clear_margin < critical_margin)"
    ]


def test_an_older_file_keeps_its_seasonal_ranges_read_from_where_they_were(tmp_path: Path) -> None:
    """The ranges used to be ``[monitors.environment]`` keys: an upgrade must not drop a site's ranges."""
    path = tmp_path / "deskwatch.toml"
    path.write_text(
        "[monitors.environment]\nsummer_temperature_max = 26\nwinter_humidity_min = 25\n"
        "temperature_critical_margin = 3\n"
        '[indicators."environment.humidity"]\nwinter_low = 20\n',
        "utf-8",
    )
    config = load_config({"environment": EnvironmentMonitor}, path, shipped_path=tmp_path / "none.toml")
    assert config.errors == []
    temperature = config.indicator_thresholds(TEMPERATURE_IND)
    humidity = config.indicator_thresholds(HUMIDITY_IND)
    assert temperature is not None and temperature.value("summer_high") == 26
    assert temperature.value("critical_margin") == 3
    assert humidity is not None and humidity.value("winter_low") == 20  # the new place wins
    assert [n.key for n in config.notices] == [
        "monitors.environment.summer_temperature_max",
        "monitors.environment.winter_humidity_min",
        "monitors.environment.temperature_critical_margin",
    ]
    # ``config check`` accepts the file and says where each key lives now.
    result = run_deskwatch("config", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert (
        'summer_temperature_max: has moved to indicators."environment.temperature".summer_high'
        in result.stderr
    )
    assert (
        'winter_humidity_min: ignored: indicators."environment.humidity".winter_low is set' in result.stderr
    )


# -- transport ------------------------------------------------------------------------------
def test_usb_discovery_by_vid_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    # Which adapters are plugged in is the one thing this machine cannot show; the rest is real.
    ch340 = serial.tools.list_ports_common.ListPortInfo("/dev/ttyUSB3")
    ch340.vid, ch340.pid = 0x1A86, 0x7523
    other = serial.tools.list_ports_common.ListPortInfo("/dev/ttyACM0")
    other.vid, other.pid = 0x2341, 0x0043
    monkeypatch.setattr(serial_transport.serial.tools.list_ports, "comports", lambda: [other, ch340])
    assert resolve_port(SerialSettings(usb_id="1A86:7523")) == "/dev/ttyUSB3"
    with pytest.raises(PortUnavailable, match="no serial device with USB id 10c4:ea60"):
        resolve_port(SerialSettings(usb_id="10c4:ea60"))
    assert resolve_port(SerialSettings(port="/dev/ttyS0", usb_id="1a86:7523")) == "/dev/ttyS0"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "set port"), ({"usb_id": "1a86"}, "VID:PID"), ({"port": "x", "parity": "X"}, "parity")],
)
def test_serial_settings_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SerialSettings(**kwargs)  # type: ignore[arg-type]


def test_pyserial_urls_and_missing_ports(tmp_path: Path) -> None:
    port = open_port(SerialSettings("loop://", baudrate=115200))
    port.write(b"T=1\n")
    assert port.read(4) == b"T=1\n"
    port.close()
    with pytest.raises(PortUnavailable, match="cannot open"):
        open_port(SerialSettings(str(tmp_path / "nothing")))


def test_backoff_grows_to_its_cap_and_resets() -> None:
    backoff = Backoff(0.5, 4.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


# -- deskwatch check ------------------------------------------------------------------------


def test_check_json_includes_environment_when_a_sensor_is_configured(
    tmp_path: Path, text_board: TextLineBoard
) -> None:
    text_board.values = {"t": 30.2, "h": 45.0}
    config = tmp_path / "deskwatch.toml"
    config.write_text(
        '[monitors.environment]\nseason = "summer"\n'
        f'[[monitors.environment.sensors]]\nname = "desk"\nport = "{text_board.link}"\n',
        "utf-8",
    )
    result = run_deskwatch(
        "check", "--json", "--config", str(config), "--data-dir", str(tmp_path), "--only", "environment"
    )
    assert result.stderr == "" or "config error" not in result.stderr
    payload = json.loads(result.stdout)
    by_id = {i["id"]: i for i in payload["indicators"]}
    temperature = by_id["environment.temperature[desk]"]
    assert temperature["value"] == 30.2 and temperature["unit"] == "°C"
    assert temperature["level"] == "warning" and temperature["device"] == "environment"
    assert by_id["environment.humidity[desk]"]["level"] == "ok"
    assert by_id["environment.sensor[desk]"]["level"] == "ok"
    assert payload["level"] == "warning" and result.returncode == 1


def test_check_json_without_sensors_shows_no_environment_fault(tmp_path: Path) -> None:
    result = run_deskwatch("check", "--json", "--data-dir", str(tmp_path), "--only", "environment")
    payload = json.loads(result.stdout)
    [sensor] = payload["indicators"]
    assert sensor["level"] == "not_set_up" and "[[monitors.environment.sensors]]" in sensor["message"]
    assert payload["level"] == "ok" and result.returncode == 0
