"""The collector's names, units, labels and alert states, and the exporter's config handling."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

import monitors
from app.core.alerts import FLAP_WINDOW_SECONDS
from app.core.config import Config, load_config
from app.core.engine import Engine
from app.core.exporter import Exporter, metric_name
from app.core.history import History
from app.core.reports import declared_indicators
from app.core.selftest import DeviceCheck, SelfTestResult, store
from app.kernel.i18n import Text
from app.kernel.model import Level, Reading
from app.kernel.monitor import CheckResult
from monitors.computer import APP_STALL, CPU, DISK_SYSTEM, LOAD, REQUIRED
from tests.conftest import FakeClock
from tests.fleet.conftest import http_get, require


def _config(tmp_path: Path, text: str = "") -> Config:
    path = tmp_path / "deskwatch.toml"
    path.write_text(text, "utf-8")
    return load_config(monitors.discover(), path)


def _samples(exporter: Exporter) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(exporter.scrape()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _engine(tmp_path: Path, clock: FakeClock, history: History | None = None) -> Engine:
    config = _config(tmp_path)
    return Engine(config, monitors.discover()["computer"].indicators, history, clock=clock, debounce=False)


def test_names_follow_prometheus_conventions() -> None:
    assert metric_name(CPU) == "deskwatch_computer_cpu_ratio"
    assert metric_name(APP_STALL) == "deskwatch_computer_app_stall_seconds"
    assert metric_name(LOAD) == "deskwatch_computer_load"  # no unit: no suffix


def test_values_are_scaled_to_base_units_with_item_and_device(tmp_path: Path, clock: FakeClock) -> None:
    engine = _engine(tmp_path, clock)
    engine.ingest(
        [
            Reading(CPU.id, 42.0),
            Reading(APP_STALL.id, 250.0),
            Reading(DISK_SYSTEM.id, 3.0, instance="C:"),
            Reading(REQUIRED.id, 1, Level.CRITICAL, Text("Not running: crm", "未运行:crm")),
        ]
    )
    samples = _samples(Exporter(engine, None))
    assert samples["deskwatch_computer_cpu_ratio"] == [({"item": "", "device": "computer"}, 0.42)]
    assert samples["deskwatch_computer_app_stall_seconds"][0][1] == 0.25
    labels, value = samples["deskwatch_computer_disk_free_system_ratio"][0]
    assert (labels["item"], value) == ("C:", 0.03)
    # A monitor-judged indicator has a level but no value gauge.
    assert "deskwatch_computer_required_processes" not in samples
    levels = {(lb["indicator"], lb["item"]): v for lb, v in samples["deskwatch_indicator_level"]}
    assert levels[(CPU.id, "")] == 0
    assert levels[(DISK_SYSTEM.id, "C:")] == int(Level.CRITICAL)
    assert levels[(REQUIRED.id, "")] == int(Level.CRITICAL)
    info = samples["deskwatch_build_info"][0][0]
    assert info["version"] and info["python"]


def test_alert_states_follow_the_lifecycle(tmp_path: Path, clock: FakeClock) -> None:
    engine = _engine(tmp_path, clock)
    exporter = Exporter(engine, None)
    engine.ingest([Reading(REQUIRED.id, 1, Level.CRITICAL)])

    def states() -> dict[str, float]:
        samples = _samples(exporter)
        per_alert = [lb["state"] for lb, v in samples.get("deskwatch_alert_state", []) if v == 1]
        assert len(per_alert) <= 1
        counts = {lb["state"]: v for lb, v in samples["deskwatch_alerts"]}
        return {"state": per_alert[0] if per_alert else None, **counts}  # type: ignore[dict-item]

    assert states() == {"state": "active", "active": 1, "acknowledged": 0, "cleared": 0}
    alert = engine.alerts.visible()[0]
    engine.acknowledge(alert.id, note="starting the CRM")
    assert states() == {"state": "acknowledged", "active": 0, "acknowledged": 1, "cleared": 0}
    engine.ingest([Reading(REQUIRED.id, 0, Level.OK)])
    assert states() == {"state": None, "active": 0, "acknowledged": 0, "cleared": 0}
    # Clearing without acknowledgement keeps it visible as "cleared".
    engine.ingest([Reading(REQUIRED.id, 1, Level.CRITICAL)])
    engine.ingest([Reading(REQUIRED.id, 0, Level.OK)])
    assert states()["state"] == "cleared"


def test_last_selftest_is_exported(tmp_path: Path, clock: FakeClock) -> None:
    history = History(tmp_path / "h.sqlite3")
    engine = _engine(tmp_path, clock, history)
    exporter = Exporter(engine, history)
    assert "deskwatch_selftest_passed" not in _samples(exporter)
    ok = CheckResult(Text.same("a"), "pass", Text.same("fine"))
    bad = CheckResult(Text.same("b"), "fail", Text.same("silent"))
    skipped = CheckResult(Text.same("c"), "skipped", Text.same("not set up"))
    result = SelfTestResult(
        clock.now,
        clock.now + 2,
        (
            DeviceCheck("computer", CPU.device, Text.same("Computer"), (ok,)),
            DeviceCheck("recorder", REQUIRED.device, Text.same("Recorder"), (ok, bad)),
            DeviceCheck("printer", REQUIRED.device, Text.same("Printer"), (skipped,)),
        ),
    )
    store(history, result)
    samples = _samples(exporter)
    passed = {lb["monitor"]: v for lb, v in samples["deskwatch_selftest_passed"]}
    assert passed == {"computer": 1.0, "recorder": 0.0}
    assert samples["deskwatch_selftest_timestamp_seconds"][0][1] == clock.now + 2
    history.close()


def test_exporter_is_off_by_default_and_loopback_when_on(tmp_path: Path, clock: FakeClock) -> None:
    engine = _engine(tmp_path, clock)
    assert Exporter.from_config(_config(tmp_path), engine, None) is None
    exporter = Exporter.from_config(_config(tmp_path, "[exporter]\nenabled = true\n"), engine, None)
    assert exporter is not None
    assert (exporter.address, exporter.port, exporter.textfile) == ("127.0.0.1", 9858, None)
    textfile_only = Exporter.from_config(
        _config(tmp_path, '[exporter]\ntextfile = "/x/d.prom"\n'), engine, None
    )
    assert textfile_only is not None
    assert (textfile_only.port, textfile_only.textfile) == (None, Path("/x/d.prom"))


def test_a_taken_port_is_reported_not_raised(tmp_path: Path, clock: FakeClock) -> None:
    engine = _engine(tmp_path, clock)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        exporter = Exporter(engine, None, port=port)
        exporter.start()
        try:
            assert exporter.bound_port is None
            assert exporter.error is not None and str(port) in exporter.error
        finally:
            exporter.stop()


def test_textfile_write_is_atomic_and_reports_errors(tmp_path: Path, clock: FakeClock) -> None:
    engine = _engine(tmp_path, clock)
    engine.ingest([Reading(CPU.id, 10.0)])
    target = tmp_path / "collector" / "deskwatch.prom"
    exporter = Exporter(engine, None, port=None, textfile=target)
    assert exporter.write_textfile()
    assert "deskwatch_computer_cpu_ratio" in target.read_text("utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["deskwatch.prom"]
    blocked = tmp_path / "file"
    blocked.write_text("", "utf-8")
    bad = Exporter(engine, None, port=None, textfile=blocked / "deskwatch.prom")
    assert not bad.write_textfile()
    assert bad.error is not None


def _served(exporter: Exporter) -> str:
    """One scrape of ``exporter`` over HTTP, as Prometheus makes it (the server is stopped after)."""
    exporter.start()
    try:
        assert exporter.bound_port is not None, exporter.error
        return http_get(f"http://127.0.0.1:{exporter.bound_port}/metrics")
    finally:
        exporter.stop()


def _lint(text: str) -> str:
    """What ``promtool check metrics`` says about an exposition (nothing when it is clean)."""
    done = subprocess.run(
        [require("promtool"), "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    return (done.stdout + done.stderr).strip()


def test_a_scrape_of_every_declared_indicator_lints_clean(tmp_path: Path, clock: FakeClock) -> None:
    config = _config(tmp_path)
    indicators = list(declared_indicators(config.monitor_classes.values()).values())
    engine = Engine(config, indicators, None, clock=clock, debounce=False)
    engine.ingest([Reading(i.id, 1.0) for i in indicators])
    text = _served(Exporter(engine, None, port=0))
    assert _lint(text) == ""
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    # A count since start is a counter; hours left are exported in seconds under a name without "hours".
    assert families["deskwatch_environment_bad_frames"] == "counter"
    assert "deskwatch_recorder_time_left_seconds" in families
    assert not any("hours" in name for name in families)


#: A GBK file name (张三, bytes D5 C5 C8 FD) read from a share as a str: undecodable bytes become surrogates.
GBK_NAME = os.fsdecode(b"/mnt/share/" + "张三.wav".encode("gbk"))


def test_a_label_that_is_not_utf8_is_replaced_not_a_500(tmp_path: Path, clock: FakeClock) -> None:
    assert any("\udc80" <= c <= "\udcff" for c in GBK_NAME)
    engine = _engine(tmp_path, clock)
    engine.ingest([Reading(DISK_SYSTEM.id, 3.0, instance=GBK_NAME)])  # critical: an alert too
    text = _served(Exporter(engine, None, port=0))
    samples = {s.name: s.labels for f in text_string_to_metric_families(text) for s in f.samples}
    shown = "/mnt/share/\ufffd\ufffd\ufffd\ufffd.wav"
    assert samples["deskwatch_computer_disk_free_system_ratio"]["item"] == shown
    assert samples["deskwatch_alert_state"]["item"] == shown
    assert _lint(text) == ""


def test_three_flaps_of_one_indicator_are_one_series(tmp_path: Path, clock: FakeClock) -> None:
    engine = _engine(tmp_path, clock)
    starts = []
    for _ in range(3):  # raised and cleared, nobody looking: three "cleared" alerts stay visible
        # More than the flap window apart: each is an episode of its own (closer ones coalesce).
        starts.append(clock.advance(FLAP_WINDOW_SECONDS + 60))
        engine.ingest([Reading(REQUIRED.id, 1, Level.CRITICAL)])
        clock.advance(5)
        engine.ingest([Reading(REQUIRED.id, 0, Level.OK)])
    assert len(engine.alerts.visible()) == 3
    text = _served(Exporter(engine, None, port=0))
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    assert found["deskwatch_alert_state"] == [
        (
            {
                "indicator": REQUIRED.id,
                "item": "",
                "device": "computer",
                "state": "cleared",
                "severity": "critical",
            },
            1.0,
        )
    ]
    assert found["deskwatch_alert_started_timestamp_seconds"] == [
        ({"indicator": REQUIRED.id, "item": "", "device": "computer"}, starts[-1])
    ]
    assert {lb["state"]: v for lb, v in found["deskwatch_alerts"]}["cleared"] == 3
    # While one is present again, it is the one exported, not the latest cleared flap.
    clock.advance(60)
    engine.ingest([Reading(REQUIRED.id, 1, Level.WARNING)])
    samples = _samples(Exporter(engine, None))
    states = {(lb["state"], lb["severity"]) for lb, _ in samples["deskwatch_alert_state"]}
    assert states == {("cleared", "critical"), ("active", "warning")}
    # Back within the flap window, it continues the latest episode, which started then.
    assert samples["deskwatch_alert_started_timestamp_seconds"] == [
        ({"indicator": REQUIRED.id, "item": "", "device": "computer"}, starts[-1])
    ]


def test_not_set_up_is_level_4_and_never_an_alert(tmp_path: Path, clock: FakeClock) -> None:
    engine = _engine(tmp_path, clock)
    engine.ingest([Reading(REQUIRED.id, None, Level.NOT_SET_UP)])
    clock.advance(3600)
    engine.ingest([Reading(REQUIRED.id, None, Level.NOT_SET_UP)])
    exporter = Exporter(engine, None)
    samples = _samples(exporter)
    levels = {lb["indicator"]: v for lb, v in samples["deskwatch_indicator_level"]}
    assert levels[REQUIRED.id] == 4
    assert "deskwatch_alert_state" not in samples
    assert {lb["state"]: v for lb, v in samples["deskwatch_alerts"]} == {
        "active": 0,
        "acknowledged": 0,
        "cleared": 0,
    }
    assert "4 not set up" in exporter.scrape() and "never an alert" in exporter.scrape()
