"""One judgement of call quality: the R-factor's level, its words and the MOS always agree (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.telephone import MOS, R_FACTOR, TelephoneMonitor, judge_quality
from sensors.sip import LineWindow, mos_from_r
from tests.audio.helpers import monitor_settings


@pytest.mark.parametrize(
    ("r", "level", "verdict"),
    [
        (93.0, Level.OK, "Good"),
        (80.0, Level.OK, "Good"),
        (79.9, Level.WARNING, "Fair"),
        (70.0, Level.WARNING, "Fair"),
        (69.9, Level.CRITICAL, "Poor"),
        (62.0, Level.CRITICAL, "Poor"),
        (0.0, Level.CRITICAL, "Poor"),
        (float("nan"), Level.CRITICAL, "Poor"),
    ],
)
def test_bands(r: float, level: Level, verdict: str) -> None:
    got_level, got_verdict = judge_quality(r)
    assert got_level is level and got_verdict.en.startswith(verdict)


def test_band_edges_match_the_mos_scale() -> None:
    # G.107 Annex B: R 80 is MOS 4.0 and R 70 is MOS 3.6, the MOS figures the docs quote.
    assert round(mos_from_r(80), 1) == 4.0 and round(mos_from_r(70), 1) == 3.6


@pytest.mark.parametrize("lost", [0, 1, 3, 8])
def test_r_and_mos_readings_carry_one_level_and_one_message(tmp_path: Path, lost: int) -> None:
    monitor = TelephoneMonitor(
        monitor_settings(TelephoneMonitor, pbx_host="127.0.0.1"), MonitorContext(data_dir=tmp_path)
    )
    window = LineWindow(30)
    for n in range(30):
        window.add(None if n < lost else 5.0 + n % 3)
    readings = {r.indicator_id: r for r in monitor._quality(window, "udp")}
    r, mos = readings[R_FACTOR.id], readings[MOS.id]
    assert isinstance(r.value, float)
    level, verdict = judge_quality(r.value)
    assert r.level is level and mos.level is level
    assert r.message == mos.message and r.message is not None
    assert r.message.en.startswith(verdict.en)
    # "Poor" in the words is never an OK level (the R 62 / MOS 3.2 case of the real seat).
    assert ("Poor" in r.message.en) == (level is Level.CRITICAL)
