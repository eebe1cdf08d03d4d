"""State-reason vocabulary, Windows spooler and SNMP mappings, with recorded-form values.

Windows cannot run here: its values are fed in the exact shape pywin32
returns (``GetPrinter(h, 2)`` and ``EnumJobs(h, 0, -1, 1)`` dictionaries)
through a stand-in ``win32print`` module.  SNMP is exercised down to real
UDP on loopback with an agent that answers from a hand-assembled response.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.printer import PrinterMonitor
from sensors import printing as p
from sensors.cups_printer import parse_server
from sensors.print_server import PrintServerUnreachable
from sensors.snmp_printer import (
    SnmpError,
    _read,
    decode_response,
    encode_get,
    parse_target,
    printer_oids,
    snapshot_from_values,
)
from sensors.windows_printer import JobTracker, WindowsSpooler
from tests.printer.snmp_agent import agent

# -- the vocabulary -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "keyword", "severity", "clerk"),
    [
        ("media-jam-error", "media-jam", p.Severity.ERROR, p.Severity.ERROR),
        ("toner-low-warning", "toner-low", p.Severity.WARNING, p.Severity.WARNING),
        ("marker-supply-low-report", "marker-supply-low", p.Severity.REPORT, p.Severity.REPORT),
        # RFC 8011 §5.4.12: a keyword without a suffix is an error.
        ("media-empty", "media-empty", p.Severity.ERROR, p.Severity.ERROR),
        ("paused", "paused", p.Severity.ERROR, p.Severity.ERROR),
        # CUPS reports an unreachable device as "-report"; for a clerk nothing prints.
        ("offline-report", "offline", p.Severity.REPORT, p.Severity.ERROR),
        # Set by CUPS during every normal job: never a fault.
        ("connecting-to-device", "connecting-to-device", p.Severity.ERROR, p.Severity.REPORT),
        ("Door-Open-Error", "door-open", p.Severity.ERROR, p.Severity.ERROR),
    ],
)
def test_reason_keyword_and_severity(raw: str, keyword: str, severity: p.Severity, clerk: p.Severity) -> None:
    reason = p.parse_reason(raw)
    assert (reason.keyword, reason.severity, reason.raw) == (keyword, severity, raw)
    assert p.clerk_severity(reason) is clerk


def test_normalise_drops_none_keeps_worst_and_orders_by_severity() -> None:
    reasons = p.normalise_reasons(["none", "toner-low-report", "toner-low-warning", "paused", ""])
    assert [(r.keyword, r.severity) for r in reasons] == [
        ("paused", p.Severity.ERROR),
        ("toner-low", p.Severity.WARNING),
    ]
    assert p.normalise_reasons("media-jam-error")[0].keyword == "media-jam"
    assert p.normalise_reasons(None) == []


def test_clerk_words_in_both_languages() -> None:
    expected = {
        "media-jam": "卡纸",
        "media-empty": "缺纸",
        "toner-low": "碳粉不足",
        "offline": "打印机脱机",
        "door-open": "盖门打开",
    }
    for keyword, zh in expected.items():
        assert p.clerk_message(keyword).zh == zh
    for keyword, text in p.MESSAGES.items():
        assert text.en and text.zh and text.en != text.zh, keyword
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text.zh), keyword
    unknown = p.clerk_message("fuser-on-fire")
    assert unknown.en == "Printer reports: fuser-on-fire" and "fuser-on-fire" in unknown.zh


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", ("", None)),
        ("/run/cups/cups.sock", ("/run/cups/cups.sock", None)),
        ("printsrv", ("printsrv", None)),
        ("printsrv:8631", ("printsrv", 8631)),
        ("[::1]:631", ("::1", 631)),
        ("::1", ("::1", None)),
    ],
)
def test_server_setting(setting: str, expected: tuple[str, int | None]) -> None:
    assert parse_server(setting) == expected


def test_bad_server_port_is_an_error() -> None:
    with pytest.raises(ValueError, match="bad port"):
        parse_server("printsrv:ipp")


# -- Windows spooler ---------------------------------------------------------------------


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


def make_monitor(tmp_path: Path, server: Any, **options: Any) -> PrinterMonitor:
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {"transport": "none"} | options
    monitor = PrinterMonitor(settings, MonitorContext(data_dir=tmp_path))
    monitor._server = server
    return monitor


# -- SNMP -----------------------------------------------------------------------------

#: A GetResponse as a printer sends it, assembled by hand from RFC 1157/3416 BER:
#: community "public", request-id 0x1234, hrDeviceStatus.1 = warning(3),
#: hrPrinterStatus.1 = idle(3), hrPrinterDetectedErrorState.1 = 0x24 0x00
#: (bit 2 lowToner, bit 5 jammed).
RECORDED_RESPONSE = bytes.fromhex(
    "3050"  # SEQUENCE, 80 bytes
    "020101"  # version: v2c
    "04067075626c6963"  # community "public"
    "a243"  # GetResponse PDU, 67 bytes
    "02021234"  # request-id 0x1234
    "020100"  # error-status 0
    "020100"  # error-index 0
    "3037"  # variable bindings, 55 bytes
    "3010"
    "060b2b060102011903020105"
    "01"
    "020103"  # hrDeviceStatus.1 = 3
    "3010"
    "060b2b060102011903050101"
    "01"
    "020103"  # hrPrinterStatus.1 = 3
    "3011"
    "060b2b060102011903050102"
    "01"
    "04022400"  # hrPrinterDetectedErrorState.1
)


def test_decode_recorded_response() -> None:
    response = decode_response(RECORDED_RESPONSE)
    assert response.request_id == 0x1234 and response.error_status == 0
    device, printer, errors = printer_oids(1)
    assert response.values == {device: 3, printer: 3, errors: b"\x24\x00"}


def test_encode_get_round_trips_through_ber() -> None:
    message = encode_get("public", 0x1234, printer_oids(1))
    tag, body, end = _read(message, 0)
    assert tag == 0x30 and end == len(message)
    assert len(body) == len(message) - 2
    # Same header and request id as the recorded response, but a GetRequest of NULLs.
    assert bytes.fromhex("02010104067075626c6963a0") in message
    assert bytes.fromhex("060b2b060102011903050102010500") in message


@given(st.binary(max_size=200))
def test_decoder_never_crashes_on_garbage(data: bytes) -> None:
    with contextlib.suppress(SnmpError):
        decode_response(data)


@given(st.integers(0, len(RECORDED_RESPONSE) - 1), st.integers(0, 255), st.booleans())
def test_decoder_on_damaged_responses(position: int, byte: int, truncate: bool) -> None:
    damaged = bytearray(RECORDED_RESPONSE)
    damaged[position] = byte
    with contextlib.suppress(SnmpError):
        decode_response(bytes(damaged[:position] if truncate else damaged))


@pytest.mark.parametrize(
    ("device", "printer", "errors", "reasons", "level", "zh"),
    [
        (3, 3, b"\x24\x00", ["toner-low-warning", "media-jam-error"], Level.CRITICAL, "卡纸"),
        (3, 3, b"\x40", ["media-empty-error"], Level.CRITICAL, "缺纸"),  # noPaper, one-octet form
        (3, 3, b"\x20\x00", ["toner-low-warning"], Level.WARNING, "碳粉不足"),
        (5, 1, b"\x08\x00", ["door-open-error"], Level.CRITICAL, "盖门打开"),
        (5, 1, b"\x02\x00", ["offline-report"], Level.CRITICAL, "打印机脱机"),
        (2, 4, b"\x00\x00", [], Level.OK, "正在打印"),
        (5, 2, b"\x00\x00", ["other-error"], Level.CRITICAL, "打印机需要处理"),  # down, no bits
        (3, 3, b"\x00\x04", ["media-empty-warning"], Level.WARNING, "缺纸"),  # inputTrayEmpty (bit 13)
    ],
)
def test_snmp_mapping(
    tmp_path: Path, device: int, printer: int, errors: bytes, reasons: list[str], level: Level, zh: str
) -> None:
    oids = printer_oids(1)
    snap = snapshot_from_values("Hall printer", dict(zip(oids, [device, printer, errors], strict=True)))
    assert list(snap.reasons) == reasons and not snap.has_queue
    (status,) = make_monitor(tmp_path, None).judge(snap)
    assert status.level is level and status.message is not None and status.message.zh.startswith(zh)


def test_snmp_targets() -> None:
    assert parse_target("Hall printer=10.0.0.7") == ("Hall printer", "10.0.0.7", 161)
    assert parse_target("10.0.0.8:1161") == ("10.0.0.8:1161", "10.0.0.8", 1161)


def recorded_reply(request_id: bytes) -> list[bytes]:
    """The recorded response with the request's id spliced in."""
    id_tlv = bytes([0x02, len(request_id)]) + request_id
    pdu_body = id_tlv + RECORDED_RESPONSE[19:]
    body = bytes.fromhex("02010104067075626c6963") + bytes([0xA2, len(pdu_body)]) + pdu_body
    return [bytes([0x30, len(body)]) + body]


@pytest.fixture
def snmp_agent() -> Iterator[tuple[int, list[bytes]]]:
    """A UDP agent on loopback that answers every GET with the recorded values."""
    received: list[bytes] = []
    with agent(recorded_reply, received) as port:
        yield port, received


def test_snmp_printer_over_udp(tmp_path: Path, snmp_agent: tuple[int, list[bytes]]) -> None:
    port, received = snmp_agent
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound but never answers
        silent_port = silent.getsockname()[1]
        monitor = PrinterMonitor(
            {s.key: s.default for s in PrinterMonitor.settings}
            | {
                "transport": "none",
                "snmp_printers": [f"Hall=127.0.0.1:{port}", f"Annex=127.0.0.1:{silent_port}"],
                "connect_timeout": 0.4,
            },
            MonitorContext(data_dir=tmp_path),
        )
        readings = {r.instance: r for r in monitor.poll()}
    hall = readings["Hall"]
    assert hall.level is Level.CRITICAL and hall.message is not None
    assert hall.message.en.startswith("Paper jam; Toner low")
    assert (
        hall.detail["error_bits"] == ["lowToner", "jammed"] and hall.detail["hr_device_status"] == "warning"
    )
    assert received and b"public" in received[0]
    annex = readings["Annex"]
    assert annex.level is Level.CRITICAL and annex.message is not None
    assert annex.message.zh.startswith("打印机无响应")
    assert set(readings) == {"Hall", "Annex"}  # SNMP printers have no queue indicators


def test_transport_not_available_here_is_unknown_not_a_crash(tmp_path: Path) -> None:
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {
        "transport": "windows",
        "printers": ["P1"],
    }
    monitor = PrinterMonitor(settings, MonitorContext(data_dir=tmp_path))
    (status,) = monitor.poll()
    assert status.level is Level.UNKNOWN and status.instance == "P1"
    assert status.message is not None and "cannot be read with 'windows'" in status.message.en
    assert "win32print" in status.message.en
    results = monitor.self_test({"test_page": True})
    assert results is not None and [r.status for r in results] == ["fail", "skipped"]


def test_nothing_to_watch_has_a_setup_hint(tmp_path: Path) -> None:
    monitor = make_monitor(tmp_path, None)
    hint = monitor.setup_hint()
    assert hint is not None and "snmp_printers" in hint.en
    (reading,) = monitor.poll()
    assert reading.level is Level.NOT_SET_UP and reading.value is None and reading.message == hint


def test_bad_server_setting_is_unknown_with_the_reason(tmp_path: Path) -> None:
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {"server": "printsrv:ipp"}
    (status,) = PrinterMonitor(settings, MonitorContext(data_dir=tmp_path)).poll()
    assert status.level is Level.UNKNOWN and status.message is not None
    assert status.message.en == "Print server setting not understood: bad port in print server 'printsrv:ipp'"


MONITOR = PrinterMonitor(
    {s.key: s.default for s in PrinterMonitor.settings} | {"transport": "none"},
    MonitorContext(data_dir=Path("/nonexistent")),  # judging only: never touched
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(p.MESSAGES)),
            st.sampled_from(["", "-report", "-warning", "-error"]),
        ),
        max_size=6,
    )
)
def test_status_level_is_the_worst_reason(pairs: list[tuple[str, str]]) -> None:
    raw = [keyword + suffix for keyword, suffix in pairs]
    (status,) = MONITOR.judge(p.PrinterSnapshot("P", p.STATE_IDLE, tuple(raw), has_queue=False))
    clerk = [p.clerk_severity(p.parse_reason(r)) for r in raw]
    expected = {None: Level.OK, p.Severity.REPORT: Level.OK, p.Severity.WARNING: Level.WARNING}.get(
        max(clerk, default=None), Level.CRITICAL
    )
    assert status.level is expected
    assert set(status.detail["reasons"]) <= set(raw)
    assert status.message is not None
    # Every fault the clerk must act on is named in both languages.
    for reason in p.normalise_reasons(raw):
        if p.clerk_severity(reason) > p.Severity.REPORT and reason.keyword not in p.SAME_AS:
            assert reason.message.en in status.message.en and reason.message.zh in status.message.zh
