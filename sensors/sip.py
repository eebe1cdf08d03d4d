"""SIP OPTIONS "pings" (RFC 3261 §11) and the E-model call-quality estimate (ITU-T G.107).

Message building and parsing are pure functions (tested, fuzzed); only
:func:`ping` and :func:`tcp_connect` touch the network.  An OPTIONS request
asks "are you there and what can you do": any final reply means the PBX or
registrar is up (Nagios ``check_sip``), an error class reply means it is up
but unhappy, and no reply within ~2 s means the line is down.
"""

from __future__ import annotations

import itertools
import math
import os
import socket
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from sensors.hosts import resolver_host
from sensors.untrusted import clean_text, decode_text

SIP_VERSION = "SIP/2.0"
#: RFC 3261 §8.1.1.7: every branch starts with this "magic cookie".
BRANCH_COOKIE = "z9hG4bK"
#: Compact header names (RFC 3261 §7.3.3) to their full form, lower-cased.
COMPACT_HEADERS = {
    "i": "call-id",
    "v": "via",
    "f": "from",
    "t": "to",
    "l": "content-length",
    "m": "contact",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
}
MAX_MESSAGE_BYTES = 65535


class SipError(ValueError):
    """A message that is not valid SIP (or not the reply we asked for)."""


def _host_for_uri(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class OptionsRequest:
    """The identifiers a reply must echo, and the bytes to send."""

    call_id: str
    cseq: int
    branch: str
    data: bytes


def build_options(
    host: str,
    port: int,
    transport: str,
    local_host: str,
    local_port: int,
    *,
    call_id: str | None = None,
    cseq: int = 1,
    branch: str | None = None,
    from_tag: str | None = None,
    user_agent: str = "Deskwatch",
) -> OptionsRequest:
    """An OPTIONS request for ``sip:host:port`` over ``transport`` (``udp``/``tcp``)."""
    transport = transport.lower()
    if transport not in ("udp", "tcp"):
        raise ValueError(f"unsupported SIP transport {transport!r}")
    # os.urandom is what secrets.token_hex reads; ``secrets`` itself imports hmac and
    # with it OpenSSL's libcrypto, 4 MiB resident in the tray app for three tokens.
    call_id = call_id or f"{os.urandom(12).hex()}@deskwatch"
    branch = branch or BRANCH_COOKIE + os.urandom(8).hex()
    from_tag = from_tag or os.urandom(6).hex()
    target = f"sip:{_host_for_uri(host)}:{port}"
    uri = target + (";transport=tcp" if transport == "tcp" else "")
    local = f"{_host_for_uri(local_host)}:{local_port}"
    lines = [
        f"OPTIONS {uri} {SIP_VERSION}",
        f"Via: {SIP_VERSION}/{transport.upper()} {local};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:deskwatch@{_host_for_uri(local_host)}>;tag={from_tag}",
        f"To: <{target}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} OPTIONS",
        f"Contact: <sip:deskwatch@{local}>",
        "Accept: application/sdp",
        f"User-Agent: {user_agent}",
        "Content-Length: 0",
        "",
        "",
    ]
    return OptionsRequest(call_id, cseq, branch, "\r\n".join(lines).encode("ascii"))


@dataclass(frozen=True)
class SipResponse:
    """A parsed SIP response."""

    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str:
        """First value of a header (case-insensitive, compact forms understood), or ""."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    @property
    def cseq(self) -> tuple[int, str]:
        """CSeq number and method."""
        number, _, method = self.header("cseq").strip().partition(" ")
        value = ascii_int(number)
        return (-1 if value is None else value), method.strip().upper()

    @property
    def branch(self) -> str:
        """The branch parameter of the top Via."""
        for param in self.header("via").split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "branch":
                return value.strip()
        return ""

    @property
    def final(self) -> bool:
        """Not a provisional (1xx) reply."""
        return self.status >= 200


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, rest = data.partition(sep)
        if found:
            return head, rest
    raise SipError("incomplete message: no blank line after the headers")


#: Digits of a protocol number: ASCII only (``str.isdigit`` also takes "²" and "٣").
_ASCII_DIGITS = frozenset(b"0123456789")


def ascii_int(text: str | bytes, max_digits: int = 10) -> int | None:
    """A non-negative decimal of ASCII digits only, or ``None`` for anything else.

    ``int()`` would also take "²00"'s cousins "٣", "1_0", " +5 " and 4000-digit
    numbers; a protocol number from a peer is none of those.
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
    raw = raw.strip(b" \t")
    if not raw or len(raw) > max_digits or not set(raw) <= _ASCII_DIGITS:
        return None
    return int(raw)


def _content_length(value: str) -> int:
    length = ascii_int(value)
    if length is None or length > MAX_MESSAGE_BYTES:
        raise SipError(f"bad Content-Length {clean_text(value, 20)!r}")
    return length


def message_length(buffer: bytes) -> int | None:
    """Bytes of the first complete message in a TCP stream buffer, or ``None`` if incomplete.

    RFC 3261 §18.3: over a stream, Content-Length frames the body (missing means 0).
    """
    # Keep-alive CRLFs (RFC 5626) may precede a message.
    stripped = buffer.lstrip(b"\r\n")
    skipped = len(buffer) - len(stripped)
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = stripped.find(sep)
        if end >= 0:
            head_len = end + len(sep)
            break
    else:
        if len(buffer) > MAX_MESSAGE_BYTES:
            raise SipError("header section too long")
        return None
    length = 0
    for line in stripped[:end].decode("utf-8", "replace").splitlines()[1:]:
        name, sep2, value = line.partition(":")
        if sep2 and name.strip().lower() in ("content-length", "l"):
            length = _content_length(value)
    total = skipped + head_len + length
    return total if len(buffer) >= total else None


def _status_line(line: bytes) -> tuple[int, str]:
    """Status code and clean reason phrase of ``SIP/2.0 200 OK`` (ASCII version and code)."""
    version, _, rest = line.partition(b" ")
    # bytes.upper() is ASCII-only: "ſip/2.0" (long s) does not pass as "SIP/2.0".
    if version.upper() != SIP_VERSION.encode():
        raise SipError(f"not a SIP response: {decode_text(line, 60)!r}")
    code_text, _, reason = rest.partition(b" ")
    status = ascii_int(code_text, 3) if len(code_text) == 3 else None
    if status is None:
        raise SipError(f"bad status code {decode_text(code_text, 10)!r}")
    if not 100 <= status <= 699:
        raise SipError(f"status code out of range: {status}")
    return status, decode_text(reason)


def parse_response(data: bytes) -> SipResponse:
    """Parse one SIP response; raises :class:`SipError` for anything else.

    The status line is read as ASCII and the reason phrase is cleaned of
    control characters and cut to :data:`~sensors.untrusted.MAX_TEXT`
    characters here, at the boundary, so no caller sees the peer's raw bytes.
    """
    head, body = _split_head(data.lstrip(b"\r\n"))
    first, _, rest = head.partition(b"\n")
    status, reason = _status_line(first.rstrip(b"\r"))
    lines = rest.decode("utf-8", "replace").replace("\r\n", "\n").split("\n") if rest else []
    headers: dict[str, list[str]] = {}
    last: str | None = None
    for line in lines:
        if line[:1] in (" ", "\t") and last is not None:
            # Header folding (RFC 3261 §7.3.1): continue the previous value.
            headers[last][-1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise SipError(f"malformed header line {clean_text(line, 60)!r}")
        key = name.strip().lower()
        key = COMPACT_HEADERS.get(key, key)
        # Via may carry several comma-separated hops; the first is ours.
        headers.setdefault(key, []).append(value.strip())
        last = key
    declared = headers.get("content-length")
    if declared:
        body = body[: _content_length(declared[0])]
    return SipResponse(status, reason, headers, body)


def matches(response: SipResponse, request: OptionsRequest) -> bool:
    """Whether ``response`` answers ``request`` (Call-ID, CSeq and Via branch)."""
    if response.header("call-id") != request.call_id:
        return False
    if response.cseq != (request.cseq, "OPTIONS"):
        return False
    branch = response.branch
    return not branch or branch == request.branch


def code_matches(status: int, patterns: Iterable[str]) -> bool:
    """``200`` matches ``"200"`` and ``"2xx"``."""
    code = f"{status:03d}"
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if len(pattern) == 3 and all(p in ("x", c) for p, c in zip(pattern, code, strict=True)):
            return True
    return False


# -- network ------------------------------------------------------------------------
@dataclass(frozen=True)
class PingResult:
    """One OPTIONS round trip.

    ``bad_replies`` counts what arrived but was not valid SIP (junk, a
    Unicode digit in the status code, broken framing): counted, never raised.
    """

    transport: str
    status: int | None
    reason: str = ""
    rtt_ms: float | None = None
    error: str = ""
    bad_replies: int = 0

    @property
    def answered(self) -> bool:
        """A final reply arrived."""
        return self.status is not None


class _BadReplies:
    """Counts invalid replies during one ping and remembers the last reason."""

    def __init__(self) -> None:
        self.count = 0
        self.last = ""

    def add(self, exc: Exception) -> None:
        self.count += 1
        self.last = clean_text(exc, 80)


def _family(host: str, port: int, kind: socket.SocketKind) -> tuple[socket.AddressFamily, tuple[str, int]]:
    info = socket.getaddrinfo(resolver_host(host), port, type=kind)[0]
    family, _type, _proto, _canon, address = info
    return family, (str(address[0]), int(address[1]))


def ping(host: str, port: int, transport: str, timeout: float, cseq: int = 1) -> PingResult:
    """Send one OPTIONS and wait up to ``timeout`` s for its final reply.

    Never raises for anything the network or the peer does: every outcome is
    a :class:`PingResult` (a reply, or why there was none).
    """
    transport = transport.lower()
    bad = _BadReplies()
    try:
        if transport == "udp":
            return _ping_udp(host, port, timeout, cseq, bad)
        return _ping_tcp(host, port, timeout, cseq, bad)
    except TimeoutError:
        why = f"no valid reply within {timeout:g} s" if bad.count else f"no reply within {timeout:g} s"
    except ConnectionRefusedError:
        why = "connection refused (nothing listening)"
    except OSError as exc:
        why = clean_text(exc.strerror or exc)
    except (SipError, ValueError, UnicodeError) as exc:
        # ValueError/UnicodeError: a last line of defence; the parsers raise SipError.
        bad.add(exc)
        why = "invalid reply"
    if bad.count:
        why += f" ({bad.count} invalid {'reply' if bad.count == 1 else 'replies'}: {bad.last})"
    return PingResult(transport, None, error=why, bad_replies=bad.count)


def _ping_udp(host: str, port: int, timeout: float, cseq: int, bad: _BadReplies) -> PingResult:
    family, address = _family(host, port, socket.SOCK_DGRAM)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        # Connected UDP: stray datagrams from others are filtered, and an ICMP
        # "port unreachable" surfaces as ConnectionRefusedError.
        sock.connect(address)
        local_host, local_port = sock.getsockname()[:2]
        request = build_options(host, port, "udp", local_host, local_port, cseq=cseq)
        deadline = time.monotonic() + timeout
        sent = time.perf_counter()
        sock.sendall(request.data)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            data = sock.recv(MAX_MESSAGE_BYTES)
            try:
                response = parse_response(data)
            except SipError as exc:
                bad.add(exc)  # junk is counted; the real reply may still follow
                continue
            if matches(response, request) and response.final:
                rtt = (time.perf_counter() - sent) * 1000
                return PingResult(
                    "udp", response.status, response.reason, round(rtt, 2), bad_replies=bad.count
                )


def _ping_tcp(host: str, port: int, timeout: float, cseq: int, bad: _BadReplies) -> PingResult:
    family, address = _family(host, port, socket.SOCK_STREAM)
    deadline = time.monotonic() + timeout
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(address)
        local_host, local_port = sock.getsockname()[:2]
        request = build_options(host, port, "tcp", local_host, local_port, cseq=cseq)
        sent = time.perf_counter()
        sock.sendall(request.data)
        buffer = b""
        while True:
            # Broken framing (a bad Content-Length) raises: the stream cannot be resynchronised.
            length = message_length(buffer)
            if length is not None:
                message, buffer = buffer[:length], buffer[length:]
                try:
                    response = parse_response(message)
                except SipError as exc:
                    bad.add(exc)  # one bad message, framed: skip it and read on
                    continue
                if matches(response, request) and response.final:
                    rtt = (time.perf_counter() - sent) * 1000
                    return PingResult(
                        "tcp", response.status, response.reason, round(rtt, 2), bad_replies=bad.count
                    )
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the server closed the connection without replying")
            buffer += chunk


def tcp_connect(host: str, port: int, timeout: float) -> tuple[float | None, str]:
    """Milliseconds to open a TCP connection, or ``(None, why)``."""
    started = time.perf_counter()
    try:
        with socket.create_connection((resolver_host(host), port), timeout=timeout):  # type: ignore[arg-type]
            return round((time.perf_counter() - started) * 1000, 2), ""
    except TimeoutError:
        return None, f"no answer within {timeout:g} s"
    except OSError as exc:
        return None, clean_text(exc.strerror or exc)


# -- line quality ------------------------------------------------------------------
@dataclass
class LineWindow:
    """Round-trip times of the last ``size`` pings (``None`` = lost)."""

    size: int = 30
    _rtts: deque[float | None] = field(default_factory=deque)

    def add(self, rtt_ms: float | None) -> None:
        """Record one ping."""
        self._rtts.append(rtt_ms)
        while len(self._rtts) > self.size:
            self._rtts.popleft()

    @property
    def count(self) -> int:
        """Pings in the window."""
        return len(self._rtts)

    @property
    def loss_percent(self) -> float:
        """Unanswered pings as a percentage."""
        if not self._rtts:
            return 0.0
        lost = sum(1 for r in self._rtts if r is None)
        return 100.0 * lost / len(self._rtts)

    @property
    def rtt_ms(self) -> float | None:
        """Mean round-trip time of the answered pings."""
        answered = [r for r in self._rtts if r is not None]
        return sum(answered) / len(answered) if answered else None

    @property
    def jitter_ms(self) -> float | None:
        """Mean absolute difference between consecutive answered round trips (RFC 3550's D)."""
        answered = [r for r in self._rtts if r is not None]
        if len(answered) < 2:
            return None
        diffs = [abs(b - a) for a, b in itertools.pairwise(answered)]
        return sum(diffs) / len(diffs)


@dataclass(frozen=True)
class EModel:
    """Simplified ITU-T G.107 E-model for a G.711 call over this path."""

    #: Equipment impairment of the codec (G.711: 0) and its packet-loss robustness.
    #: Bpl 25.1 is G.711 *with* packet-loss concealment (G.113 Appendix I), which every
    #: softphone and PBX in use has; 4.3 (no concealment) rated one lost ping in 30 a
    #: "poor" call — a false critical on a healthy line.
    ie: float = 0.0
    bpl: float = 25.1
    #: Codec and packetisation delay added to the network's one-way delay.
    codec_delay_ms: float = 20.0

    def r_factor(self, rtt_ms: float, jitter_ms: float, loss_percent: float) -> float:
        """R = 93.2 − Id − Ie,eff, with the jitter buffer sized at twice the jitter."""
        if any(math.isnan(v) for v in (rtt_ms, jitter_ms, loss_percent)):
            return 0.0  # max()/min() would read NaN as 0 % loss or as R 100: never "good"
        delay = rtt_ms / 2 + 2 * jitter_ms + self.codec_delay_ms
        id_ = 0.024 * delay + (0.11 * (delay - 177.3) if delay > 177.3 else 0.0)
        ppl = max(0.0, loss_percent)
        ie_eff = self.ie + (95 - self.ie) * ppl / (ppl + self.bpl)
        r = 93.2 - id_ - ie_eff
        return 0.0 if math.isnan(r) else max(0.0, min(100.0, r))  # inf − inf is NaN too


def mos_from_r(r: float) -> float:
    """G.107 Annex B: MOS = 1 + 0.035R + 7·10⁻⁶·R(R−60)(100−R), 1…4.5."""
    if r <= 0 or math.isnan(r):
        return 1.0
    if r >= 100:
        return 4.5
    # The polynomial dips just below 1 for R < 6.5; MOS is defined on 1…4.5.
    return max(1.0, min(4.5, 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)))


__all__ = [
    "EModel",
    "LineWindow",
    "OptionsRequest",
    "PingResult",
    "SipError",
    "SipResponse",
    "ascii_int",
    "build_options",
    "code_matches",
    "matches",
    "message_length",
    "mos_from_r",
    "parse_response",
    "ping",
    "tcp_connect",
]
