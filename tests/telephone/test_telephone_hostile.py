"""Nothing a SIP peer sends stops the telephone monitor (issue 13), over real loopback sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.telephone import TelephoneMonitor
from sensors import sip
from tests.audio.helpers import monitor_settings
from tests.telephone.responder import Script, echo_reply, responder


def make_monitor(tmp_path: Path, port: int, transport: str) -> TelephoneMonitor:
    options = {
        "pbx_host": "127.0.0.1",
        "pbx_port": port,
        "transports": [transport],
        "pings_per_poll": 1,
        "reply_timeout": 0.5,
    }
    return TelephoneMonitor(monitor_settings(TelephoneMonitor, **options), MonitorContext(data_dir=tmp_path))


def reply(monitor: TelephoneMonitor, transport: str) -> Reading:
    return {r.key: r for r in monitor.poll()}[f"telephone.sip_reply[{transport}]"]


def printable(text: str) -> bool:
    return not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


class Switch:
    """Sends ``bad`` replies until ``healed`` is set, then good ones."""

    def __init__(self, bad: Script) -> None:
        self.bad = bad
        self.healed = False

    def __call__(self, request: bytes) -> list[bytes]:
        return [echo_reply(request)] if self.healed else self.bad(request)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_unicode_digit_in_the_status_code_is_a_counted_bad_reply(tmp_path: Path, transport: str) -> None:
    script = Switch(lambda req: [echo_reply(req, "SIP/2.0 ²00 OK".encode())])
    with responder(script) as server:
        # ping() itself: a result, never the ValueError of int("²00").
        result = sip.ping("127.0.0.1", server.port, transport, 0.5)
        assert result.status is None and result.bad_replies == 1
        monitor = make_monitor(tmp_path, server.port, transport)
        bad = reply(monitor, transport)
        assert bad.level is Level.CRITICAL and bad.detail["bad_replies"] == 1
        assert bad.message is not None and "invalid" in bad.message.en
        script.healed = True
        good = reply(monitor, transport)  # the monitor kept polling
        assert good.level is Level.OK and good.value == "200 OK"
        assert good.detail["bad_replies"] == 1


def test_junk_before_the_real_reply_is_counted_and_the_reply_still_taken(tmp_path: Path) -> None:
    junk = [b"\x00\xff garbage", b"SIP/2.0 2x0 nope\r\n\r\n", "SIP/2.0 ٢00 OK\r\n\r\n".encode()]
    with responder(lambda req: [*junk, echo_reply(req)]) as server:
        result = sip.ping("127.0.0.1", server.port, "udp", 1.0)
        assert result.status == 200 and result.bad_replies == 3
        got = reply(make_monitor(tmp_path, server.port, "udp"), "udp")
        assert got.level is Level.OK and got.detail["bad_replies"] == 3


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_control_characters_in_the_reason_never_reach_the_clerk(tmp_path: Path, transport: str) -> None:
    status = b"SIP/2.0 486 Busy\x1b[2J\x1b]0;pwned\x07 Here\x00\rX\x7f"
    with responder(lambda req: [echo_reply(req, status)]) as server:
        got = reply(make_monitor(tmp_path, server.port, transport), transport)
    assert got.level is Level.WARNING
    assert isinstance(got.value, str) and printable(got.value) and got.value.startswith("486 Busy")
    assert got.message is not None and printable(got.message.en) and printable(got.message.zh)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_60_kb_reason_is_cut(tmp_path: Path, transport: str) -> None:
    status = b"SIP/2.0 200 " + b"O" * 60_000
    with responder(lambda req: [echo_reply(req, status)]) as server:
        monitor = make_monitor(tmp_path, server.port, transport)
        got = reply(monitor, transport)
        assert got.level is Level.OK
        assert isinstance(got.value, str) and len(got.value) <= 4 + 200
        assert got.message is not None and len(got.message.en) < 300
        assert reply(monitor, transport).level is Level.OK  # and polls on
