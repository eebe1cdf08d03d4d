"""A scriptable SNMP agent on loopback UDP for the printer tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sensors.snmp_printer import _INTEGER, _OCTETS, _SEQUENCE, _oid, _read, _tlv, printer_oids

#: hrDeviceStatus warning, hrPrinterStatus idle, error bits lowToner + jammed.
JAMMED: list[tuple[int, bytes]] = [(_INTEGER, b"\x03"), (_INTEGER, b"\x03"), (_OCTETS, b"\x24\x00")]
HEALTHY: list[tuple[int, bytes]] = [(_INTEGER, b"\x02"), (_INTEGER, b"\x03"), (_OCTETS, b"\x00\x00")]
NO_SUCH_OBJECT: list[tuple[int, bytes]] = [(0x80, b""), (0x80, b""), (0x80, b"")]


def response(request_id: bytes, values: list[tuple[int, bytes]]) -> bytes:
    """A GetResponse for the three printer OIDs, echoing ``request_id`` (its INTEGER body)."""
    bindings = b"".join(
        _tlv(_SEQUENCE, _oid(oid) + _tlv(tag, body))
        for oid, (tag, body) in zip(printer_oids(), values, strict=True)
    )
    pdu = _tlv(0xA2, _tlv(_INTEGER, request_id) + _tlv(_INTEGER, b"\x00") * 2 + _tlv(_SEQUENCE, bindings))
    return _tlv(_SEQUENCE, _tlv(_INTEGER, b"\x01") + _tlv(_OCTETS, b"public") + pdu)


def request_id_of(request: bytes) -> bytes:
    _tag, message, _ = _read(request, 0)
    _tag, _version, pos = _read(message, 0)
    _tag, _community, pos = _read(message, pos)
    _tag, pdu, _ = _read(message, pos)
    return _read(pdu, 0)[1]


@contextmanager
def agent(answer: Callable[[bytes], list[bytes]], received: list[bytes] | None = None) -> Iterator[int]:
    """A UDP agent on loopback sending ``answer(request id)`` for every request (kept in ``received``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            if received is not None:
                received.append(data)
            for datagram in answer(request_id_of(data)):
                sock.sendto(datagram, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        sock.close()
