"""The Windows spooler transport (``sensors.windows_printer``) and its mapping, with recorded-form values.

Windows cannot run here: its values are fed in the exact shape pywin32
returns (``GetPrinter(h, 2)`` and ``EnumJobs(h, 0, -1, 1)`` dictionaries)
through a stand-in ``win32print`` module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.kernel.model import Level
from sensors import printing as p
from sensors.print_server import PrintServerUnreachable
from sensors.windows_printer import JobTracker, WindowsSpooler
from tests.printer.conftest import make_monitor


class FakeWinError(Exception):
    """Shape of ``pywintypes.error``: (winerror, funcname, strerror)."""

    def __init__(self, winerror: int, func: str, text: str) -> None:
        super().__init__(winerror, func, text)
        self.winerror = winerror


def printer_info_2(name: str, status: int, attributes: int = 0x00000A48, jobs: int = 0) -> dict[str, Any]:
    """A ``GetPrinter(h, 2)`` result as pywin32 returns it (Attributes: local, shared, default …)."""
    return {
        "pServerName": None,
        "pPrinterName": name,
        "pShareName": "",
        "pPortName": "USB001",
        "pDriverName": "HP LaserJet Pro M404-M405 PCL 6 (V3)",
        "pComment": "",
        "pLocation": "Service hall, desk 3",
        "pDevMode": None,
        "pSepFile": "",
        "pPrintProcessor": "winprint",
        "pDatatype": "RAW",
        "pParameters": "",
        "pSecurityDescriptor": None,
        "Attributes": attributes,
        "Priority": 1,
        "DefaultPriority": 0,
        "StartTime": 0,
        "UntilTime": 0,
        "Status": status,
        "cJobs": jobs,
        "AveragePPM": 0,
    }


def job_info_1(job_id: int, status: int, submitted: datetime, text: str | None = None) -> dict[str, Any]:
    """An ``EnumJobs(h, 0, -1, 1)`` entry as pywin32 returns it."""
    return {
        "JobId": job_id,
        "pPrinterName": "Front desk",
        "pMachineName": "\\\\DESK03",
        "pUserName": "clerk",
        "pDocument": "受理单.pdf",
        "pDatatype": "RAW",
        "pStatus": text,
        "Status": status,
        "Priority": 1,
        "Position": 1,
        "TotalPages": 2,
        "PagesPrinted": 0,
        "Submitted": submitted,
    }


class FakeWin32Print:
    """Stands in for ``win32print`` with a recorded printer table."""

    def __init__(self) -> None:
        self.printers: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        self.spooler_running = True
        self.default = "Front desk"

    def _check(self) -> None:
        if not self.spooler_running:
            raise FakeWinError(1722, "OpenPrinter", "The RPC server is unavailable.")

    def OpenPrinter(self, name: str) -> str:
        self._check()
        if name not in self.printers:
            raise FakeWinError(1801, "OpenPrinter", "The printer name is invalid.")
        return name

    def ClosePrinter(self, handle: str) -> None:
        pass

    def GetPrinter(self, handle: str, level: int) -> dict[str, Any]:
        assert level == 2
        return self.printers[handle][0]

    def EnumJobs(self, handle: str, first: int, count: int, level: int) -> list[dict[str, Any]]:
        assert (first, count, level) == (0, -1, 1)
        return self.printers[handle][1]

    def EnumPrinters(self, flags: int, name: None, level: int) -> list[dict[str, Any]]:
        self._check()
        return [
            {"Flags": 0x800000, "pPrinterName": n, "pServerName": None, "Attributes": 0}
            for n in self.printers
        ]

    def GetDefaultPrinter(self) -> str:
        return self.default


SUBMITTED = datetime(2026, 11, 28, 8, 30, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "attributes", "keyword", "level", "zh"),
    [
        (0x00000008, 0x0A48, "media-jam-error", Level.CRITICAL, "卡纸"),  # PAPER_JAM
        (0x00000010, 0x0A48, "media-empty-error", Level.CRITICAL, "缺纸"),  # PAPER_OUT
        (0x00020000, 0x0A48, "toner-low-warning", Level.WARNING, "碳粉不足"),  # TONER_LOW
        (0x00400000, 0x0A48, "door-open-error", Level.CRITICAL, "盖门打开"),  # DOOR_OPEN
        (0x00000080, 0x0A48, "offline-report", Level.CRITICAL, "打印机脱机"),  # OFFLINE
        (0x00000000, 0x0E48, "offline-report", Level.CRITICAL, "打印机脱机"),  # "Use printer offline"
        (0x00000001, 0x0A48, "paused", Level.CRITICAL, "打印队列已暂停"),  # PAUSED
        (0x00000400 | 0x00000100, 0x0A48, None, Level.OK, "正在打印"),  # PRINTING | IO_ACTIVE
    ],
)
def test_windows_status_bits(
    tmp_path: Path, status: int, attributes: int, keyword: str | None, level: Level, zh: str
) -> None:
    win = FakeWin32Print()
    jobs = [job_info_1(7, 0x10, SUBMITTED)] if status & 0x400 else []
    win.printers["Front desk"] = (printer_info_2("Front desk", status, attributes, len(jobs)), jobs)
    monitor = make_monitor(tmp_path, WindowsSpooler(win32print=win))
    status_reading = next(r for r in monitor.poll() if r.indicator_id == "printer.status")
    assert status_reading.instance == "Front desk" and status_reading.level is level
    assert status_reading.message is not None and status_reading.message.zh.startswith(zh)
    if keyword is not None:
        assert keyword in status_reading.detail["reasons"]
    assert status_reading.detail["status"] == status


def test_windows_spooler_learns_paper_out_from_the_job(tmp_path: Path) -> None:
    """The printer says nothing; only the job being sent carries the fault."""
    win = FakeWin32Print()
    jobs = [job_info_1(12, 0x40 | 0x02 | 0x10, SUBMITTED, "Paper out")]  # PAPEROUT|ERROR|PRINTING
    win.printers["Front desk"] = (printer_info_2("Front desk", 0, jobs=1), jobs)
    snap = WindowsSpooler(win32print=win).snapshots(["Front desk"], 0)["Front desk"]
    assert snap is not None
    assert snap.state == p.STATE_STOPPED and "media-empty-error" in snap.reasons
    assert snap.message == "Paper out" and snap.jobs[0].state == p.JOB_STOPPED
    assert snap.jobs[0].created == SUBMITTED.timestamp()


def test_windows_job_tracker_infers_completion_and_failure(tmp_path: Path) -> None:
    now = [SUBMITTED.timestamp() + 5]
    win = FakeWin32Print()
    spooler = WindowsSpooler(win32print=win, clock=lambda: now[0])
    win.printers["Front desk"] = (
        printer_info_2("Front desk", 0x400, jobs=2),
        [job_info_1(1, 0x10, SUBMITTED), job_info_1(2, 0x02, SUBMITTED, "Error")],
    )
    first = spooler.snapshots(["Front desk"], 0)["Front desk"]
    assert first is not None and first.finished == ()
    # 40 s later both jobs have left the queue: one printed, one was in error (failed).
    now[0] += 40
    win.printers["Front desk"] = (printer_info_2("Front desk", 0), [])
    second = spooler.snapshots(["Front desk"], 0)["Front desk"]
    assert second is not None
    assert [(j.id, j.state, j.duration) for j in second.finished] == [
        (1, p.JOB_COMPLETED, 45.0),
        (2, p.JOB_ABORTED, 45.0),
    ]
    readings = {r.indicator_id: r for r in make_monitor(tmp_path, spooler).judge(second)}
    assert readings["printer.failed_jobs"].value == 1
    assert readings["printer.last_job_seconds"].value == 45.0


def test_job_tracker_forgets_old_jobs() -> None:
    tracker = JobTracker(keep=2)
    for n in range(5):
        tracker.update([p.Job(n, p.JOB_PROCESSING, 0.0)], float(n))
    tracker.update([], 10.0)
    assert [j.id for j in tracker.finished(0)] == [3, 4] and tracker.finished(11) == ()


def test_windows_missing_printer_and_stopped_spooler(tmp_path: Path) -> None:
    win = FakeWin32Print()
    win.printers["Front desk"] = (printer_info_2("Front desk", 0), [])
    monitor = make_monitor(tmp_path, WindowsSpooler(win32print=win), printers=["Back office"])
    (missing,) = monitor.poll()
    assert missing.level is Level.CRITICAL and missing.value == "missing"
    assert (
        missing.message is not None and "Back office is not set up on Windows spooler" in missing.message.en
    )

    win.spooler_running = False
    with pytest.raises(PrintServerUnreachable):
        WindowsSpooler(win32print=win).printer_names()
    (unknown,) = monitor.poll()
    assert unknown.level is Level.UNKNOWN and unknown.instance == "Back office"
    assert unknown.message is not None and "cannot be reached" in unknown.message.en
    assert "RPC server is unavailable" in unknown.message.en


def test_windows_default_printer_is_watched_when_none_configured(tmp_path: Path) -> None:
    win = FakeWin32Print()
    win.printers["Front desk"] = (printer_info_2("Front desk", 0), [])
    win.printers["Fax"] = (printer_info_2("Fax", 0x80), [])
    readings = make_monitor(tmp_path, WindowsSpooler(win32print=win)).poll()
    assert {r.instance for r in readings} == {"Front desk"}
