"""CUPS print servers (local or remote) through pycups, and the PDF test page they print.

Get-Printers/Get-Jobs attributes become :class:`~sensors.printing.PrinterSnapshot`
values (:func:`cups_snapshot`, :func:`cups_job` are pure and fuzzed);
:class:`CupsServer` is the connection.  All calls block (poll thread).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from sensors import printing as p
from sensors.hosts import resolver_host
from sensors.print_server import PrinterMissing, PrintServer, PrintServerUnreachable
from sensors.untrusted import clean_text

log = logging.getLogger(__name__)


# -- the test page --------------------------------------------------------------


def build_test_page_pdf(printer: str, when: float | None = None) -> bytes:
    """A one-page PDF that says which printer and when (ASCII: base-14 fonts have no CJK)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when if when is not None else time.time()))
    safe = "".join(ch if 32 <= ord(ch) < 127 and ch not in "()\\" else "?" for ch in printer)
    lines = [
        "Deskwatch test page",
        f"Printer: {safe}",
        f"Printed: {stamp}",
        "If you can read this, printing works.",
    ]
    text = "BT /F1 18 Tf 72 720 Td 24 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("ascii")),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- CUPS -----------------------------------------------------------------------

_JOB_ATTRIBUTES = [
    "job-id",
    "job-state",
    "job-state-reasons",
    "job-name",
    "job-printer-uri",
    "time-at-creation",
    "time-at-completed",
]
_IPP_NOT_FOUND = 0x0406
#: IPP statuses libcups reports when the HTTP link failed rather than the request.
_LINK_LOST = frozenset({0, None, 0x0502})
_GLOBAL_SERVER_LOCK = threading.Lock()


def parse_server(server: str) -> tuple[str, int | None]:
    """Split a ``server`` setting into host (or socket path) and port.

    ``""`` → the system default; ``/run/cups/cups.sock`` → a local socket;
    ``host``, ``host:631``, ``[::1]:631`` → TCP.
    """
    server = server.strip()
    if not server or server.startswith("/"):
        return server, None
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif server.count(":") == 1:
        host, port = server.split(":")
    else:
        host, port = server, ""
    if port and not port.isdigit():
        raise ValueError(f"bad port in print server {server!r}")
    return host, int(port) if port else None


def probe_server(host: str, port: int, timeout: float) -> None:
    """Fail fast with :class:`PrintServerUnreachable` when nothing answers at ``host``.

    libcups' own connect may wait far longer than a poll should; this check
    bounds the common failure (server down, host unreachable) by ``timeout``.
    """
    try:
        if host.startswith("/"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(host)
        else:
            with socket.create_connection((resolver_host(host), port), timeout=timeout):  # type: ignore[arg-type]
                pass
    except OSError as exc:
        raise PrintServerUnreachable(str(exc.strerror or exc)) from exc


def _as_list(value: Any, limit: int = 4 * p.MAX_REASONS) -> list[str]:
    """A one-or-many IPP keyword attribute as a bounded list of strings (anything else: empty)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value[:limit]]
    return []


def _queue_of(job: Mapping[str, Any]) -> str:
    return str(job.get("job-printer-uri", "")).rstrip("/").rsplit("/", 1)[-1]


def ipp_int(attrs: Mapping[str, Any], key: str) -> int | None:
    """An IPP integer/enum attribute, or ``None`` when absent or not an integer."""
    value = attrs.get(key)
    # bool is an int in Python; an IPP boolean is never a number.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def ipp_time(attrs: Mapping[str, Any], key: str) -> float | None:
    """An IPP ``time-at-*`` value as epoch seconds; absent, 0 or negative is unknown (``None``)."""
    value = ipp_int(attrs, key)
    return float(value) if value is not None and value > 0 else None


def cups_job(job_id: int, attrs: Mapping[str, Any], default_state: int = p.JOB_PENDING) -> p.Job:
    """A :class:`~sensors.printing.Job` from Get-Jobs attributes (missing times stay ``None``)."""
    state = ipp_int(attrs, "job-state")
    return p.Job(
        id=int(job_id),
        state=default_state if state is None else state,
        created=ipp_time(attrs, "time-at-creation"),
        completed=ipp_time(attrs, "time-at-completed"),
        name=clean_text(attrs.get("job-name", "") or ""),
        reasons=tuple(clean_text(r, p.MAX_KEYWORD) for r in _as_list(attrs.get("job-state-reasons"))),
    )


#: Job creation times fetched with Get-Job-Attributes, kept so each job costs one extra request.
_CREATED_CACHE_SIZE = 2000
#: At most this many Get-Job-Attributes requests per poll (newest jobs first).
_CREATED_FETCHES_PER_POLL = 20
#: A job state no IPP server sends: "not reported", counted neither as printed nor as failed.
JOB_STATE_UNKNOWN = 0


def cups_snapshot(
    name: str, attrs: Mapping[str, Any], jobs: Iterable[p.Job], finished: Iterable[p.Job]
) -> p.PrinterSnapshot:
    """A snapshot from Get-Printer-Attributes; what the printer leaves out stays unknown."""
    state = ipp_int(attrs, "printer-state")
    accepting = attrs.get("printer-is-accepting-jobs")
    up_time = ipp_int(attrs, "printer-up-time")
    queued = tuple(jobs)
    count = ipp_int(attrs, "queued-job-count")
    known_state = state if state in p.STATE_NAMES else None
    message = clean_text(attrs.get("printer-state-message", "") or "")
    reasons = _as_list(attrs.get("printer-state-reasons"))
    if known_state is None:
        shown = "missing" if state is None else str(state)
        message = f"printer-state {shown}" + (f": {message}" if message else "")
    return p.PrinterSnapshot(
        name=name,
        state=known_state,
        reasons=tuple(r for r in reasons if r != "none"),
        message=message,
        accepting=accepting if isinstance(accepting, bool) else None,
        jobs=queued,
        finished=tuple(finished),
        # CUPS reports its own clock here: job ages then survive clock skew.
        server_time=float(up_time) if up_time is not None and up_time > 1_000_000_000 else None,
        detail={
            "device_uri": clean_text(attrs.get("device-uri", "") or ""),
            "queued_job_count": len(queued) if count is None else count,
        },
    )


#: Seconds between two readings of the print server's clock offset.
SERVER_CLOCK_RECHECK_S = 600.0
#: CUPS ``printer-type`` bit of a queue that rejects jobs (cups.h CUPS_PRINTER_REJECTING).
CUPS_PRINTER_REJECTING = 0x80000


def cups_listed_attributes(listed: Mapping[str, Any], server_time: float | None) -> dict[str, Any]:
    """Printer attributes as Get-Printer-Attributes names them, from a Get-Printers entry.

    Get-Printers carries the state, reasons and message but says "accepting
    jobs" only as a ``printer-type`` bit; a missing or odd type stays unknown.
    """
    attrs = dict(listed)
    kind = listed.get("printer-type")
    if isinstance(kind, int) and not isinstance(kind, bool):
        attrs["printer-is-accepting-jobs"] = not kind & CUPS_PRINTER_REJECTING
    if server_time is not None:
        attrs["printer-up-time"] = int(server_time)
    return attrs


class CupsServer(PrintServer):
    """A CUPS server (local or remote) through pycups."""

    def __init__(self, server: str = "", connect_timeout: float = 3.0, cups_module: Any = None) -> None:
        if cups_module is None:
            import cups

            cups_module = cups
        self._cups = cups_module
        self._host, self._port = parse_server(server)
        self._timeout = connect_timeout
        self._conn: Any = None
        #: (job id, completion time) → time-at-creation learnt from Get-Job-Attributes (None: not known).
        self._created: dict[tuple[int, float | None], float | None] = {}
        self._skew: float | None = None  # server clock minus ours, seconds
        self._skew_checked_at = -float("inf")
        if self._host:
            where = self._host if self._port is None else f"{self._host}:{self._port}"
        else:
            where = f"{self._cups.getServer()}:{self._cups.getPort()}"
            if where.startswith("/"):
                where = where.rsplit(":", 1)[0]
        self.description = f"CUPS {where}"

    def _target(self) -> tuple[str, int]:
        host = self._host or str(self._cups.getServer())
        port = self._port if self._port is not None else int(self._cups.getPort())
        return host, port

    def _connection(self) -> Any:
        if self._conn is None:
            host, port = self._target()
            probe_server(host, port, self._timeout)
            try:
                if self._host:
                    self._conn = self._cups.Connection(host=host, port=port)
                else:
                    self._conn = self._cups.Connection()
            except RuntimeError as exc:  # pycups: "failed to connect to server"
                raise PrintServerUnreachable(str(exc)) from exc
        return self._conn

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a pycups method, reconnecting once if the server went away meanwhile."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                return getattr(conn, method)(*args, **kwargs)
            except self._cups.HTTPError as exc:
                self._conn = None
                if attempt == 2:
                    raise PrintServerUnreachable(f"HTTP error {exc}") from exc
            except self._cups.IPPError as exc:
                status = exc.args[0] if exc.args else None
                if status == _IPP_NOT_FOUND:
                    raise PrinterMissing(str(args[0]) if args else "") from exc
                # libcups reports a connection it lost (server stopped or restarted)
                # as service-unavailable: reconnect once, which probes the server.
                if status in _LINK_LOST or "connect" in str(exc).lower():
                    self._conn = None
                    if attempt == 2:
                        raise PrintServerUnreachable(str(exc)) from exc
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.contextmanager
    def _global_server(self) -> Iterator[None]:
        """Point libcups' process-wide server at ours for the duration.

        libcups' job submission looks the destination up on the *global*
        server (``cupsGetNamedDest``), not on the connection it is given.
        """
        if not self._host:
            yield
            return
        with _GLOBAL_SERVER_LOCK:
            saved = (self._cups.getServer(), self._cups.getPort())
            self._cups.setServer(self._host)
            if self._port is not None:
                self._cups.setPort(self._port)
            try:
                yield
            finally:
                self._cups.setServer(saved[0])
                self._cups.setPort(saved[1])

    def printer_names(self) -> list[str]:
        return sorted(self._call("getPrinters"))

    def default_printer(self) -> str | None:
        name = self._call("getDefault")
        return str(name) if name else None

    def _with_creation_times(self, jobs: list[p.Job]) -> list[p.Job]:
        """Fill in ``time-at-creation`` that Get-Jobs left out, with Get-Job-Attributes.

        cupsd unloads a finished job's attributes about a minute after it
        completes; Get-Jobs then rebuilds the job from a summary in which the
        creation time is 0, and leaves ``time-at-creation`` out.
        Get-Job-Attributes reloads the job from its control file and has it.
        """
        missing = sorted((j for j in jobs if j.created is None), key=lambda j: -j.id)
        fetched = 0
        learnt: dict[int, float | None] = {}
        for job in missing:
            key = (job.id, job.completed)
            if key not in self._created:
                if fetched >= _CREATED_FETCHES_PER_POLL:
                    continue
                fetched += 1
                self._created[key] = self._fetch_created(job.id)
                while len(self._created) > _CREATED_CACHE_SIZE:
                    del self._created[next(iter(self._created))]
            learnt[job.id] = self._created[key]
        if not learnt:
            return jobs
        return [replace(j, created=learnt[j.id]) if j.id in learnt else j for j in jobs]

    def _fetch_created(self, job_id: int) -> float | None:
        try:
            attrs = self._call("getJobAttributes", job_id, requested_attributes=["time-at-creation"])
        except PrinterMissing:  # the job is gone meanwhile
            return None
        except self._cups.IPPError as exc:
            log.info("Get-Job-Attributes for job %d failed: %s", job_id, exc)
            return None
        return ipp_time(attrs, "time-at-creation")

    def snapshots(self, names: Iterable[str], finished_since: float) -> dict[str, p.PrinterSnapshot | None]:
        wanted = list(names)
        active = self._call("getJobs", which_jobs="not-completed", requested_attributes=_JOB_ATTRIBUTES)
        done = self._call("getJobs", which_jobs="completed", requested_attributes=_JOB_ATTRIBUTES)
        queued = [(_queue_of(a), cups_job(i, a)) for i, a in active.items()]
        finished = [
            (_queue_of(a), job)
            for job, a in ((cups_job(i, a, JOB_STATE_UNKNOWN), a) for i, a in done.items())
            if job.completed is not None and job.completed >= finished_since and _queue_of(a) in wanted
        ]
        filled = self._with_creation_times([j for q, j in queued if q in wanted] + [j for _q, j in finished])
        by_id = {j.id: j for j in filled}
        result: dict[str, p.PrinterSnapshot | None] = {}
        # One CUPS-Get-Printers for every queue: pycups' getPrinterAttributes leaks
        # ~0.7 KB a call (measured against a private cupsd), ~11 MiB/h at fast cadence.
        printers = self._call("getPrinters")
        server_time = self._server_time(wanted, printers)
        for name in wanted:
            listed = printers.get(name) if isinstance(printers, dict) else None
            if not isinstance(listed, dict):
                result[name] = None
                continue
            attrs = cups_listed_attributes(listed, server_time)
            jobs = sorted((by_id.get(j.id, j) for q, j in queued if q == name), key=lambda j: j.id)
            recent = sorted(
                (by_id.get(j.id, j) for q, j in finished if q == name),
                key=lambda j: (j.completed or 0, j.id),
            )
            result[name] = cups_snapshot(name, attrs, jobs, recent)
        return result

    def _server_time(self, wanted: list[str], printers: Any) -> float | None:
        """The server's clock now, from its offset to ours (asked every ten minutes).

        Job ages are measured on the server's clock so that a remote CUPS whose
        clock is off does not make a fresh job look hours old.
        """
        now = time.time()
        if time.monotonic() - self._skew_checked_at >= SERVER_CLOCK_RECHECK_S:
            name = next((n for n in wanted if isinstance(printers, dict) and n in printers), None)
            if name is not None:
                self._skew_checked_at = time.monotonic()
                try:
                    attrs = self._call("getPrinterAttributes", name, requested_attributes=["printer-up-time"])
                except PrinterMissing:
                    attrs = {}
                up = ipp_int(attrs, "printer-up-time")
                self._skew = float(up) - now if up is not None and up > 1_000_000_000 else None
        return None if self._skew is None else now + self._skew

    def submit_test_page(self, name: str) -> int:
        fd, path = tempfile.mkstemp(prefix="deskwatch-test-page-", suffix=".pdf")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(build_test_page_pdf(name))
            with self._global_server():
                job_id = self._call("printFile", name, path, "Deskwatch test page", {})
        finally:
            os.unlink(path)
        return int(job_id)

    def job(self, name: str, job_id: int) -> p.Job | None:
        try:
            attrs = self._call("getJobAttributes", job_id, requested_attributes=_JOB_ATTRIBUTES)
        except PrinterMissing:
            return None
        return cups_job(job_id, attrs)

    def close(self) -> None:
        self._conn = None
