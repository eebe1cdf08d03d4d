"""Nothing to measure is "not observed", never OK: the headset's speech level, SNR and hum.

Audio reaches the monitor as the capture delivers it (its block consumer); the
window holds room noise and the digital zeros of a noise-gated headset, with
nobody speaking: no speech to take a speech level or an SNR from, no pause
near the floor to read hum in.  Each surface must say so: grey and out of the
worst level (the engine, the panel's card summary), ``U`` in the Nagios
performance data without raising the status, level 4 and no value in
Prometheus (no threshold rule can fire), and not ok in history.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

import monitors
from app.core.config import load_config
from app.core.engine import Engine
from app.core.exporter import Exporter, metric_name
from app.core.history import History
from app.core.nagios import render
from app.core.summary import card_summary
from app.kernel.i18n import set_language
from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.headset import HEADSET, HUM, SNR, SPEECH_LEVEL, HeadsetMonitor
from tests.audio.helpers import monitor_settings
from tests.audio.signals import cases, noise, to_pcm
from tests.conftest import FakeClock
from tests.core.test_nagios import parse_plugin_output

RATE = 16000
UNOBSERVED = (SPEECH_LEVEL, SNR, HUM)


def heard(tmp_path: Path, pcm: np.ndarray) -> list[Reading]:
    """The quality readings of the headset monitor after the capture delivered ``pcm``."""
    monitor = HeadsetMonitor(monitor_settings(HeadsetMonitor), MonitorContext(data_dir=tmp_path))
    for start in range(0, pcm.size, RATE // 2):
        monitor._on_block(pcm[start : start + RATE // 2], 0, RATE)
    summary = monitor.summary()
    assert summary is not None
    return monitor._quality(summary)


def gated_room(seconds: float = 4.0) -> np.ndarray:
    """Room noise with the gate closing now and then: half a second of noise, half of zeros."""
    room = to_pcm(noise(seconds, -74, seed=7))
    for start in range(RATE // 2, room.size, RATE):
        room[start : start + RATE // 2] = 0
    return room


@pytest.fixture
def engine(clock: FakeClock, tmp_path: Path) -> Engine:
    history = History(tmp_path / "history.sqlite")
    return Engine(load_config(monitors.discover(), None), None, history, clock=clock)


def test_no_speech_and_no_pause_are_not_observed_with_the_reason(tmp_path: Path) -> None:
    readings = {r.indicator_id: r for r in heard(tmp_path, gated_room())}
    for indicator in UNOBSERVED:
        reading = readings[indicator.id]
        assert reading.value is None and reading.level is Level.NOT_SET_UP, reading
        assert reading.message is not None
        assert reading.message.en.startswith("Not observed: ") and reading.message.zh.startswith("未观测:")
    assert "speech" in readings[SPEECH_LEVEL.id].message.en  # type: ignore[union-attr]
    assert "quiet moment" in readings[HUM.id].message.en  # type: ignore[union-attr]
    # What was measured is still judged as ever.
    assert readings["headset.noise_floor"].level is None and readings["headset.microphone"].level is Level.OK


def test_speech_is_observed_when_there_is_some(tmp_path: Path) -> None:
    readings = {r.indicator_id: r for r in heard(tmp_path, cases()["clean_speech"])}
    for indicator in UNOBSERVED:
        assert readings[indicator.id].level is None and isinstance(readings[indicator.id].value, float)


def test_not_observed_never_alerts_and_is_never_ok(engine: Engine, clock: FakeClock, tmp_path: Path) -> None:
    for _ in range(4):  # past every debounce time
        engine.ingest(heard(tmp_path, gated_room()))
        clock.advance(30)
    states = [s for s in engine.states() if s.indicator.device is HEADSET]
    by_id = {s.key: s for s in states}
    for indicator in UNOBSERVED:
        assert by_id[indicator.id].level is Level.NOT_SET_UP
    assert engine.alerts.visible() == []
    assert engine.worst_level(HEADSET) is Level.OK  # left out of the worst level, like "not set up"
    # The card: everything observed is normal, and why three rows are grey is said once each.
    set_language("en")
    card = card_summary(HEADSET, states, clock())
    assert card.problems == () and card.all_normal is not None
    reasons = [reason.en for reason in card.not_set_up]
    assert len(reasons) == 2 and all(r.startswith("Not observed: ") for r in reasons)
    # History: the buckets of those minutes are not ok.
    assert engine.history is not None
    engine.history.flush()
    levels = {s.level for s in engine.history.samples(HUM.id, 0)}
    assert levels == {Level.NOT_SET_UP}


def test_nagios_says_u_and_the_status_stays_ok(engine: Engine, tmp_path: Path) -> None:
    set_language("en")
    engine.ingest(heard(tmp_path, gated_room()))
    out = parse_plugin_output(render(engine.states()))
    assert out.status == "OK", out
    for indicator in UNOBSERVED:
        assert out.perfdata[indicator.id].value is None  # 'headset.hum'=U
    assert out.perfdata["headset.noise_floor"].value is not None
    hum = next(line for line in out.long_output if "Mains hum" in line)
    assert hum.startswith("NOT OBSERVED: Headset — Mains hum: Not observed: no quiet moment"), hum


def test_prometheus_has_level_4_and_no_value_so_no_rule_fires(engine: Engine, tmp_path: Path) -> None:
    engine.ingest(heard(tmp_path, gated_room()))
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(Exporter(engine, None).scrape()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    levels = {lb["indicator"]: v for lb, v in samples["deskwatch_indicator_level"]}
    for indicator in UNOBSERVED:
        assert levels[indicator.id] == int(Level.NOT_SET_UP)
        # Threshold rules read the value's gauge: with no sample there is nothing to fire on.
        assert metric_name(indicator) not in samples
    assert metric_name(monitors.discover()["headset"].indicators[2]) in samples  # the noise floor is there
