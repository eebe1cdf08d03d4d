"""Network printers read over SNMP (v2c GET of the Printer and Host Resources MIBs).

Only three values per printer are needed, so this carries its own small BER
codec for one GetRequest and its response instead of a large SNMP library.
:func:`encode_get` and :func:`decode_response` are pure; :class:`SnmpPrinters`
is the UDP transport.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sensors import printing as p
from sensors.hosts import resolver_host
from sensors.untrusted import clean_text

log = logging.getLogger(__name__)

SNMP_V2C = 1
_INTEGER, _OCTETS, _NULL, _OID, _SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
_GET, _RESPONSE = 0xA0, 0xA2
#: Counter32, Gauge32, TimeTicks, Counter64: unsigned integers.
_UNSIGNED = frozenset({0x41, 0x42, 0x43, 0x46})
#: noSuchObject, noSuchInstance, endOfMibView.
_NO_VALUE = frozenset({0x80, 0x81, 0x82})


#: Longest INTEGER body accepted: Counter64 needs 9 octets (a leading zero); a longer
#: one is an attack or damage, and ``str()`` of a 2 KB integer raises ValueError.
MAX_INTEGER_OCTETS = 9
#: Longest OID arc (5 octets hold 32 bits) and most arcs in one OID.
MAX_ARC_OCTETS = 5
MAX_OID_ARCS = 128
#: Longest OCTET STRING kept from hrPrinterDetectedErrorState (two octets are defined).
MAX_ERROR_STATE_OCTETS = 8


class SnmpError(Exception):
    """A malformed or error response."""


class SnmpNoReply(SnmpError):
    """Nothing valid arrived in time; ``bad_replies`` datagrams arrived that were not it."""

    def __init__(self, message: str, bad_replies: int = 0) -> None:
        super().__init__(message)
        self.bad_replies = bad_replies


class SnmpAgentError(SnmpError):
    """The agent answered with an error status (it is there, but did not give the values)."""


# -- BER ------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _length(len(body)) + body


def _integer(value: int) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)
    return _tlv(_INTEGER, value.to_bytes(size, "big", signed=True))


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.strip(".").split(".")]
    if len(arcs) < 2:
        raise ValueError(f"OID too short: {dotted}")
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return _tlv(_OID, bytes(out))


def encode_get(community: str, request_id: int, oids: Sequence[str]) -> bytes:
    """An SNMPv2c GetRequest message for ``oids``."""
    bindings = b"".join(_tlv(_SEQUENCE, _oid(oid) + _tlv(_NULL, b"")) for oid in oids)
    pdu = _tlv(_GET, _integer(request_id) + _integer(0) + _integer(0) + _tlv(_SEQUENCE, bindings))
    return _tlv(_SEQUENCE, _integer(SNMP_V2C) + _tlv(_OCTETS, community.encode()) + pdu)


def _read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One TLV at ``pos``: (tag, value, position after it)."""
    if pos + 2 > len(data):
        raise SnmpError("truncated message")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise SnmpError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > len(data):
        raise SnmpError("truncated value")
    return tag, data[pos : pos + length], pos + length


def _items(body: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(body):
        tag, value, pos = _read(body, pos)
        items.append((tag, value))
    return items


def _decode_int(body: bytes, signed: bool = True) -> int:
    """A BER INTEGER (or unsigned Counter/Gauge/TimeTicks) body, bounded in size."""
    if not body:
        raise SnmpError("empty integer")
    if len(body) > MAX_INTEGER_OCTETS:
        raise SnmpError(f"integer of {len(body)} octets")
    return int.from_bytes(body, "big", signed=signed)


def _decode_oid(body: bytes) -> str:
    if not body:
        raise SnmpError("empty OID")
    arcs = [body[0] // 40, body[0] % 40] if body[0] < 80 else [2, body[0] - 80]
    value = 0
    octets = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        octets += 1
        if octets > MAX_ARC_OCTETS:
            raise SnmpError("OID arc too long")
        if not byte & 0x80:
            arcs.append(value)
            value, octets = 0, 0
            if len(arcs) > MAX_OID_ARCS:
                raise SnmpError("OID too long")
    if octets:
        raise SnmpError("OID ends inside an arc")
    return ".".join(str(a) for a in arcs)


SnmpValue = int | bytes | str | None


@dataclass(frozen=True)
class Response:
    """A decoded GetResponse."""

    request_id: int
    error_status: int
    error_index: int
    values: dict[str, SnmpValue]


def decode_response(data: bytes) -> Response:
    """Decode an SNMPv1/v2c GetResponse; raises :class:`SnmpError` when malformed."""
    tag, body, _ = _read(data, 0)
    if tag != _SEQUENCE:
        raise SnmpError("not an SNMP message")
    parts = _items(body)
    if len(parts) != 3 or parts[0][0] != _INTEGER or parts[2][0] != _RESPONSE:
        raise SnmpError("not a GetResponse")
    if _decode_int(parts[0][1]) not in (0, SNMP_V2C):
        raise SnmpError("not SNMP v1/v2c")
    fields = _items(parts[2][1])
    if len(fields) != 4 or fields[3][0] != _SEQUENCE or any(t != _INTEGER for t, _v in fields[:3]):
        raise SnmpError("bad PDU")
    request_id, error_status, error_index = (_decode_int(v) for _t, v in fields[:3])
    values: dict[str, SnmpValue] = {}
    for bind_tag, binding in _items(fields[3][1]):
        if bind_tag != _SEQUENCE:
            raise SnmpError("bad variable binding")
        pair = _items(binding)
        if len(pair) != 2:
            raise SnmpError("bad variable binding")
        (oid_tag, oid_body), (vtag, vbody) = pair
        if oid_tag != _OID:
            raise SnmpError("bad variable name")
        value: SnmpValue
        if vtag == _INTEGER:
            value = _decode_int(vbody)
        elif vtag in _UNSIGNED:
            value = _decode_int(vbody, signed=False)
        elif vtag == _OCTETS:
            value = vbody
        elif vtag == _OID:
            value = _decode_oid(vbody)
        elif vtag == _NULL or vtag in _NO_VALUE:
            value = None
        else:
            value = vbody
        values[_decode_oid(oid_body)] = value
    return Response(request_id, error_status, error_index, values)


# -- printers -----------------------------------------------------------------------


def printer_oids(device_index: int = 1) -> list[str]:
    """hrDeviceStatus, hrPrinterStatus and hrPrinterDetectedErrorState of one device."""
    return [
        f"{base}.{device_index}"
        for base in (p.OID_HR_DEVICE_STATUS, p.OID_HR_PRINTER_STATUS, p.OID_HR_PRINTER_ERROR_STATE)
    ]


def snapshot_from_values(name: str, values: dict[str, SnmpValue], device_index: int = 1) -> p.PrinterSnapshot:
    """A snapshot from the three values of :func:`printer_oids` (pure; tested with recordings)."""
    device_oid, printer_oid, error_oid = printer_oids(device_index)
    device = values.get(device_oid)
    printer = values.get(printer_oid)
    errors = values.get(error_oid)
    error_bytes = errors[:MAX_ERROR_STATE_OCTETS] if isinstance(errors, bytes) else b""
    device_status = device if isinstance(device, int) else None
    printer_status = printer if isinstance(printer, int) else None
    reasons = p.snmp_reasons(error_bytes, device_status)
    # An agent without these objects (noSuchObject) reports nothing: unknown, never "Ready".
    observed = device_status is not None or printer_status is not None or isinstance(errors, bytes)
    return p.PrinterSnapshot(
        name=name,
        state=p.snmp_printer_state(device_status, printer_status, reasons) if observed else None,
        reasons=tuple(reasons),
        message="" if observed else "the printer's SNMP agent has no Printer MIB status",
        has_queue=False,
        detail={
            "hr_device_status": p.HR_DEVICE_STATUS.get(device_status or 0, str(device_status)),
            "hr_printer_status": p.HR_PRINTER_STATUS.get(printer_status or 0, str(printer_status)),
            "hr_printer_detected_error_state": error_bytes.hex(),
            "error_bits": p.snmp_error_names(error_bytes),
        },
    )


def parse_target(entry: str) -> tuple[str, str, int]:
    """``name=host[:port]`` or ``host`` → (name, host, port)."""
    name, sep, address = entry.partition("=")
    if not sep:
        name, address = entry, entry
    host, _, port = address.strip().rpartition(":") if address.count(":") == 1 else ("", "", "")
    if not host:
        host, port = address.strip(), ""
    return name.strip(), host, int(port) if port.isdigit() else 161


class SnmpPrinters:
    """Polls network printers directly with SNMP GET over UDP."""

    def __init__(self, targets: Iterable[str], community: str = "public", timeout: float = 2.0) -> None:
        self.targets = [parse_target(t) for t in targets]
        self.community = community
        self.timeout = timeout
        self.description = "SNMP"

    def query(self, host: str, port: int, oids: Sequence[str]) -> dict[str, SnmpValue]:
        """One GET (sent again once, halfway); raises ``OSError``/:class:`SnmpError`.

        The socket is connected, so the kernel drops datagrams from any other
        address; what still arrives and is not the matching response (junk,
        another request id) is counted and skipped, and the wait goes on until
        the timeout: one bad datagram never hides the good reply behind it.
        """
        request_id = int.from_bytes(os.urandom(3), "big")
        message = encode_get(self.community, request_id, oids)
        family, _type, _proto, _canon, address = socket.getaddrinfo(
            resolver_host(host), port, type=socket.SOCK_DGRAM
        )[0]
        bad, last_bad = 0, ""
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            started = time.monotonic()
            deadline = started + self.timeout
            resend_at: float | None = started + self.timeout / 2
            sock.send(message)
            while True:
                now = time.monotonic()
                if now >= deadline:
                    why = f"no reply within {self.timeout:g} s"
                    if bad:
                        why = f"no valid reply within {self.timeout:g} s ({bad} invalid: {last_bad})"
                    raise SnmpNoReply(why, bad)
                if resend_at is not None and now >= resend_at:
                    sock.send(message)  # UDP may lose the request: ask once more
                    resend_at = None
                sock.settimeout(max(0.01, min(deadline, resend_at or deadline) - now))
                try:
                    data = sock.recv(65535)
                except TimeoutError:
                    continue
                try:
                    response = decode_response(data)
                except SnmpError as exc:
                    bad, last_bad = bad + 1, clean_text(exc, 80)
                    continue
                if response.request_id != request_id:
                    bad, last_bad = bad + 1, "another request id"
                    continue
                if response.error_status:
                    raise SnmpAgentError(f"agent error {response.error_status} at {response.error_index}")
                return response.values

    def snapshots(self, now: float) -> dict[str, p.PrinterSnapshot | None]:
        """Snapshot of every target; one that does not answer reads as offline.

        Whatever one printer sends affects only that printer: a reply that is
        not understood makes it unknown, never the whole monitor.
        """
        result: dict[str, p.PrinterSnapshot | None] = {}
        for name, host, port in self.targets:
            try:
                values = self.query(host, port, printer_oids())
                snap = snapshot_from_values(name, values)
            except SnmpNoReply as exc:
                log.info("SNMP printer %s (%s) does not answer: %s", name, host, exc)
                if exc.bad_replies:
                    result[name] = self._unknown(name, host, str(exc), bad_replies=exc.bad_replies)
                else:
                    result[name] = self._offline(name, host, str(exc))
                continue
            except (SnmpError, ValueError) as exc:
                log.info("SNMP printer %s (%s) answered badly: %s", name, host, clean_text(exc))
                result[name] = self._unknown(name, host, clean_text(exc))
                continue
            except OSError as exc:  # ICMP unreachable, no route, bad host name
                log.info("SNMP printer %s (%s) cannot be reached: %s", name, host, exc)
                result[name] = self._offline(
                    name, host, clean_text(exc.strerror or exc or type(exc).__name__)
                )
                continue
            result[name] = p.PrinterSnapshot(
                name=snap.name,
                state=snap.state,
                reasons=snap.reasons,
                message=snap.message,
                has_queue=False,
                detail={**snap.detail, "host": host},
            )
        return result

    @staticmethod
    def _offline(name: str, host: str, why: str) -> p.PrinterSnapshot:
        return p.PrinterSnapshot(
            name=name,
            state=p.STATE_STOPPED,
            reasons=("timed-out-error",),
            message=f"{host}: {why}",
            has_queue=False,
            detail={"host": host},
        )

    @staticmethod
    def _unknown(name: str, host: str, why: str, bad_replies: int = 0) -> p.PrinterSnapshot:
        detail: dict[str, object] = {"host": host, "bad_replies": bad_replies}
        return p.PrinterSnapshot(name, None, message=f"{host}: {why}", has_queue=False, detail=detail)
