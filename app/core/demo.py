"""Simulated devices for ``deskwatch run --demo`` (Qt-free).

Each demo monitor stands for one device group and walks through every level
in turn — ok, warning, critical, back to ok, then a monitor failure (unknown)
— on its own phase offset, so a newcomer sees every colour, notification,
alert state and chart without any hardware.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Indicator, Level, Reading, Thresholds
from app.kernel.monitor import Monitor, MonitorContext
from app.kernel.settings import Setting

#: The walk every demo device follows, one step per phase.
PHASES: tuple[str, ...] = ("ok", "warning", "critical", "ok", "unknown")

MSG_SIMULATED = Text("Simulated reading ({phase})", "模拟数据({phase})")
PHASE_TEXT = {
    "ok": Text("normal", "正常"),
    "warning": Text("warning", "警告"),
    "critical": Text("critical", "严重"),
}


class SimulatedFault(RuntimeError):
    """Raised by a demo poll in its 'unknown' phase: a monitor that fails reports unknown."""


@dataclass(frozen=True)
class DemoSignal:
    """One simulated indicator: its declaration and a value for each level."""

    indicator: Indicator
    values: dict[str, Any]
    #: Level for non-numeric signals (the monitor judges them itself).
    levels: dict[str, Level] | None = None
    messages: dict[str, Text] | None = None


def _ind(monitor: str, device: Device, name: str, label: Text, unit: str = "", **kw: Any) -> Indicator:
    return Indicator(f"{monitor}.{name}", device, label, unit, **kw)


def _th(direction: Direction, warning: float, critical: float) -> Thresholds:
    return Thresholds(direction, warning, critical)


_HIGH, _LOW = Direction.HIGH_IS_BAD, Direction.LOW_IS_BAD


class DemoMonitor(Monitor):
    """Base of the demo monitors: numbers drift around a per-phase value."""

    signals: ClassVar[tuple[DemoSignal, ...]] = ()
    #: Which phase this device starts in, so the devices are not all in step.
    offset: ClassVar[int] = 0
    interval = 2.0
    timeout = 5.0
    settings = (
        Setting(
            "phase_seconds",
            20.0,
            Text("Seconds per simulated state", "每个模拟状态持续秒数"),
            minimum=1,
            maximum=3600,
        ),
    )

    def __init__(
        self,
        settings: dict[str, Any],
        context: MonitorContext,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(settings, context)
        self.clock = clock
        self._t0 = clock()

    def phase(self) -> str:
        """The phase the walk is in now."""
        step = int((self.clock() - self._t0) / float(self.options["phase_seconds"]))
        return PHASES[(step + self.offset) % len(PHASES)]

    def poll(self) -> list[Reading]:
        phase = self.phase()
        if phase == "unknown":
            raise SimulatedFault("simulated fault: the device does not answer")
        wobble = math.sin(self.clock() / 7.0)
        readings = []
        for signal in self.signals:
            value = signal.values[phase]
            if isinstance(value, float):
                value = round(value + abs(value) * 0.01 * wobble, 1)
            level = signal.levels[phase] if signal.levels else None
            message = (signal.messages or {}).get(phase) or MSG_SIMULATED.format(phase=PHASE_TEXT[phase])
            readings.append(Reading(signal.indicator.id, value, level, message))
        return readings


def _monitor(
    monitor_id: str,
    device: Device,
    offset: int,
    signals: tuple[DemoSignal, ...],
) -> type[DemoMonitor]:
    attrs = {
        "id": monitor_id,
        "device": device,
        "title": Text(f"{device.label.en} (demo)", f"{device.label.zh}(演示)"),
        "indicators": tuple(s.indicator for s in signals),
        "signals": signals,
        "offset": offset,
        "__module__": __name__,
        "__doc__": f"Simulated {device.value} for the demo.",
    }
    return type(f"Demo{device.name.title()}Monitor", (DemoMonitor,), attrs)


def _numeric(
    monitor: str,
    device: Device,
    name: str,
    label: Text,
    unit: str,
    direction: Direction,
    warning: float,
    critical: float,
    ok: float,
) -> DemoSignal:
    indicator = _ind(monitor, device, name, label, unit, thresholds=_th(direction, warning, critical))
    step = critical - warning
    values = {"ok": ok, "warning": warning + step * 0.3, "critical": critical + abs(step) * 0.2 * (
        1 if direction is _HIGH else -1)}  # fmt: skip
    if direction is _LOW:
        values["warning"] = warning - abs(step) * 0.3
    return DemoSignal(indicator, {k: float(v) for k, v in values.items()})


def _state(monitor: str, device: Device, name: str, label: Text, states: dict[str, Text]) -> DemoSignal:
    indicator = _ind(monitor, device, name, label, numeric=False)
    levels = {"ok": Level.OK, "warning": Level.WARNING, "critical": Level.CRITICAL}
    codes = {"ok": "idle", "warning": "toner-low-warning", "critical": "media-jam-error"}
    return DemoSignal(indicator, codes, levels, states)


_T, _H, _C, _P, _R, _E, _B = (
    Device.TELEPHONE, Device.HEADSET, Device.COMPUTER, Device.PRINTER,
    Device.RECORDER, Device.ENVIRONMENT, Device.BREAKS,
)  # fmt: skip

DemoTelephone = _monitor("demo_telephone", _T, 0, (
    _numeric("demo_telephone", _T, "rtt", Text("Line round trip", "线路往返时延"), "ms", _HIGH, 150, 400, 38),
    _numeric("demo_telephone", _T, "mos", Text("Call quality", "通话质量"), "MOS", _LOW, 3.6, 3.1, 4.3),
))  # fmt: skip
DemoHeadset = _monitor("demo_headset", _H, 1, (
    _numeric("demo_headset", _H, "noise", Text("Noise floor", "底噪"), "dBFS", _HIGH, -55, -50, -68),
    _numeric("demo_headset", _H, "speech", Text("Speech level", "语音电平"), "dBFS", _LOW, -40, -50, -28),
))  # fmt: skip
DemoComputer = _monitor("demo_computer", _C, 2, (
    _numeric("demo_computer", _C, "cpu", Text("CPU usage", "CPU 使用率"), "%", _HIGH, 85, 95, 23),
    _numeric("demo_computer", _C, "memory", Text("Memory available", "可用内存"), "%", _LOW, 15, 7, 46),
))  # fmt: skip
DemoPrinter = _monitor("demo_printer", _P, 3, (
    _state("demo_printer", _P, "state", Text("Printer state", "打印机状态"), {
        "ok": Text("Idle, ready", "空闲,就绪"),
        "warning": Text("Toner low", "墨粉不足"),
        "critical": Text("Paper jam", "卡纸"),
    }),
    _numeric("demo_printer", _P, "queue", Text("Jobs waiting", "等待的作业"), "", _HIGH, 5, 10, 0),
))  # fmt: skip
DemoRecorder = _monitor("demo_recorder", _R, 4, (
    _numeric("demo_recorder", _R, "level", Text("Recording level", "录音电平"), "dBFS", _LOW, -45, -60, -26),
    _numeric("demo_recorder", _R, "age", Text("Last recording age", "最近录音距今"), "min", _HIGH, 30, 60, 3),
))  # fmt: skip
DemoEnvironment = _monitor("demo_environment", _E, 1, (
    _numeric("demo_environment", _E, "temperature", Text("Temperature", "温度"), "°C", _HIGH, 28, 30, 24.5),
    _numeric("demo_environment", _E, "humidity", Text("Humidity", "相对湿度"), "%", _HIGH, 80, 90, 52),
    _numeric("demo_environment", _E, "co2", Text("CO₂", "二氧化碳"), "ppm", _HIGH, 1000, 1500, 620),
))  # fmt: skip
DemoBreaks = _monitor("demo_breaks", _B, 3, (
    _numeric("demo_breaks", _B, "work", Text("Screen work", "连续用屏"), "min", _HIGH, 50, 60, 18),
))  # fmt: skip

DEMO_MONITORS: tuple[type[DemoMonitor], ...] = (
    DemoTelephone, DemoHeadset, DemoComputer, DemoPrinter, DemoRecorder, DemoEnvironment, DemoBreaks,
)  # fmt: skip


class QuietSimulatedFaults(logging.Filter):
    """Keeps the demo's deliberate monitor failures to one log line each (no traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], SimulatedFault):
            record.exc_info, record.exc_text = None, None
        return True


def demo_monitor_classes() -> dict[str, type[Monitor]]:
    """The demo monitors by id, for ``build_runtime(monitor_classes=...)``."""
    return {cls.id: cls for cls in DEMO_MONITORS}
