"""A realistic week of history for report tests and the report screenshot.

Alerts are produced by the real engine from readings (so their lifecycle is
the one Deskwatch records), then self-check and break records are added the
way the self-check and the break scheduler store them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import monitors
from app.core import reports
from app.core.config import load_config
from app.core.engine import Engine
from app.core.history import History
from app.core.selftest import DeviceCheck, SelfTestResult, store
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, Level, Reading, Thresholds
from app.kernel.monitor import CheckResult
from monitors.telephone import RTT as LINE
from tests import devices

PRINTER = Indicator("printer.state", devices.PRINTER, Text("Printer state", "打印机状态"), numeric=False)
ROOM = Indicator(
    "environment.temperature",
    devices.ENVIRONMENT,
    Text("Room temperature", "室内温度"),
    "°C",
    thresholds=Thresholds(Direction.HIGH_IS_BAD, 28, 32, 27, 30),
    metric_unit="celsius",
)
EXTRA = (PRINTER, LINE, ROOM)


def indicators() -> dict[str, Indicator]:
    """Every declared indicator plus the stand-ins for device monitors."""
    found = reports.declared_indicators(monitors.discover().values())
    found.update({i.id: i for i in EXTRA})
    return found


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def at(day: dt.date, hour: int, minute: int = 0) -> float:
    """Local wall-clock time on ``day`` as a timestamp."""
    return dt.datetime(day.year, day.month, day.day, hour, minute).timestamp()


def build(path: Path, first: dt.date, days: int = 5) -> dict[str, object]:
    """Write ``days`` days of history from ``first`` into ``path``; returns expectations."""
    history = History(path)
    config = load_config(monitors.discover(), None)
    clock = _Clock(at(first, 8))
    engine = Engine(config, indicators().values(), history, clock=clock, user="王芳", debounce=False)

    def feed(ts: float, readings: list[Reading]) -> None:
        clock.now = ts
        engine.ingest(readings, ts)

    raised = 0
    for n in range(days):
        day = first + dt.timedelta(days=n)
        # Morning: a paper jam, acknowledged with a note, cleared later.
        feed(
            at(day, 9, 10),
            [Reading(PRINTER.id, "media-jam", Level.CRITICAL, Text("Paper jam", "卡纸"), "HP-3F")],
        )
        raised += 1
        alert = engine.alerts.open_for("printer.state[HP-3F]")
        assert alert is not None
        clock.now = at(day, 9, 14)
        engine.acknowledge(alert.id, note="清除卡纸 cleared the jam")
        feed(at(day, 9, 25), [Reading(PRINTER.id, "idle", Level.OK, Text("Ready", "就绪"), "HP-3F")])
        # Afternoon: the line gets slow (warning), then recovers without acknowledgement on odd days.
        feed(at(day, 14, 0), [Reading(LINE.id, 80.0 + n)])
        feed(at(day, 14, 5), [Reading(LINE.id, 330.0 + 10 * n)])
        raised += 1
        if n % 2 == 0:
            line_alert = engine.alerts.open_for(LINE.id)
            assert line_alert is not None
            clock.now = at(day, 14, 20)
            engine.acknowledge(line_alert.id)
        feed(at(day, 14, 40), [Reading(LINE.id, 90.0)])
        # Evening shift on day 2: the room gets hot.
        if n == 1:
            feed(at(day, 17, 30), [Reading(ROOM.id, 33.0)])
            raised += 1
            feed(at(day, 18, 45), [Reading(ROOM.id, 25.0)])
        # Start-of-shift check each morning; the recorder fails on the first day.
        recorder_ok = n != 0
        checks = (
            DeviceCheck(
                "computer",
                Device.COMPUTER,
                Text("Computer", "电脑系统"),
                (
                    CheckResult(
                        Text("Computer", "电脑系统"), "pass", Text("All readings normal", "各项读数正常")
                    ),
                ),
            ),
            DeviceCheck(
                "recorder",
                devices.RECORDER,
                Text("Recorder", "录音设备"),
                (
                    CheckResult(
                        Text("Record and play back", "录音回放"),
                        "pass" if recorder_ok else "fail",
                        Text("Recording plays back", "录音可回放")
                        if recorder_ok
                        else Text("Silent recording", "录音无声"),
                        None
                        if recorder_ok
                        else Text("Check the recorder cable; tell IT", "检查录音线,报告信息技术部门"),
                    ),
                ),
            ),
            DeviceCheck(
                "printer",
                devices.PRINTER,
                Text("Printer", "打印机"),
                (CheckResult(Text("Test page", "测试页"), "skipped", Text("Not asked for", "未要求")),),
            ),
        )
        store(history, SelfTestResult(at(day, 7, 55), at(day, 7, 56), checks, "王芳"))
        for hour, outcome in (
            (10, "taken"),
            (11, "postponed"),
            (13, "taken"),
            (15, "skipped"),
            (16, "natural"),
        ):
            history.add_record(
                "breaks.break", {"kind": "rest", "outcome": outcome, "seconds": 600}, at(day, hour)
            )
        history.add_record(
            "breaks.day",
            {
                "date": day.isoformat(),
                "due": 5,
                "taken": 2,
                "natural": 1,
                "postponed": 1,
                "skipped": 1,
                "held_for_calls": n,
                "work_seconds": 6.5 * 3600,
                "call_seconds": 4.2 * 3600,
                "longest_stretch": 55 * 60.0,
            },
            at(day, 23, 59),
        )
    history.close()
    return {"alerts": raised}


SHIFTS = ("day=08:00-16:00", "evening=16:00-24:00", "night=00:00-08:00")


def write_report(
    history_file: Path, first: dt.date, days: int, outdir: Path, per: str = "day", lang: str = "en"
) -> tuple[Path, Path]:
    """The report of a history built by :func:`build`, as of 09:00 the day after."""
    history = History(history_file)
    try:
        data = reports.gather(
            history,
            first,
            first + dt.timedelta(days=days - 1),
            per=per,
            shifts=reports.parse_shifts(SHIFTS),
            indicators=indicators(),
            clock=lambda: at(first + dt.timedelta(days=days), 9),
            seat="3F-east-12",
        )
        return reports.write_report(data, outdir, lang)
    finally:
        history.close()
