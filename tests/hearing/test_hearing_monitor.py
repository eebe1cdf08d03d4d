"""The hearing monitor's judgement without a sound server: audio fed as the capture would, clock injected."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors import hearing
from monitors.hearing import HearingMonitor
from sensors import pulse_sinks
from sensors.audio_analysis import CONTINUITY_BREAK
from tests.audio.helpers import levels, monitor_settings
from tests.conftest import FakeClock

RATE = 16000


def tone(dbfs: float, seconds: float, freq: float = 1000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.round(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.int16)


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, pulse_sinks.Sink | None]]:
    """What ``pactl`` would say about the headset's sink (the test changes it).

    IDLE, so a one-shot poll records nothing itself: the test feeds the audio.
    """
    answer: list[tuple[bool, pulse_sinks.Sink | None]] = [(True, software_sink("IDLE"))]
    monkeypatch.setattr(pulse_sinks.SinkLister, "find", lambda _self, _wanted: answer[0])
    return answer


def software_sink(state: str, **details: object) -> pulse_sinks.Sink:
    """A sink as the long listing gives it: software volume at 100 % unless ``details`` say otherwise."""
    values: dict[str, object] = {
        "detailed": True, "muted": False, "flags": frozenset({"DECIBEL_VOLUME"}), "volume_db": 0.0,
        "volume_percent": 100.0,
    }  # fmt: skip
    values.update(details)
    return pulse_sinks.Sink("headset", state, **values)  # type: ignore[arg-type]


def make(tmp_path: Path, clock: FakeClock, **overrides: object) -> HearingMonitor:
    settings = monitor_settings(HearingMonitor, **overrides)
    # "check" mode: no gate thread or stream watcher; the test feeds the audio itself.
    return HearingMonitor(settings, MonitorContext(data_dir=tmp_path, mode="check"), clock=clock)


def feed(monitor: HearingMonitor, clock: FakeClock, samples: np.ndarray, flags: int = 0) -> None:
    """Hand ``samples`` over in 500 ms buffers, as the capture does, the clock following."""
    step = RATE // 2
    for start in range(0, samples.size, step):
        block = samples[start : start + step]
        clock.advance(block.size / RATE)
        monitor._on_block(block, flags if start == 0 else 0, RATE)


def by_name(readings: list[Reading]) -> dict[str, Reading]:
    return {r.indicator_id.split(".", 1)[1]: r for r in readings}


def test_dose_warns_at_half_the_allowance_before_it_is_reached(
    tmp_path: Path, clock: FakeClock, sink: list[object]
) -> None:
    # 130 dB SPL full scale: a −20 dB FS tone is 110 dB(A), 25 dB over 85: 1.1 % of the day a second.
    monitor = make(tmp_path, clock, sensitivity_db=130.0)
    per_second = 100 * 10**2.5 / (8 * 3600)
    seen: list[tuple[float, Level]] = []
    fade = np.linspace(0, 1, RATE)  # a fade-in: loud, but no acoustic shock
    feed(monitor, clock, (tone(-20, 1.0) * fade).astype(np.int16))
    for _ in range(12):  # ten seconds at a time
        feed(monitor, clock, tone(-20, 10.0))
        readings = monitor.poll()
        dose = by_name(readings)["daily_dose"].value
        assert isinstance(dose, float)
        seen.append((dose, levels(HearingMonitor, readings)["daily_dose"]))
    first_warning = next(d for d, level in seen if level is Level.WARNING)
    first_critical = next(d for d, level in seen if level is Level.CRITICAL)
    assert 50 <= first_warning < 50 + 10 * per_second + 1e-6  # at the first reading past 50 %
    assert first_critical >= 100
    assert [lvl for d, lvl in seen if d < 50] == [Level.OK] * len([d for d, _ in seen if d < 50])
    assert seen[-1][0] == pytest.approx(121 * per_second, rel=0.02)
    level = by_name(monitor.poll())
    assert level["acoustic_shocks"].value == 0


def test_level_reading_is_the_laeq_since_the_last_poll(
    tmp_path: Path, clock: FakeClock, sink: list[object]
) -> None:
    monitor = make(tmp_path, clock, sensitivity_db=100.0)
    feed(monitor, clock, tone(-20, 3.0, freq=250))
    reading = by_name(monitor.poll())["sound_level"]
    assert reading.value == pytest.approx(100 - 20 - 8.6, abs=0.3)  # IEC: −8.6 dB at 250 Hz
    # Nothing fed since: nothing heard.
    again = by_name(monitor.poll())["sound_level"]
    assert again.value is None and "Nothing playing" in str(again.message)


def test_restart_keeps_the_days_dose_and_a_new_day_starts_at_zero(
    tmp_path: Path, clock: FakeClock, sink: list[object]
) -> None:
    monitor = make(tmp_path, clock, sensitivity_db=130.0)
    feed(monitor, clock, tone(-20, 10.0))
    before = by_name(monitor.poll())["daily_dose"].value
    monitor.close()
    again = make(tmp_path, clock, sensitivity_db=130.0)
    readings = by_name(again.poll())
    assert readings["daily_dose"].value == pytest.approx(before)
    clock.advance(24 * 3600)  # tomorrow: today's dose is empty, the week's still holds yesterday
    readings = by_name(again.poll())
    assert readings["daily_dose"].value == 0.0
    assert isinstance(readings["weekly_dose"].value, float) and readings["weekly_dose"].value > 0
    assert "Nothing heard today" in str(readings["daily_dose"].message)


def test_a_damaged_state_file_starts_afresh(tmp_path: Path, clock: FakeClock, sink: list[object]) -> None:
    (tmp_path / "hearing.json").write_text("{not json", "utf-8")
    readings = by_name(make(tmp_path, clock).poll())
    assert readings["daily_dose"].value == 0.0 and readings["weekly_dose"].value == 0.0
    saved = (tmp_path / "hearing.json").read_text("utf-8")
    assert saved.startswith("{") and "days" in saved
    assert oct((tmp_path / "hearing.json").stat().st_mode & 0o777) == "0o600"


def test_acoustic_shock_is_an_alert_with_its_time_then_stays_counted(
    tmp_path: Path, clock: FakeClock, sink: list[object]
) -> None:
    monitor = make(tmp_path, clock, sensitivity_db=110.0, shock_hold_minutes=10.0)
    feed(monitor, clock, tone(-40, 2.0))  # a quiet call
    burst_at = clock.now
    feed(monitor, clock, np.concatenate([tone(-2, 0.5, freq=2100), tone(-40, 1.5)]))
    shock = by_name(monitor.poll())["acoustic_shocks"]
    assert shock.value == 1 and shock.level is Level.WARNING
    when = dt.datetime.fromisoformat(str(shock.detail["time"])).timestamp()
    assert when == pytest.approx(burst_at, abs=0.01)
    assert dt.datetime.fromtimestamp(burst_at).strftime("%H:%M:%S") in str(shock.message)
    assert "IT" in str(shock.message)
    # After the hold: counted, no longer a problem (the alert stays until acknowledged).
    clock.advance(11 * 60)
    later = by_name(monitor.poll())["acoustic_shocks"]
    assert later.value == 1 and later.level is Level.OK and "Last acoustic shock" in str(later.message)


def test_a_shock_over_the_limit_is_critical_and_listening_that_starts_loud_is_none(
    tmp_path: Path, clock: FakeClock, sink: list[object]
) -> None:
    monitor = make(tmp_path, clock, sensitivity_db=125.0)
    feed(monitor, clock, tone(-60, 1.0))
    feed(monitor, clock, tone(-4, 0.5))  # 121 dB SPL
    assert by_name(monitor.poll())["acoustic_shocks"].level is Level.CRITICAL
    # Listening that starts (or resumes after a pause) on loud audio has seen no rise:
    # a steady 105 dB SPL is loud, but no shock.
    other = make(tmp_path / "b", clock, sensitivity_db=110.0)
    feed(other, clock, tone(-5, 1.0))
    feed(other, clock, np.zeros(RATE, dtype=np.int16))
    feed(other, clock, tone(-5, 1.0), flags=CONTINUITY_BREAK)
    assert by_name(other.poll())["acoustic_shocks"].value == 0
    assert (tmp_path / "b" / "hearing.json").is_file()


def test_no_server_and_no_sink_are_not_set_up(
    tmp_path: Path, clock: FakeClock, sink: list[tuple[bool, object]]
) -> None:
    sink[0] = (False, None)
    readings = by_name(make(tmp_path, clock).poll())
    assert {r.level for r in readings.values()} == {Level.NOT_SET_UP}  # no 0 % claimed
    assert "sound server" in str(readings["sound_level"].message)
    assert not (tmp_path / "hearing.json").exists()  # nothing heard: nothing written
    # Once something was heard this week, the doses stay shown (they were observed).
    heard = make(tmp_path, clock)
    heard.book.add(heard._today(), 80.0, 3600)
    readings = by_name(heard.poll())
    assert readings["sound_level"].level is Level.NOT_SET_UP and readings["daily_dose"].value > 0
    sink[0] = (True, None)
    level = by_name(make(tmp_path, clock, sink="jabra").poll())["sound_level"]
    assert level.level is Level.NOT_SET_UP and "jabra" in str(level.message)
    sink[0] = (True, pulse_sinks.Sink("headset", "IDLE"))
    level = by_name(make(tmp_path, clock).poll())["sound_level"]
    assert level.level is Level.OK and level.value is None


def test_indicators_sit_on_the_headset_card_whatever_the_import_order() -> None:
    """The 耳机 group is declared in the kernel: hearing imported first still joins the headset's card."""
    code = (
        "import monitors.hearing as r\n"  # before the headset monitor, unlike discover()'s name order
        "import monitors.headset as h\n"
        "from app.kernel import devices\n"
        "from app.kernel.model import Device\n"
        "assert r.HEADSET is h.HEADSET is devices.HEADSET is Device.named('headset')\n"
        "assert all(i.device is h.HEADSET for i in r.HearingMonitor.indicators)\n"
        "assert h.HEADSET.advice is not None and h.HEADSET.demo\n"
        "print('ok')\n"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "ok", done.stderr
    assert hearing.HEADSET.id == "headset" and hearing.HEADSET.order == 20
    assert all(i.id.startswith("hearing.") for i in HearingMonitor.indicators)


def test_pactl_sink_lines() -> None:
    text = (
        "0\talsa_output.usb-Jabra.analog-stereo\tmodule-alsa-card.c\ts16le 2ch 48000Hz\tRUNNING\n"
        "1\tdw_speakers\tmodule-null-sink.c\ts16le 2ch 44100Hz\tSUSPENDED\n"
        "garbage line\n2\t\tx\ty\tIDLE\n"
    )
    sinks = pulse_sinks.parse_sinks_short(text)
    assert [(s.name, s.state) for s in sinks] == [
        ("alsa_output.usb-Jabra.analog-stereo", "RUNNING"),
        ("dw_speakers", "SUSPENDED"),
    ]
    assert sinks[0].playing and not sinks[1].playing
    assert sinks[0].monitor_source == "alsa_output.usb-Jabra.analog-stereo.monitor"
    assert pulse_sinks.choose_sink(sinks, "jabra", "") is sinks[0]
    assert pulse_sinks.choose_sink(sinks, "", "dw_speakers") is sinks[1]
    assert pulse_sinks.choose_sink(sinks, "missing", "dw_speakers") is None
    info = "Server Name: pulseaudio\nDefault Sink: dw_speakers\n"
    assert pulse_sinks.parse_default_sink(info) == "dw_speakers"


HW = frozenset({"HARDWARE", "HW_MUTE_CTRL", "HW_VOLUME_CTRL", "DECIBEL_VOLUME"})


def test_hardware_volume_lowers_the_level_the_monitor_shows(
    tmp_path: Path, clock: FakeClock, sink: list[object]
) -> None:
    """A USB headset at 40 %: the monitor shows full scale, the ear hears it 23.9 dB lower."""
    monitor = make(tmp_path, clock, sensitivity_db=110.0)
    sink[0] = (True, software_sink("IDLE", driver="module-alsa-card.c", flags=HW, volume_db=-23.88))
    monitor.poll()  # the one-shot look reads the sink's volume
    feed(monitor, clock, tone(-10, 4.0))
    readings = by_name(monitor.poll())
    level = readings["sound_level"]
    assert level.value == pytest.approx(110 - 10 - 23.88, abs=0.2)
    assert level.level is None and level.detail["volume"] == "hardware"
    assert "-23.9 dB" in str(level.message)
    # The same audio on a software-volume sink: the monitor already carries the volume.
    sink[0] = (True, software_sink("IDLE", volume_db=-23.88))
    monitor.poll()
    feed(monitor, clock, tone(-10, 4.0))
    assert by_name(monitor.poll())["sound_level"].value == pytest.approx(100.0, abs=0.2)


def test_muted_headset_hears_nothing(tmp_path: Path, clock: FakeClock, sink: list[object]) -> None:
    monitor = make(tmp_path, clock, sensitivity_db=130.0)
    sink[0] = (True, software_sink("IDLE", flags=HW, muted=True))
    monitor.poll()
    feed(monitor, clock, tone(-1, 10.0))  # a fax tone on a muted hardware sink: still in the monitor
    sink[0] = (True, software_sink("RUNNING", flags=HW, muted=True))
    readings = by_name(monitor.poll())
    assert readings["sound_level"].value is None and "muted" in str(readings["sound_level"].message)
    assert readings["daily_dose"].value == 0 and readings["acoustic_shocks"].value == 0


def test_unknown_volume_is_an_upper_bound_and_says_so(
    tmp_path: Path, clock: FakeClock, sink: list[object]
) -> None:
    monitor = make(tmp_path, clock, sensitivity_db=110.0)
    plantronics = software_sink(
        "IDLE", driver="module-alsa-card.c", flags=HW - {"DECIBEL_VOLUME"}, volume_db=None
    )
    sink[0] = (True, plantronics)
    monitor.poll()
    feed(monitor, clock, tone(-10, 4.0))
    readings = by_name(monitor.poll())
    level = readings["sound_level"]
    assert level.value == pytest.approx(100.0, abs=0.2)  # as if at full volume
    assert level.level is Level.NOT_SET_UP and "cannot be read" in str(level.message)
    assert "upper bound" in str(readings["daily_dose"].message)
    assert readings["daily_dose"].detail["unknown_volume_seconds"] == pytest.approx(4.0, abs=0.1)
    # Kept across a restart with the day's dose.
    again = make(tmp_path, clock, sensitivity_db=110.0)
    assert again.book.day(again._today()).unknown_seconds == pytest.approx(4.0, abs=0.1)
