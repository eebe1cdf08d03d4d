"""The IPP parser (sensors/ipp.py) on recorded cupsd answers, truncated and fuzzed bytes.

``tests/printer/recorded/*.ipp`` are answers a real cupsd 2.4 sent to
Deskwatch's client (``python -m tests.printer.record_ipp`` records them
again).  Whatever the bytes, the parser returns an :class:`IppResponse` or
raises :class:`IppDecodeError`; nothing else escapes, and what it returns
feeds the printer readings without an exception.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors import ipp
from sensors import printing as p
from sensors.cups_printer import _queue_of, cups_job, cups_listed_attributes, cups_snapshot

RECORDED = Path(__file__).resolve().parent / "recorded"
ANSWERS = {f.stem: f.read_bytes() for f in sorted(RECORDED.glob("*.ipp"))}


def test_recorded_printers_read_as_the_monitor_needs_them() -> None:
    answer = ipp.decode_response(ANSWERS["cups-get-printers"])
    assert answer.ok and answer.version == (1, 1)
    listed = {a["printer-name"]: a for a in answer.group(ipp.TAG_PRINTER)}
    assert set(listed) == {"jam1", "closed2", "slow3"}
    clock = float(listed["jam1"]["printer-up-time"])
    snaps = {n: cups_snapshot(n, cups_listed_attributes(a, clock), (), ()) for n, a in listed.items()}
    jam = snaps["jam1"]
    assert jam.state == p.STATE_STOPPED and jam.reasons == ("media-jam-error", "paused")
    assert jam.message == "Paper jam in tray 1" and jam.accepting is True
    closed = snaps["closed2"]
    assert closed.state == p.STATE_IDLE and closed.accepting is False and closed.reasons == ()
    assert (
        snaps["slow3"].state == p.STATE_PROCESSING and snaps["slow3"].detail["device_uri"] == "faulty:/slow3"
    )
    # cupsd's clock (epoch seconds) is what job ages are measured on.
    assert all(s.server_time == clock for s in snaps.values()) and clock > 1_700_000_000


def test_recorded_jobs_keep_missing_times_unknown() -> None:
    done = {a["job-id"]: a for a in ipp.decode_response(ANSWERS["get-jobs-completed"]).group(ipp.TAG_JOB)}
    forgotten = cups_job(3, done[3])
    # cupsd's summary of a finished job has no creation time: unknown, never epoch 0 ("498931 h").
    assert forgotten.state == p.JOB_COMPLETED and forgotten.created is None and forgotten.duration is None
    aborted = cups_job(2, done[2])
    assert aborted.state == p.JOB_ABORTED and aborted.duration is not None and aborted.duration >= 0
    assert _queue_of(done[2]) == "slow3"
    active = ipp.decode_response(ANSWERS["get-jobs-not-completed"]).group(ipp.TAG_JOB)
    jobs = {a["job-id"]: cups_job(a["job-id"], a) for a in active}
    assert jobs[1].state == p.JOB_PENDING and jobs[1].reasons == ("printer-stopped",)
    # "time-at-completed" of a waiting job comes as the out-of-band no-value: not completed.
    assert jobs[1].completed is None and jobs[1].created is not None
    assert jobs[4].state == p.JOB_PROCESSING and jobs[5].state == p.JOB_PENDING


@pytest.mark.parametrize(
    ("name", "status", "said"),
    [
        ("cups-get-default-none", ipp.STATUS_NOT_FOUND, "No default printer."),
        ("get-job-attributes-not-found", ipp.STATUS_NOT_FOUND, "Job #9999 does not exist."),
        ("print-job-not-accepting", 0x0506, 'Destination "closed2" is not accepting jobs.'),
    ],
)
def test_recorded_refusals_carry_status_and_message(name: str, status: int, said: str) -> None:
    answer = ipp.decode_response(ANSWERS[name])
    assert not answer.ok and answer.status == status and answer.operation["status-message"] == said


def test_recorded_full_printer_attributes_parse() -> None:
    answer = ipp.decode_response(ANSWERS["get-printer-attributes-all"])
    (printer,) = answer.group(ipp.TAG_PRINTER)
    assert printer["printer-name"] == "slow3" and len(printer) > 50
    assert "application/pdf" in printer["document-format-supported"]
    assert isinstance(printer["printer-is-accepting-jobs"], bool)
    assert ipp.decode_response(ANSWERS["print-job"]).group(ipp.TAG_JOB)[0]["job-id"] == 6


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_every_truncation_of_a_recorded_answer_is_a_clear_error(name: str) -> None:
    data = ANSWERS[name]
    ipp.decode_response(data)
    for end in range(len(data)):
        with pytest.raises(ipp.IppDecodeError):
            ipp.decode_response(data[:end])


def _read_all(answer: ipp.IppResponse) -> None:
    """Everything the CUPS transport does with an answer, on whatever the parser produced."""
    now = time.time()
    for attrs in answer.group(ipp.TAG_JOB):
        cups_job(1, attrs)
        _queue_of(attrs)
    for attrs in answer.group(ipp.TAG_PRINTER):
        cups_snapshot("x", cups_listed_attributes(attrs, now), (), ())
    str(answer.operation.get("status-message", ""))


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(sorted(ANSWERS)),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.sampled_from("rid")), max_size=6
    ),
)
def test_mutated_recorded_answers_parse_or_fail_cleanly(name: str, edits: list[tuple[int, int, str]]) -> None:
    data = bytearray(ANSWERS[name])
    for where, byte, how in edits:
        at = where % (len(data) + 1)
        if how == "r" and at < len(data):
            data[at] = byte
        elif how == "i":
            data.insert(at, byte)
        elif how == "d" and at < len(data):
            del data[at]
    try:
        answer = ipp.decode_response(bytes(data))
    except ipp.IppDecodeError:
        return
    _read_all(answer)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    try:
        answer = ipp.decode_response(b"\x01\x01\x00\x00\x00\x00\x00\x01" + data)
    except ipp.IppDecodeError:
        return
    _read_all(answer)


# -- round trip: a test-side encoder for answers, collections included ------------------


def _attr(tag: int, name: str, value: bytes) -> bytes:
    key = name.encode()
    return struct.pack(">BH", tag, len(key)) + key + struct.pack(">H", len(value)) + value


def _value(value: Any) -> tuple[int, bytes]:
    if isinstance(value, bool):
        return ipp.TAG_BOOLEAN, bytes([value])
    if isinstance(value, int):
        return ipp.TAG_INTEGER, struct.pack(">i", value)
    return ipp.TAG_KEYWORD, str(value).encode()


def _encode(name: str, value: Any) -> bytes:
    out = b""
    for n, one in enumerate(value if isinstance(value, list) else [value]):
        key = name if n == 0 else ""
        if isinstance(one, dict):
            out += _attr(ipp.TAG_BEGIN_COLLECTION, key, b"")
            for member, inner in one.items():
                out += _attr(ipp.TAG_MEMBER_NAME, "", member.encode())
                out += _encode("", inner)
            out += _attr(ipp.TAG_END_COLLECTION, "", b"")
        else:
            tag, raw = _value(one)
            out += _attr(tag, key, raw)
    return out


def encode_answer(status: int, request_id: int, groups: list[tuple[int, dict[str, Any]]]) -> bytes:
    out = struct.pack(">BBHI", 1, 1, status, request_id)
    for tag, attrs in groups:
        out += bytes([tag]) + b"".join(_encode(k, v) for k, v in attrs.items())
    return out + bytes([ipp.TAG_END])


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
scalars = st.one_of(st.booleans(), st.integers(-(2**31), 2**31 - 1), st.text(max_size=20))
values = st.recursive(
    st.one_of(scalars, st.lists(scalars, min_size=2, max_size=4)),
    lambda inner: st.dictionaries(names, inner, min_size=1, max_size=3),
    max_leaves=12,
)
groups = st.lists(
    st.tuples(
        st.sampled_from([ipp.TAG_OPERATION, ipp.TAG_JOB, ipp.TAG_PRINTER]), st.dictionaries(names, values)
    ),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(groups, st.integers(0, 2**31 - 1))
def test_answers_round_trip(built: list[tuple[int, dict[str, Any]]], request_id: int) -> None:
    answer = ipp.decode_response(encode_answer(0, request_id, built))
    assert answer.request_id == request_id and answer.ok
    assert [tag for tag, _ in answer.groups] == [tag for tag, _ in built]
    assert [attrs for _, attrs in answer.groups] == [attrs for _, attrs in built]


def test_requests_encode_charset_and_language_first() -> None:
    body = ipp.encode_request(
        ipp.OP_GET_JOBS, 7, [(ipp.TAG_KEYWORD, "requested-attributes", ["job-id", "job-state"])]
    )
    # A request has the layout of an answer with the operation in the status field.
    parsed = ipp.decode_response(body)
    assert parsed.status == ipp.OP_GET_JOBS and parsed.request_id == 7
    assert list(parsed.operation) == [
        "attributes-charset",
        "attributes-natural-language",
        "requested-attributes",
    ]
    assert parsed.operation["requested-attributes"] == ["job-id", "job-state"]


# -- bounds ------------------------------------------------------------------------------

HEADER = struct.pack(">BBHI", 1, 1, 0, 1)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (bytes([ipp.TAG_JOB]) * (ipp.MAX_GROUPS + 1) + b"\x03", "groups"),
        (b"\x02" + _attr(ipp.TAG_INTEGER, "a", b"\0\0\0\1") + _attr(ipp.TAG_INTEGER, "", b"\0\0\0\1")
         * ipp.MAX_VALUES + b"\x03", "values"),
        (b"\x02" + _attr(ipp.TAG_BEGIN_COLLECTION, "c", b"")
         + (_attr(ipp.TAG_MEMBER_NAME, "", b"m") + _attr(ipp.TAG_BEGIN_COLLECTION, "", b"")) * ipp.MAX_DEPTH
         + b"\x03", "nested"),
        (b"\x02" + _attr(ipp.TAG_INTEGER, "a", b"\0\0\1") + b"\x03", "bytes, not 4"),
        (b"\x02" + _attr(ipp.TAG_BOOLEAN, "a", b"\x07") + b"\x03", "boolean"),
        (b"\x02" + _attr(ipp.TAG_INTEGER, "", b"\0\0\0\1") + b"\x03", "without an attribute"),
        (_attr(ipp.TAG_INTEGER, "a", b"\0\0\0\1") + b"\x03", "before any attribute group"),
        (b"\x02" + _attr(ipp.TAG_END_COLLECTION, "", b"") + b"\x03", "outside a collection"),
        (b"\x02" + _attr(ipp.TAG_BEGIN_COLLECTION, "c", b"") + b"\x03", "not closed"),
        (b"\x02" + _attr(ipp.TAG_BEGIN_COLLECTION, "c", b"") + _attr(ipp.TAG_MEMBER_NAME, "", b"m")
         + _attr(ipp.TAG_END_COLLECTION, "", b"") + b"\x03", "without a value"),
        (b"\x02\x44\x00\x01\xff\x00\x01x\x03", "ASCII"),
    ],
)  # fmt: skip
def test_oversized_or_malformed_answers_are_clear_errors(body: bytes, why: str) -> None:
    with pytest.raises(ipp.IppDecodeError, match=why):
        ipp.decode_response(HEADER + body)


def test_too_many_attributes_is_a_clear_error() -> None:
    body = b"\x02" + b"".join(
        _attr(ipp.TAG_INTEGER, f"a{n}", b"\0\0\0\1") for n in range(ipp.MAX_ATTRIBUTES + 1)
    )
    started = time.monotonic()
    with pytest.raises(ipp.IppDecodeError, match="attributes"):
        ipp.decode_response(HEADER + body + b"\x03")
    assert time.monotonic() - started < 10


def test_not_an_ipp_answer() -> None:
    with pytest.raises(ipp.IppDecodeError, match="not an IPP response"):
        ipp.decode_response(b"<html><body>Welcome</body></html>")
