"""SNMP printers (``sensors.snmp_printer``): the BER codec on a recorded response, the mapping, real UDP.

SNMP is exercised down to real UDP on loopback with an agent that answers
from a hand-assembled response; hostile agents are in ``test_snmp_printer_hostile.py``.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.printer import PrinterMonitor
from sensors.snmp_printer import (
    SnmpError,
    _read,
    decode_response,
    encode_get,
    parse_target,
    printer_oids,
    snapshot_from_values,
)
from tests.printer.conftest import make_monitor
from tests.printer.snmp_agent import agent

#: A GetResponse as a printer sends it, assembled by hand from RFC 1157/3416 BER:
#: community "public", request-id 0x1234, hrDeviceStatus.1 = warning(3),
#: hrPrinterStatus.1 = idle(3), hrPrinterDetectedErrorState.1 = 0x24 0x00
#: (bit 2 lowToner, bit 5 jammed).
RECORDED_RESPONSE = bytes.fromhex(
    "3050"  # SEQUENCE, 80 bytes
    "020101"  # version: v2c
    "04067075626c6963"  # community "public"
    "a243"  # GetResponse PDU, 67 bytes
    "02021234"  # request-id 0x1234
    "020100"  # error-status 0
    "020100"  # error-index 0
    "3037"  # variable bindings, 55 bytes
    "3010"
    "060b2b060102011903020105"
    "01"
    "020103"  # hrDeviceStatus.1 = 3
    "3010"
    "060b2b060102011903050101"
    "01"
    "020103"  # hrPrinterStatus.1 = 3
    "3011"
    "060b2b060102011903050102"
    "01"
    "04022400"  # hrPrinterDetectedErrorState.1
)


def test_decode_recorded_response() -> None:
    response = decode_response(RECORDED_RESPONSE)
    assert response.request_id == 0x1234 and response.error_status == 0
    device, printer, errors = printer_oids(1)
    assert response.values == {device: 3, printer: 3, errors: b"\x24\x00"}


def test_encode_get_round_trips_through_ber() -> None:
    message = encode_get("public", 0x1234, printer_oids(1))
    tag, body, end = _read(message, 0)
    assert tag == 0x30 and end == len(message)
    assert len(body) == len(message) - 2
    # Same header and request id as the recorded response, but a GetRequest of NULLs.
    assert bytes.fromhex("02010104067075626c6963a0") in message
    assert bytes.fromhex("060b2b060102011903050102010500") in message


@given(st.binary(max_size=200))
def test_decoder_never_crashes_on_garbage(data: bytes) -> None:
    with contextlib.suppress(SnmpError):
        decode_response(data)


@given(st.integers(0, len(RECORDED_RESPONSE) - 1), st.integers(0, 255), st.booleans())
def test_decoder_on_damaged_responses(position: int, byte: int, truncate: bool) -> None:
    damaged = bytearray(RECORDED_RESPONSE)
    damaged[position] = byte
    with contextlib.suppress(SnmpError):
        decode_response(bytes(damaged[:position] if truncate else damaged))


@pytest.mark.parametrize(
    ("device", "printer", "errors", "reasons", "level", "zh"),
    [
        (3, 3, b"\x24\x00", ["toner-low-warning", "media-jam-error"], Level.CRITICAL, "卡纸"),
        (3, 3, b"\x40", ["media-empty-error"], Level.CRITICAL, "缺纸"),  # noPaper, one-octet form
        (3, 3, b"\x20\x00", ["toner-low-warning"], Level.WARNING, "碳粉不足"),
        (5, 1, b"\x08\x00", ["door-open-error"], Level.CRITICAL, "盖门打开"),
        (5, 1, b"\x02\x00", ["offline-report"], Level.CRITICAL, "打印机脱机"),
        (2, 4, b"\x00\x00", [], Level.OK, "正在打印"),
        (5, 2, b"\x00\x00", ["other-error"], Level.CRITICAL, "打印机需要处理"),  # down, no bits
        (3, 3, b"\x00\x04", ["media-empty-warning"], Level.WARNING, "缺纸"),  # inputTrayEmpty (bit 13)
    ],
)
def test_snmp_mapping(
    tmp_path: Path, device: int, printer: int, errors: bytes, reasons: list[str], level: Level, zh: str
) -> None:
    oids = printer_oids(1)
    snap = snapshot_from_values("Hall printer", dict(zip(oids, [device, printer, errors], strict=True)))
    assert list(snap.reasons) == reasons and not snap.has_queue
    (status,) = make_monitor(tmp_path, None).judge(snap)
    assert status.level is level and status.message is not None and status.message.zh.startswith(zh)


def test_snmp_targets() -> None:
    assert parse_target("Hall printer=10.0.0.7") == ("Hall printer", "10.0.0.7", 161)
    assert parse_target("10.0.0.8:1161") == ("10.0.0.8:1161", "10.0.0.8", 1161)


def recorded_reply(request_id: bytes) -> list[bytes]:
    """The recorded response with the request's id spliced in."""
    id_tlv = bytes([0x02, len(request_id)]) + request_id
    pdu_body = id_tlv + RECORDED_RESPONSE[19:]
    body = bytes.fromhex("02010104067075626c6963") + bytes([0xA2, len(pdu_body)]) + pdu_body
    return [bytes([0x30, len(body)]) + body]


@pytest.fixture
def snmp_agent() -> Iterator[tuple[int, list[bytes]]]:
    """A UDP agent on loopback that answers every GET with the recorded values."""
    received: list[bytes] = []
    with agent(recorded_reply, received) as port:
        yield port, received


def test_snmp_printer_over_udp(tmp_path: Path, snmp_agent: tuple[int, list[bytes]]) -> None:
    port, received = snmp_agent
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound but never answers
        silent_port = silent.getsockname()[1]
        monitor = PrinterMonitor(
            {s.key: s.default for s in PrinterMonitor.settings}
            | {
                "transport": "none",
                "snmp_printers": [f"Hall=127.0.0.1:{port}", f"Annex=127.0.0.1:{silent_port}"],
                "connect_timeout": 0.4,
            },
            MonitorContext(data_dir=tmp_path),
        )
        readings = {r.instance: r for r in monitor.poll()}
    hall = readings["Hall"]
    assert hall.level is Level.CRITICAL and hall.message is not None
    assert hall.message.en.startswith("Paper jam; Toner low")
    assert (
        hall.detail["error_bits"] == ["lowToner", "jammed"] and hall.detail["hr_device_status"] == "warning"
    )
    assert received and b"public" in received[0]
    annex = readings["Annex"]
    assert annex.level is Level.CRITICAL and annex.message is not None
    assert annex.message.zh.startswith("打印机无响应")
    assert set(readings) == {"Hall", "Annex"}  # SNMP printers have no queue indicators
