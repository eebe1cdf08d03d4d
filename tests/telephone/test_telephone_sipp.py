"""The telephone monitor against a real SIPp answering OPTIONS on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.telephone import TelephoneMonitor
from tests.audio.helpers import levels, monitor_settings
from tests.telephone.conftest import SippFactory, free_port

ROOT = Path(__file__).resolve().parents[2]


def make_monitor(tmp_path: Path, port: int, **overrides: object) -> TelephoneMonitor:
    options = {"pbx_host": "127.0.0.1", "pbx_port": port, "ping_spacing": 0.0, **overrides}
    return TelephoneMonitor(monitor_settings(TelephoneMonitor, **options), MonitorContext(data_dir=tmp_path))


def by_key(readings: list[Reading]) -> dict[str, Reading]:
    return {r.key: r for r in readings}


def level_of(reading: Reading) -> Level:
    return levels(TelephoneMonitor, [reading])[reading.indicator_id.split(".")[1]]


def test_normal_replies_over_udp_and_tcp(sipp_server: SippFactory, tmp_path: Path) -> None:
    udp = sipp_server("200 OK", transport="udp")
    sipp_server("200 OK", transport="tcp", port=udp.port)
    readings = by_key(make_monitor(tmp_path, udp.port).poll())
    for transport in ("udp", "tcp"):
        reply = readings[f"telephone.sip_reply[{transport}]"]
        assert reply.value == "200 OK" and reply.level is Level.OK
        rtt = readings[f"telephone.rtt[{transport}]"]
        assert isinstance(rtt.value, float) and 0 < rtt.value < 100 and level_of(rtt) is Level.OK
        assert readings[f"telephone.loss[{transport}]"].value == 0
        assert readings[f"telephone.jitter[{transport}]"].value is not None
        mos = readings[f"telephone.mos[{transport}]"]
        assert isinstance(mos.value, float) and mos.value > 4.0 and level_of(mos) is Level.OK
        assert isinstance(readings[f"telephone.r_factor[{transport}]"].value, float)


def test_delayed_replies_raise_rtt_and_lower_mos(sipp_server: SippFactory, tmp_path: Path) -> None:
    server = sipp_server("200 OK", delay_ms=450)
    readings = by_key(make_monitor(tmp_path, server.port, transports=["udp"], pings_per_poll=2).poll())
    assert readings["telephone.sip_reply[udp]"].level is Level.OK
    rtt = readings["telephone.rtt[udp]"]
    assert isinstance(rtt.value, float) and 440 <= rtt.value < 700
    assert level_of(rtt) is Level.WARNING
    mos = readings["telephone.mos[udp]"]
    assert isinstance(mos.value, float) and mos.value < 4.2


def test_reply_slower_than_the_timeout_is_no_reply(sipp_server: SippFactory, tmp_path: Path) -> None:
    server = sipp_server("200 OK", delay_ms=1500)
    monitor = make_monitor(tmp_path, server.port, transports=["udp"], pings_per_poll=1, reply_timeout=0.5)
    readings = by_key(monitor.poll())
    reply = readings["telephone.sip_reply[udp]"]
    assert reply.value == "no reply" and reply.level is Level.CRITICAL
    assert "0.5 s" in reply.message.en  # type: ignore[union-attr]
    # Never answered: nothing is known of the line's quality, so no loss figure is claimed.
    assert "telephone.loss[udp]" not in readings


@pytest.mark.parametrize(
    ("reply", "transport"),
    [("486 Busy Here", "udp"), ("404 Not Found", "tcp"), ("503 Service Unavailable", "udp")],
)
def test_error_replies_are_warnings(
    sipp_server: SippFactory, tmp_path: Path, reply: str, transport: str
) -> None:
    server = sipp_server(reply, transport=transport)
    monitor = make_monitor(tmp_path, server.port, transports=[transport], pings_per_poll=1)
    got = by_key(monitor.poll())[f"telephone.sip_reply[{transport}]"]
    assert got.value == reply and got.level is Level.WARNING
    assert reply in got.message.en and "交换机应答错误" in got.message.zh  # type: ignore[union-attr]


def test_expected_codes_are_configurable(sipp_server: SippFactory, tmp_path: Path) -> None:
    server = sipp_server("404 Not Found")
    monitor = make_monitor(
        tmp_path, server.port, transports=["udp"], pings_per_poll=1, ok_codes=["2xx", "404"]
    )
    assert by_key(monitor.poll())["telephone.sip_reply[udp]"].level is Level.OK


def test_server_gone(sipp_server: SippFactory, tmp_path: Path) -> None:
    udp = sipp_server("200 OK", transport="udp")
    tcp = sipp_server("200 OK", transport="tcp", port=udp.port)
    monitor = make_monitor(tmp_path, udp.port, pings_per_poll=2, window=4)
    assert by_key(monitor.poll())["telephone.sip_reply[udp]"].level is Level.OK
    udp.stop()
    tcp.stop()
    readings = by_key(monitor.poll())
    for transport in ("udp", "tcp"):
        reply = readings[f"telephone.sip_reply[{transport}]"]
        assert reply.value == "no reply" and reply.level is Level.CRITICAL
        assert "refused" in reply.message.en  # type: ignore[union-attr]
        loss = readings[f"telephone.loss[{transport}]"]
        assert loss.value == 50 and level_of(loss) is Level.CRITICAL


def test_plain_tcp_reachability(sipp_server: SippFactory, tmp_path: Path) -> None:
    tcp = sipp_server("200 OK", transport="tcp")
    closed = free_port()
    options = {"tcp_targets": [f"127.0.0.1:{tcp.port}", f"127.0.0.1:{closed}", "nonsense"]}
    monitor = TelephoneMonitor(
        monitor_settings(TelephoneMonitor, **options), MonitorContext(data_dir=tmp_path)
    )
    assert monitor.setup_hint() is None
    readings = by_key(monitor.poll())
    assert not any(key.startswith("telephone.sip_reply") for key in readings)
    up = readings[f"telephone.tcp_connect[127.0.0.1:{tcp.port}]"]
    assert isinstance(up.value, float) and up.level is Level.OK
    down = readings[f"telephone.tcp_connect[127.0.0.1:{closed}]"]
    assert down.value is None and down.level is Level.CRITICAL
    assert readings["telephone.tcp_connect[nonsense]"].level is Level.WARNING


def test_unconfigured_line_explains_how_to_set_it_up(tmp_path: Path) -> None:
    monitor = TelephoneMonitor(monitor_settings(TelephoneMonitor), MonitorContext(data_dir=tmp_path))
    hint = monitor.setup_hint()
    assert hint is not None and "pbx_host" in hint.en and "pbx_host" in hint.zh
    (reading,) = monitor.poll()
    assert reading.level is Level.NOT_SET_UP and reading.message == hint and reading.value is None


def test_check_json_lists_the_telephone_indicators(sipp_server: SippFactory, tmp_path: Path) -> None:
    server = sipp_server("200 OK")
    config = tmp_path / "deskwatch.toml"
    # The default transports (UDP and TCP) against a PBX that listens on UDP only, as most do.
    config.write_text(f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {server.port}\n', "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", "--json", "--only", "telephone", "--config", str(config),
         "--data-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=60,
    )  # fmt: skip
    payload = json.loads(done.stdout)
    by_id = {i["id"]: i for i in payload["indicators"]}
    assert by_id["telephone.sip_reply[udp]"]["value"] == "200 OK"
    assert by_id["telephone.mos[udp]"]["level"] == "ok" and by_id["telephone.rtt[udp]"]["unit"] == "ms"
    assert by_id["telephone.sip_reply[tcp]"]["level"] == "not_set_up"
    assert done.returncode == 0, done.stderr
