"""Fixtures for the Qt layer: a runtime on scripted monitors, and the app around it (offscreen)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from app.core.runtime import Runtime, build_runtime
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, Level, Reading, Thresholds
from app.kernel.monitor import LoopLatencyProbe, Monitor
from app.kernel.settings import Setting
from tests import devices

CPU = Indicator(
    "pc.cpu",
    Device.COMPUTER,
    Text("CPU usage", "CPU 使用率"),
    "%",
    thresholds=Thresholds(Direction.HIGH_IS_BAD, 80, 95),
)
PRINTER_STATE = Indicator(
    "printer.state", devices.PRINTER, Text("Printer state", "打印机状态"), numeric=False
)
TEMPERATURE = Indicator(
    "env.temperature",
    devices.ENVIRONMENT,
    Text("Temperature", "温度"),
    "°C",
    thresholds=Thresholds(Direction.HIGH_IS_BAD, 28, 30),
)


class ScriptedMonitor(Monitor):
    """Returns whatever the test put in :attr:`next_readings` (class-wide, per subclass)."""

    interval = 0.2
    timeout = 2.0
    next_readings: ClassVar[list[Reading]] = []
    hint: ClassVar[Text | None] = None
    settings = (Setting("port", "", Text("Port", "端口")),)

    def setup_hint(self) -> Text | None:
        return type(self).hint

    def poll(self) -> list[Reading]:
        return list(type(self).next_readings)


class PcMonitor(ScriptedMonitor):
    id = "pc"
    device = Device.COMPUTER
    title = Text("Computer", "电脑系统")
    indicators = (CPU,)


class PrinterMonitor(ScriptedMonitor):
    id = "printer"
    device = devices.PRINTER
    title = Text("Printer", "打印机")
    indicators = (PRINTER_STATE,)
    hint = Text("Choose a printer queue in Settings.", "请在设置中选择打印队列。")


class EnvMonitor(ScriptedMonitor):
    id = "env"
    device = devices.ENVIRONMENT
    title = Text("Environment", "环境监控")
    indicators = (TEMPERATURE,)
    enabled_by_default = False


CLASSES: dict[str, type[Monitor]] = {"pc": PcMonitor, "printer": PrinterMonitor, "env": EnvMonitor}


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[Any]:
    """Build runtimes on the scripted monitors (stopped at the end)."""
    built: list[Runtime] = []

    def make(config_text: str = "", probe: LoopLatencyProbe | None = None, **kwargs: Any) -> Runtime:
        config = tmp_path / "deskwatch.toml"
        config.write_text(config_text, "utf-8")
        runtime = build_runtime(
            config_path=config,
            data_dir=tmp_path / "data",
            loop_probe=probe or LoopLatencyProbe(),
            monitor_classes=kwargs.pop("monitor_classes", CLASSES),
            **kwargs,
        )
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.stop()


class FakeAutostart:
    """Remembers the start-at-login choice in memory."""

    def __init__(self) -> None:
        self.enabled = False

    def is_enabled(self) -> bool:
        return self.enabled

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled


@pytest.fixture
def make_app(qtbot: Any, make_runtime: Any) -> Iterator[Any]:
    """A DeskwatchApp on a fresh runtime (not started unless the test starts it)."""
    from app.ui.main import DeskwatchApp

    apps: list[DeskwatchApp] = []

    def make(config_text: str = "", tray: bool = False, **kwargs: Any) -> DeskwatchApp:
        runtime = make_runtime(config_text, **kwargs)
        app = DeskwatchApp(runtime, tray=tray, autostart=FakeAutostart())
        qtbot.addWidget(app.panel)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.stop()


def wait_idle(qtbot: Any, app: Any) -> None:
    """Let queued signals and background jobs finish."""
    done = threading.Event()
    app.worker.submit(lambda: None, lambda _r: done.set())
    qtbot.waitUntil(done.is_set, timeout=5000)


def reading(
    indicator: Indicator, value: Any, level: Level | None = None, message: Text | None = None
) -> Reading:
    """Shorthand for a reading."""
    return Reading(indicator.id, value, level, message)


@pytest.fixture(autouse=True)
def _reset_scripts() -> Iterator[None]:
    yield
    for cls in CLASSES.values():
        cls.next_readings = []  # type: ignore[attr-defined]
