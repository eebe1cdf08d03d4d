"""Pollutants through everything that exists: a real Modbus sensor on a pty, the CLI's check
(JSON and Nagios), the exporter's gauges and the generated Prometheus rules (promtool)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app.core.exporter import Exporter
from app.kernel.model import Level
from monitors.environment import HOUR, WINDOWS_FILE, RollingAverage
from sensors.measurement import HCHO, PM25
from tests.cli import run_deskwatch
from tests.core.test_nagios import EXIT_CODE, parse_plugin_output
from tests.core.test_promfiles import _promtool_test
from tests.environment.airseat import Seat
from tests.environment.conftest import MakeMonitor
from tests.environment.pollutant_simulators import Pms5003, Ze08
from tests.environment.simulators import ModbusTransmitter
from tests.environment.test_serial_sensors import SUMMER, modbus_config, poll_until, value

#: Holding registers: PM2.5 in whole µg/m³ at 5, formaldehyde in µg/m³ (×0.001 → mg/m³) at 6.
AIR_MAP = (
    "function = 3\ntemperature_register = -1\nhumidity_register = -1\n"
    "pm25_register = 5\npm25_scale = 1.0\nhcho_register = 6\nhcho_scale = 0.001\n"
)


def air_config(transmitter: ModbusTransmitter, extra: str = "") -> str:
    """The transmitter's table with :data:`AIR_MAP`; ``extra`` lines go to ``[monitors.environment]``."""
    return modbus_config(transmitter, AIR_MAP, SUMMER + extra)


def test_a_modbus_pollutant_sensor_end_to_end_unplugged_and_back(
    modbus_transmitter: ModbusTransmitter, make_monitor: MakeMonitor
) -> None:
    modbus_transmitter.set_registers(3, 5, [42, 95])
    monitor = make_monitor(air_config(modbus_transmitter, "stale_after = 2.0\n"))
    readings = poll_until(monitor, lambda r: value(r, "environment.hcho_now[rs485]") is not None)
    assert value(readings, "environment.pm25_now[rs485]") == 42.0
    assert value(readings, "environment.hcho_now[rs485]") == 0.095
    # A day's (an hour's) average after a few seconds is not an observation: grey, no alert.
    for key in ("environment.pm25[rs485]", "environment.hcho[rs485]"):
        assert readings[key].level is Level.NOT_SET_UP and readings[key].value is None
    assert readings["environment.hcho[rs485]"].detail["current"] == 0.095
    # Above the 0.08 limit: the early warning speaks, and waits for the standard's 45 minutes.
    message = readings["environment.hcho_now[rs485]"].message
    assert message is not None and "Rising" in message.en and "45 min" in message.en
    modbus_transmitter.unplug()
    readings = poll_until(monitor, lambda r: r["environment.hcho_now[rs485]"].level is Level.UNKNOWN, 15)
    assert readings["environment.hcho[rs485]"].level is Level.NOT_SET_UP  # still in the window, not lost
    covered, unplugged_at = readings["environment.hcho[rs485]"].detail["covered_s"], time.monotonic()
    time.sleep(3)  # the sensor stays out a while
    modbus_transmitter.plug()
    modbus_transmitter.set_registers(3, 5, [40, 30])
    # The 5-min mean is time-weighted: the first 0.03 has no weight yet, so wait until it has some.
    readings = poll_until(
        monitor,
        lambda r: (
            r["environment.hcho[rs485]"].detail["current"] == 0.03
            and (value(r, "environment.hcho_now[rs485]") or 1.0) < 0.095
        ),
        20,
    )
    assert value(readings, "environment.pm25_now[rs485]") is not None
    # The 5-min mean mixes the 0.095 before with the 0.03 now.
    assert 0.03 < value(readings, "environment.hcho_now[rs485]") < 0.095
    # The time the sensor was out is not counted as observed.
    grown = readings["environment.hcho[rs485]"].detail["covered_s"] - covered
    assert grown <= time.monotonic() - unplugged_at - 2


def _saved_hour(path: Path, value: float) -> None:
    """An hour of formaldehyde at ``value`` as the running application would have saved it."""
    average = RollingAverage(HOUR, max_hold=120)
    now = time.time()
    for n in range(360):
        average.add(now - HOUR + n * 10, value)
    path.write_text(json.dumps({"version": 1, "sensors": {"rs485": {HCHO: average.state()}}}), "utf-8")


def test_check_json_and_nagios_show_the_averages_the_application_kept(
    modbus_transmitter: ModbusTransmitter, tmp_path: Path
) -> None:
    modbus_transmitter.set_registers(3, 5, [42, 100])
    config = tmp_path / "deskwatch.toml"
    config.write_text(air_config(modbus_transmitter), "utf-8")
    data = tmp_path / "data"
    data.mkdir()
    _saved_hour(data / WINDOWS_FILE, 0.09)
    saved = (data / WINDOWS_FILE).read_text("utf-8")
    base = ("--config", str(config), "--data-dir", str(data), "--only", "environment")
    result = run_deskwatch("check", "--json", *base)
    by_id = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    hcho = by_id["environment.hcho[rs485]"]
    assert hcho["value"] == 0.09 and hcho["level"] == "warning" and hcho["unit"] == "mg/m³"
    # The 5-min mean: the saved minutes at 0.09 and the seconds of this check at 0.1.
    assert 0.09 <= by_id["environment.hcho_now[rs485]"]["value"] <= 0.1
    assert "Now 0.1 mg/m³" in hcho["message"]
    assert by_id["environment.pm25_now[rs485]"]["level"] == "ok"
    assert by_id["environment.pm25[rs485]"]["level"] == "not_set_up"
    assert result.returncode == 1
    # A one-shot check reads the application's averages but leaves the file alone.
    assert (data / WINDOWS_FILE).read_text("utf-8") == saved
    done = run_deskwatch("check", "--nagios", "--lang", "en", *base)
    out = parse_plugin_output(done.stdout)
    assert out.status == "WARNING" and done.returncode == EXIT_CODE["WARNING"]
    datum = out.perfdata["environment.hcho[rs485]"]
    assert datum.value == 0.09 and (datum.warn, datum.crit) == ("@0.08:", "@0.16:")
    assert out.perfdata["environment.pm25[rs485]"].value is None  # not observed: "U", no number to plot


def test_exporter_gauges_for_the_average_and_the_current_level(tmp_path: Path) -> None:
    seat = Seat(tmp_path)
    seat.run(HOUR, lambda t: 0.05, HCHO)
    seat.run(HOUR, lambda t: 30.0, PM25)
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(Exporter(seat.engine, None).scrape()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    item = {"device": "environment", "item": "desk"}
    assert found["deskwatch_environment_hcho_mg_per_m3"] == [(item, 0.05)]
    assert found["deskwatch_environment_hcho_now_mg_per_m3"] == [(item, 0.05)]
    assert found["deskwatch_environment_pm25_now_ug_per_m3"] == [(item, 30.0)]
    # The day's PM2.5 average is not observed yet: a level 4, no gauge (so no rule can fire on it).
    assert "deskwatch_environment_pm25_ug_per_m3" not in found
    levels = {(lb["indicator"], lb["item"]): v for lb, v in found["deskwatch_indicator_level"]}
    assert levels[("environment.pm25", "desk")] == int(Level.NOT_SET_UP)


def _series(metric: str, values: str) -> dict[str, str]:
    labels = 'instance="seat1", job="deskwatch", device="environment", item="desk"'
    return {"series": f"{metric}{{{labels}}}", "values": values}


def _alert(indicator: str, label: str, value: str, where: str) -> dict[str, object]:
    return {
        "exp_labels": {
            "severity": "warning",
            "deskwatch_indicator": indicator,
            "instance": "seat1",
            "seat": "seat1",
            "job": "deskwatch",
            "device": "environment",
            "item": "desk",
        },
        "exp_annotations": {
            "summary": f"{label}: warning on seat1",
            "summary_zh": {
                "environment.pm25": "PM2.5(24 小时均值):警告(seat1)",
                "environment.pm25_now": "PM2.5 实时(15 分钟均值):警告(seat1)",
            }[indicator],
            "description": f"Environment — {label} is {value} µg/m³ ({where}) on desk.",
        },
    }


def test_rules_judge_the_average_at_once_and_the_early_warning_after_half_an_hour(tmp_path: Path) -> None:
    """Evaluated by Prometheus's own rule engine (promtool test rules), as Deskwatch judges them."""
    average = "deskwatch_environment_pm25_ug_per_m3"
    now = "deskwatch_environment_pm25_now_ug_per_m3"
    _promtool_test(
        tmp_path,
        [
            {
                "interval": "1m",
                # Average, one value a minute: 45 for 5 min, 52 for 5, 48 for 5 (above the clear
                # level 47.5), then 40.
                # Short-term level: 60 from the start for an hour.
                "input_series": [
                    _series(average, "45x4 52x4 48x4 40x4"),
                    _series(now, "60x60"),
                ],
                "alert_rule_test": [
                    {"eval_time": "3m", "alertname": "DeskwatchEnvironmentPm25Warning", "exp_alerts": []},
                    {
                        "eval_time": "6m",
                        "alertname": "DeskwatchEnvironmentPm25Warning",
                        "exp_alerts": [
                            _alert("environment.pm25", "PM2.5 (24 h average)", "52.0", "at or above 50 µg/m³")
                        ],
                    },
                    {
                        "eval_time": "11m",
                        "alertname": "DeskwatchEnvironmentPm25Warning",
                        "exp_alerts": [
                            _alert("environment.pm25", "PM2.5 (24 h average)", "48.0", "at or above 50 µg/m³")
                        ],
                    },
                    {"eval_time": "16m", "alertname": "DeskwatchEnvironmentPm25Warning", "exp_alerts": []},
                    {"eval_time": "25m", "alertname": "DeskwatchEnvironmentPm25NowWarning", "exp_alerts": []},
                    {
                        "eval_time": "35m",
                        "alertname": "DeskwatchEnvironmentPm25NowWarning",
                        "exp_alerts": [
                            _alert(
                                "environment.pm25_now",
                                "PM2.5 now (15-min mean)",
                                "60.0",
                                "at or above 50 µg/m³",
                            )
                        ],
                    },
                ],
            }
        ],
    )


def test_check_json_shows_a_pms5003st_and_a_ze08_on_their_ptys(
    pms_st: Pms5003, formaldehyde: Ze08, tmp_path: Path
) -> None:
    """One PMS5003ST gives PM, formaldehyde, temperature and humidity; a ZE08 converts at its temperature."""
    pms_st.atmospheric, pms_st.hcho, pms_st.temperature, pms_st.humidity = (9, 21, 33), 0.052, 20.0, 44.5
    formaldehyde.ppb = 100  # 0.1249 mg/m³ at 20 °C (0.1228 at the 25 °C used without a thermometer)
    config = tmp_path / "deskwatch.toml"
    config.write_text(
        SUMMER + f'[[monitors.environment.sensors]]\nname = "air"\nprotocol = "pms"\nmodel = "pms5003st"\n'
        f'port = "{pms_st.link}"\n'
        f'[[monitors.environment.sensors]]\nname = "cabinet"\nprotocol = "ze08"\n'
        f'port = "{formaldehyde.link}"\n',
        "utf-8",
    )
    base = ("--config", str(config), "--data-dir", str(tmp_path / "data"), "--only", "environment")
    result = run_deskwatch("check", "--json", "--lang", "en", *base)
    by_id = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    values = {key: by_id[key]["value"] for key in by_id if key.endswith(("[air]", "[cabinet]"))}
    assert values["environment.temperature[air]"] == 20.0
    assert values["environment.humidity[air]"] == 44.5
    assert values["environment.pm25_now[air]"] == 21.0 and values["environment.pm10_now[air]"] == 33.0
    assert values["environment.hcho_now[air]"] == 0.052
    assert by_id["environment.hcho_now[air]"]["unit"] == "mg/m³"
    assert by_id["environment.pm25_now[air]"]["unit"] == "µg/m³"
    # At the PMS5003ST's 20 °C, or at 25 °C when the one-shot check took the ZE08's first frame
    # before the PMS5003ST's first one (the session tests pin the conversion itself down).
    assert values["environment.hcho_now[cabinet]"] in (0.125, 0.123)
    # Over 0.08: a one-shot check has no debounce, so the early warning speaks at once.
    cabinet = by_id["environment.hcho_now[cabinet]"]
    assert cabinet["level"] == "warning" and cabinet["message"].startswith("Rising: above the limit 0.08")
    assert by_id["environment.hcho_now[air]"]["level"] == "ok"
    assert by_id["environment.bad_frames[air]"]["value"] == 0
    # A one-shot check has seen seconds of the windows: the standard's averages are not observed.
    assert by_id["environment.hcho[cabinet]"]["level"] == "not_set_up"
    assert "not observed" in by_id["environment.hcho[cabinet]"]["message"]
