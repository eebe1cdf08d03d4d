"""The supervisor report's air section: pollutant levels per shift, from a simulated day in history."""

from __future__ import annotations

import csv
import datetime as dt
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.core import reports
from app.core.history import History
from app.core.reports.air import AIR_COLUMNS
from app.core.runtime import HISTORY_FILE
from monitors.environment import HOUR
from sensors.measurement import PM25
from tests.environment.airseat import Seat
from tests.fleet.histdata import SHIFTS, at

DAY = dt.date(2026, 3, 3)


@pytest.fixture(scope="module")
def air_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A day at 30 µg/m³, then a day shift at 110 (the window passes 50 at 14:00) and an evening at 20."""
    folder = tmp_path_factory.mktemp("air-report")
    history = History(folder / HISTORY_FILE)
    seat = Seat(folder, history=history, t0=at(DAY - dt.timedelta(days=1), 8))
    try:
        seat.run(24 * HOUR, lambda t: 30.0, PM25, every=60)
        seat.run(8 * HOUR, lambda t: 110.0, PM25, every=60)
        seat.run(8 * HOUR, lambda t: 20.0, PM25, every=60)
    finally:
        seat.monitor.close()
        history.close()
    return folder / HISTORY_FILE


def _gather(path: Path) -> reports.ReportData:
    history = History(path)
    try:
        return reports.gather(history, DAY, DAY, per="shift", shifts=reports.parse_shifts(SHIFTS))
    finally:
        history.close()


def test_pollutant_averages_per_shift(air_history: Path) -> None:
    data = _gather(air_history)
    rows = {row.period.label: row for row in data.air}
    assert set(rows) == {"2026-03-03 night", "2026-03-03 day", "2026-03-03 evening"}
    night, day, evening = (rows[f"2026-03-03 {name}"] for name in ("night", "day", "evening"))
    # The first 18 h were not enough for a day's average: observed from 02:00, at 30.
    assert night.mean == pytest.approx(30) and night.peak_average == pytest.approx(30)
    assert night.over_seconds == 0
    assert day.sensor == "desk" and day.air.quantity == PM25
    # The shift's mean of the 15-min level: 110 after the first quarter hour.
    assert day.mean == pytest.approx(110, abs=4)
    assert evening.mean == pytest.approx(20, abs=4)
    # The 24 h average: 30 → (16·30 + 8·110)/24 ≈ 56.7 at 16:00, over 50 from 14:00.
    assert day.peak_average == pytest.approx(56.7, abs=1)
    assert day.over_seconds / 60 == pytest.approx(120, abs=10)
    # In the evening the window sheds 30s and gains 20s: still over the limit the whole shift.
    assert evening.over_seconds / 60 == pytest.approx(480, abs=10)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_air_section_in_the_html_and_the_csv(air_history: Path, tmp_path: Path, lang: str) -> None:
    data = _gather(air_history)
    html = reports.render_html(data, lang)
    root = ET.fromstring(html.split("\n", 1)[1])
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    headings = ["".join(h.itertext()) for h in root.findall(".//h:h2", ns)]
    assert ("Air quality (GB/T 18883-2022)" if lang == "en" else "室内空气质量(GB/T 18883-2022)") in headings
    table = root.findall(".//h:table", ns)[-1]
    html_rows = [
        ["".join(td.itertext()) for td in tr.findall("h:td", ns)] for tr in table.findall(".//h:tr", ns)
    ]
    rows = list(csv.reader(io.StringIO(reports.render_csv(data, lang))))
    blank = rows.index([])
    assert rows[blank + 1] == [label(lang) for _, label in AIR_COLUMNS]
    assert rows[blank + 2 :] == html_rows[1:] and len(html_rows) == 4
    assert rows[blank + 2][AIR_COLUMNS.index(("limit", AIR_COLUMNS[5][1]))] == "50 µg/m³ (24 h)"


def test_a_seat_without_pollutant_sensors_has_no_air_section(tmp_path: Path) -> None:
    history = History(tmp_path / HISTORY_FILE)
    data = reports.gather(history, DAY, DAY)
    history.close()
    assert data.air == []
    assert "GB/T 18883-2022" not in reports.render_html(data, "en")
    assert reports.render_csv(data, "en").count("\r\n") == 1  # the alerts' header only
