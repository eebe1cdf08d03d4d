"""Printer status in one vocabulary: IPP ``printer-state-reasons`` keywords.

Pure functions and plain data, no I/O.  CUPS speaks this vocabulary natively;
the Windows spooler's ``PRINTER_INFO_2.Status`` bits and the Printer MIB's
``hrPrinterDetectedErrorState`` bits are mapped onto the same keywords, so the
printer monitor judges every kind of printer the same way and the clerk reads
the same words ("卡纸 Paper jam") whatever the transport.

A keyword's severity is its suffix: ``-report`` < ``-warning`` < ``-error``,
and a keyword *without* a suffix is an error (RFC 8011 §5.4.12).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from app.kernel.i18n import Text
from sensors.untrusted import clean_text

# -- IPP printer-state (RFC 8011 §5.4.11) -----------------------------------
STATE_IDLE = 3
STATE_PROCESSING = 4
STATE_STOPPED = 5

STATE_NAMES: Mapping[int, str] = {
    STATE_IDLE: "idle",
    STATE_PROCESSING: "processing",
    STATE_STOPPED: "stopped",
}
STATE_TEXT: Mapping[int, Text] = {
    STATE_IDLE: Text("Ready", "就绪"),
    STATE_PROCESSING: Text("Printing", "正在打印"),
    STATE_STOPPED: Text("Stopped", "已停止"),
}

# -- IPP job-state (RFC 8011 §5.3.7) ----------------------------------------
JOB_PENDING = 3
JOB_HELD = 4
JOB_PROCESSING = 5
JOB_STOPPED = 6
JOB_CANCELED = 7
JOB_ABORTED = 8
JOB_COMPLETED = 9
#: Jobs still in the queue.
ACTIVE_JOB_STATES = frozenset({JOB_PENDING, JOB_HELD, JOB_PROCESSING, JOB_STOPPED})


class Severity(IntEnum):
    """Severity of a state reason, from its suffix."""

    REPORT = 0
    WARNING = 1
    ERROR = 2


_SUFFIXES = (("-report", Severity.REPORT), ("-warning", Severity.WARNING), ("-error", Severity.ERROR))


@dataclass(frozen=True)
class Reason:
    """One printer-state-reason: the keyword without suffix, its severity, the raw value."""

    keyword: str
    severity: Severity
    raw: str

    @property
    def message(self) -> Text:
        """What the clerk reads for this reason."""
        return clerk_message(self.keyword)


#: Longest keyword kept, and most reasons read from one printer (a hostile agent may send thousands).
MAX_KEYWORD = 80
MAX_REASONS = 32


def parse_reason(raw: str) -> Reason:
    """Split ``media-jam-error`` into ``("media-jam", ERROR)``; no suffix means error.

    ``raw`` comes from the printer: it is cleaned of control characters and
    cut to :data:`MAX_KEYWORD` characters before anything shows it.
    """
    raw = clean_text(raw, MAX_KEYWORD)
    value = raw.lower()
    for suffix, severity in _SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix):
            return Reason(value[: -len(suffix)], severity, raw)
    return Reason(value, Severity.ERROR, raw)


#: Keywords that carry no fault whatever their suffix: transient states CUPS
#: sets during normal printing.  Judged as reports.
TRANSIENT_KEYWORDS = frozenset(
    {
        "connecting-to-device",
        "moving-to-paused",
        "processing-to-stop-point",
        "cups-waiting-for-job-completed",
        "cups-remote-pending",
        "cups-remote-pending-held",
        "cups-remote-processing",
        "cups-remote-idle",
        "cups-remote-stopped",
    }
)
#: Keywords that stop printing however mildly they are reported: CUPS and most
#: backends write ``offline-report`` when the device cannot be reached.
BLOCKING_KEYWORDS = frozenset({"offline", "shutdown", "timed-out"})


def clerk_severity(reason: Reason) -> Severity:
    """The severity the clerk should feel: the suffix's, corrected for known keywords."""
    if reason.keyword in TRANSIENT_KEYWORDS:
        return Severity.REPORT
    if reason.keyword in BLOCKING_KEYWORDS:
        return Severity.ERROR
    return reason.severity


def normalise_reasons(raw: Iterable[str] | str | None) -> list[Reason]:
    """Parse a ``printer-state-reasons`` value (list, single string or none).

    ``none`` and empty entries are dropped; duplicates keep the most severe;
    the result is ordered most severe first, then by keyword.
    """
    if raw is None:
        return []
    values = [raw] if isinstance(raw, str) else list(itertools.islice(raw, MAX_REASONS * 4))
    best: dict[str, Reason] = {}
    for value in values:
        if not isinstance(value, str):
            value = str(value)
        if not value.strip() or value.strip().lower() == "none":
            continue
        if len(best) >= MAX_REASONS:
            break
        reason = parse_reason(value)
        known = best.get(reason.keyword)
        if known is None or clerk_severity(reason) > clerk_severity(known):
            best[reason.keyword] = reason
    return sorted(best.values(), key=lambda r: (-clerk_severity(r), r.keyword))


def has_error(raw: Iterable[str]) -> bool:
    """Whether any of these reasons stops printing (clerk severity error)."""
    return any(clerk_severity(r) is Severity.ERROR for r in normalise_reasons(raw))


#: Clerk-language messages by keyword (without suffix).  Keywords from RFC 8011
#: §5.4.12 and PWG 5100.9 plus the CUPS ones a clerk may meet.
MESSAGES: Mapping[str, Text] = {
    "media-jam": Text("Paper jam", "卡纸"),
    "media-empty": Text("Out of paper", "缺纸"),
    "media-needed": Text("Load paper", "需要放入纸张"),
    "media-low": Text("Paper running low", "纸张不足"),
    "media-misfeed": Text("Paper feed problem", "进纸故障"),
    "input-tray-missing": Text("Paper tray missing", "纸盒未装好"),
    "output-tray-missing": Text("Output tray missing", "出纸盒未装好"),
    "output-area-almost-full": Text("Output tray almost full", "出纸盒快满了"),
    "output-area-full": Text("Output tray full — remove the printouts", "出纸盒已满,请取走打印件"),
    "toner-low": Text("Toner low", "碳粉不足"),
    "toner-empty": Text("Out of toner", "碳粉用尽"),
    "marker-supply-low": Text("Toner or ink low", "碳粉/墨水不足"),
    "marker-supply-empty": Text("Out of toner or ink", "碳粉/墨水用尽"),
    "marker-supply-missing": Text("Toner cartridge missing", "缺少硒鼓/墨盒"),
    "marker-waste-almost-full": Text("Waste toner box almost full", "废粉盒快满了"),
    "marker-waste-full": Text("Waste toner box full", "废粉盒已满"),
    "developer-low": Text("Developer low", "显影剂不足"),
    "developer-empty": Text("Out of developer", "显影剂用尽"),
    "opc-near-eol": Text("Drum nearly worn out", "感光鼓寿命将尽"),
    "opc-life-over": Text("Drum worn out", "感光鼓寿命已尽"),
    "fuser-over-temp": Text("Fuser too hot", "定影器温度过高"),
    "fuser-under-temp": Text("Fuser warming up or too cold", "定影器温度过低"),
    "door-open": Text("Door open", "盖门打开"),
    "cover-open": Text("Cover open", "盖板打开"),
    "interlock-open": Text("Safety interlock open", "安全联锁打开"),
    "offline": Text("Printer offline", "打印机脱机"),
    "shutdown": Text("Printer switched off", "打印机已关机"),
    "timed-out": Text("Printer not responding", "打印机无响应"),
    "connecting-to-device": Text("Connecting to the printer", "正在连接打印机"),
    "paused": Text("Print queue paused", "打印队列已暂停"),
    "moving-to-paused": Text("Print queue pausing", "打印队列正在暂停"),
    "spool-area-full": Text("Print spool full", "打印缓存已满"),
    "interpreter-resource-unavailable": Text("Printer out of memory", "打印机内存不足"),
    "stopped-partly": Text("Printer partly stopped", "打印机部分停止"),
    "stopping": Text("Printer stopping", "打印机正在停止"),
    "cups-missing-filter": Text("Printer driver missing", "缺少打印机驱动"),
    "cups-insecure-filter": Text("Printer driver not trusted", "打印机驱动不受信任"),
    "other": Text("Printer needs attention", "打印机需要处理"),
}
#: Keywords that say the same thing to a clerk as another one (printers often send both).
SAME_AS: Mapping[str, str] = {"marker-supply-low": "toner-low", "marker-supply-empty": "toner-empty"}
UNKNOWN_REASON = Text("Printer reports: {keyword}", "打印机报告:{keyword}")


def clerk_message(keyword: str) -> Text:
    """The clerk-language message for a keyword (without suffix)."""
    known = MESSAGES.get(keyword)
    return known if known is not None else UNKNOWN_REASON.format(keyword=keyword)


# -- snapshots every transport produces ---------------------------------------


@dataclass(frozen=True)
class Job:
    """A job in (or just gone from) a queue.  Times are epoch seconds.

    A time the print server did not report is ``None``, never 0: CUPS drops
    ``time-at-creation`` from the jobs it has unloaded, and epoch 0 would make
    a job three seconds long look 56 years old.
    """

    id: int
    state: int
    created: float | None
    completed: float | None = None
    name: str = ""
    #: Reasons learnt from the job (Windows knows paper-out only per job).
    reasons: tuple[str, ...] = ()

    @property
    def duration(self) -> float | None:
        """Seconds from submission to completion, when finished and both times are known."""
        if self.completed is None or self.created is None:
            return None
        return max(0.0, self.completed - self.created)


@dataclass(frozen=True)
class PrinterSnapshot:
    """What a transport saw of one printer at one moment."""

    name: str
    #: IPP printer-state; ``None`` when it could not be observed (``message`` says why).
    state: int | None
    reasons: tuple[str, ...] = ()
    message: str = ""
    #: ``None`` when the server did not say.
    accepting: bool | None = True
    #: Jobs still queued (pending, held, processing, stopped).
    jobs: tuple[Job, ...] = ()
    #: Jobs finished recently (completed, aborted, canceled), newest last.
    finished: tuple[Job, ...] = ()
    #: The print server's clock when the snapshot was taken (job ages use it).
    server_time: float | None = None
    #: False where the transport sees no queue (SNMP reads the device, not the spooler).
    has_queue: bool = True
    detail: Mapping[str, object] = field(default_factory=dict)


# -- Windows spooler: PRINTER_INFO_2.Status / Attributes, JOB_INFO_1.Status --

#: PRINTER_STATUS_* bits (winspool.h) → keyword, or ``None`` for busy/idle flags.
WINDOWS_PRINTER_STATUS: Sequence[tuple[int, str, str | None]] = (
    (0x00000001, "PAUSED", "paused"),
    (0x00000002, "ERROR", "other-error"),
    (0x00000004, "PENDING_DELETION", "shutdown-report"),
    (0x00000008, "PAPER_JAM", "media-jam-error"),
    (0x00000010, "PAPER_OUT", "media-empty-error"),
    (0x00000020, "MANUAL_FEED", "media-needed-warning"),
    (0x00000040, "PAPER_PROBLEM", "media-misfeed-error"),
    (0x00000080, "OFFLINE", "offline-report"),
    (0x00000100, "IO_ACTIVE", None),
    (0x00000200, "BUSY", None),
    (0x00000400, "PRINTING", None),
    (0x00000800, "OUTPUT_BIN_FULL", "output-area-full-error"),
    (0x00001000, "NOT_AVAILABLE", "offline-report"),
    (0x00002000, "WAITING", None),
    (0x00004000, "PROCESSING", None),
    (0x00008000, "INITIALIZING", None),
    (0x00010000, "WARMING_UP", None),
    (0x00020000, "TONER_LOW", "toner-low-warning"),
    (0x00040000, "NO_TONER", "toner-empty-error"),
    (0x00080000, "PAGE_PUNT", "interpreter-resource-unavailable-warning"),
    (0x00100000, "USER_INTERVENTION", "other-error"),
    (0x00200000, "OUT_OF_MEMORY", "interpreter-resource-unavailable-error"),
    (0x00400000, "DOOR_OPEN", "door-open-error"),
    (0x00800000, "SERVER_UNKNOWN", "other-warning"),
    (0x01000000, "POWER_SAVE", None),
    (0x02000000, "SERVER_OFFLINE", "offline-report"),
    (0x04000000, "DRIVER_UPDATE_NEEDED", "cups-missing-filter-warning"),
)
WINDOWS_BUSY_BITS = 0x00000100 | 0x00000200 | 0x00000400 | 0x00004000
PRINTER_ATTRIBUTE_WORK_OFFLINE = 0x00000400

#: JOB_STATUS_* bits (winspool.h) → keyword learnt from a job, or ``None``.
WINDOWS_JOB_STATUS: Sequence[tuple[int, str, str | None]] = (
    (0x00000001, "PAUSED", None),
    (0x00000002, "ERROR", "other-error"),
    (0x00000004, "DELETING", None),
    (0x00000008, "SPOOLING", None),
    (0x00000010, "PRINTING", None),
    (0x00000020, "OFFLINE", "offline-report"),
    (0x00000040, "PAPEROUT", "media-empty-error"),
    (0x00000080, "PRINTED", None),
    (0x00000100, "DELETED", None),
    (0x00000200, "BLOCKED_DEVQ", "other-error"),
    (0x00000400, "USER_INTERVENTION", "other-error"),
    (0x00000800, "RESTART", None),
    (0x00001000, "COMPLETE", None),
    (0x00002000, "RETAINED", None),
)
JOB_STATUS_PAUSED = 0x1
JOB_STATUS_ERROR = 0x2
JOB_STATUS_PRINTING = 0x10
JOB_STATUS_PRINTED = 0x80
JOB_STATUS_COMPLETE = 0x1000
JOB_STATUS_FAULT_BITS = 0x2 | 0x20 | 0x40 | 0x200 | 0x400


def _bits(value: int, table: Sequence[tuple[int, str, str | None]]) -> list[str]:
    return [keyword for bit, _name, keyword in table if value & bit and keyword is not None]


def bit_names(value: int, table: Sequence[tuple[int, str, str | None]]) -> list[str]:
    """Names of the bits set in ``value`` (kept in details for IT)."""
    return [name for bit, name, _keyword in table if value & bit]


def windows_printer_reasons(status: int, attributes: int = 0) -> list[str]:
    """Keywords for a ``PRINTER_INFO_2`` ``Status`` and ``Attributes`` pair."""
    reasons = _bits(status, WINDOWS_PRINTER_STATUS)
    if attributes & PRINTER_ATTRIBUTE_WORK_OFFLINE:
        reasons.append("offline-report")
    return list(dict.fromkeys(reasons))


def windows_printer_state(status: int, attributes: int = 0, jobs: int = 0) -> int:
    """IPP printer-state for a Windows printer."""
    if status & 0x1 or has_error(windows_printer_reasons(status, attributes)):
        return STATE_STOPPED
    if status & WINDOWS_BUSY_BITS or jobs:
        return STATE_PROCESSING
    return STATE_IDLE


def windows_job_reasons(status: int) -> list[str]:
    """Keywords learnt from a ``JOB_INFO_1`` ``Status`` (the spooler sees faults only per job)."""
    return _bits(status, WINDOWS_JOB_STATUS)


def windows_job_state(status: int) -> int:
    """IPP job-state for a Windows job status."""
    if status & (JOB_STATUS_PRINTED | JOB_STATUS_COMPLETE):
        return JOB_COMPLETED
    if status & JOB_STATUS_FAULT_BITS:
        return JOB_STOPPED
    if status & JOB_STATUS_PAUSED:
        return JOB_HELD
    if status & JOB_STATUS_PRINTING:
        return JOB_PROCESSING
    return JOB_PENDING


# -- Printer MIB (RFC 3805) / Host Resources MIB (RFC 2790) -------------------

OID_HR_DEVICE_STATUS = "1.3.6.1.2.1.25.3.2.1.5"
OID_HR_PRINTER_STATUS = "1.3.6.1.2.1.25.3.5.1.1"
OID_HR_PRINTER_ERROR_STATE = "1.3.6.1.2.1.25.3.5.1.2"

#: hrPrinterDetectedErrorState bits: bit 0 is the most significant bit of the first octet.
SNMP_ERROR_BITS: Sequence[tuple[int, str, str | None]] = (
    (0, "lowPaper", "media-low-warning"),
    (1, "noPaper", "media-empty-error"),
    (2, "lowToner", "toner-low-warning"),
    (3, "noToner", "toner-empty-error"),
    (4, "doorOpen", "door-open-error"),
    (5, "jammed", "media-jam-error"),
    (6, "offline", "offline-report"),
    (7, "serviceRequested", "other-warning"),
    (8, "inputTrayMissing", "input-tray-missing-error"),
    (9, "outputTrayMissing", "output-tray-missing-error"),
    (10, "markerSupplyMissing", "marker-supply-missing-error"),
    (11, "outputNearFull", "output-area-almost-full-warning"),
    (12, "outputFull", "output-area-full-error"),
    (13, "inputTrayEmpty", "media-empty-warning"),
    (14, "overduePreventMaint", "other-warning"),
)
HR_DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}
HR_PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}


def _snmp_bit_set(octets: bytes, bit: int) -> bool:
    index, offset = divmod(bit, 8)
    return index < len(octets) and bool(octets[index] & (0x80 >> offset))


def snmp_error_names(octets: bytes) -> list[str]:
    """Names of the hrPrinterDetectedErrorState bits set (for details)."""
    return [name for bit, name, _kw in SNMP_ERROR_BITS if _snmp_bit_set(octets, bit)]


def snmp_reasons(error_state: bytes, device_status: int | None = None) -> list[str]:
    """Keywords for hrPrinterDetectedErrorState plus hrDeviceStatus.

    A device that is ``down`` or ``warning`` with no error bit set still gets
    a generic reason, so the level never looks better than the device says.
    """
    reasons = [kw for bit, _name, kw in SNMP_ERROR_BITS if kw is not None and _snmp_bit_set(error_state, bit)]
    severities = {clerk_severity(r) for r in normalise_reasons(reasons)}
    if device_status == 5 and Severity.ERROR not in severities:
        reasons.append("other-error")
    elif device_status == 3 and not severities & {Severity.WARNING, Severity.ERROR}:
        reasons.append("other-warning")
    return list(dict.fromkeys(reasons))


def snmp_printer_state(device_status: int | None, printer_status: int | None, reasons: Sequence[str]) -> int:
    """IPP printer-state from hrDeviceStatus/hrPrinterStatus and the mapped reasons."""
    if device_status == 5 or has_error(reasons):
        return STATE_STOPPED
    if printer_status in (4, 5):
        return STATE_PROCESSING
    return STATE_IDLE
