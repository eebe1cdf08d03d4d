"""SIP message building and parsing, TCP framing, line statistics and the E-model (pure)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitors.telephone import parse_target
from sensors.sip import (
    BRANCH_COOKIE,
    EModel,
    LineWindow,
    SipError,
    build_options,
    code_matches,
    matches,
    message_length,
    mos_from_r,
    parse_response,
)


def reply_to(request_bytes: bytes, status: str = "200 OK", extra: str = "", body: str = "") -> bytes:
    """What a PBX answers: the request's Via, From, To, Call-ID and CSeq echoed."""
    lines = request_bytes.decode().split("\r\n")
    keep = [line for line in lines if line.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
    head = [
        f"SIP/2.0 {status}",
        *keep,
        *(extra.split("\r\n") if extra else []),
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def test_options_request_has_the_mandatory_headers() -> None:
    request = build_options("pbx.example", 5060, "udp", "10.0.0.5", 40000, call_id="abc@x", cseq=7)
    text = request.data.decode()
    lines = text.split("\r\n")
    assert lines[0] == "OPTIONS sip:pbx.example:5060 SIP/2.0"
    for header in ("Via: SIP/2.0/UDP 10.0.0.5:40000;branch=z9hG4bK", "Max-Forwards: 70", "Call-ID: abc@x",
                   "CSeq: 7 OPTIONS", "To: <sip:pbx.example:5060>", "Content-Length: 0"):  # fmt: skip
        assert any(line.startswith(header) for line in lines), header
    assert text.endswith("\r\n\r\n") and request.branch.startswith(BRANCH_COOKIE)
    tcp = build_options("::1", 5061, "TCP", "::1", 4000).data.decode()
    assert tcp.startswith("OPTIONS sip:[::1]:5061;transport=tcp SIP/2.0") and "SIP/2.0/TCP [::1]:4000" in tcp
    with pytest.raises(ValueError):
        build_options("pbx", 5060, "sctp", "h", 1)


def test_reply_parses_and_matches_its_request() -> None:
    request = build_options("pbx", 5060, "udp", "127.0.0.1", 5555, cseq=3)
    response = parse_response(reply_to(request.data, "200 OK", "Allow: INVITE, OPTIONS"))
    assert (response.status, response.reason, response.final) == (200, "OK", True)
    assert response.cseq == (3, "OPTIONS") and response.branch == request.branch
    assert response.header("allow") == "INVITE, OPTIONS"
    assert matches(response, request)
    other = build_options("pbx", 5060, "udp", "127.0.0.1", 5555, cseq=3)
    assert not matches(response, other)  # different Call-ID


def test_compact_headers_folding_and_body() -> None:
    data = (
        b"SIP/2.0 486 Busy Here\r\ni: x@y\r\nv: SIP/2.0/UDP h;branch=z9hG4bKq\r\nCSeq: 1 OPTIONS\r\n"
        b"Subject: one\r\n  two\r\nl: 5\r\n\r\nhello+extra"
    )
    response = parse_response(data)
    assert response.header("Call-ID") == "x@y" and response.branch == "z9hG4bKq"
    assert response.header("subject") == "one two" and response.body == b"hello"
    assert parse_response(b"SIP/2.0 100 Trying\n\n").final is False  # bare LF tolerated


@pytest.mark.parametrize(
    "data",
    [b"", b"HTTP/1.1 200 OK\r\n\r\n", b"SIP/2.0 20 OK\r\n\r\n", b"SIP/2.0 999 Bad\r\n\r\n",
     b"SIP/2.0 200 OK\r\nno colon\r\n\r\n", b"SIP/2.0 200 OK\r\nCSeq: 1\r\n",
     b"OPTIONS sip:x SIP/2.0\r\n\r\n",
     b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n"],
)  # fmt: skip
def test_garbage_is_a_sip_error(data: bytes) -> None:
    with pytest.raises(SipError):
        parse_response(data)


@given(st.binary(max_size=400))
def test_parser_never_fails_other_than_sip_error(data: bytes) -> None:
    with contextlib.suppress(SipError):
        parse_response(data)
    with contextlib.suppress(SipError):
        message_length(data)


def test_tcp_framing_by_content_length() -> None:
    first = b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nbody"
    second = b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n"
    stream = b"\r\n\r\n" + first + second
    length = message_length(stream)
    assert length == 4 + len(first)
    assert message_length(stream[length:]) == len(second)
    assert message_length(first[:-1]) is None and message_length(b"SIP/2.0 200") is None
    with pytest.raises(SipError):
        message_length(b"SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n")


def test_code_patterns() -> None:
    assert code_matches(200, ["2xx"]) and code_matches(404, ["200", "404"])
    assert not code_matches(486, ["2xx", "4x0"]) and not code_matches(200, ["20"])


def test_line_window_loss_rtt_and_jitter() -> None:
    window = LineWindow(size=4)
    for rtt in (10.0, None, 30.0, 20.0, 40.0):
        window.add(rtt)
    assert window.count == 4  # the first ping has left the window
    assert window.loss_percent == 25
    assert window.rtt_ms == pytest.approx(30)
    assert window.jitter_ms == pytest.approx(15)  # |30-20|=10, |20-40|=20
    empty = LineWindow()
    assert (empty.loss_percent, empty.rtt_ms, empty.jitter_ms) == (0.0, None, None)


def test_e_model_reference_points() -> None:
    model = EModel()
    perfect = model.r_factor(0, 0, 0)
    assert perfect == pytest.approx(93.2 - 0.024 * 20)
    assert mos_from_r(perfect) == pytest.approx(4.4, abs=0.05)
    # G.114's 150 ms one-way: still "good" territory.
    assert model.r_factor(260, 0, 0) > 80
    # Past 177.3 ms one-way the delay impairment grows steeply.
    assert model.r_factor(600, 10, 0) < 70
    # G.711 with packet-loss concealment (Bpl 25.1): one lost ping in 30 is still a good call,
    # 5 % loss is fair, 10 % is poor.
    assert model.r_factor(40, 5, 100 / 30) >= 80
    assert 70 <= model.r_factor(40, 5, 5) < 80
    assert model.r_factor(40, 5, 10) < 70
    assert mos_from_r(-5) == 1.0 and mos_from_r(120) == 4.5
    assert mos_from_r(70) == pytest.approx(3.6, abs=0.05) and mos_from_r(80) == pytest.approx(4.0, abs=0.05)


def test_targets() -> None:
    assert parse_target("pbx.local:5060") == ("pbx.local", 5060)
    assert parse_target("[fe80::1]:443") == ("fe80::1", 443)
    assert parse_target("pbx") is None and parse_target("pbx:0") is None and parse_target(":80") is None
