"""The printer monitor against a real private cupsd whose backend injects faults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import monitors
from app.core.engine import IndicatorState
from app.core.runtime import Runtime, build_runtime
from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.printer import PrinterMonitor
from sensors import printing as p
from sensors.cups_printer import CupsServer, parse_server
from tests.printer.conftest import PrivateCups, wait_for

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, server: str, printers: list[str] | None, extra: str = "") -> Path:
    listed = "" if printers is None else f"printers = {json.dumps(printers)}\n"
    path = tmp_path / "deskwatch.toml"
    path.write_text(f'[monitors.printer]\nserver = "{server}"\n{listed}{extra}', "utf-8")
    return path


def runtime(
    tmp_path: Path, cupsd: PrivateCups, queue: str | None, extra: str = "", mode: str = "check"
) -> Runtime:
    cfg = write_config(tmp_path, cupsd.server, None if queue is None else [queue], extra)
    built = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=cfg,
        data_dir=tmp_path / "data",
        mode=mode,
        only=["printer"],
    )
    assert not built.config.errors, built.config.errors
    return built


def check(tmp_path: Path, cupsd: PrivateCups, queue: str, extra: str = "") -> dict[str, IndicatorState]:
    """Poll the printer monitor once through the real runtime; states by indicator name."""
    built = runtime(tmp_path, cupsd, queue, extra)
    try:
        built.scheduler.poll_once()
    finally:
        built.scheduler.stop(timeout=1)
    return {s.indicator.name: s for s in built.engine.states() if s.instance == queue}


def job_state(cupsd: PrivateCups, job_id: int) -> int:
    job = CupsServer(cupsd.server).job("", job_id)
    assert job is not None
    return job.state


def wait_job(cupsd: PrivateCups, job_id: int, states: set[int], timeout: float = 15) -> None:
    wait_for(lambda: job_state(cupsd, job_id) in states, timeout, f"job {job_id} to reach {states}")


def printer_state(cupsd: PrivateCups, queue: str) -> p.PrinterSnapshot:
    snap = CupsServer(cupsd.server).snapshots([queue], 0)[queue]
    assert snap is not None
    return snap


def test_healthy_printer_is_ok_and_reports_print_time(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    job = cupsd.submit(queue)
    wait_job(cupsd, job, {p.JOB_COMPLETED})
    states = check(tmp_path, cupsd, queue)
    assert states["status"].level is Level.OK, states["status"].message
    assert states["status"].value == "idle" and states["status"].message == p.STATE_TEXT[p.STATE_IDLE]
    assert states["accepting_jobs"].value is True and states["accepting_jobs"].level is Level.OK
    assert states["queued_jobs"].value == 0 and states["oldest_job_age"].value == 0
    assert states["failed_jobs"].value == 0 and states["failed_jobs"].level is Level.OK
    assert (
        states["last_job_seconds"].level is Level.OK
        and 0 <= float(states["last_job_seconds"].value or 0) < 10
    )
    assert states["last_job_seconds"].detail["job_id"] == job


FAULTS = [
    # mode, raw keyword, level, clerk message en / zh, the printer's own words, queue stops
    ("jam", "media-jam-error", Level.CRITICAL, "Paper jam", "卡纸", "Paper jam in tray 1", True),
    ("empty", "media-empty-error", Level.CRITICAL, "Out of paper", "缺纸", "Tray 1 is empty", True),
    ("toner", "toner-low-warning", Level.WARNING, "Toner low", "碳粉不足", "", False),
    ("door", "door-open-error", Level.CRITICAL, "Door open", "盖门打开", "Front door open", True),
    # Offline: the backend keeps retrying (queue processing) until the printer is back.
    (
        "offline",
        "offline-report",
        Level.CRITICAL,
        "Printer offline",
        "打印机脱机",
        "Printer not responding",
        False,
    ),
]


@pytest.mark.parametrize(
    ("mode", "keyword", "level", "en", "zh", "says", "stops"), FAULTS, ids=[f[0] for f in FAULTS]
)
def test_fault_raises_alert_in_clerk_words_and_recovery_clears_it(
    tmp_path: Path,
    cupsd: PrivateCups,
    queue: str,
    mode: str,
    keyword: str,
    level: Level,
    en: str,
    zh: str,
    says: str,
    stops: bool,
) -> None:
    cupsd.set_mode(queue, mode)
    job = cupsd.submit(queue)
    wait_for(lambda: cupsd.jobs_run(queue) >= 1, what="the backend to run")
    wait_for(lambda: keyword in printer_state(cupsd, queue).reasons, what=f"reason {keyword}")
    if stops:
        wait_for(lambda: printer_state(cupsd, queue).state == p.STATE_STOPPED, what="the queue to stop")

    status = check(tmp_path, cupsd, queue)["status"]
    assert status.level is level, status.message
    assert status.message is not None
    assert status.message.en.startswith(en) and status.message.zh.startswith(zh)
    if says:
        assert says in status.message.en  # the printer's own words follow the clerk's
    # The raw keyword is kept for IT and history: in the detail and in the value.
    assert keyword in status.detail["reasons"] and keyword in str(status.value)
    assert keyword.rsplit("-", 1)[0] in status.detail["keywords"]

    # The printer is fixed: the backend clears its faults and the queue resumes.
    cupsd.set_mode(queue, "ok")
    if stops:
        cupsd.run("cupsenable", queue)
    elif level is Level.WARNING:
        job = cupsd.submit(queue)  # a printer reports new toner with its next job
    wait_job(cupsd, job, {p.JOB_COMPLETED})
    wait_for(lambda: keyword not in printer_state(cupsd, queue).reasons, what=f"{keyword} to clear")
    after = check(tmp_path, cupsd, queue)
    assert after["status"].level is Level.OK, after["status"].message
    assert after["status"].message == p.STATE_TEXT[p.STATE_IDLE]  # no stale fault text
    assert after["queued_jobs"].value == 0


def test_queue_paused_with_cupsdisable_and_rejecting_jobs(
    tmp_path: Path, cupsd: PrivateCups, queue: str
) -> None:
    cupsd.run("cupsdisable", "-r", "Toner being replaced", queue)
    cupsd.run("cupsreject", "-r", "Closed for maintenance", queue)
    states = check(tmp_path, cupsd, queue)
    status = states["status"]
    assert status.level is Level.CRITICAL
    assert status.message is not None
    assert status.message.en.startswith("Print queue paused") and status.message.zh.startswith(
        "打印队列已暂停"
    )
    assert status.detail["reasons"] == ["paused"] and status.detail["state_name"] == "stopped"
    assert states["accepting_jobs"].value is False and states["accepting_jobs"].level is Level.CRITICAL

    cupsd.run("cupsenable", queue)
    cupsd.run("cupsaccept", queue)
    states = check(tmp_path, cupsd, queue)
    assert states["status"].level is Level.OK and states["accepting_jobs"].level is Level.OK


def test_job_stuck_behind_slow_backend_then_cancel_clears(
    tmp_path: Path, cupsd: PrivateCups, queue: str
) -> None:
    thresholds = (
        '[indicators."printer.oldest_job_age"]\nwarning = 1.0\ncritical = 2.0\n'
        "warning_clear = 1.0\ncritical_clear = 2.0\n"
        '[indicators."printer.queued_jobs"]\nwarning = 2\ncritical = 4\n'
        "warning_clear = 2\ncritical_clear = 4\n"
    )
    cupsd.set_mode(queue, "slow60")
    first = cupsd.submit(queue)
    second = cupsd.submit(queue)
    wait_job(cupsd, first, {p.JOB_PROCESSING})
    created = time.time()
    time.sleep(max(0.0, created + 2.5 - time.time()))
    states = check(tmp_path, cupsd, queue, thresholds)
    age = states["oldest_job_age"]
    assert age.level is Level.CRITICAL and float(age.value or 0) >= 2
    assert age.detail["job_id"] == first
    assert age.message is not None and f"Job {first} has waited" in age.message.en
    assert states["queued_jobs"].value == 2 and states["queued_jobs"].level is Level.WARNING
    assert states["status"].level is Level.OK  # the printer itself reports no fault

    cupsd.run("cancel", "-a", queue)
    wait_job(cupsd, second, {p.JOB_CANCELED})
    states = check(tmp_path, cupsd, queue, thresholds)
    assert states["oldest_job_age"].level is Level.OK and states["queued_jobs"].value == 0


def test_slow_printing_warns(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    cupsd.set_mode(queue, "slow2")
    job = cupsd.submit(queue)
    wait_job(cupsd, job, {p.JOB_COMPLETED})
    extra = (
        '[indicators."printer.last_job_seconds"]\nwarning = 1.5\ncritical = 30\n'
        "warning_clear = 1.5\ncritical_clear = 30\n"
    )
    took = check(tmp_path, cupsd, queue, extra)["last_job_seconds"]
    assert took.level is Level.WARNING and 2 <= float(took.value or 0) < 10
    assert took.message is not None and f"Job {job} took" in took.message.en


def test_failed_job_is_counted(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    cupsd.run("lpadmin", "-p", queue, "-o", "printer-error-policy=abort-job")
    cupsd.set_mode(queue, "fail")
    job = cupsd.submit(queue)
    wait_job(cupsd, job, {p.JOB_ABORTED})
    states = check(tmp_path, cupsd, queue)
    failed = states["failed_jobs"]
    assert failed.value == 1 and failed.level is Level.WARNING
    assert failed.detail["job_ids"] == [job]
    assert failed.message is not None and "1 job(s) failed" in failed.message.en


def test_missing_printer_and_default_printer(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    states = check(tmp_path, cupsd, "no-such-printer")
    status = states["status"]
    assert status.level is Level.CRITICAL and status.value == "missing"
    assert status.message is not None and "no-such-printer is not set up" in status.message.en

    # With no printer configured the monitor follows the server's default printer.
    cupsd.run("lpadmin", "-d", queue)
    built = runtime(tmp_path, cupsd, None)
    try:
        built.scheduler.poll_once()
    finally:
        built.scheduler.stop(timeout=1)
    assert {s.instance for s in built.engine.states()} == {queue}


def test_alert_lifecycle_keeps_raw_keyword_in_history(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    built = runtime(tmp_path, cupsd, queue, mode="app")
    try:
        cupsd.set_mode(queue, "jam")
        cupsd.submit(queue)
        wait_for(lambda: printer_state(cupsd, queue).state == p.STATE_STOPPED, what="the jam")
        built.scheduler.poll_once()
        alert = built.engine.alerts.open_for(f"printer.status[{queue}]")
        assert alert is not None and alert.level is Level.CRITICAL
        assert alert.message is not None and alert.message.zh.startswith("卡纸")
        assert "media-jam-error" in str(alert.last_value)

        cupsd.set_mode(queue, "ok")
        cupsd.run("cupsenable", queue)
        wait_for(lambda: not printer_state(cupsd, queue).reasons, what="recovery")
        built.scheduler.poll_once()
        assert built.engine.alerts.open_for(f"printer.status[{queue}]") is None
        assert built.history is not None
        stored = built.history.alerts_between(0, time.time() + 1)
        ours = [a for a in stored if a.key == f"printer.status[{queue}]"]
        assert len(ours) == 1 and ours[0].ended is not None
        assert "media-jam-error" in str(ours[0].last_value)
    finally:
        built.stop()


def test_self_test_prints_a_real_test_page(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    built = runtime(tmp_path, cupsd, queue)
    monitor = built.monitors[0]
    assert isinstance(monitor, PrinterMonitor)
    before = cupsd.jobs_run(queue)
    results = monitor.self_test({"test_page": True})
    assert results is not None and [r.status for r in results] == ["pass", "pass"], results
    assert results[1].message.en.startswith("Test page printed")
    assert cupsd.jobs_run(queue) == before + 1  # the backend really received the page

    # A printer that jams on the page: the check fails and says why, in clerk words.
    cupsd.set_mode(queue, "jam")
    results = monitor.self_test({"test_page": True})
    assert results is not None and results[-1].status == "fail"
    assert "Paper jam" in results[-1].message.en and "卡纸" in results[-1].message.zh
    # And the state check without a test page now fails too.
    state_only = monitor.self_test({})
    assert state_only is not None and [r.status for r in state_only] == ["fail"]
    built.stop()


def deskwatch(*args: str, cups_server: str = "127.0.0.1:1") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CUPS_SERVER": cups_server},  # never the machine's own CUPS
        timeout=60,
    )


def test_empty_server_setting_means_the_system_cups(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    """``server = ""`` uses libcups' own choice, which follows CUPS_SERVER and client.conf."""
    cfg = tmp_path / "deskwatch.toml"
    cfg.write_text(f'[monitors.printer]\nprinters = ["{queue}"]\n', "utf-8")
    args = ("check", "--json", "--only", "printer", "--config", str(cfg), "--data-dir", str(tmp_path))
    result = deskwatch(*args, cups_server=cupsd.server)
    by_id = {i["id"]: i for i in json.loads(result.stdout)["indicators"]}
    assert by_id[f"printer.status[{queue}]"]["level"] == "ok", result.stdout
    assert result.returncode == 0


def test_check_json_lists_printer_indicators(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    cupsd.set_mode(queue, "toner")
    job = cupsd.submit(queue)
    wait_job(cupsd, job, {p.JOB_COMPLETED})
    cfg = write_config(tmp_path, cupsd.server, [queue])
    result = deskwatch(
        "check", "--json", "--only", "printer", "--config", str(cfg), "--data-dir", str(tmp_path)
    )
    payload = json.loads(result.stdout)
    by_id = {i["id"]: i for i in payload["indicators"]}
    status = by_id[f"printer.status[{queue}]"]
    assert status["device"] == "printer" and status["level"] == "warning"
    assert status["message"].startswith("Toner low") and "toner-low-warning" in status["value"]
    for name in ("accepting_jobs", "queued_jobs", "oldest_job_age", "failed_jobs", "last_job_seconds"):
        assert f"printer.{name}[{queue}]" in by_id
    assert result.returncode == 1


@pytest.fixture
def stopped_cupsd(tmp_path_factory: pytest.TempPathFactory) -> PrivateCups:
    """A print server that was running, had a printer, and was then stopped."""
    server = PrivateCups(tmp_path_factory.mktemp("cups-stopped"))
    server.start()
    try:
        server.add_queue("front-desk")
    finally:
        server.stop()
    return server


def test_check_with_print_server_stopped_is_unknown(tmp_path: Path, stopped_cupsd: PrivateCups) -> None:
    cfg = write_config(tmp_path, stopped_cupsd.server, ["front-desk1"])
    result = deskwatch(
        "check", "--json", "--only", "printer", "--config", str(cfg), "--data-dir", str(tmp_path)
    )
    assert result.returncode == 3, result.stderr
    payload = json.loads(result.stdout)
    assert payload["level"] == "unknown"
    (status,) = payload["indicators"]
    assert status["id"] == "printer.status[front-desk1]" and status["level"] == "unknown"
    assert f"Print server CUPS {stopped_cupsd.server} cannot be reached" in status["message"]
    assert "Traceback" not in result.stderr

    settings = {s.key: s.default for s in PrinterMonitor.settings}
    monitor = PrinterMonitor(
        settings | {"server": stopped_cupsd.server, "printers": ["front-desk1"]},
        MonitorContext(data_dir=tmp_path),
    )
    results = monitor.self_test({"test_page": True})
    assert results is not None and [r.status for r in results] == ["fail", "skipped"]
    assert results[0].advice is not None and "print service" in results[0].advice.en

    chinese = deskwatch(
        "check", "--only", "printer", "--lang", "zh_CN", "--config", str(cfg), "--data-dir", str(tmp_path)
    )
    assert chinese.returncode == 3 and "无法连接打印服务器" in chinese.stdout


def test_server_without_printers_asks_for_setup(tmp_path_factory: pytest.TempPathFactory) -> None:
    empty = PrivateCups(tmp_path_factory.mktemp("cups-empty"))
    empty.start()
    try:
        monitor = PrinterMonitor(
            {s.key: s.default for s in PrinterMonitor.settings} | {"server": empty.server},
            MonitorContext(data_dir=tmp_path_factory.mktemp("data")),
        )
        assert monitor.setup_hint() is None
        (status,) = monitor.poll()
        # Reached, and nothing to watch: "not set up" (grey), not unknown and never OK.
        assert status.level is Level.NOT_SET_UP and status.message is not None and status.value is None
        expected = f"No printer is set up on CUPS {empty.server} and none is configured"
        assert status.message.en.startswith(expected)
        hint = monitor.setup_hint()
        assert hint is not None and "printers" in hint.en and "默认打印机" in hint.zh
    finally:
        empty.stop()


def test_print_server_that_never_answers_is_unknown_within_the_timeout(tmp_path: Path) -> None:
    """A server that accepts connections and then says nothing (hung cupsd)."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        server = f"127.0.0.1:{hung.getsockname()[1]}"
        cfg = write_config(tmp_path, server, ["front"], "timeout = 1.0\n")
        built = build_runtime(
            monitor_classes=monitors.discover(),
            config_path=cfg,
            data_dir=tmp_path / "data",
            mode="check",
            only=["printer"],
        )
        started = time.monotonic()
        built.scheduler.poll_once()
        took = time.monotonic() - started
        built.scheduler.stop(timeout=0.1)
        states = built.engine.states()
        assert {s.indicator.id for s in states} >= {"printer.status", "printer.oldest_job_age"}
        for state in states:
            assert state.level is Level.UNKNOWN
            assert state.message is not None and state.message.en == "No answer within 1 s"
        assert took < 3
    # Closing the listener resets the pending connection, which frees the poll thread.


def test_local_socket_server(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    cupsd.set_mode(queue, "door")
    cupsd.submit(queue)
    wait_for(lambda: printer_state(cupsd, queue).state == p.STATE_STOPPED, what="the door fault")
    cfg = write_config(tmp_path, cupsd.socket, [queue])
    built = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=cfg,
        data_dir=tmp_path / "data",
        mode="check",
        only=["printer"],
    )
    built.scheduler.poll_once()
    built.scheduler.stop(timeout=1)
    status = built.engine.state(f"printer.status[{queue}]")
    assert status is not None and status.level is Level.CRITICAL
    assert status.message is not None and status.message.zh.startswith("盖门打开")


def test_print_server_restart_goes_unknown_then_recovers(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = PrivateCups(tmp_path_factory.mktemp("cups-restart"))
    server.start()
    try:
        queue = server.add_queue("restart")
        settings = {s.key: s.default for s in PrinterMonitor.settings}
        monitor = PrinterMonitor(
            settings | {"server": server.server, "printers": [queue]},
            MonitorContext(data_dir=tmp_path_factory.mktemp("data")),
        )

        def status() -> Reading:
            return next(r for r in monitor.poll() if r.indicator_id == "printer.status")

        assert status().level is Level.OK
        server.stop()
        down = status()
        assert down.level is Level.UNKNOWN and down.instance == queue
        assert down.message is not None and "cannot be reached" in down.message.en
        server.start()
        assert status().level is Level.OK  # the monitor reconnects by itself
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", ("", None)),
        ("/run/cups/cups.sock", ("/run/cups/cups.sock", None)),
        ("printsrv", ("printsrv", None)),
        ("printsrv:8631", ("printsrv", 8631)),
        ("[::1]:631", ("::1", 631)),
        ("::1", ("::1", None)),
    ],
)
def test_server_setting(setting: str, expected: tuple[str, int | None]) -> None:
    assert parse_server(setting) == expected


def test_bad_server_port_is_an_error() -> None:
    with pytest.raises(ValueError, match="bad port"):
        parse_server("printsrv:ipp")
