"""Fuzzing the SIP reply parsers: a reply or a counted bad reply, never another exception (issue 13).

Random bytes rarely look like SIP, so most examples are built from a SIP
grammar with hostile parts: Unicode digits ("²00", "٢00"), control
characters, huge reasons, odd Content-Lengths and CSeqs.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from sensors.sip import EModel, LineWindow, SipError, ascii_int, message_length, mos_from_r, parse_response

#: Characters a hostile peer likes: ASCII digits, Unicode digits, controls, format characters.
NASTY = "0123456789²³¹٠١٢٣۴߀०১๑፩០᠐０１２\x00\x07\x08\x1b\r\n\t\x7f\x85\u200b\u202e\ufeff\ud800 aZ-_:;"
nasty_text = st.text(alphabet=st.sampled_from(NASTY) | st.characters(), max_size=40)


def printable(text: str) -> bool:
    return not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000 for ch in text)


@st.composite
def replies(draw: st.DrawFn) -> bytes:
    version = draw(st.sampled_from(["SIP/2.0", "sip/2.0", "SIP/2.1", "ſip/2.0", "SIP/2.0 "]))
    code = draw(st.text(alphabet=st.sampled_from(NASTY), min_size=0, max_size=5))
    reason = draw(nasty_text | st.just("R" * 70_000))
    headers = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["CSeq", "Call-ID", "Via", "Content-Length", "l", "i", "X-Junk", ""]),
                nasty_text,
            ),
            max_size=6,
        )
    )
    body = draw(st.binary(max_size=50))
    head = f"{version} {code} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("utf-8", "surrogatepass") + b"\r\n" + body


def check_parsed(data: bytes) -> None:
    try:
        response = parse_response(data)
    except SipError:
        return  # a counted bad reply
    assert 100 <= response.status <= 699
    assert printable(response.reason) and len(response.reason) <= 200
    number, _method = response.cseq  # never raises, whatever the CSeq says
    assert number >= -1


@given(replies())
def test_structured_replies_parse_or_are_bad_replies(data: bytes) -> None:
    check_parsed(data)
    try:
        length = message_length(data)
    except SipError:
        return
    assert length is None or 0 <= length <= len(data)


@given(st.binary(max_size=600))
def test_random_bytes_parse_or_are_bad_replies(data: bytes) -> None:
    check_parsed(b"SIP/2.0 " + data)
    check_parsed(data)


@given(st.text(max_size=30))
def test_ascii_int_takes_only_ascii_digits(text: str) -> None:
    value = ascii_int(text)
    if value is not None:
        assert value >= 0 and text.strip(" \t").isascii() and text.strip(" \t").isdigit()
    else:
        assert not (text.strip(" \t").isascii() and text.strip(" \t").isdigit() and len(text.strip()) <= 10)


finite = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(st.lists(st.none() | finite, max_size=40), finite)
def test_line_statistics_and_quality_are_always_finite(rtts: list[float | None], extra_loss: float) -> None:
    window = LineWindow(30)
    for rtt in rtts:
        window.add(rtt)
    assert 0 <= window.loss_percent <= 100
    for value in (window.rtt_ms, window.jitter_ms):
        assert value is None or math.isfinite(value)
    r = EModel().r_factor(window.rtt_ms or 0.0, window.jitter_ms or 0.0, window.loss_percent + extra_loss)
    assert math.isfinite(r) and 0 <= r <= 100
    assert math.isfinite(mos_from_r(r)) and 1 <= mos_from_r(r) <= 4.5


@given(st.floats(), st.floats(), st.floats())
def test_quality_from_impossible_inputs_is_never_good(rtt: float, jitter: float, loss: float) -> None:
    r = EModel().r_factor(rtt, jitter, loss)
    assert math.isfinite(r) and 0 <= r <= 100
    assert math.isfinite(mos_from_r(r)) and 1 <= mos_from_r(r) <= 4.5
    if any(math.isnan(v) for v in (rtt, jitter, loss)):
        assert r == 0.0 and mos_from_r(float("nan")) == 1.0
