"""A realistic, repeatable scene for the UI screenshots: demo devices with a few hours of history.

Every level is on show: a critical computer, an environment warning, a
recorder whose monitor fails (unknown), a printer jam that cleared without
being seen, an acknowledged headset warning, and an older closed alert.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import monitors
from app.core import demo
from app.core.runtime import build_runtime
from app.kernel.i18n import Text
from app.kernel.model import Level, Reading
from app.kernel.monitor import LoopLatencyProbe

HOURS_OF_HISTORY = 8


def _wave(indicator_id: str, t: float, base: float, spread: float) -> float:
    phase = (sum(map(ord, indicator_id)) % 17) / 3.0
    return base + spread * (0.6 * math.sin(t / 1900 + phase) + 0.3 * math.sin(t / 410 + phase * 2))


def build_scene(lang: str, tray: bool = False) -> Any:
    """A :class:`DeskwatchApp` (not polling) showing the scene; its data lives in a temp folder."""
    from app.ui.main import DeskwatchApp

    folder = Path(tempfile.mkdtemp(prefix="deskwatch-shots-"))
    config = folder / "deskwatch.toml"
    config.write_text(f'language = "{lang}"\nuser = "王丽"\n[alerts]\nit_email = "it@example.com"\n', "utf-8")
    probe = LoopLatencyProbe()
    runtime = build_runtime(
        config_path=config,
        data_dir=folder,
        loop_probe=probe,
        monitor_classes=demo.demo_monitor_classes(monitors.discover()),
    )
    engine, history = runtime.engine, runtime.history
    assert history is not None
    now = time.time()
    demo_classes = runtime.config.monitor_classes.values()
    signals = {s.indicator.id: s for cls in demo_classes for s in getattr(cls, "signals", ())}

    # trends: per-minute history around each indicator's normal value, out of range during its faults
    faults = {
        "demo_telephone.rtt": (now - 2.6 * 3600, now - 2.4 * 3600, "warning", Level.WARNING),
        "demo_headset.noise": (now - 50 * 60, now, "warning", Level.WARNING),
        "demo_printer.queue": (now - 40 * 60, now - 6 * 60, "critical", Level.CRITICAL),
        "demo_environment.temperature": (now - 35 * 60, now, "warning", Level.WARNING),
        "demo_computer.cpu": (now - 12 * 60, now, "critical", Level.CRITICAL),
    }
    start = now - HOURS_OF_HISTORY * 3600
    for iid, signal in signals.items():
        if not signal.indicator.numeric:
            continue
        ok = float(signal.values["ok"])
        spread = abs(float(signal.values["warning"]) - ok) * 0.35 + 0.5
        t = start
        while t < now - 60:
            value, level = _wave(iid, t, ok, spread), Level.OK
            fault = faults.get(iid)
            if fault is not None and fault[0] <= t < fault[1]:
                value = float(signal.values[fault[2]]) + (value - ok) * 0.3
                level = fault[3]
            if iid.startswith("demo_recorder") and t > now - 3 * 60:
                break  # the recorder stopped answering
            history.add_reading(iid, round(value, 1), level, t)
            t += 60
    history.flush()

    def ingest(phase: str, ids: list[str], at: float) -> None:
        readings = []
        for iid in ids:
            signal = signals[iid]
            value = signal.values[phase]
            level = signal.levels[phase] if signal.levels else None
            message = (signal.messages or {}).get(phase) or demo.MSG_SIMULATED.format(
                phase=demo.PHASE_TEXT[phase]
            )
            readings.append(Reading(iid, value, level, message if phase != "ok" or signal.levels else None))
        engine.ingest(readings, now=at)

    all_ids = list(signals)
    ingest("ok", all_ids, now - 3 * 3600)
    # an older alert, acknowledged and closed
    engine.clock = lambda: now - 2.5 * 3600
    ingest("warning", ["demo_telephone.rtt"], now - 2.6 * 3600)
    engine.acknowledge_all("PBX restarted by IT / 交换机已由信息部重启")
    ingest("ok", ["demo_telephone.rtt"], now - 2.4 * 3600)
    # the headset: warning, acknowledged, still present
    ingest("warning", ["demo_headset.noise"], now - 50 * 60)
    engine.clock = lambda: now - 45 * 60
    engine.acknowledge_all("换了耳机线 / swapped the cable")
    engine.clock = time.time
    # a printer jam that cleared before anyone saw it
    ingest("critical", ["demo_printer.state", "demo_printer.queue"], now - 40 * 60)
    ingest("ok", ["demo_printer.state", "demo_printer.queue"], now - 6 * 60)
    # what is wrong now
    ingest("warning", ["demo_environment.temperature"], now - 35 * 60)
    ingest("critical", ["demo_computer.cpu"], now - 12 * 60)
    engine.mark_unknown("demo_recorder", Text("No answer within 5 s", "5 秒内无响应"), now - 3 * 60)
    # everything else reports normally right now
    fine = [
        i
        for i in all_ids
        if not i.startswith(("demo_recorder", "demo_computer.cpu", "demo_environment.temp"))
    ]
    fine = [i for i in fine if i != "demo_headset.noise"]
    ingest("ok", fine, now - 20)
    ingest("warning", ["demo_environment.temperature"], now - 15)
    ingest("warning", ["demo_headset.noise"], now - 15)
    ingest("critical", ["demo_computer.cpu"], now - 10)
    app = DeskwatchApp(runtime, probe, tray=tray, autostart=_NoAutostart())
    app.panel.flush_pending()
    return app


class _NoAutostart:
    def is_enabled(self) -> bool:
        return False

    def set_enabled(self, enabled: bool) -> None:
        pass
