"""The collector's names, units, labels and alert states, and the exporter's config handling."""

from __future__ import annotations

import socket
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

import monitors
from app.core.config import Config, load_config
from app.core.engine import Engine
from app.core.exporter import Exporter, metric_name
from app.core.history import History
from app.core.i18n import Text
from app.core.model import Level, Reading
from app.core.monitor import CheckResult
from app.core.selftest import DeviceCheck, SelfTestResult, store
from monitors.computer import APP_STALL, CPU, DISK_SYSTEM, LOAD, REQUIRED
from tests.conftest import FakeClock


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
