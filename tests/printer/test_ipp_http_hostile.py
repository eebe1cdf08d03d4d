"""Deskwatch's IPP client against servers that misbehave: every answer a clear, bounded error.

A scripted TCP server (a thread on a loopback port) answers each request the
way a broken, hostile or hung print server would: garbage, a truncated or
oversized answer, a trickle, silence, a reply to another request, 401.  The
CUPS transport then raises one of the print server errors within its
deadline, counts the server's faults, and the printer monitor shows the
printer as unknown with the reason -- never an exception, never a hang.
Recorded cupsd answers replayed by the same server give the normal readings.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.kernel.model import Level
from sensors import ipp_http
from sensors import printing as p
from sensors.cups_printer import CupsServer
from sensors.print_server import PrintServerFault, PrintServerRefused, PrintServerUnreachable
from tests.printer.conftest import make_monitor
from tests.printer.test_ipp import ANSWERS

#: What the server does with one request: gets the request's body, sends bytes on the socket.
Script = Callable[[socket.socket, bytes], None]


def http(body: bytes, status: str = "200 OK", headers: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/ipp\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


def answer_to(request: bytes, recorded: bytes) -> bytes:
    """A recorded answer with the request's id, as the server would have numbered it."""
    return recorded[:4] + request[4:8] + recorded[8:]


def operation(request: bytes) -> int:
    return int(struct.unpack(">H", request[2:4])[0])


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return body


class ScriptedServer:
    """A loopback server that runs ``script`` for every request on every connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests = 0
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                while (body := _read_request(conn)) is not None:
                    self.requests += 1
                    self.script(conn, body)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def replay(conn: socket.socket, request: bytes) -> None:
    """A cupsd that answers from the recordings."""
    name = {
        0x4002: "cups-get-printers",
        0x000A: "get-jobs-completed" if b"completed" in request and b"not-completed" not in request
        else "get-jobs-not-completed",
        0x0009: "get-job-attributes",
        0x4001: "cups-get-default",
    }[operation(request)]  # fmt: skip
    conn.sendall(http(answer_to(request, ANSWERS[name])))


def test_recorded_answers_replayed_give_the_readings(serve: Callable[[Script], ScriptedServer]) -> None:
    server = serve(replay)
    cups = CupsServer(server.address)
    snaps = cups.snapshots(["jam1", "closed2", "slow3", "gone"], 0)
    jam, closed, slow = snaps["jam1"], snaps["closed2"], snaps["slow3"]
    assert jam is not None and jam.state == p.STATE_STOPPED and "media-jam-error" in jam.reasons
    assert [j.id for j in jam.jobs] == [1] and jam.jobs[0].state == p.JOB_PENDING
    assert closed is not None and closed.accepting is False
    assert slow is not None and [j.id for j in slow.jobs] == [4, 5]
    assert {j.id: j.state for j in slow.finished} == {2: p.JOB_ABORTED, 3: p.JOB_COMPLETED}
    assert snaps["gone"] is None and cups.default_printer() == "closed2"
    # One kept-alive connection: two Get-Jobs, Get-Job-Attributes for job 3's missing time,
    # CUPS-Get-Printers, CUPS-Get-Default.
    assert server.requests == 5 and server.connections == 1 and cups.bad_answers == 0


def _garbage(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"\x16\x03\x01 garbage \x00\xff" * 10)
    conn.close()


def _truncated(conn: socket.socket, request: bytes) -> None:
    whole = answer_to(request, ANSWERS["cups-get-printers"])
    conn.sendall(http(whole[:200]))


def _huge_length(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n" + b"\0" * 1000)


def _endless_chunks(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"ffff\r\n" + b"\1" * 0xFFFF + b"\r\n"
    for _ in range(ipp_http.MAX_BODY // 0xFFFF + 2):
        conn.sendall(chunk)


def _bad_chunk(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")


def _header_flood(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 20_000)


def _other_request(conn: socket.socket, request: bytes) -> None:
    wrong = answer_to(request, ANSWERS["cups-get-printers"])
    conn.sendall(http(wrong[:4] + struct.pack(">I", 4242) + wrong[8:]))


def _server_error(conn: socket.socket, request: bytes) -> None:
    conn.sendall(http(b"<html>oops</html>", "500 Internal Server Error"))


def _not_http(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")


@pytest.mark.parametrize(
    ("script", "why"),
    [
        (_garbage, "cut short in the HTTP header"),
        (_truncated, "truncated"),
        (_huge_length, "more than"),
        (_endless_chunks, "longer than"),
        (_bad_chunk, "bad chunk size"),
        (_header_flood, "HTTP header longer"),
        (_other_request, "answer to request 4242"),
        (_server_error, "HTTP 500"),
        (_not_http, "not an HTTP answer"),
    ],
)
def test_a_bad_answer_is_the_servers_fault_counted_and_shown(
    tmp_path: Path, serve: Callable[[Script], ScriptedServer], script: Script, why: str
) -> None:
    server = serve(script)
    cups = CupsServer(server.address)
    with pytest.raises(PrintServerFault, match=why):
        cups.snapshots(["front"], 0)
    assert cups.bad_answers == 1
    monitor = make_monitor(tmp_path, CupsServer(server.address), printers=["front"])
    (status,) = monitor.poll()
    assert status.level is Level.UNKNOWN and status.instance == "front"
    assert status.message is not None and "sent an answer that cannot be read" in status.message.en
    assert "应答无法解析" in status.message.zh


def test_malformed_ipp_answers_are_counted(serve: Callable[[Script], ScriptedServer]) -> None:
    server = serve(_truncated)
    cups = CupsServer(server.address)
    for n in (1, 2):
        with pytest.raises(PrintServerFault):
            cups.printer_names()
        assert cups.bad_answers == n


def _silent(conn: socket.socket, request: bytes) -> None:
    time.sleep(5)


def _trickle(conn: socket.socket, request: bytes) -> None:
    for byte in http(answer_to(request, ANSWERS["cups-get-printers"])):
        conn.sendall(bytes([byte]))
        time.sleep(0.05)


def _hang_up(conn: socket.socket, request: bytes) -> None:
    conn.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize(
    ("script", "why"),
    [
        (_silent, "no answer within 1 s"),
        (_trickle, "no answer within 1 s"),
        (_hang_up, "closed the connection without answering"),
    ],
)
def test_silence_trickle_or_hang_up_is_unreachable_within_the_deadline(
    serve: Callable[[Script], ScriptedServer], script: Script, why: str
) -> None:
    server = serve(script)
    cups = CupsServer(server.address, connect_timeout=1.0, io_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(PrintServerUnreachable, match=why):
        cups.printer_names()
    assert time.monotonic() - started < 2.5


def _auth(conn: socket.socket, request: bytes) -> None:
    conn.sendall(http(b"", "401 Unauthorized", 'WWW-Authenticate: Basic realm="CUPS"\r\n'))


def test_authentication_required_is_refused_not_ok(
    tmp_path: Path, serve: Callable[[Script], ScriptedServer]
) -> None:
    server = serve(_auth)
    with pytest.raises(PrintServerRefused, match="authentication required"):
        CupsServer(server.address).printer_names()
    monitor = make_monitor(tmp_path, CupsServer(server.address), printers=["front"])
    (status,) = monitor.poll()
    assert status.level is Level.UNKNOWN and status.message is not None
    assert "refused" in status.message.en and "authentication required" in status.message.en


def test_a_stale_kept_alive_connection_is_reopened_once(serve: Callable[[Script], ScriptedServer]) -> None:
    """cupsd closes an idle kept-alive connection (KeepAliveTimeout 30 s): the next poll reconnects."""

    def once_then_close(conn: socket.socket, request: bytes) -> None:
        replay(conn, request)
        conn.shutdown(socket.SHUT_RDWR)
        # And read nothing more on it (Linux still delivers data after SHUT_RD).
        raise ConnectionAbortedError

    server = serve(once_then_close)
    cups = CupsServer(server.address)
    assert cups.default_printer() == "closed2"
    assert cups.default_printer() == "closed2"  # the old socket was closed: a new one, no error
    assert server.requests == 2 and server.connections == 2
