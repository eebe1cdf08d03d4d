"""Small monitors for fast tests of the engine, scheduler and config."""

from __future__ import annotations

import threading
from pathlib import Path

from app.core.config import Config, load_config
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, Level, Reading, Thresholds
from app.kernel.monitor import Monitor, MonitorContext
from app.kernel.settings import Setting
from tests import devices

GAUGE = Indicator(
    "fake.gauge",
    Device.COMPUTER,
    Text("Gauge", "仪表"),
    "%",
    thresholds=Thresholds(
        Direction.HIGH_IS_BAD, warning=80, critical=90, warning_clear=70, critical_clear=85,
        raise_after=10, clear_after=20,
    ),
)  # fmt: skip
STATE = Indicator("fake.state", devices.PRINTER, Text("State", "状态"), numeric=False)


class FakeMonitor(Monitor):
    """Returns whatever ``value`` is set to."""

    id = "fake"
    device = Device.COMPUTER
    title = Text("Fake", "假")
    indicators = (GAUGE, STATE)
    interval = 0.05
    timeout = 1.0
    settings = (Setting("name", "x", Text("Name", "名称")), Setting("count", 3, Text("Count", "数")))

    def __init__(self, settings: dict, context: MonitorContext) -> None:
        super().__init__(settings, context)
        self.value = 50.0

    def poll(self) -> list[Reading]:
        return [Reading(GAUGE.id, self.value), Reading(STATE.id, "idle", Level.OK)]


HANG = Indicator("hang.value", devices.PRINTER, Text("Hang", "挂起"))


class HangingMonitor(Monitor):
    """Answers once, then blocks until released."""

    id = "hang"
    device = devices.PRINTER
    title = Text("Hang", "挂起")
    indicators = (HANG,)
    interval = 0.05
    timeout = 0.3

    def __init__(self, settings: dict, context: MonitorContext) -> None:
        super().__init__(settings, context)
        self.release = threading.Event()
        self.calls = 0

    def poll(self) -> list[Reading]:
        self.calls += 1
        if self.calls > 1:
            self.release.wait(30)
        return [Reading(HANG.id, 1.0)]


BOOM = Indicator("boom.value", devices.TELEPHONE, Text("Boom", "爆"))


class FailingMonitor(Monitor):
    """Raises until told to work."""

    id = "boom"
    device = devices.TELEPHONE
    title = Text("Boom", "爆")
    indicators = (BOOM,)
    interval = 0.05
    timeout = 1.0

    def __init__(self, settings: dict, context: MonitorContext) -> None:
        super().__init__(settings, context)
        self.broken = True
        self.calls = 0

    def poll(self) -> list[Reading]:
        self.calls += 1
        if self.broken:
            raise OSError("device gone")
        return [Reading(BOOM.id, 1.0)]


CLASSES: dict[str, type[Monitor]] = {"fake": FakeMonitor, "hang": HangingMonitor, "boom": FailingMonitor}


def fake_config(user_file: Path | None = None) -> Config:
    return load_config(CLASSES, user_file, shipped_path=Path("/nonexistent"))
