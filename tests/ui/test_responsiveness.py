"""The GUI event loop never stalls while monitors poll slowly (measured by the app-stall indicator)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from app.core.engine import IndicatorState
from app.kernel.i18n import Text
from app.kernel.model import Device, Indicator, Reading
from app.kernel.monitor import LoopLatencyProbe, Monitor
from monitors.computer import APP_STALL, ComputerMonitor
from tests import devices

MAX_STALL_MS = 100.0


class SlowMonitor(Monitor):
    """Blocks for most of a second per poll and burns some CPU, like a sluggish driver."""

    device = devices.PRINTER
    title = Text("Slow", "慢")
    interval = 0.3
    timeout = 5.0
    count: ClassVar[int] = 40

    def poll(self) -> list[Reading]:
        time.sleep(0.7)
        deadline = time.monotonic() + 0.05
        while time.monotonic() < deadline:  # pure-Python work competes for the GIL
            sum(range(1000))
        return [Reading(ind.id, float(n % 97)) for n, ind in enumerate(self.indicators)]


def _slow(name: str, device: Device) -> type[Monitor]:
    indicators = tuple(
        Indicator(f"{name}.v{n}", device, Text(f"Value {n}", f"数值 {n}"), "%")
        for n in range(SlowMonitor.count)
    )
    return type(f"Slow{name}", (SlowMonitor,), {"id": name, "device": device, "indicators": indicators})


def test_event_loop_never_stalls_while_monitors_poll(make_app: Any, qtbot: Any) -> None:
    classes = {
        "computer": ComputerMonitor,
        "slow_a": _slow("slow_a", devices.PRINTER),
        "slow_b": _slow("slow_b", devices.RECORDER),
        "slow_c": _slow("slow_c", devices.ENVIRONMENT),
    }
    probe = LoopLatencyProbe()
    app = make_app("[monitors.computer]\ninterval = 0.5\n", monitor_classes=classes, probe=probe)
    assert app.probe is probe
    stalls: list[float] = []

    def record(states: list[IndicatorState]) -> None:
        stalls.extend(float(s.value) for s in states if s.key == APP_STALL.id and s.value is not None)

    app.engine.add_state_listener(record)
    app.start()
    app.show_panel()
    app.panel.show_alerts()
    app.panel.show_detail(devices.PRINTER)
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        qtbot.wait(50)
    polls = app.runtime.scheduler.poll_counts()
    assert all(polls[m] >= 3 for m in ("slow_a", "slow_b", "slow_c")), polls
    assert len(stalls) >= 4, "the computer monitor should report the loop's lateness every poll"
    assert max(stalls) < MAX_STALL_MS, stalls
    assert app.loop_watch.worst_ms < MAX_STALL_MS
