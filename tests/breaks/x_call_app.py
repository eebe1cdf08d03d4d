"""Run in a subprocess on a real X display with a real PulseAudio: breaks against calls and rings.

The headset monitor is the real one (its stream watcher feeds the shared call
state; it is never polled here, so nothing depends on its 5 s poll).  Every
time the scheduler's phase changes this prints one JSON line with the wall
time and the X window ids of the notice and the break windows, so the test
can watch their map state on the X server itself; a break is reported once
the GUI thread has made its windows (the scheduler's thread changes the phase
first, the windows follow on the GUI thread).  Reads ``stop`` on stdin.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.core.breaks import BreakPlan, BreakRule, BreakService, BreakSettings, Phase
from app.kernel.callstate import CallState
from app.kernel.monitor import MonitorContext
from app.ui.breaks.controller import BreaksController
from monitors.headset import HeadsetMonitor
from sensors.idle import ActivitySource
from tests.audio.conftest import SINK
from tests.audio.helpers import monitor_settings


class Typing(ActivitySource):
    """A clerk who keeps typing (idle time 0): only calls and rings change anything."""

    name = "typing"

    def idle_seconds(self) -> float:
        return 0.0


def main() -> None:
    grace = float(sys.argv[1])
    app = QApplication(sys.argv[:1])
    calls = CallState()
    context = MonitorContext(
        data_dir=Path(tempfile.mkdtemp(prefix="dw-xcall-")), mode="app", call_state=calls
    )
    headset = HeadsetMonitor(monitor_settings(HeadsetMonitor, device=SINK), context)
    headset.start()
    settings = BreakSettings(
        plan=BreakPlan(BreakRule(4, 600), BreakRule(0, 0), 0),
        notice_seconds=2,
        call_grace_seconds=grace,
        strict=True,
    )
    service = BreakService(settings, call_state=calls, source=Typing())
    controller = BreaksController(service)
    last: list[object] = [None]

    stop = threading.Event()

    def report() -> None:
        if stop.is_set():
            app.quit()
            return
        phase = controller.scheduler.phase
        if phase is last[0]:
            return
        if phase is Phase.BREAK and not controller.windows:
            # The scheduler's thread has moved on; the GUI thread has not drawn the break
            # yet (its update is queued).  Reported now, the line had no windows and no
            # second line came: the test never saw a break window (flaky under load).
            return
        last[0] = phase
        line = {
            "t": time.time(),
            "phase": phase.value,
            "notice": int(controller.notice.winId()),
            "windows": [int(w.winId()) for w in controller.windows],
            "ringing": list(service.ringing),
            "watcher": headset.stream_watcher.stats.mode if headset.stream_watcher else None,
        }
        print(json.dumps(line), flush=True)

    watch = QTimer()
    watch.timeout.connect(report)
    watch.start(20)

    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    service.start()
    app.exec()
    controller.close()
    service.close()
    headset.close()


if __name__ == "__main__":
    main()
