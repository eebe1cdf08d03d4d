"""The local Windows print spooler through pywin32's ``win32print``.

:func:`windows_snapshot` maps ``GetPrinter(h, 2)`` / ``EnumJobs`` results (pure,
testable on Linux with recorded values); :class:`WindowsSpooler` is the
transport, and :class:`JobTracker` infers how jobs the spooler deleted ended.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sensors import printing as p
from sensors.print_server import PrintServer, PrintServerUnreachable
from sensors.untrusted import clean_text

_ERROR_INVALID_PRINTER_NAME = 1801
_PRINTER_ENUM_LOCAL = 0x2
_PRINTER_ENUM_CONNECTIONS = 0x4


def _epoch(value: Any) -> float | None:
    """Epoch seconds from a pywin32 time (aware datetime; naive ones are UTC); ``None`` if absent."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return float(value.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        return float(value)
    return None  # unknown, never "now" (an age of 0) or epoch 0 (an age of decades)


class JobTracker:
    """Remembers a queue's jobs between polls to learn how they finished.

    The Windows spooler deletes a job once printed, so completion time and
    failure are inferred: a job that vanished was completed at that poll,
    unless it was last seen in error (then it failed: aborted).
    """

    def __init__(self, keep: int = 100) -> None:
        self._seen: dict[int, p.Job] = {}
        self._finished: list[p.Job] = []
        self._keep = keep

    def update(self, jobs: Iterable[p.Job], now: float) -> None:
        """Record the jobs present now; those gone since the last call are finished."""
        current = {job.id: job for job in jobs}
        for job_id, job in self._seen.items():
            if job_id not in current:
                state = p.JOB_ABORTED if job.state == p.JOB_STOPPED else p.JOB_COMPLETED
                self._finished.append(p.Job(job.id, state, job.created, now, job.name, job.reasons))
        for job in current.values():
            if job.state == p.JOB_COMPLETED and job.completed is None:
                current[job.id] = p.Job(job.id, job.state, job.created, now, job.name, job.reasons)
        self._seen = current
        self._finished = self._finished[-self._keep :]

    def finished(self, since: float) -> tuple[p.Job, ...]:
        """Jobs finished at or after ``since``."""
        return tuple(j for j in self._finished if j.completed is not None and j.completed >= since)


def windows_snapshot(info: Mapping[str, Any], jobs: Iterable[Mapping[str, Any]]) -> p.PrinterSnapshot:
    """A snapshot from ``GetPrinter(h, 2)`` and ``EnumJobs(h, 0, -1, 1)`` results."""
    status = int(info.get("Status", 0))
    attributes = int(info.get("Attributes", 0))
    parsed = [
        p.Job(
            id=int(job["JobId"]),
            state=p.windows_job_state(int(job.get("Status", 0))),
            created=_epoch(job.get("Submitted")),
            name=clean_text(job.get("pDocument") or ""),
            reasons=tuple(p.windows_job_reasons(int(job.get("Status", 0)))),
        )
        for job in jobs
    ]
    reasons = p.windows_printer_reasons(status, attributes)
    # The spooler learns of faults only while sending a job: add what jobs say.
    for job in parsed:
        reasons += [r for r in job.reasons if r not in reasons]
    queued = tuple(j for j in parsed if j.state in p.ACTIVE_JOB_STATES)
    state = p.windows_printer_state(status, attributes, len(queued))
    if p.has_error(reasons):
        state = p.STATE_STOPPED
    job_status_text = [clean_text(job.get("pStatus")) for job in jobs if job.get("pStatus")]
    return p.PrinterSnapshot(
        name=str(info.get("pPrinterName", "")),
        state=state,
        reasons=tuple(reasons),
        message=clean_text("; ".join(job_status_text)),
        accepting=not status & 0x4,  # pending deletion takes no new jobs
        jobs=queued,
        detail={
            "status": status,
            "status_bits": p.bit_names(status, p.WINDOWS_PRINTER_STATUS),
            "attributes": attributes,
            "work_offline": bool(attributes & p.PRINTER_ATTRIBUTE_WORK_OFFLINE),
            "queued_job_count": int(info.get("cJobs", len(queued))),
        },
    )


class WindowsSpooler(PrintServer):
    """The local Windows print spooler through pywin32's ``win32print``."""

    def __init__(self, server: str = "", win32print: Any = None, clock: Any = time.time) -> None:
        if win32print is None:
            import win32print as module

            win32print = module
        self._w = win32print
        self._server = server.strip()
        self._clock = clock
        self._trackers: dict[str, JobTracker] = {}
        self.description = f"Windows spooler {self._server}" if self._server else "Windows spooler"

    def _full_name(self, name: str) -> str:
        if self._server and not name.startswith("\\\\"):
            return f"\\\\{self._server.strip(chr(92))}\\{name}"
        return name

    def printer_names(self) -> list[str]:
        try:
            found = self._w.EnumPrinters(_PRINTER_ENUM_LOCAL | _PRINTER_ENUM_CONNECTIONS, None, 4)
        except Exception as exc:  # pywintypes.error: the spooler service is stopped
            raise PrintServerUnreachable(str(exc)) from exc
        return sorted(str(entry["pPrinterName"]) for entry in found)

    def default_printer(self) -> str | None:
        try:
            return str(self._w.GetDefaultPrinter()) or None
        except Exception:  # no default printer set
            return None

    def snapshots(self, names: Iterable[str], finished_since: float) -> dict[str, p.PrinterSnapshot | None]:
        result: dict[str, p.PrinterSnapshot | None] = {}
        for name in names:
            try:
                handle = self._w.OpenPrinter(self._full_name(name))
            except Exception as exc:
                if getattr(exc, "winerror", None) == _ERROR_INVALID_PRINTER_NAME:
                    result[name] = None
                    continue
                raise PrintServerUnreachable(str(exc)) from exc
            try:
                info = self._w.GetPrinter(handle, 2)
                jobs = self._w.EnumJobs(handle, 0, -1, 1)
            finally:
                self._w.ClosePrinter(handle)
            snap = windows_snapshot(info, jobs)
            tracker = self._trackers.setdefault(name, JobTracker())
            tracker.update(snap.jobs, self._clock())
            result[name] = p.PrinterSnapshot(
                name=name,
                state=snap.state,
                reasons=snap.reasons,
                message=snap.message,
                accepting=snap.accepting,
                jobs=snap.jobs,
                finished=tracker.finished(finished_since),
                detail=snap.detail,
            )
        return result

    def submit_test_page(self, name: str) -> int:  # pragma: no cover - Windows only
        import win32ui  # GDI drawing works with every Windows driver, unlike raw data

        title = "Deskwatch test page"
        dc = win32ui.CreateDC()
        dc.CreatePrinterDC(self._full_name(name))
        try:
            dc.StartDoc(title)
            dc.StartPage()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            for row, line in enumerate((title, f"Printer: {name}", f"Printed: {stamp}", "打印测试页")):
                dc.TextOut(300, 300 + row * 150, line)
            dc.EndPage()
            dc.EndDoc()
        finally:
            dc.DeleteDC()
        handle = self._w.OpenPrinter(self._full_name(name))
        try:
            jobs = self._w.EnumJobs(handle, 0, -1, 1)
        finally:
            self._w.ClosePrinter(handle)
        ours = [int(j["JobId"]) for j in jobs if j.get("pDocument") == title]
        return max(ours) if ours else 0

    def job(self, name: str, job_id: int) -> p.Job | None:
        handle = self._w.OpenPrinter(self._full_name(name))
        try:
            jobs = self._w.EnumJobs(handle, 0, -1, 1)
        finally:
            self._w.ClosePrinter(handle)
        for job in jobs:
            if int(job["JobId"]) == job_id:
                status = int(job.get("Status", 0))
                return p.Job(job_id, p.windows_job_state(status), _epoch(job.get("Submitted")))
        return None  # gone from the queue: the spooler has printed it
