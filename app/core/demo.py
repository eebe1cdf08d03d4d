"""Simulated devices for ``deskwatch run --demo`` (Qt-free).

Each device declares what its demo shows (:attr:`Device.demo`); each demo
monitor stands for one device group and walks through every level
in turn — ok, warning, critical, back to ok, then a monitor failure (unknown)
— on its own phase offset, so a newcomer sees every colour, notification,
alert state and chart without any hardware.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from app.core.registry import registry_of
from app.kernel.i18n import Text
from app.kernel.model import (
    DemoSignal,
    Device,
    Direction,
    Indicator,
    IndicatorMaker,
    Level,
    Reading,
    Thresholds,
)
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


class DemoMonitor(Monitor):
    """Base of the demo monitors: numbers drift around a per-phase value."""

    signals: ClassVar[tuple[SimulatedSignal, ...]] = ()
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


@dataclass(frozen=True)
class SimulatedSignal:
    """A device's :class:`DemoSignal` as a demo indicator, with its value (or state) per phase."""

    indicator: Indicator
    values: dict[str, Any]
    #: Level for non-numeric signals (the monitor judges them itself).
    levels: dict[str, Level] | None = None
    messages: Mapping[str, Text] | None = None


def _simulated(make: IndicatorMaker, signal: DemoSignal) -> SimulatedSignal:
    if signal.states is not None:
        indicator = make(signal.name, signal.label, numeric=False)
        levels = {"ok": Level.OK, "warning": Level.WARNING, "critical": Level.CRITICAL}
        codes = {"ok": "idle", "warning": "toner-low-warning", "critical": "media-jam-error"}
        return SimulatedSignal(indicator, codes, levels, signal.states)
    thresholds = Thresholds(signal.direction, signal.warning, signal.critical)
    indicator = make(signal.name, signal.label, signal.unit, thresholds=thresholds)
    step = signal.critical - signal.warning
    beyond = 1 if signal.direction is Direction.HIGH_IS_BAD else -1
    values = {
        "ok": signal.ok,
        "warning": signal.warning + step * 0.3,
        "critical": signal.critical + abs(step) * 0.2 * beyond,
    }
    if signal.direction is Direction.LOW_IS_BAD:
        values["warning"] = signal.warning - abs(step) * 0.3
    return SimulatedSignal(indicator, {k: float(v) for k, v in values.items()})


def demo_monitor(device: Device) -> type[DemoMonitor]:
    """The demo monitor of one device, built from what the device declares for the demo."""
    monitor_id = f"demo_{device.id}"
    make = IndicatorMaker(monitor_id, device)
    signals = tuple(_simulated(make, signal) for signal in device.demo)
    attrs = {
        "id": monitor_id,
        "device": device,
        "title": Text(f"{device.label.en} (demo)", f"{device.label.zh}(演示)"),
        "indicators": tuple(s.indicator for s in signals),
        "signals": signals,
        "offset": device.demo_offset,
        "__module__": __name__,
        "__doc__": f"Simulated {device.id} for the demo.",
    }
    return type(f"Demo{device.id.title().replace('_', '')}Monitor", (DemoMonitor,), attrs)


class QuietSimulatedFaults(logging.Filter):
    """Keeps the demo's deliberate monitor failures to one log line each (no traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], SimulatedFault):
            record.exc_info, record.exc_text = None, None
        return True


def demo_monitor_classes(monitor_classes: Mapping[str, type[Monitor]]) -> dict[str, type[Monitor]]:
    """Demo monitors for every device of these monitors (and the services) that declares a demo.

    ``run --demo`` hands in ``monitors.discover()``: a device group added by a
    new monitor module appears in the demo from its declaration alone.
    """
    devices = registry_of(monitor_classes.values()).devices
    return {cls.id: cls for cls in (demo_monitor(device) for device in devices if device.demo)}
