"""A hostile SIP peer on loopback: answers OPTIONS with whatever bytes a test scripts.

SIPp sends only well-formed SIP; this thread sends junk, Unicode digits,
control characters or 60 KB reason phrases over real UDP and TCP sockets.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Builds the datagrams/segments to send back for one request (its raw bytes).
Script = Callable[[bytes], list[bytes]]


def echo_reply(request: bytes, status_line: bytes = b"SIP/2.0 200 OK") -> bytes:
    """A reply echoing the request's Via, From, To, Call-ID and CSeq after ``status_line``."""
    keep = [
        line
        for line in request.split(b"\r\n")
        if line.split(b":", 1)[0] in (b"Via", b"From", b"To", b"Call-ID", b"CSeq")
    ]
    return b"\r\n".join([status_line, *keep, b"Content-Length: 0", b"", b""])


def _bind_pair(attempts: int = 50) -> tuple[socket.socket, socket.socket]:
    """A UDP and a listening TCP socket on one free loopback port.

    The port the kernel picks for UDP may be taken for TCP (another test's
    server, a socket in TIME_WAIT): then try another one, closing what was opened.
    """
    for _ in range(attempts):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind(("127.0.0.1", udp.getsockname()[1]))
            tcp.listen(8)
        except OSError:
            tcp.close()
            udp.close()
            continue
        return udp, tcp
    raise RuntimeError("no loopback port free for both UDP and TCP")


class Responder:
    """UDP and TCP listeners on one loopback port, answering with ``script``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests = 0
        self._udp, self._tcp = _bind_pair()
        self.port = int(self._udp.getsockname()[1])
        for sock in (self._udp, self._tcp):
            sock.settimeout(0.1)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            for datagram in self.script(data):
                self._udp.sendto(datagram, peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _peer = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    self.requests += 1
                    conn.sendall(b"".join(self.script(data)))
                    # Keep the connection open briefly, as a PBX does, so the client reads everything.
                    self._stop.wait(0.2)
                except OSError:
                    continue

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self._udp.close()
        self._tcp.close()


@contextmanager
def responder(script: Script) -> Iterator[Responder]:
    """A running :class:`Responder`, stopped at the end of the block."""
    server = Responder(script)
    try:
        yield server
    finally:
        server.close()
