"""The computer monitor against the real machine: psutil, processes, a real full disk."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

import monitors
from app.core.runtime import build_runtime
from app.kernel.model import Level
from app.kernel.monitor import LoopLatencyProbe
from tests.cli import run_deskwatch


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deskwatch.toml"
    path.write_text(text, "utf-8")
    return path


def test_check_json_lists_real_computer_values(tmp_path: Path) -> None:
    result = run_deskwatch("check", "--json", "--data-dir", str(tmp_path), "--only", "computer")
    payload = json.loads(result.stdout)
    by_id = {i["id"]: i for i in payload["indicators"]}
    memory = by_id["computer.memory_available"]
    expected = 100 * psutil.virtual_memory().available / psutil.virtual_memory().total
    assert memory["unit"] == "%" and abs(memory["value"] - expected) < 5
    assert memory["device"] == "computer" and memory["label"] == "Memory available"
    disk = by_id["computer.disk_free_system"]
    usage = psutil.disk_usage("/")
    assert abs(disk["value"] - 100 * usage.free / usage.total) < 1
    assert 0 <= by_id["computer.cpu"]["value"] <= 100
    assert {"id", "device", "label", "value", "unit", "level", "message"} <= set(memory)
    worst = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}[payload["level"]]
    assert result.returncode == worst


def test_check_table_in_chinese(tmp_path: Path) -> None:
    result = run_deskwatch(
        "check", "--data-dir", str(tmp_path), "--only", "computer", env={"LANG": "zh_CN.UTF-8"}
    )
    assert "电脑系统" in result.stdout and "可用内存" in result.stdout and "状态" in result.stdout


@pytest.fixture
def forbidden_process(tmp_path: Path) -> Iterator[str]:
    name = "dw-forbidden-game"
    binary = tmp_path / name
    shutil.copy("/bin/sleep", binary)
    proc = subprocess.Popen([str(binary), "60"])
    try:
        yield name
    finally:
        proc.kill()
        proc.wait()


def test_forbidden_and_missing_processes_are_critical(tmp_path: Path, forbidden_process: str) -> None:
    running = psutil.Process().name()  # this test's own interpreter is certainly running
    cfg = config_file(
        tmp_path,
        "[monitors.computer]\n"
        f'forbidden_processes = ["{forbidden_process}"]\n'
        f'required_processes = ["dw-crm-client", "{running}"]\n',
    )
    result = run_deskwatch(
        "check", "--json", "--config", str(cfg), "--data-dir", str(tmp_path), "--only", "computer"
    )
    by_id = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    assert by_id["computer.forbidden_processes"]["level"] == "critical"
    assert forbidden_process in by_id["computer.forbidden_processes"]["message"]
    assert by_id["computer.required_processes"]["level"] == "critical"
    assert by_id["computer.required_processes"]["message"] == "Not running: dw-crm-client"
    assert result.returncode == 2


def test_filling_the_recordings_disk_turns_it_critical(tmp_path: Path, tmpfs: Callable[[str], Path]) -> None:
    scratch_disk = tmpfs("4m")
    cfg = config_file(tmp_path, f'recordings_dir = "{scratch_disk}"\n')
    args = ("check", "--json", "--config", str(cfg), "--data-dir", str(tmp_path), "--only", "computer")

    def level() -> str:
        indicators = json.loads(run_deskwatch(*args).stdout)["indicators"]
        return next(i["level"] for i in indicators if i["id"] == "computer.disk_free_recordings")

    assert level() == "ok"
    (scratch_disk / "a").write_bytes(b"\0" * int(3.65 * 2**20))  # ~91 % used: warning
    assert level() == "warning"
    (scratch_disk / "b").write_bytes(b"\0" * int(0.2 * 2**20))  # ~96 % used: critical
    assert level() == "critical"


def test_unclean_restart_is_reported_once_and_stays_until_acknowledged(tmp_path: Path) -> None:
    heartbeat = tmp_path / "heartbeat.json"
    stale_boot = psutil.boot_time() - 3600
    heartbeat.write_text(json.dumps({"boot_time": stale_boot, "last_beat": time.time() - 60, "clean": False}))
    runtime = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=tmp_path / "none.toml",
        data_dir=tmp_path,
        only=["computer"],
    )
    runtime.scheduler.poll_once()
    state = runtime.engine.state("computer.unexpected_restart")
    assert state is not None and state.level is Level.CRITICAL
    assert "without a clean shutdown" in state.message("en")  # type: ignore[misc]
    runtime.scheduler.poll_once()
    assert runtime.engine.state("computer.unexpected_restart").level is Level.OK  # type: ignore[union-attr]
    (alert,) = [a for a in runtime.engine.alerts.visible() if a.key == "computer.unexpected_restart"]
    assert alert.needs_attention and alert.ended is not None
    runtime.stop()
    assert json.loads(heartbeat.read_text())["clean"] is True

    # After a clean stop, the next start reports nothing.
    runtime2 = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=tmp_path / "none.toml",
        data_dir=tmp_path,
        only=["computer"],
    )
    runtime2.scheduler.poll_once()
    restarts = [a for a in runtime2.engine.alerts.visible() if a.key == "computer.unexpected_restart"]
    assert [a.id for a in restarts] == [alert.id]  # only the old one, still unacknowledged
    runtime2.stop()


def test_app_stall_comes_from_the_loop_probe(tmp_path: Path) -> None:
    probe = LoopLatencyProbe()
    runtime = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=tmp_path / "none.toml",
        data_dir=tmp_path,
        only=["computer"],
        mode="check",
        loop_probe=probe,
    )
    probe.report(30)
    probe.report(2500)
    runtime.scheduler.poll_once()
    state = runtime.engine.state("computer.app_stall")
    assert state is not None and state.value == 2500 and state.level is Level.CRITICAL
    runtime.scheduler.poll_once()
    assert runtime.engine.state("computer.app_stall").value == 2500  # type: ignore[union-attr]
    runtime.scheduler.stop()


def test_cpu_usage_is_measured_from_our_own_reference_on_any_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime starts monitors on one thread and polls on another.

    psutil.cpu_percent(None) keeps its reference per thread, so the first poll
    on the scheduler's worker read 0.0 or 100.0 (two samples microseconds
    apart) whatever the machine did.  The monitor keeps its own reference.
    """
    import threading
    from collections import namedtuple

    cputimes = namedtuple("cputimes", "user nice system idle iowait")
    samples = iter([cputimes(40.0, 0.0, 10.0, 50.0, 0.0), cputimes(100.0, 0.0, 25.0, 75.0, 0.0)])
    moments = iter([1000.0, 1005.0])
    runtime = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=tmp_path / "none.toml",
        data_dir=tmp_path,
        mode="check",
        only=["computer"],
    )
    [monitor] = runtime.monitors
    monkeypatch.setattr(psutil, "cpu_times", lambda percpu=False: next(samples))
    monkeypatch.setattr(time, "monotonic", lambda: next(moments))
    for work in (monitor.start, monitor._cpu):  # type: ignore[attr-defined]
        polled: list[Any] = []
        thread = threading.Thread(target=lambda work=work, out=polled: out.extend(work() or []))
        thread.start()
        thread.join()
    # 100 CPU-seconds passed between start() and the poll, 75 of them busy.
    assert [r.value for r in polled] == [75.0]
