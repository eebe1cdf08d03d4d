"""Fuzzing the printer parsers: a reading or a counted bad answer, never an exception (issue 13).

SNMP BER responses (random, and well-formed with hostile values), IPP
attribute dictionaries as the IPP parser hands them over (any type, any value, any
missing key), IPP state-reason keywords and Windows status bits.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.printer import PrinterMonitor
from sensors import printing as p
from sensors.cups_printer import _JOB_ATTRIBUTES, cups_job, cups_listed_attributes, cups_snapshot
from sensors.snmp_printer import (
    _INTEGER,
    _OCTETS,
    _OID,
    _SEQUENCE,
    SnmpError,
    _oid,
    _tlv,
    decode_response,
    printer_oids,
    snapshot_from_values,
)
from sensors.windows_printer import windows_snapshot

NASTY = "\x00\x07\x1b\r\n\t\x7f\x85\u202e\ufeff\ud800²٣ -_:;aZ"
nasty_text = st.text(alphabet=st.sampled_from(NASTY) | st.characters(), max_size=60)
#: Anything the IPP parser could hand over for an attribute (and a few things it should not).
ipp_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(),
    nasty_text,
    st.lists(nasty_text, max_size=5),
    st.lists(st.integers(), max_size=3),
)


def printable(text: str) -> bool:
    return not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000 for ch in text)


def monitor() -> PrinterMonitor:
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {"transport": "none"}
    return PrinterMonitor(settings, MonitorContext(data_dir=Path("/nonexistent")))


def check_readings(readings: list[Reading]) -> None:
    for reading in readings:
        assert reading.level is None or isinstance(reading.level, Level)
        if isinstance(reading.value, float):
            assert math.isfinite(reading.value), reading
        if isinstance(reading.value, str):
            assert printable(reading.value), reading
        if reading.message is not None:
            assert printable(reading.message.en) and printable(reading.message.zh), reading


# -- SNMP -------------------------------------------------------------------------------


@st.composite
def snmp_responses(draw: st.DrawFn) -> bytes:
    """GetResponses that are well-formed BER with hostile tags and values."""
    oids = printer_oids()
    bindings = b""
    for oid in draw(st.lists(st.sampled_from(oids), max_size=4)):
        tag = draw(st.sampled_from([_INTEGER, _OCTETS, _OID, 0x05, 0x41, 0x46, 0x80, 0x81, 0x30, 0xFF]))
        body = draw(st.binary(max_size=40) | st.just(b"\x01" * 2048) | st.just(b"\xff" * 300))
        bindings += _tlv(_SEQUENCE, _oid(oid) + _tlv(tag, body))
    request_id = draw(st.binary(min_size=0, max_size=12))
    error = draw(st.sampled_from([b"\x00", b"\x05", b"", b"\x00" * 20]))
    pdu = _tlv(0xA2, _tlv(_INTEGER, request_id) + _tlv(_INTEGER, error) * 2 + _tlv(_SEQUENCE, bindings))
    version = draw(st.sampled_from([b"\x01", b"\x00", b"\x03", b"\x01" * 30]))
    return _tlv(_SEQUENCE, _tlv(_INTEGER, version) + _tlv(_OCTETS, b"public") + pdu)


@given(snmp_responses() | st.binary(max_size=300))
def test_snmp_answers_decode_or_are_bad_answers(data: bytes) -> None:
    try:
        response = decode_response(data)
    except SnmpError:
        return  # counted by the transport as an invalid reply
    for value in (response.request_id, response.error_status, *response.values.values()):
        if isinstance(value, int):
            assert abs(value) < 2**72
            str(value)  # a 2 KB INTEGER made this raise
    snap = snapshot_from_values("Hall", response.values)
    assert snap.state is None or snap.state in p.STATE_NAMES
    check_readings(monitor().judge(snap))


# -- IPP ---------------------------------------------------------------------------------

#: The attributes the transport asks for, each one possibly missing or of any type.
JOB_KEYS = _JOB_ATTRIBUTES
#: What a Get-Printers entry carries (plus odd extras), each possibly missing or of any type.
PRINTER_KEYS = [
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-type",
    "device-uri",
    "printer-up-time",
    "printer-is-accepting-jobs",
]


@given(
    st.dictionaries(st.sampled_from(JOB_KEYS), ipp_value),
    st.lists(st.dictionaries(st.sampled_from(JOB_KEYS), ipp_value), max_size=4),
    st.dictionaries(st.sampled_from(PRINTER_KEYS), ipp_value),
)
def test_ipp_attributes_give_a_snapshot_and_finite_readings(
    done: dict[str, Any], queued: list[dict[str, Any]], printer: dict[str, Any]
) -> None:
    finished = cups_job(1, done, 0)
    assert finished.created is None or (math.isfinite(finished.created) and finished.created > 0)
    assert finished.duration is None or (math.isfinite(finished.duration) and finished.duration >= 0)
    jobs = [cups_job(i + 2, attrs) for i, attrs in enumerate(queued)]
    snap = cups_snapshot("front", cups_listed_attributes(printer, None), jobs, [finished])
    assert snap.state is None or snap.state in p.STATE_NAMES
    assert snap.accepting in (True, False, None) and printable(snap.message)
    readings = monitor().judge(snap)
    check_readings(readings)
    status = readings[0]
    if snap.state is None:
        assert status.level is Level.UNKNOWN  # never "Ready" for a printer that did not say


@given(st.lists(nasty_text | st.sampled_from(sorted(p.MESSAGES)), max_size=200))
def test_any_reasons_map_to_bounded_clean_words(raw: list[str]) -> None:
    reasons = p.normalise_reasons(raw)
    assert len(reasons) <= p.MAX_REASONS
    for reason in reasons:
        assert printable(reason.raw) and len(reason.raw) <= p.MAX_KEYWORD
        assert isinstance(p.clerk_severity(reason), p.Severity)
        assert printable(reason.message.en) and printable(reason.message.zh)
    snap = p.PrinterSnapshot("front", p.STATE_IDLE, reasons=tuple(raw))
    check_readings(monitor().judge(snap))


@given(
    st.integers(min_value=0, max_value=2**32 - 1),
    st.integers(min_value=0, max_value=2**32 - 1),
    st.lists(
        st.fixed_dictionaries(
            {"JobId": st.integers(1, 2**31), "Status": st.integers(0, 2**32 - 1)},
            optional={"pDocument": nasty_text, "pStatus": nasty_text, "Submitted": ipp_value},
        ),
        max_size=4,
    ),
)
def test_windows_spooler_values_map_without_error(
    status: int, attributes: int, jobs: list[dict[str, Any]]
) -> None:
    snap = windows_snapshot({"pPrinterName": "front", "Status": status, "Attributes": attributes}, jobs)
    assert snap.state in p.STATE_NAMES and printable(snap.message)
    now = time.time()
    readings = monitor().judge(p.PrinterSnapshot(**{**snap.__dict__, "server_time": now}))
    check_readings(readings)
