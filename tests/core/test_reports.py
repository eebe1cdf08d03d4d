"""Reports from a test history: valid self-contained HTML with charts, and CSV rows that match it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import monitors
from app.core import breaks, reports
from app.core.config import load_config
from app.core.engine import Engine
from app.core.history import History
from app.core.runtime import HISTORY_FILE
from app.kernel.model import Level, Reading
from tests.fleet import histdata
from tests.fleet.conftest import ROOT, deskwatch_command

FIRST = dt.date(2026, 3, 2)
DAYS = 5
NS = {"h": "http://www.w3.org/1999/xhtml", "svg": "http://www.w3.org/2000/svg"}


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("report-history")
    path = folder / HISTORY_FILE
    expected = histdata.build(path, FIRST, DAYS)
    return path, expected


def _report(history_file: Path, outdir: Path, per: str = "day", lang: str = "en") -> tuple[Path, Path]:
    return histdata.write_report(history_file, FIRST, DAYS, outdir, per, lang)


def _cells(row: ET.Element) -> list[str]:
    return ["".join(td.itertext()) for td in row.findall("h:td", NS)]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_html_is_valid_with_charts_and_matches_the_csv(
    history_file: tuple[Path, dict[str, object]], tmp_path: Path, lang: str
) -> None:
    path, expected = history_file
    html_path, csv_path = _report(path, tmp_path, lang=lang)
    text = html_path.read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    root = ET.fromstring(text.split("\n", 1)[1])  # well-formed (XHTML-compatible) markup
    # Self-contained: no scripts and nothing fetched from elsewhere.
    assert root.findall(".//h:script", NS) == []
    assert "http://" not in text.replace(NS["h"], "").replace(NS["svg"], "")
    assert "https://" not in text
    charts = root.findall(".//svg:svg", NS)
    assert len(charts) >= 4  # alerts per day, per device, timeline, breaks
    assert all(chart.findall(".//svg:rect", NS) for chart in charts)
    tables = root.findall(".//h:table", NS)
    alert_table = next(t for t in tables if t.get("class") == "alerts")
    html_rows = [_cells(r) for r in alert_table.findall("h:tbody/h:tr", NS)]
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        csv_rows = list(csv.reader(handle))
    header, body = csv_rows[0], csv_rows[1:]
    assert header == [label(lang) for _, label in reports.ALERT_COLUMNS]
    assert len(body) == expected["alerts"] == len(html_rows)
    assert body == html_rows
    # The paper jam of the first morning: raised, acknowledged with its note, cleared.
    jam = dict(zip([k for k, _ in reports.ALERT_COLUMNS], body[0], strict=True))
    assert jam["raised"] == "2026-03-02 09:10:00"
    assert jam["acknowledged"] == "2026-03-02 09:14:00"
    assert jam["cleared"] == "2026-03-02 09:25:00"
    assert (jam["duration_min"], jam["ack_delay_min"]) == ("15.0", "4.0")
    assert jam["note"] == "清除卡纸 cleared the jam"
    assert jam["item"] == "HP-3F"
    assert jam["indicator"] == ("Printer state" if lang == "en" else "打印机状态")
    # The self-check table shows the first day's failed recorder, with advice.
    assert ("Silent recording" if lang == "en" else "录音无声") in text
    assert ("Check the recorder cable" if lang == "en" else "检查录音线") in text


def test_summary_per_day_and_per_shift(history_file: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    path, _ = history_file
    history = History(path)
    try:
        last = FIRST + dt.timedelta(days=DAYS - 1)
        shifts = reports.parse_shifts(histdata.SHIFTS)
        per_day = reports.gather(history, FIRST, last, indicators=histdata.indicators())
        per_shift = reports.gather(history, FIRST, last, per="shift", shifts=shifts)
    finally:
        history.close()
    assert [s.total for s in per_day.summaries] == [2, 3, 2, 2, 2]
    assert [s.checks_passed for s in per_day.summaries] == [0, 1, 1, 1, 1]
    assert per_day.summaries[0].breaks == {"taken": 2, "postponed": 1, "skipped": 1, "natural": 1}
    assert len(per_day.break_days) == DAYS
    assert (
        per_day.break_days[0]["held_for_calls"] == 0 and per_day.break_days[-1]["held_for_calls"] == DAYS - 1
    )
    by_shift = {s.period.label: s for s in per_shift.summaries}
    assert len(by_shift) == 3 * DAYS
    assert by_shift["2026-03-03 evening"].total == 1  # the hot room
    assert by_shift["2026-03-03 day"].total == 2
    assert by_shift["2026-03-02 night"].checks_run == 1  # the 07:55 check


def test_todays_break_statistics_come_from_the_scheduler_state(tmp_path: Path) -> None:
    history = History(tmp_path / HISTORY_FILE)
    history.set_state(breaks.STATE_KEY, {"stats": {"date": "2026-03-09", "taken": 4, "skipped": 0}})
    history.add_record("breaks.day", {"date": "2026-03-08", "taken": 7}, histdata.at(dt.date(2026, 3, 8), 23))
    data = reports.gather(history, dt.date(2026, 3, 8), dt.date(2026, 3, 9))
    history.close()
    assert [(d["date"], d["taken"]) for d in data.break_days] == [("2026-03-08", 7), ("2026-03-09", 4)]


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    history = History(tmp_path / HISTORY_FILE)
    config = load_config(monitors.discover(), None)
    engine = Engine(config, [histdata.PRINTER], history, clock=lambda: histdata.at(dt.date(2026, 3, 9), 10))
    engine.ingest([Reading(histdata.PRINTER.id, "jam", Level.CRITICAL)])
    engine.acknowledge(engine.alerts.visible()[0].id, note='=HYPERLINK("http://x","y")')
    data = reports.gather(history, dt.date(2026, 3, 9), dt.date(2026, 3, 9))
    history.close()
    rows = list(csv.reader(io.StringIO(reports.render_csv(data, "en"))))
    assert rows[1][[k for k, _ in reports.ALERT_COLUMNS].index("note")] == '\'=HYPERLINK("http://x","y")'


def test_shift_parsing() -> None:
    assert reports.parse_shifts(["22:00-06:00"])[0].end == 30 * 60  # ends the next morning
    assert reports.parse_shifts(["早班=08:00-16:00"])[0].name == "早班"
    for bad in ("8-16", "25:00-26:00", "08:00-16:61"):
        with pytest.raises(ValueError, match="shift"):
            reports.parse_shifts([bad])


def test_cli_writes_both_files_and_explains_errors(
    history_file: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    path, _ = history_file

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            deskwatch_command("report", "--config", str(tmp_path / "none.toml"), *args),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    ok = run(
        "--data-dir",
        str(path.parent),
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-06",
        "--out",
        str(tmp_path / "out"),
        "--per",
        "shift",
    )
    assert ok.returncode == 0, ok.stderr
    written = [Path(line) for line in ok.stdout.splitlines()]
    assert [p.suffix for p in written] == [".html", ".csv"] and all(p.exists() for p in written)
    bad_date = run("--data-dir", str(path.parent), "--from", "2026-13-01")
    assert bad_date.returncode == 2 and "month must be in 1..12" in bad_date.stderr
    backwards = run("--data-dir", str(path.parent), "--from", "2026-03-06", "--to", "2026-03-02")
    assert backwards.returncode == 2 and "before the start" in backwards.stderr
    no_history = run("--data-dir", str(tmp_path / "empty"))
    assert no_history.returncode == 2 and "no history" in no_history.stderr
