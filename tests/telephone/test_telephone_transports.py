"""Which SIP transports the PBX offers, against real SIPp on UDP only, TCP only and both (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.kernel.model import Level, Reading, worst
from app.kernel.monitor import MonitorContext
from monitors.telephone import OFFERED_FILE, TelephoneMonitor
from tests.audio.helpers import levels, monitor_settings
from tests.telephone.conftest import SippFactory


def make_monitor(tmp_path: Path, port: int, mode: str = "app", **overrides: object) -> TelephoneMonitor:
    # Default transports: ["udp", "tcp"], as a new seat gets them.
    options = {"pbx_host": "127.0.0.1", "pbx_port": port, "ping_spacing": 0.0, **overrides}
    context = MonitorContext(data_dir=tmp_path, mode=mode)
    return TelephoneMonitor(monitor_settings(TelephoneMonitor, **options), context)


def by_key(readings: list[Reading]) -> dict[str, Reading]:
    return {r.key: r for r in readings}


def judged(readings: list[Reading]) -> list[Level]:
    return [levels(TelephoneMonitor, [r])[r.indicator_id.split(".")[1]] for r in readings]


@pytest.mark.parametrize(("offered", "missing"), [("udp", "tcp"), ("tcp", "udp")])
def test_a_pbx_on_one_transport_is_up_and_the_other_is_not_offered(
    sipp_server: SippFactory, tmp_path: Path, offered: str, missing: str
) -> None:
    server = sipp_server("200 OK", transport=offered)
    monitor = make_monitor(tmp_path, server.port)
    for _ in range(3):  # stays so poll after poll: no alarm ever
        readings = monitor.poll()
        got = by_key(readings)
        assert got[f"telephone.sip_reply[{offered}]"].level is Level.OK
        absent = got[f"telephone.sip_reply[{missing}]"]
        assert absent.level is Level.NOT_SET_UP and absent.value == "not offered"
        assert absent.message is not None and "Not offered" in absent.message.en
        assert "未提供" in absent.message.zh
        # No loss, RTT or quality figures for a transport that was never there.
        assert not [k for k in got if k.endswith(f"[{missing}]") and "sip_reply" not in k]
        assert worst(judged(readings)) is Level.OK


def test_a_transport_that_answered_and_then_stopped_is_a_fault(
    sipp_server: SippFactory, tmp_path: Path
) -> None:
    udp = sipp_server("200 OK", transport="udp")
    tcp = sipp_server("200 OK", transport="tcp", port=udp.port)
    monitor = make_monitor(tmp_path, udp.port, pings_per_poll=1)
    first = by_key(monitor.poll())
    assert first["telephone.sip_reply[udp]"].level is Level.OK
    assert first["telephone.sip_reply[tcp]"].level is Level.OK
    tcp.stop()
    after = by_key(monitor.poll())
    assert after["telephone.sip_reply[udp]"].level is Level.OK
    stopped = after["telephone.sip_reply[tcp]"]
    assert stopped.level is Level.CRITICAL and stopped.value == "no reply"
    assert stopped.detail["offered"] is True


def test_the_memory_of_offered_transports_survives_a_restart(
    sipp_server: SippFactory, tmp_path: Path
) -> None:
    udp = sipp_server("200 OK", transport="udp")
    tcp = sipp_server("200 OK", transport="tcp", port=udp.port)
    make_monitor(tmp_path, udp.port, pings_per_poll=1).poll()
    memory = tmp_path / OFFERED_FILE
    assert memory.exists() and memory.stat().st_mode & 0o777 == 0o600
    tcp.stop()
    # Deskwatch restarted (a new monitor), TCP broke meanwhile: still a fault, not "not offered".
    for mode in ("app", "check"):
        again = by_key(make_monitor(tmp_path, udp.port, mode=mode, pings_per_poll=1).poll())
        assert again["telephone.sip_reply[tcp]"].level is Level.CRITICAL, mode
        assert again["telephone.sip_reply[udp]"].level is Level.OK


def test_a_line_that_never_answered_is_down_and_one_alert(tmp_path: Path) -> None:
    from app.core.config import load_config
    from app.core.engine import Engine
    from monitors.telephone import TelephoneMonitor
    from tests.telephone.conftest import free_port

    monitor = make_monitor(tmp_path, free_port(), pings_per_poll=1)
    readings = monitor.poll()
    got = by_key(readings)
    assert got["telephone.sip_reply[udp]"].level is Level.CRITICAL
    # Whether TCP is offered at all is not known while nothing answers: unknown, explained by UDP.
    assert got["telephone.sip_reply[tcp]"].level is Level.UNKNOWN
    assert got["telephone.sip_reply[tcp]"].caused_by == "telephone.sip_reply[udp]"
    engine = Engine(load_config({"telephone": TelephoneMonitor}, None), TelephoneMonitor.indicators)
    engine.ingest(readings)
    assert [a.key for a in engine.alerts.visible()] == ["telephone.sip_reply[udp]"]


def test_a_damaged_memory_file_is_ignored(sipp_server: SippFactory, tmp_path: Path) -> None:
    (tmp_path / OFFERED_FILE).write_bytes(b"\xff\x00 not json")
    server = sipp_server("200 OK", transport="udp")
    got = by_key(make_monitor(tmp_path, server.port, pings_per_poll=1).poll())
    assert got["telephone.sip_reply[udp]"].level is Level.OK
    assert got["telephone.sip_reply[tcp]"].level is Level.NOT_SET_UP
