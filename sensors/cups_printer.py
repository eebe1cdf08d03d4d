"""CUPS print servers (local or remote) over IPP, and the PDF test page they print.

CUPS-Get-Printers/Get-Jobs attributes become :class:`~sensors.printing.PrinterSnapshot`
values (:func:`cups_snapshot`, :func:`cups_job` are pure and fuzzed);
:class:`CupsServer` is the connection, through Deskwatch's own IPP client
(:mod:`sensors.ipp`, :mod:`sensors.ipp_http`) rather than libcups: pycups with
libcups and its gnutls and Kerberos libraries cost the tray app about 5 MiB.
All calls block (poll thread).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sensors import ipp
from sensors import printing as p
from sensors.ipp_http import IppHttpLink
from sensors.print_server import (
    PrinterMissing,
    PrintServer,
    PrintServerFault,
    PrintServerRefused,
    PrintServerUnreachable,
)
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


#: Where libcups looks when no server is configured (Debian's CUPS_DEFAULT_DOMAINSOCKET).
DEFAULT_SOCKET = "/run/cups/cups.sock"
IPP_PORT = 631
#: client.conf files libcups reads, the user's last (it overrides the system's).
CLIENT_CONF = ("/etc/cups/client.conf", "~/.cups/client.conf")
#: Printer attributes read with CUPS-Get-Printers (printer-up-time is cupsd's clock, in epoch seconds).
_PRINTER_ATTRIBUTES = [
    "printer-name",
    "printer-type",
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "device-uri",
    "printer-up-time",
]


def _client_conf(paths: Iterable[str] = CLIENT_CONF) -> dict[str, str]:
    """``ServerName`` and ``Encryption`` from client.conf files (later files win; unreadable: none)."""
    found: dict[str, str] = {}
    for path in paths:
        try:
            with open(os.path.expanduser(path), encoding="utf-8", errors="replace") as handle:
                lines = handle.read(64 * 1024).splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.strip().partition(" ")
            if key.lower() in ("servername", "encryption") and value.strip():
                found[key.lower()] = value.strip()
    return found


def system_server(
    environ: Mapping[str, str] | None = None, conf: Mapping[str, str] | None = None
) -> tuple[str, int, bool]:
    """The server libcups would use when none is configured: host or socket path, port, TLS.

    As libcups: ``CUPS_SERVER``, else client.conf ``ServerName``, else the
    local socket when it exists, else ``localhost``; the port from the name,
    else ``IPP_PORT``, else 631; TLS from the start when ``CUPS_ENCRYPTION``
    or client.conf ``Encryption`` is ``Required`` or ``Always``.
    """
    env = os.environ if environ is None else environ
    settings = _client_conf() if conf is None else conf
    name = env.get("CUPS_SERVER", "").strip() or settings.get("servername", "")
    name = name.split("/version=", 1)[0] if not name.startswith("/") else name
    if not name:
        name = DEFAULT_SOCKET if os.path.exists(DEFAULT_SOCKET) else "localhost"
    try:
        host, port = parse_server(name)
    except ValueError:
        host, port = name, None
    if port is None:
        default_port = env.get("IPP_PORT", "")
        port = int(default_port) if default_port.isdigit() else IPP_PORT
    encryption = env.get("CUPS_ENCRYPTION", "") or settings.get("encryption", "")
    return host, port, encryption.lower() in ("required", "always")


def _quoted(name: str) -> str:
    """A queue name as a URI path segment (RFC 3986 unreserved characters kept)."""
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in name.encode("utf-8"))


class IppStatusError(Exception):
    """The print server refused a request with an IPP status (not-accepting-jobs and the like)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CupsServer(PrintServer):
    """A CUPS server (local socket or host:port) over IPP/1.1."""

    def __init__(self, server: str = "", connect_timeout: float = 3.0, io_timeout: float = 10.0) -> None:
        host, port = parse_server(server)
        tls = False
        if not host:
            host, port, tls = system_server()
        self._link = IppHttpLink(host, IPP_PORT if port is None else port, connect_timeout, io_timeout, tls)
        self._uri_host = "localhost" if host.startswith("/") else self._link.where
        self._user = _user_name()
        self._request_ids = itertools.count(1)
        #: Answers from the server that could not be read (malformed HTTP or IPP: its fault).
        self.bad_answers = 0
        #: (job id, completion time) → time-at-creation learnt from Get-Job-Attributes (None: not known).
        self._created: dict[tuple[int, float | None], float | None] = {}
        self._skew: float | None = None  # server clock minus ours, seconds
        self._skew_checked_at = -float("inf")
        where = host if host.startswith("/") or (port is None and server) else self._link.where
        self.description = f"CUPS {where}"

    # -- one request ----------------------------------------------------------------
    def _request(
        self,
        operation: int,
        resource: str,
        attributes: Iterable[ipp.Attribute] = (),
        data: bytes = b"",
        missing: str = "",
    ) -> ipp.IppResponse:
        """Send one IPP request; the parsed, successful answer.

        A malformed answer is :class:`PrintServerFault` (counted in
        :attr:`bad_answers`); not-found is :class:`PrinterMissing` naming
        ``missing``; refusals are :class:`PrintServerRefused`.
        """
        request_id = next(self._request_ids) & 0x7FFFFFFF or 1
        user = [(ipp.TAG_NAME, "requesting-user-name", [self._user])]
        body = ipp.encode_request(operation, request_id, [*attributes, *user], data)
        try:
            answer = ipp.decode_response(self._link.post(resource, body))
            if answer.request_id != request_id:
                raise ipp.IppDecodeError(f"answer to request {answer.request_id}, not {request_id}")
        except (ipp.IppDecodeError, PrintServerFault) as exc:
            self.bad_answers += 1
            self._link.close()
            log.warning("bad answer from %s (%d so far): %s", self.description, self.bad_answers, exc)
            if isinstance(exc, PrintServerFault):
                raise
            raise PrintServerFault(f"malformed IPP answer: {exc}") from exc
        if answer.ok:
            return answer
        said = clean_text(answer.operation.get("status-message", "") or "")
        why = answer.status_name + (f": {said}" if said else "")
        if answer.status == ipp.STATUS_NOT_FOUND:
            raise PrinterMissing(missing or why)
        if answer.status in (ipp.STATUS_FORBIDDEN, ipp.STATUS_NOT_AUTHENTICATED, ipp.STATUS_NOT_AUTHORIZED):
            raise PrintServerRefused(why)
        if answer.status == 0x0502:  # server-error-service-unavailable: cupsd is going away
            self._link.close()
            raise PrintServerUnreachable(why)
        raise IppStatusError(answer.status, why)

    def _printer_uri(self, name: str = "") -> list[ipp.Attribute]:
        path = f"/printers/{_quoted(name)}" if name else "/"
        return [(ipp.TAG_URI, "printer-uri", [f"ipp://{self._uri_host}{path}"])]

    @staticmethod
    def _wanted(names: list[str]) -> ipp.Attribute:
        return (ipp.TAG_KEYWORD, "requested-attributes", names)

    # -- the print server's lists -------------------------------------------------------
    def _printers(self) -> dict[str, dict[str, Any]]:
        """CUPS-Get-Printers: every queue's attributes by name (entries without a name dropped)."""
        try:
            answer = self._request(ipp.OP_CUPS_GET_PRINTERS, "/", [self._wanted(_PRINTER_ATTRIBUTES)])
        except PrinterMissing:  # cupsd: "No destinations added."
            return {}
        printers: dict[str, dict[str, Any]] = {}
        for attrs in answer.group(ipp.TAG_PRINTER):
            name = attrs.get("printer-name")
            if isinstance(name, str) and name:
                printers.setdefault(name, attrs)
        return printers

    def _jobs(self, which: str) -> dict[int, dict[str, Any]]:
        """Get-Jobs on every queue: job attributes by job id (entries without an id dropped)."""
        attributes = [
            *self._printer_uri(),
            (ipp.TAG_KEYWORD, "which-jobs", [which]),
            self._wanted(_JOB_ATTRIBUTES),
        ]
        answer = self._request(ipp.OP_GET_JOBS, "/", attributes)
        jobs: dict[int, dict[str, Any]] = {}
        for attrs in answer.group(ipp.TAG_JOB):
            job_id = ipp_int(attrs, "job-id")
            if job_id is not None and job_id > 0:
                jobs.setdefault(job_id, attrs)
        return jobs

    def _job_attributes(self, job_id: int, wanted: list[str]) -> dict[str, Any]:
        uri = f"ipp://{self._uri_host}/jobs/{job_id}"
        attributes = [(ipp.TAG_URI, "job-uri", [uri]), self._wanted(wanted)]
        answer = self._request(ipp.OP_GET_JOB_ATTRIBUTES, "/jobs/", attributes, missing=f"job {job_id}")
        found = answer.group(ipp.TAG_JOB)
        return found[0] if found else {}

    def printer_names(self) -> list[str]:
        return sorted(self._printers())

    def default_printer(self) -> str | None:
        try:
            answer = self._request(ipp.OP_CUPS_GET_DEFAULT, "/", [self._wanted(["printer-name"])])
        except PrinterMissing:  # no default set
            return None
        found = answer.group(ipp.TAG_PRINTER)
        name = found[0].get("printer-name") if found else None
        return clean_text(name) if isinstance(name, str) and name else None

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
            attrs = self._job_attributes(job_id, ["time-at-creation"])
        except PrinterMissing:  # the job is gone meanwhile
            return None
        except IppStatusError as exc:
            log.info("Get-Job-Attributes for job %d failed: %s", job_id, exc)
            return None
        return ipp_time(attrs, "time-at-creation")

    def snapshots(self, names: Iterable[str], finished_since: float) -> dict[str, p.PrinterSnapshot | None]:
        wanted = list(names)
        active = self._jobs("not-completed")
        done = self._jobs("completed")
        queued = [(_queue_of(a), cups_job(i, a)) for i, a in active.items()]
        finished = [
            (_queue_of(a), job)
            for job, a in ((cups_job(i, a, JOB_STATE_UNKNOWN), a) for i, a in done.items())
            if job.completed is not None and job.completed >= finished_since and _queue_of(a) in wanted
        ]
        filled = self._with_creation_times([j for q, j in queued if q in wanted] + [j for _q, j in finished])
        by_id = {j.id: j for j in filled}
        result: dict[str, p.PrinterSnapshot | None] = {}
        # One CUPS-Get-Printers for every queue, which also carries cupsd's clock.
        printers = self._printers()
        server_time = self._server_time(wanted, printers)
        for name in wanted:
            listed = printers.get(name)
            if listed is None:
                result[name] = None
                continue
            listed = {k: v for k, v in listed.items() if k != "printer-up-time"}
            attrs = cups_listed_attributes(listed, server_time)
            jobs = sorted((by_id.get(j.id, j) for q, j in queued if q == name), key=lambda j: j.id)
            recent = sorted(
                (by_id.get(j.id, j) for q, j in finished if q == name),
                key=lambda j: (j.completed or 0, j.id),
            )
            result[name] = cups_snapshot(name, attrs, jobs, recent)
        return result

    def _server_time(self, wanted: list[str], printers: Mapping[str, Mapping[str, Any]]) -> float | None:
        """The server's clock now, from its offset to ours (re-read every ten minutes).

        Job ages are measured on the server's clock so that a remote CUPS whose
        clock is off does not make a fresh job look hours old.  cupsd reports
        its clock as ``printer-up-time`` (epoch seconds); anything before 2001
        is no clock.
        """
        now = time.time()
        if time.monotonic() - self._skew_checked_at >= SERVER_CLOCK_RECHECK_S:
            name = next((n for n in wanted if n in printers), None)
            if name is not None:
                self._skew_checked_at = time.monotonic()
                up = ipp_int(printers[name], "printer-up-time")
                self._skew = float(up) - now if up is not None and up > 1_000_000_000 else None
        return None if self._skew is None else now + self._skew

    def submit_test_page(self, name: str) -> int:
        attributes = [
            *self._printer_uri(name),
            (ipp.TAG_NAME, "job-name", ["Deskwatch test page"]),
            (ipp.TAG_MIME_TYPE, "document-format", ["application/pdf"]),
        ]
        page = build_test_page_pdf(name)
        answer = self._request(
            ipp.OP_PRINT_JOB, f"/printers/{_quoted(name)}", attributes, page, missing=f"printer {name}"
        )
        found = answer.group(ipp.TAG_JOB)
        job_id = ipp_int(found[0], "job-id") if found else None
        if job_id is None or job_id <= 0:
            self.bad_answers += 1
            raise PrintServerFault("Print-Job answer without a job-id")
        return job_id

    def job(self, name: str, job_id: int) -> p.Job | None:
        try:
            attrs = self._job_attributes(job_id, _JOB_ATTRIBUTES)
        except PrinterMissing:
            return None
        return cups_job(job_id, attrs)

    def close(self) -> None:
        self._link.close()


def _user_name() -> str:
    """The requesting user, as libcups names it (the login name; cupsd matches jobs' owners on it)."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        return os.environ.get("USER") or os.environ.get("USERNAME") or "anonymous"
