"""The start-of-shift check: the real CLI on this machine, and the checklist logic."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

import monitors
from app.core.config import load_config
from app.core.engine import Engine
from app.core.history import History
from app.core.runtime import HISTORY_FILE
from app.core.selftest import (
    FAIL,
    PASS,
    RECORD_KIND,
    SKIPPED,
    SelfTest,
    SelfTestResult,
    first_login_today,
    latest,
    should_offer,
    store,
)
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, Reading, Thresholds
from app.kernel.monitor import CheckResult, Monitor, MonitorContext
from tests import devices
from tests.fleet.conftest import MISSING_PROGRAM, ROOT, deskwatch_command, only_monitors


@pytest.fixture
def sleeper() -> Iterator[str]:
    """A running program the computer check can require."""
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield "sleep"
    finally:
        proc.kill()
        proc.wait()


def _selftest_cli(
    tmp_path: Path, required: str, printer: tuple[str, str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """``deskwatch selftest`` with the computer and a real (private) CUPS printer."""
    server, queue = printer
    config = tmp_path / "deskwatch.toml"
    config.write_text(
        f'[monitors.computer]\nrequired_processes = ["{required}"]\n\n'
        f'[monitors.printer]\nserver = "{server}"\nprinters = ["{queue}"]\ntest_page_timeout = 30.0\n\n'
        + only_monitors("computer", "printer"),
        "utf-8",
    )
    return subprocess.run(
        deskwatch_command("selftest", "--config", str(config), "--data-dir", str(tmp_path / "data"), *extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_cli_passes_when_every_device_works(
    tmp_path: Path, sleeper: str, print_queue: tuple[str, str]
) -> None:
    result = _selftest_cli(tmp_path, sleeper, print_queue, "--test-page")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Start-of-shift check"
    assert any(line.startswith("[ OK ] Computer: ") for line in lines[1:]), result.stdout
    printer_lines = [line for line in lines if line.startswith("[ OK ] Printer")]
    assert len(printer_lines) == 2, result.stdout  # the queue's state and the test page
    switched_off = len(monitors.discover()) - 2  # listed as skipped, not run
    assert lines[-1] == f"Result: Pass (3 passed, 0 failed, {switched_off} skipped)"


def test_cli_fails_with_advice_when_a_required_program_is_missing(
    tmp_path: Path, print_queue: tuple[str, str]
) -> None:
    result = _selftest_cli(tmp_path, MISSING_PROGRAM, print_queue)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"[FAIL] Computer: Fault: Required programs missing: Not running: {MISSING_PROGRAM}" in result.stdout
    )
    assert f"→ {Device.COMPUTER.advice.en}" in result.stdout
    assert "[ OK ] Printer" in result.stdout
    assert "Result: Fail (1 passed, 1 failed, " in result.stdout
    # Stored for the supervisor's report.
    history = History(tmp_path / "data" / HISTORY_FILE)
    found = latest(history)
    history.close()
    assert found is not None and found[1].status == FAIL


def test_cli_json_and_chinese(tmp_path: Path, print_queue: tuple[str, str]) -> None:
    result = _selftest_cli(tmp_path, MISSING_PROGRAM, print_queue, "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["status"] == "fail"
    computer = next(c for c in data["checks"] if c["monitor"] == "computer")
    assert computer["results"][0]["advice"]["zh_CN"] == Device.COMPUTER.advice.zh
    zh = _selftest_cli(tmp_path, MISSING_PROGRAM, print_queue, "--lang", "zh_CN")
    assert "[FAIL] 电脑系统: 故障:必需程序未运行:未运行:" in zh.stdout
    assert "结果:未通过" in zh.stdout


# -- the checklist logic, with stand-in monitors ------------------------------------------------
GAUGE = Indicator(
    "fake.gauge", devices.ENVIRONMENT, Text("Gauge", "仪表"), "°C",
    thresholds=Thresholds(Direction.HIGH_IS_BAD, 28, 32),
)  # fmt: skip


class _Fake(Monitor):
    id = "fake"
    device = devices.ENVIRONMENT
    title = Text("Fake", "假设备")
    indicators = (GAUGE,)
    value: ClassVar[float | None] = 22.0

    def poll(self) -> list[Reading]:
        return [Reading(GAUGE.id, self.value)]


class _Active(_Fake):
    id = "active"
    device = devices.RECORDER
    title = Text("Recorder", "录音设备")
    indicators = ()
    seen: ClassVar[list[Mapping[str, Any]]] = []

    def self_test(self, options: Mapping[str, Any]) -> list[CheckResult] | None:
        self.seen.append(dict(options))
        return [
            CheckResult(Text("Record", "录音"), PASS, Text("ok", "正常")),
            CheckResult(Text("Play back", "回放"), FAIL, Text("silent", "无声")),
        ]


class _Raises(_Fake):
    id = "raises"
    indicators = ()

    def self_test(self, options: Mapping[str, Any]) -> list[CheckResult] | None:
        raise OSError("port busy")


class _Hangs(_Fake):
    id = "hangs"
    indicators = ()
    timeout = 0.1

    def self_test(self, options: Mapping[str, Any]) -> list[CheckResult] | None:
        time.sleep(2)
        return []


class _NotSetUp(_Fake):
    id = "notsetup"
    indicators = ()

    def setup_hint(self) -> Text | None:
        return Text("Choose a serial port", "选择串口")


class _Off(_Fake):
    id = "off"
    indicators = ()
    enabled_by_default = False


def _run(
    tmp_path: Path, *classes: type[Monitor], options: Mapping[str, Any] | None = None, config_text: str = ""
) -> SelfTestResult:
    path = tmp_path / "deskwatch.toml"
    path.write_text(config_text, "utf-8")
    config = load_config({c.id: c for c in classes}, path)
    context = MonitorContext(data_dir=tmp_path)
    instances = [c(config.monitor(c.id), context) for c in config.enabled_monitors()]
    return SelfTest(config, instances, user="clerk").run(options)


def _lines(result: SelfTestResult) -> dict[str, list[str]]:
    return {c.monitor_id: [r.status for r in c.results] for c in result.checks}


def test_active_checks_their_options_and_failures(tmp_path: Path) -> None:
    result = _run(tmp_path, _Active, options={"test_page": True})
    assert _lines(result) == {"active": [PASS, FAIL]}
    assert _Active.seen[-1] == {"test_page": True}
    assert not result.passed
    failed = result.checks[0].results[1]
    assert failed.advice == devices.RECORDER.advice  # filled in when the monitor gave none


def test_polled_monitors_are_judged_with_thresholds(tmp_path: Path) -> None:
    _Fake.value = 22.0
    assert _run(tmp_path, _Fake).checks[0].results[0].status == PASS
    _Fake.value = 29.0  # warning: usable, with advice
    line = _run(tmp_path, _Fake).checks[0].results[0]
    assert line.status == PASS and "warnings" in line.message.en and line.advice is not None
    _Fake.value = 35.0  # critical: fail
    result = _run(tmp_path, _Fake)
    assert result.checks[0].results[0].status == FAIL
    assert "Gauge: 35.0 °C" in result.checks[0].results[0].message.en
    # A condition that must hold for a while is not a fault on one sample (a CPU spike).
    line = (
        _run(tmp_path, _Fake, config_text='[indicators."fake.gauge"]\nraise_after = 60\n')
        .checks[0]
        .results[0]
    )
    assert line.status == PASS and "warnings" in line.message.en
    _Fake.value = None  # no value: nothing to judge
    assert _run(tmp_path, _Fake).checks[0].results[0].status == SKIPPED
    _Fake.value = 22.0


def test_broken_hung_unset_and_disabled_monitors(tmp_path: Path) -> None:
    started = time.monotonic()
    result = _run(tmp_path, _Raises, _Hangs, _NotSetUp, _Off)
    assert time.monotonic() - started < 1.5, "a hung check must not hold up the checklist"
    lines = {c.monitor_id: c.results[0] for c in result.checks}
    assert lines["raises"].status == FAIL and "port busy" in lines["raises"].message.en
    assert lines["hangs"].status == FAIL and "did not finish" in lines["hangs"].message.en
    assert lines["notsetup"].status == SKIPPED and lines["notsetup"].message.en == "Choose a serial port"
    assert lines["off"].status == SKIPPED
    assert result.counts() == {PASS: 0, FAIL: 2, SKIPPED: 2}


def test_latest_states_are_used_in_the_running_app(tmp_path: Path, clock: Any) -> None:
    config = load_config({"fake": _Fake}, None)
    engine = Engine(config, _Fake.indicators, None, clock=clock, debounce=False)
    engine.ingest([Reading(GAUGE.id, 40.0)])
    monitor = _Fake(config.monitor("fake"), MonitorContext(data_dir=tmp_path))
    monitor.poll = lambda: pytest.fail("the running app must not poll twice")  # type: ignore[method-assign]
    result = SelfTest(config, [monitor], engine=engine, use_latest_states=True).run()
    assert result.checks[0].results[0].status == FAIL


def test_results_round_trip_through_history(tmp_path: Path) -> None:
    result = _run(tmp_path, _Active, _NotSetUp)
    history = History(tmp_path / "h.sqlite3")
    store(history, result)
    ts, back = latest(history)  # type: ignore[misc]
    history.close()
    assert ts == result.finished
    assert back.to_dict() == result.to_dict()


def test_the_newest_stored_check_is_offered_and_an_unreadable_one_is_none(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    assert latest(history) is None
    result = _run(tmp_path, _Active)
    store(history, result)
    history.add_record(RECORD_KIND, result.to_dict(), now=result.finished - 3600)  # older, stored later
    found = latest(history)
    assert found is not None and found[0] == result.finished
    history.add_record(RECORD_KIND, {"checks": "not a list of checks"}, now=result.finished + 1)
    assert latest(history) is None
    history.close()


def test_offered_once_a_day_when_enabled(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    config = load_config(monitors.discover(), None)
    morning = 1_800_000_000.0
    assert first_login_today(history, morning)
    assert should_offer(config, history, morning)
    assert not should_offer(config, history, morning + 3600)
    assert should_offer(config, history, morning + 86400)
    off = tmp_path / "off.toml"
    off.write_text("[selftest]\noffer_at_first_login = false\n", "utf-8")
    assert not should_offer(load_config(monitors.discover(), off), history, morning + 2 * 86400)
    assert not should_offer(config, None, morning)
    history.close()


OTHER = Indicator("mixed.other", devices.HEADSET, Text("Noise", "噪声"), "dBFS")
LINK = Indicator("mixed.link", devices.HEADSET, Text("Link", "连接"), numeric=False)


class _Mixed(_Fake):
    """A monitor whose readings the test sets: observed, unknown and not set up."""

    id = "mixed"
    device = devices.HEADSET
    indicators = (GAUGE, OTHER, LINK)
    readings: ClassVar[list[Reading]] = []

    def poll(self) -> list[Reading]:
        return list(self.readings)


def test_unobserved_readings_fail_and_not_set_up_is_skipped(tmp_path: Path) -> None:
    from app.kernel.model import Level

    no_audio = Text("no audio for 6 s", "6 秒没有音频")
    _Mixed.readings = [Reading(GAUGE.id, 22.0), Reading(OTHER.id, None, Level.UNKNOWN, no_audio)]
    line = _run(tmp_path, _Mixed).checks[0].results[0]
    # A device that could not be observed does not pass the start-of-shift check.
    assert line.status == FAIL
    assert "no audio for 6 s" in line.message.en and "6 秒没有音频" in line.message.zh
    # Only "not set up" readings: skipped with the hint, never "all normal".
    hint = Text("Set pbx_host", "设置 pbx_host")
    _Mixed.readings = [Reading(LINK.id, None, Level.NOT_SET_UP, hint)]
    line = _run(tmp_path, _Mixed).checks[0].results[0]
    assert line.status == SKIPPED and line.message == hint
