"""Pollutants judged on GB/T 18883's rolling averages, with the early warning, over simulated hours.

The monitor is fed sensor snapshots with an injected clock and its readings go
through a real engine (with debounce, as in the application), so what is
checked is what the clerk would see: when the warning comes, when the
average's level changes, and that it does not flap.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from app.core.config import load_config
from app.kernel.model import Level, format_value
from monitors.environment import HOUR, WINDOWS_FILE, EnvironmentMonitor
from sensors.measurement import CO2, HCHO, PM25
from tests.environment.airseat import Seat


def test_formaldehyde_warns_rising_before_its_hourly_average_crosses(tmp_path: Path) -> None:
    seat = Seat(tmp_path)
    seat.run(HOUR, lambda t: 0.03, HCHO)
    assert seat.level("environment.hcho[desk]") is Level.OK
    assert seat.level("environment.hcho_now[desk]") is Level.OK
    start = seat.t
    seat.run(HOUR, lambda t: 0.15, HCHO)  # new furniture unwrapped
    rising = seat.first("environment.hcho_now[desk]", Level.WARNING)
    over = seat.first("environment.hcho[desk]", Level.WARNING)
    assert rising is not None and over is not None
    # The 1 h mean of 0.03 reaches 0.08 after ~25 min at 0.15; the warning comes ~12 min in.
    assert rising - start < over - start
    assert 9 * 60 <= rising - start <= 15 * 60
    assert 22 * 60 <= over - start <= 28 * 60
    state = seat.engine.state("environment.hcho[desk]")
    assert state is not None and state.value == pytest.approx(0.15, abs=0.005)
    assert state.detail["current"] == 0.15


def test_the_rising_message_says_when_the_average_passes_the_limit(tmp_path: Path) -> None:
    seat = Seat(tmp_path)
    seat.run(HOUR, lambda t: 0.03, HCHO)
    seat.run(10 * 60, lambda t: 0.15, HCHO)
    state = seat.engine.state("environment.hcho_now[desk]")
    assert state is not None and state.message is not None
    assert "Rising" in state.message.en and "min" in state.message.en
    assert 10 * 60 <= state.detail["eta_s"] <= 20 * 60


def test_a_noisy_signal_below_the_limit_never_warns(tmp_path: Path) -> None:
    rng = random.Random(5003)
    seat = Seat(tmp_path)
    # PM2.5 around 42 µg/m³, single samples often above the 50 limit.
    seat.run(6 * HOUR, lambda t: max(0.0, rng.gauss(42, 8)), PM25, every=20)
    assert [level for _, level in seat.changes["environment.pm25_now[desk]"]] == [Level.OK]


def test_a_noisy_signal_at_the_limit_does_not_flap(tmp_path: Path) -> None:
    rng = random.Random(18)
    seat = Seat(tmp_path)
    seat.run(6 * HOUR, lambda t: max(0.0, rng.gauss(50.5, 10)), PM25, every=20)
    levels = [level for _, level in seat.changes["environment.pm25_now[desk]"]]
    # It may raise once (the air is at the limit) but never go back and forth.
    assert levels in ([Level.OK], [Level.OK, Level.WARNING])


def test_a_short_burst_does_not_warn(tmp_path: Path) -> None:
    seat = Seat(tmp_path)
    seat.run(HOUR, lambda t: 20.0, PM25, every=20)
    burst_end = seat.t + 3 * 60
    seat.run(HOUR, lambda t: 300.0 if t <= burst_end else 20.0, PM25, every=20)
    assert [level for _, level in seat.changes["environment.pm25_now[desk]"]] == [Level.OK]


def test_a_daily_average_is_not_observed_until_18_hours_are_covered(tmp_path: Path) -> None:
    seat = Seat(tmp_path)
    seat.run(17.5 * HOUR, lambda t: 80.0, PM25, every=60)
    state = seat.engine.state("environment.pm25[desk]")
    assert state is not None and state.level is Level.NOT_SET_UP and state.value is None
    assert state.message is not None and "not observed" in state.message.en and "18.0 h" in state.message.en
    # Meanwhile the air is plainly over: the early warning has said so.
    assert seat.level("environment.pm25_now[desk]") is Level.WARNING
    seat.run(HOUR, lambda t: 80.0, PM25, every=60)
    state = seat.engine.state("environment.pm25[desk]")
    assert state is not None and state.value == 80.0 and state.level is Level.WARNING


def test_a_stricter_limit_is_one_key_and_moves_the_early_warning_too(tmp_path: Path) -> None:
    seat = Seat(tmp_path, '[indicators."environment.hcho"]\nwarning = 0.05\nwarning_clear = 0.045\n')
    now = seat.engine.config.thresholds["environment.hcho_now"]
    assert (now.warning, now.warning_clear) == (0.05, 0.045)  # 90 % of the limit, as for the standard's
    seat.run(HOUR, lambda t: 0.06, HCHO)
    assert seat.level("environment.hcho[desk]") is Level.WARNING
    assert seat.level("environment.hcho_now[desk]") is Level.WARNING


def test_the_early_warning_keeps_the_standards_limit_until_one_is_set(tmp_path: Path) -> None:
    seat = Seat(tmp_path, '[indicators."environment.pm25_now"]\nraise_after = 60\n')
    now = seat.engine.config.thresholds["environment.pm25_now"]
    assert (now.warning, now.warning_clear, now.raise_after) == (50.0, 45.0, 60.0)


def test_a_limit_set_on_the_early_warning_is_refused_with_where_it_goes(tmp_path: Path) -> None:
    path = tmp_path / "deskwatch.toml"
    path.write_text('[indicators."environment.pm25_now"]\nwarning = 15\nraise_after = 60\n', "utf-8")
    config = load_config({"environment": EnvironmentMonitor}, path, shipped_path=Path("/nonexistent"))
    [error] = config.errors
    assert error.key == 'indicators."environment.pm25_now".warning'
    assert "follows the limit of environment.pm25" in error.message
    assert '[indicators."environment.pm25"] warning' in error.allowed
    now = config.thresholds["environment.pm25_now"]
    assert (now.warning, now.raise_after) == (50.0, 60.0)  # the rest of the table still applies


def test_co2_keeps_its_instant_judging_and_gains_the_daily_average(tmp_path: Path) -> None:
    seat = Seat(tmp_path)
    seat.run(20 * 60, lambda t: 1400.0, CO2)
    assert seat.level("environment.co2[desk]") is Level.WARNING  # ventilate now
    assert seat.level("environment.co2_average[desk]") is Level.NOT_SET_UP  # a day not yet seen
    assert seat.engine.state("environment.co2_now[desk]") is None


def test_averages_survive_a_restart_through_the_data_folder(tmp_path: Path) -> None:
    first = Seat(tmp_path, mode="app")
    first.run(HOUR, lambda t: 0.10, HCHO)
    first.monitor.close()
    saved = json.loads((tmp_path / WINDOWS_FILE).read_text("utf-8"))
    assert set(saved["sensors"]["desk"]) == {HCHO}
    second = Seat(tmp_path, mode="app")
    second.t = first.t + 60  # restarted a minute later
    second.monitor._load_windows()
    second.run(60, lambda t: 0.10, HCHO)
    state = second.engine.state("environment.hcho[desk]")
    assert state is not None and state.value == pytest.approx(0.10) and state.level is Level.WARNING


def test_a_damaged_windows_file_starts_the_averages_afresh(tmp_path: Path) -> None:
    (tmp_path / WINDOWS_FILE).write_text('{"sensors": {"desk": {"hcho": {"buckets": [["x"]]}}}}', "utf-8")
    seat = Seat(tmp_path)
    seat.monitor._load_windows()
    assert seat.monitor.averages == {}
    seat.run(60, lambda t: 0.02, HCHO)
    assert seat.level("environment.hcho[desk]") is Level.NOT_SET_UP


def test_one_shot_checks_leave_the_file_to_the_application(tmp_path: Path) -> None:
    seat = Seat(tmp_path, mode="check")
    seat.run(10 * 60, lambda t: 0.02, HCHO)
    seat.monitor.close()
    assert not (tmp_path / WINDOWS_FILE).exists()


def test_small_concentrations_are_shown_with_their_digits() -> None:
    # One decimal would show the formaldehyde limit 0.08 as "0.1" and TVOC 0.55 (under 0.60) as "0.6".
    assert format_value(0.08, "mg/m³") == "0.08 mg/m³"
    assert format_value(0.095, "mg/m³") == "0.095 mg/m³"
    assert format_value(0.55, "mg/m³") == "0.55 mg/m³"
    assert format_value(23.4, "°C") == "23.4 °C" and format_value(1500.0, "ppm") == "1500 ppm"


def test_a_silent_sensor_is_one_alert_and_its_average_stays_observed(tmp_path: Path) -> None:
    seat = Seat(tmp_path)
    seat.run(HOUR, lambda t: 0.03, HCHO)
    # Stale after 120 s; unknown held like any rise, 600 s.
    seat.run(13 * 60, lambda t: 0.03, HCHO, silent=True)
    assert seat.level("environment.hcho_now[desk]") is Level.UNKNOWN
    assert seat.level("environment.data_age[desk]") is Level.WARNING
    open_alerts = {a.key for a in seat.engine.alerts.visible()}
    assert open_alerts == {"environment.data_age[desk]"}
    # 49 of the last 60 minutes observed (47 + 2 held): the hour's average is still an observation.
    state = seat.engine.state("environment.hcho[desk]")
    assert state is not None and state.level is Level.OK and state.value == 0.03
