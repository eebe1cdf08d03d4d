"""The supervisor report's sound-dose section, from a history the real engine wrote."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import monitors
from app.core import reports
from app.core.config import load_config
from app.core.engine import Engine
from app.core.history import History
from app.kernel.i18n import Text
from app.kernel.model import Level, Reading
from monitors.hearing import DAILY_DOSE, LEVEL, SHOCK, WEEKLY_DOSE

NS = {"h": "http://www.w3.org/1999/xhtml"}
MONDAY = dt.date(2026, 11, 30)


def at(day: dt.date, hour: int, minute: int = 0) -> float:
    return dt.datetime(day.year, day.month, day.day, hour, minute).timestamp()


def build(path: Path) -> None:
    """Two working days: the dose climbing through each, a shock on Tuesday at 10:42."""
    history = History(path)
    registry = monitors.discover()
    config = load_config(registry, None)
    indicators = {i.id: i for cls in registry.values() for i in cls.indicators}
    clock = [at(MONDAY, 8)]
    engine = Engine(config, indicators.values(), history, clock=lambda: clock[0], debounce=False)
    for n, final in enumerate((38.0, 71.5)):
        day = MONDAY + dt.timedelta(days=n)
        for step in range(0, 9 * 60, 30):  # every half hour 08:00-17:00
            clock[0] = at(day, 8) + step * 60
            dose = final * step / (8.5 * 60)
            readings = [
                Reading(LEVEL.id, 78.0 + step / 60),
                Reading(DAILY_DOSE.id, dose),
                Reading(WEEKLY_DOSE.id, dose / 2),
                Reading(SHOCK.id, 0, Level.OK, Text.same("none")),
            ]
            if n == 1 and step >= 150:  # 10:30 on: the shock of 10:42 counted (reported from 10:42)
                readings[-1] = Reading(
                    SHOCK.id, 1, Level.WARNING if step == 150 else Level.OK, Text.same("shock")
                )
            engine.ingest(readings, clock[0])
        clock[0] = at(day, 17, 30)
        engine.ingest([Reading(DAILY_DOSE.id, final)], clock[0])
    history.close()


def test_report_lists_each_days_dose_and_shocks(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    build(path)
    history = History(path)
    try:
        data = reports.gather(history, MONDAY, MONDAY + dt.timedelta(days=2), clock=lambda: at(MONDAY, 20))
        html_path, _csv = reports.write_report(data, tmp_path / "out", "en")
    finally:
        history.close()
    assert [d.date for d in data.sound_days] == [MONDAY, MONDAY + dt.timedelta(days=1)]  # Wednesday: none
    monday, tuesday = data.sound_days
    assert monday.daily_dose == 38.0 and tuesday.daily_dose == 71.5
    assert monday.shocks == 0 and tuesday.shocks == 1
    assert len(tuesday.shock_times) == 1
    assert dt.datetime.fromtimestamp(tuesday.shock_times[0]).strftime("%H:%M") == "10:30"
    root = ET.fromstring(html_path.read_text("utf-8").split("\n", 1)[1])
    headings = ["".join(h.itertext()) for h in root.findall(".//h:h2", NS)]
    assert "Sound dose (headset)" in headings
    table = root.findall(".//h:table", NS)[-1]
    cells = [
        ["".join(td.itertext()) for td in tr.findall("h:td", NS)]
        for tr in table.findall(".//h:tbody/h:tr", NS)
    ]
    assert [(c[0], c[2], c[5], c[6]) for c in cells] == [
        ("2026-11-30", "38.0", "0", ""),
        ("2026-12-01", "71.5", "1", "10:30:00"),
    ]


def test_report_without_the_hearing_monitor_says_so(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    try:
        data = reports.gather(history, MONDAY, MONDAY, clock=lambda: at(MONDAY, 20))
        page = reports.render_html(data, "zh_CN")
    finally:
        history.close()
    assert data.sound_days == []
    assert "噪声剂量(耳机)" in page and "本时段内没有噪声剂量记录" in page
