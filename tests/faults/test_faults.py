"""Fault suite: real components, faults injected one at a time and all together.

For each fault: the right alert, recovery without a restart where the device
comes back, and nothing acknowledged or recorded lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import monitors
from app.core.alerts import AlertState
from app.kernel.model import Level
from tests.environment.simulators import TextLineBoard
from tests.faults.seat import Seat, wait_for
from tests.printer.conftest import PrivateCups

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def board(tmp_path: Path) -> Iterator[TextLineBoard]:
    device = TextLineBoard(tmp_path / "ttyUSB0", interval=0.1)
    device.plug()
    try:
        yield device
    finally:
        device.unplug()


def seat_config(cupsd: PrivateCups, queue: str, board: TextLineBoard) -> str:
    return (
        f'[monitors.printer]\ninterval = 0.5\nserver = "{cupsd.server}"\nprinters = ["{queue}"]\n'
        "[monitors.environment]\ninterval = 0.5\nstale_after = 3\n"
        f'[[monitors.environment.sensors]]\nname = "desk"\nprotocol = "text"\nport = "{board.link}"\n'
        "period = 0.2\n"
    )


@pytest.fixture
def seat(tmp_path: Path, cupsd: PrivateCups, board: TextLineBoard) -> Iterator[tuple[Seat, str]]:
    queue = cupsd.add_queue("fault")
    desk = Seat(tmp_path / "seat", seat_config(cupsd, queue, board), ["printer", "environment"])
    try:
        yield desk, queue
    finally:
        desk.stop()
        subprocess.run(["cancel", "-a", queue], env=cupsd.env, capture_output=True)
        subprocess.run(["lpadmin", "-x", queue], env=cupsd.env, capture_output=True)


def jam_and_clear(cupsd: PrivateCups, seat: Seat, queue: str) -> None:
    key = f"printer.status[{queue}]"
    seat.wait_level(key, Level.OK)
    cupsd.set_mode(queue, "jam")
    cupsd.submit(queue)
    state = seat.wait_level(key, Level.CRITICAL)
    assert "Paper jam" in state.message("en")  # type: ignore[misc]
    assert "卡纸" in state.message("zh_CN")  # type: ignore[misc]
    (alert,) = seat.alerts(key)
    seat.engine.acknowledge(alert.id, note="cleared the tray")
    cupsd.set_mode(queue, "ok")
    subprocess.run(["cupsenable", queue], env=cupsd.env, check=True)
    cupsd.submit(queue)
    seat.wait_level(key, Level.OK)
    wait_for(lambda: alert.state is AlertState.CLOSED, 10, "the acknowledged jam alert to close")


def test_printer_jam_raises_and_recovers(seat: tuple[Seat, str], cupsd: PrivateCups) -> None:
    desk, queue = seat
    jam_and_clear(cupsd, desk, queue)
    rows = desk.runtime.history.query(  # type: ignore[union-attr]
        "SELECT acked_by, note, ended FROM alerts WHERE key=?", (f"printer.status[{queue}]",)
    )
    assert len(rows) == 1
    assert rows[0][1] == "cleared the tray"
    assert rows[0][2] is not None


def test_print_server_stopped_is_unknown_then_recovers(seat: tuple[Seat, str], cupsd: PrivateCups) -> None:
    desk, queue = seat
    key = f"printer.status[{queue}]"
    desk.wait_level(key, Level.OK)
    cupsd.stop()
    try:
        state = desk.wait_level(key, Level.UNKNOWN)
        assert "cannot be reached" in state.message("en")  # type: ignore[misc]
        time.sleep(1.0)
        assert desk.level("environment.temperature[desk]") is Level.OK, "other monitors must go on"
    finally:
        cupsd.start()
    desk.wait_level(key, Level.OK, timeout=40)  # backoff after failures: up to a few polls


def test_sensor_port_closed_and_reopened(seat: tuple[Seat, str], board: TextLineBoard) -> None:
    desk, _ = seat
    desk.wait_level("environment.temperature[desk]", Level.OK)
    board.unplug()
    state = desk.wait_level("environment.sensor[desk]", Level.CRITICAL)
    assert "disconnected" in state.message("en").lower()  # type: ignore[misc]
    board.plug()
    desk.wait_level("environment.sensor[desk]", Level.OK, timeout=30)
    desk.wait_level("environment.temperature[desk]", Level.OK)
    (alert,) = desk.alerts("environment.sensor[desk]")
    assert alert.state is AlertState.CLEARED, "a cleared alert stays until the clerk has seen it"


def test_garbage_on_the_serial_line_is_survived(seat: tuple[Seat, str], board: TextLineBoard) -> None:
    desk, _ = seat
    desk.wait_level("environment.temperature[desk]", Level.OK)
    for _ in range(20):
        board.write(os.urandom(64) + b"\r\nT=99999,H=-5\r\n\xff\xfe garbage \x00\r\n")
        time.sleep(0.02)
    board.values["t"] = 31.5  # then real data again, out of the summer/winter range
    state = desk.wait_level("environment.temperature[desk]", Level.WARNING, Level.CRITICAL)
    assert state.value == 31.5
    bad = desk.state("environment.bad_frames[desk]")
    assert bad is not None and float(bad.value or 0) > 0  # type: ignore[arg-type]


def test_all_faults_together_then_all_recover(
    seat: tuple[Seat, str], cupsd: PrivateCups, board: TextLineBoard
) -> None:
    desk, queue = seat
    desk.wait_level(f"printer.status[{queue}]", Level.OK)
    desk.wait_level("environment.temperature[desk]", Level.OK)
    cupsd.set_mode(queue, "jam")
    cupsd.submit(queue)
    board.unplug()
    desk.wait_level(f"printer.status[{queue}]", Level.CRITICAL)
    desk.wait_level("environment.sensor[desk]", Level.CRITICAL)
    cupsd.stop()
    desk.wait_level(f"printer.status[{queue}]", Level.UNKNOWN)
    assert desk.engine.acknowledge_all("seen all") != []
    cupsd.start()
    cupsd.set_mode(queue, "ok")
    subprocess.run(["cupsenable", queue], env=cupsd.env, check=True)
    cupsd.submit(queue)
    board.plug()
    desk.wait_level(f"printer.status[{queue}]", Level.OK, timeout=40)
    desk.wait_level("environment.sensor[desk]", Level.OK, timeout=30)
    history = desk.runtime.history
    assert history is not None
    notes = {row[0] for row in history.query("SELECT note FROM alerts")}
    assert "seen all" in notes


# -- storage, configuration, crashes ------------------------------------------


def test_history_on_a_full_disk_loses_nothing_acknowledged(tmpfs: Callable[[str], Path]) -> None:
    small_disk = tmpfs("3m")
    config = '[monitors.computer]\ninterval = 0.3\nrequired_processes = ["dw-absent-crm"]\n'
    desk = Seat(small_disk / "seat", config, ["computer"])
    try:
        key = "computer.required_processes"
        desk.wait_level(key, Level.CRITICAL)
        filler = small_disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the disk to the last block
        try:
            for size in (65536, 4096, 512, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * size)
        finally:
            os.close(fd)
        (alert,) = desk.alerts(key)
        desk.engine.acknowledge(alert.id, note="acknowledged on a full disk")
        state = desk.wait_level("computer.history_storage", Level.CRITICAL)
        assert "full" in state.message("en")  # type: ignore[misc]
        assert desk.level(key) is Level.CRITICAL, "monitoring goes on while records cannot be saved"
        filler.unlink()
        desk.wait_level("computer.history_storage", Level.OK, timeout=20)
        history = desk.runtime.history
        assert history is not None
        assert history.pending_writes == 0
    finally:
        desk.stop()
    db = sqlite3.connect(desk.data_dir / "history.sqlite3")
    rows = db.execute("SELECT note, acked_by FROM alerts WHERE key=?", (key,)).fetchall()
    assert rows == [("acknowledged on a full disk", alert.acked_by)]
    db.close()


def test_corrupt_config_file_runs_with_defaults_and_says_why(tmp_path: Path) -> None:
    cfg = tmp_path / "deskwatch.toml"
    cfg.write_bytes(b"[monitors.computer\ninterval = \xff\xfe\n")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "check", "--json", "--only", "computer",
         "--config", str(cfg), "--data-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    payload = json.loads(result.stdout)
    assert payload["indicators"], "monitoring still runs on the defaults"
    assert any(str(cfg) in e and "(file)" in e for e in payload["config_errors"])
    assert f"{cfg}: (file):" in result.stderr


def test_kill_9_mid_write_loses_nothing_and_is_reported_at_next_start(tmp_path: Path) -> None:
    cfg = tmp_path / "deskwatch.toml"
    cfg.write_text(
        "[history]\nsample_seconds = 5\n"
        '[monitors.computer]\ninterval = 0.2\nrequired_processes = ["dw-absent-crm"]\n',
        "utf-8",
    )
    data = tmp_path / "data"
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "run",
        "--headless",
        "--config",
        str(cfg),
        "--data-dir",
        str(data),
    ]
    db_path = data / "history.sqlite3"

    def alert_rows() -> list[tuple[int, str]]:
        if not db_path.exists():
            return []
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return db.execute("SELECT id, key FROM alerts WHERE key='computer.required_processes'").fetchall()
        except sqlite3.Error:
            return []
        finally:
            db.close()

    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: alert_rows() != [], 30, "the first run to record its alert")
        time.sleep(1.5)  # let it write trend samples, then kill it in the middle of its work
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    ((alert_id, _),) = alert_rows()

    second = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:

        def restart_reported() -> bool:
            db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            try:
                return bool(
                    db.execute("SELECT 1 FROM alerts WHERE key='computer.unexpected_restart'").fetchall()
                )
            finally:
                db.close()

        wait_for(restart_reported, 30, "the second run to report that the first stopped unexpectedly")
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=30)
    assert second.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert [row[0] for row in alert_rows()] == [alert_id], "the open episode continued, no duplicate"
    db = sqlite3.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    db.close()


# -- the UI under faults ----------------------------------------------------------


def test_ui_stays_responsive_while_faults_come_and_go(
    qtbot: Any, tmp_path: Path, cupsd: PrivateCups, board: TextLineBoard
) -> None:
    from app.core.engine import IndicatorState
    from app.core.runtime import build_runtime
    from app.kernel.monitor import LoopLatencyProbe
    from app.ui.main import DeskwatchApp
    from monitors.computer import APP_STALL
    from tests.ui.conftest import FakeAutostart

    queue = cupsd.add_queue("ui")
    config = tmp_path / "deskwatch.toml"
    config.write_text(seat_config(cupsd, queue, board) + "[monitors.computer]\ninterval = 0.5\n", "utf-8")
    probe = LoopLatencyProbe()
    runtime = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=config,
        data_dir=tmp_path / "data",
        only=["computer", "printer", "environment"],
        loop_probe=probe,
    )
    app = DeskwatchApp(runtime, probe, tray=False, autostart=FakeAutostart())
    qtbot.addWidget(app.panel)
    stalls: list[float] = []

    def record(states: list[IndicatorState]) -> None:
        stalls.extend(float(s.value) for s in states if s.key == APP_STALL.id and s.value is not None)

    app.engine.add_state_listener(record)
    app.start()
    try:
        app.show_panel()
        printer, sensor = f"printer.status[{queue}]", "environment.sensor[desk]"

        def at(key: str, level: Level) -> bool:
            state = app.engine.state(key)
            return state is not None and state.level is level

        qtbot.waitUntil(lambda: at(printer, Level.OK) and at(sensor, Level.OK), timeout=20000)
        cupsd.set_mode(queue, "jam")
        cupsd.submit(queue)
        board.unplug()
        qtbot.waitUntil(lambda: at(printer, Level.CRITICAL) and at(sensor, Level.CRITICAL), timeout=20000)
        app.panel.show_alerts()
        cupsd.stop()
        qtbot.waitUntil(lambda: at(printer, Level.UNKNOWN), timeout=20000)
        cupsd.start()
        cupsd.set_mode(queue, "ok")
        subprocess.run(["cupsenable", queue], env=cupsd.env, check=True)
        cupsd.submit(queue)
        board.plug()
        qtbot.waitUntil(lambda: at(printer, Level.OK) and at(sensor, Level.OK), timeout=40000)
        texts = [app.panel.alerts.groups[n].text(0) for n in range(3)]
        assert any("Cleared" in t and "(0)" not in t for t in texts), texts
        qtbot.wait(1500)  # a few more lateness reports after the storm
    finally:
        app.stop()
    assert len(stalls) >= 4, "the computer monitor reports the loop's lateness every poll"
    # Issue 3's bar is 100 ms with a calm machine (tests/ui/test_responsiveness.py); here
    # cupsd restarts and pty churn compete for two cores, so allow for the scheduler.
    assert max(stalls) < 250.0, f"the event loop stalled: {sorted(stalls)[-5:]} ms"


# -- headset, PulseAudio, telephone line -----------------------------------------


@pytest.fixture
def phone_line(tmp_path: Path) -> Iterator[Callable[[], list[Any]]]:
    """Start SIPp on UDP and TCP (same port) through the returned function; stopped at the end."""
    from tests.telephone.conftest import free_port, start_sipp

    port = free_port()
    running: list[Any] = []

    def start() -> list[Any]:
        servers = [start_sipp(tmp_path, transport=t, port=port) for t in ("udp", "tcp")]
        running.extend(servers)
        return servers

    start.port = port  # type: ignore[attr-defined]
    yield start
    for server in running:
        server.stop()


def test_sip_server_gone_and_back(tmp_path: Path, phone_line: Any) -> None:
    """The PBX stops answering: critical "no reply"; it answers again: ok, without a restart."""
    servers = phone_line()
    config = (
        f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {phone_line.port}\ninterval = 0.5\n'
        "ping_spacing = 0.0\nreply_timeout = 0.5\n"
    )
    desk = Seat(tmp_path / "seat", config, ["telephone"])
    try:
        desk.wait_level("telephone.sip_reply[udp]", Level.OK)
        desk.wait_level("telephone.sip_reply[tcp]", Level.OK)
        for server in servers:
            server.stop()
        state = desk.wait_level("telephone.sip_reply[udp]", Level.CRITICAL)
        assert state.value == "no reply"
        desk.wait_level("telephone.sip_reply[tcp]", Level.CRITICAL)
        phone_line()
        desk.wait_level("telephone.sip_reply[udp]", Level.OK, timeout=40)
        desk.wait_level("telephone.sip_reply[tcp]", Level.OK, timeout=40)
        episodes = desk.alerts("telephone.sip_reply")
        assert episodes
        assert all(a.state is AlertState.CLEARED for a in episodes)
    finally:
        desk.stop()


def metric_levels(port: int) -> dict[str, float]:
    """``deskwatch_indicator_level`` by state key, read from a running Deskwatch's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode("utf-8")
    except OSError:
        return {}
    levels: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "deskwatch_indicator_level":
            for sample in family.samples:
                item = sample.labels["item"]
                key = sample.labels["indicator"] + (f"[{item}]" if item else "")
                levels[key] = sample.value
    return levels


#: Shutting down after SIGTERM: the scheduler's 5 s wait for polls in flight,
#: closing the audio stream (bounded even when PortAudio hangs), history, and
#: start-up slack for a loaded machine.
SHUTDOWN_BOUND_S = 5.0 + 5.0 + 10.0


def test_headset_unplugged_pulseaudio_restarted_and_sip_server_gone(tmp_path: Path, phone_line: Any) -> None:
    """Deskwatch runs as its own process, with its own PulseAudio.

    It used to neither see the unplug nor stop within 45 s of SIGTERM: the
    stream stalls when the source goes (or the server restarts), and
    PortAudio's stop/close of such a stream blocks for ever inside ALSA's
    pulse plugin, holding the lock every later PortAudio call needs.
    """
    from tests.audio.conftest import SINK, PulseServer
    from tests.telephone.conftest import free_port

    pulse = PulseServer(tmp_path / "pulse")
    pulse.start()
    servers = phone_line()
    metrics_port = free_port()
    config = tmp_path / "deskwatch.toml"
    config.write_text(
        f"[exporter]\nenabled = true\nport = {metrics_port}\n"
        f'[monitors.headset]\ndevice = "{SINK}"\ninterval = 0.5\n'
        f'[monitors.telephone]\npbx_host = "127.0.0.1"\npbx_port = {phone_line.port}\ninterval = 0.5\n'
        "ping_spacing = 0.0\nreply_timeout = 0.5\n"
        + "".join(f"[monitors.{m}]\nenabled = false\n" for m in ("computer", "printer", "recorder")),
        "utf-8",
    )
    command = [sys.executable, "-m", "app.cli", "run", "--headless", "--config", str(config),
               "--data-dir", str(tmp_path / "data")]  # fmt: skip
    app_log = tmp_path / "app.log"
    with app_log.open("wb") as stderr:
        app = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **pulse.env}, stdout=subprocess.DEVNULL, stderr=stderr
        )

    def log_tail() -> str:
        lines = app_log.read_text(errors="replace").splitlines()
        return "\n".join(line for line in lines if "ALSA" not in line and "pa_linux_alsa" not in line)[-3000:]

    def wait_level(key: str, *levels: Level, timeout: float = 60.0) -> None:
        wanted = {int(level) for level in levels}
        try:
            wait_for(lambda: metric_levels(metrics_port).get(key) in wanted, timeout, f"{key} at {levels}")
        except AssertionError as exc:
            seen = metric_levels(metrics_port).get(key)
            raise AssertionError(f"{exc} (last seen {seen})\n{log_tail()}") from None

    stopped_in: float | None = None
    try:
        wait_level("headset.connected", Level.OK)
        wait_level("telephone.sip_reply[udp]", Level.OK)
        pulse.unplug()  # the headset is pulled out
        wait_level("headset.connected", Level.CRITICAL)
        pulse.plug()
        wait_level("headset.connected", Level.OK)
        pulse.stop()  # the sound server itself goes away ...
        wait_level("headset.connected", Level.CRITICAL, Level.UNKNOWN)
        pulse.start()  # ... and comes back
        wait_level("headset.connected", Level.OK, timeout=60)
        for server in servers:  # the PBX stops answering
            server.stop()
        wait_level("telephone.sip_reply[udp]", Level.CRITICAL)
        assert metric_levels(metrics_port).get("headset.connected") == 0, "the headset is unaffected"
        phone_line()
        wait_level("telephone.sip_reply[udp]", Level.OK, timeout=40)
    finally:
        started = time.monotonic()
        app.terminate()
        try:
            app.wait(timeout=SHUTDOWN_BOUND_S)
            stopped_in = time.monotonic() - started
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
        pulse.stop()
    assert stopped_in is not None, f"did not stop within {SHUTDOWN_BOUND_S:g} s of SIGTERM\n{log_tail()}"
    assert app.returncode == 0, log_tail()
    assert "Traceback" not in app_log.read_text(errors="replace")
    db = sqlite3.connect(tmp_path / "data" / "history.sqlite3")
    rows = db.execute(
        "SELECT ended, message, raises FROM alerts WHERE key='headset.connected' ORDER BY id"
    ).fetchall()
    db.close()
    # Nobody acknowledged the unplug, so the server outage reopened that same episode (coalesced).
    assert sum(raises for _, _, raises in rows) >= 2, "unplug and the server outage each raised the alert"
    assert all(ended is not None for ended, _, _ in rows), "and each cleared without a restart"
    assert not any("not started" in (message or "") for _, message, _ in rows), "starting up is no fault"
