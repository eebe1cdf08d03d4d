"""IPP over HTTP/1.1 (RFC 8010 §4) to a print server: a local socket path or host:port.

A small client of Deskwatch's own on a plain socket: one kept-alive
connection, ``POST`` of ``application/ipp``, the answer read with a deadline
and bounded in size.  TLS is used only when asked for or when the server
answers *426 Upgrade Required* (cupsd with ``Encryption Required``); only
then is :mod:`ssl` imported, which maps OpenSSL's libcrypto (about 4 MiB).

What the server sends is hostile input: a status line, headers or a chunked
body that is malformed, cut short or oversized is :class:`PrintServerFault`;
no connection, silence beyond the deadline, a hang-up before any answer and a
reset connection are :class:`PrintServerUnreachable`; 401/403 are
:class:`PrintServerRefused`.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from sensors.hosts import resolver_host
from sensors.print_server import PrintServerFault, PrintServerRefused, PrintServerUnreachable
from sensors.untrusted import decode_text

#: Largest IPP answer read (cupsd's 500 kept jobs with our attributes are about 150 KB).
MAX_BODY = 8 * 1024 * 1024
#: Status line and headers together.
MAX_HEAD = 32 * 1024
MAX_HEADERS = 100
#: Interim (1xx) answers skipped before the real one.
MAX_INTERIM = 4
_CHUNK = 65536
_HEX = b"0123456789abcdefABCDEF"


class IppHttpLink:
    """One HTTP connection to an IPP server, opened on first use and reopened when lost.

    ``host`` starting with ``/`` is a local (AF_UNIX) socket.  ``timeout``
    bounds the connect; ``io_timeout`` bounds one whole request and answer, so
    a server that trickles bytes cannot hold the poll thread longer.
    """

    def __init__(
        self, host: str, port: int, timeout: float = 3.0, io_timeout: float = 10.0, tls: bool = False
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.io_timeout = io_timeout
        self.tls = tls
        self._sock: Any = None
        self._buffer = bytearray()
        #: Whether the open connection already carried an answer (a kept-alive one may be stale).
        self._reused = False
        #: Whether the answer being read has sent any byte yet (a stale connection has not).
        self._answered = False
        #: Whether the server asked for TLS (426) and got it.
        self.upgraded = False

    @property
    def where(self) -> str:
        if self.host.startswith("/"):
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __del__(self) -> None:
        # A dropped link closes its kept-alive socket, as a dropped libcups connection did.
        self.close()

    def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None
        self._buffer = bytearray()
        self._reused = False

    # -- connecting ---------------------------------------------------------------
    def _connect(self) -> None:
        try:
            if self.host.startswith("/"):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(self.timeout)
                    sock.connect(self.host)
                except OSError:
                    sock.close()
                    raise
            else:
                address = (resolver_host(self.host), self.port)
                sock = socket.create_connection(address, timeout=self.timeout)  # type: ignore[arg-type]
        except OSError as exc:
            raise PrintServerUnreachable(str(exc.strerror or exc)) from exc
        if self.tls:
            sock = self._wrap_tls(sock)
        self._sock = sock
        self._buffer = bytearray()
        self._reused = False

    def _wrap_tls(self, sock: socket.socket) -> Any:
        # Imported here only: ssl maps libcrypto and libssl, which a plain-HTTP seat never needs.
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        # As libcups by default (ValidateCerts No): cupsd's certificate is self-signed.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        name = None if self.host.startswith("/") or _is_address(self.host) else self.host
        try:
            return context.wrap_socket(sock, server_hostname=name)
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise PrintServerUnreachable(f"TLS: {exc}") from exc

    # -- one exchange ----------------------------------------------------------------
    def post(self, resource: str, body: bytes) -> bytes:
        """POST an IPP request to ``resource``; the answer's body (an IPP message)."""
        for attempt in range(3):
            if self._sock is None:
                self._connect()
            reused = self._reused
            try:
                return self._exchange(resource, body)
            except _Stale:
                # A kept-alive connection the server closed while idle: once more, fresh.
                self.close()
                if not reused or attempt:
                    raise PrintServerUnreachable("the print server closed the connection") from None
            except _UpgradeRequired:
                self.close()
                if self.tls:
                    raise PrintServerFault("426 Upgrade Required on a TLS connection") from None
                self.tls = self.upgraded = True
            except BaseException:
                self.close()
                raise
        raise PrintServerFault("the print server kept asking for another connection")

    def _exchange(self, resource: str, body: bytes) -> bytes:
        deadline = time.monotonic() + self.io_timeout
        self._buffer = bytearray()  # whatever followed the last answer is not part of this one
        host = "localhost" if self.host.startswith("/") else self.where
        head = (
            f"POST {resource} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/ipp\r\n"
            f"Content-Length: {len(body)}\r\nUser-Agent: Deskwatch\r\n\r\n"
        ).encode("ascii")
        try:
            self._sock.settimeout(self._left(deadline))
            self._sock.sendall(head + body)
        except TimeoutError as exc:
            raise PrintServerUnreachable(f"no answer within {self.io_timeout:g} s") from exc
        except OSError as exc:
            raise _Stale from exc
        for _ in range(MAX_INTERIM + 1):
            status, headers = self._read_head(deadline)
            if status >= 200:
                break
        else:
            raise PrintServerFault("too many interim HTTP answers")
        if status == 426:
            raise _UpgradeRequired
        answer = self._read_body(headers, deadline)
        if headers.get("connection", "").lower() == "close" or headers[":version"] == "HTTP/1.0":
            self.close()
        else:
            self._reused = True
        if status == 200:
            return answer
        if status in (401, 403):
            why = "authentication required" if status == 401 else "forbidden"
            raise PrintServerRefused(f"HTTP {status}: {why}")
        raise PrintServerFault(f"HTTP {status} from the print server")

    @staticmethod
    def _left(deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def _fill(self, deadline: float, what: str, eof_ends: bool = False) -> bool:
        """Read more bytes into the buffer within the deadline; ``False`` at an allowed end."""
        try:
            self._sock.settimeout(self._left(deadline))
            chunk = self._sock.recv(_CHUNK)
        except TimeoutError as exc:
            raise PrintServerUnreachable(f"no answer within {self.io_timeout:g} s") from exc
        except OSError as exc:
            if not self._reused or self._answered:
                raise PrintServerUnreachable(f"connection lost reading {what}: {exc}") from exc
            raise _Stale from exc
        if not chunk:
            if eof_ends:
                return False
            if not self._answered:
                if self._reused:
                    raise _Stale
                raise PrintServerUnreachable("the print server closed the connection without answering")
            raise PrintServerFault(f"answer cut short in {what}")
        self._answered = True
        self._buffer += chunk  # a bytearray: growing it does not copy what came before
        return True

    def _read_head(self, deadline: float) -> tuple[int, dict[str, str]]:
        self._answered = bool(self._buffer)
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > MAX_HEAD:
                raise PrintServerFault(f"HTTP header longer than {MAX_HEAD} bytes")
            self._fill(deadline, "the HTTP header")
        head, rest = self._buffer.split(b"\r\n\r\n", 1)
        self._buffer, raw = rest, bytes(head)
        if len(raw) > MAX_HEAD:
            raise PrintServerFault(f"HTTP header longer than {MAX_HEAD} bytes")
        lines = raw.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise PrintServerFault(f"not an HTTP answer: {decode_text(lines[0], 60)!r}")
        status = int(parts[1])
        if len(lines) - 1 > MAX_HEADERS:
            raise PrintServerFault(f"more than {MAX_HEADERS} HTTP headers")
        headers: dict[str, str] = {":version": parts[0].decode("ascii", "replace")}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name.strip():
                raise PrintServerFault(f"bad HTTP header line: {decode_text(line, 60)!r}")
            key = name.strip().decode("latin-1").lower()
            headers[key] = value.strip().decode("latin-1")
        return status, headers

    def _read_exactly(self, count: int, deadline: float, what: str) -> bytes:
        while len(self._buffer) < count:
            self._fill(deadline, what)
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def _read_line(self, deadline: float, what: str) -> bytes:
        while b"\r\n" not in self._buffer:
            if len(self._buffer) > 1024:
                raise PrintServerFault(f"{what} line too long")
            self._fill(deadline, what)
        line, rest = self._buffer.split(b"\r\n", 1)
        self._buffer = rest
        return bytes(line)

    def _read_body(self, headers: dict[str, str], deadline: float) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked(deadline)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit() or len(length) > 12:
                raise PrintServerFault(f"bad Content-Length {length[:20]!r}")
            if int(length) > MAX_BODY:
                raise PrintServerFault(f"answer of {int(length)} bytes, more than {MAX_BODY}")
            return self._read_exactly(int(length), deadline, "the answer")
        # Neither: the body ends when the server closes the connection.
        headers["connection"] = "close"
        while self._fill(deadline, "the answer", eof_ends=True):
            if len(self._buffer) > MAX_BODY:
                raise PrintServerFault(f"answer longer than {MAX_BODY} bytes")
        data = bytes(self._buffer)
        self._buffer = bytearray()
        return data

    def _read_chunked(self, deadline: float) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_text = self._read_line(deadline, "a chunk size").split(b";", 1)[0].strip()
            if not size_text or len(size_text) > 8 or size_text.strip(_HEX):
                raise PrintServerFault(f"bad chunk size {decode_text(size_text, 20)!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise PrintServerFault(f"answer longer than {MAX_BODY} bytes")
            parts.append(self._read_exactly(size, deadline, "a chunk"))
            if self._read_exactly(2, deadline, "a chunk end") != b"\r\n":
                raise PrintServerFault("chunk not followed by CRLF")
        for _ in range(MAX_HEADERS + 1):  # trailer fields, up to the empty line
            if not self._read_line(deadline, "the trailer"):
                return b"".join(parts)
        raise PrintServerFault("too many trailer lines")


def _is_address(host: str) -> bool:
    """Whether ``host`` is a literal IP address (TLS sends no server name for one)."""
    if ":" in host:
        return True
    return all(part.isdigit() for part in host.split("."))


class _Stale(Exception):
    """The kept-alive connection was closed by the server before it answered."""


class _UpgradeRequired(Exception):
    """The server wants TLS on this connection (HTTP 426)."""
