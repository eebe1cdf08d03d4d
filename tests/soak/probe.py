"""Soak diagnostic: ``python -m tests.soak.probe OUT.jsonl run --config …`` (the app, with snapshots).

Runs ``app.cli`` in this process and every ``DW_PROBE_SECONDS`` (60) appends
one JSON line to OUT.jsonl: RSS, gc object count, the top Python types, Qt
widget count, QObject children by class under the panel, engine state/alert
counts and the sizes of per-key structures in the core. Compare lines a few
minutes apart to see what accumulates.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import sys
import time
from typing import Any

import psutil

from tests.apprun import run_app_with


def _sizes(obj: object) -> dict[str, int]:
    """len() of every dict/list/set/deque attribute of ``obj``."""
    out = {}
    for name, value in vars(obj).items():
        if isinstance(value, dict | list | set | collections.deque):
            out[name] = len(value)
    return out


def _trimmed_rss() -> float | None:
    """RSS after glibc returned its free pages (``DW_PROBE_TRIM=1``): what is really live."""
    if os.environ.get("DW_PROBE_TRIM") != "1":
        return None
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return round(psutil.Process().memory_info().rss / 2**20, 2)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


def _native_heap() -> dict[str, float]:
    """glibc heap in use and free, and SQLite's own allocations (MiB): where RSS lives outside Python."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    sqlite = ctypes.CDLL("libsqlite3.so.0")
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    return {
        "malloc_in_use": round(info.uordblks / 2**20, 2),
        "malloc_free": round(info.fordblks / 2**20, 2),
        "mmapped": round(info.hblkhd / 2**20, 2),
        "sqlite": round(sqlite.sqlite3_memory_used() / 2**20, 2),
    }


def snapshot(app: Any) -> dict[str, object]:
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    gc.collect()
    objects = gc.get_objects()
    types = collections.Counter(type(o).__qualname__ for o in objects)
    qt_children = collections.Counter(type(o).__name__ for o in app.panel.findChildren(QObject))
    app_children = collections.Counter(type(o).__name__ for o in app.findChildren(QObject))
    engine = app.engine
    core: dict[str, object] = {"engine": _sizes(engine), "alerts": _sizes(engine.alerts)}
    history = app.runtime.history
    if history is not None:
        core["history"] = _sizes(history)
    core["announcer"] = _sizes(app.announcer)
    core["alert_centre"] = {"closed": len(app.panel.alerts._closed)}
    core["tree_items"] = sum(g.childCount() for g in app.panel.alerts.groups)
    return {
        "t": round(time.time(), 1),
        "rss_mib": round(psutil.Process().memory_info().rss / 2**20, 2),
        "rss_mib_trimmed": _trimmed_rss(),
        "native": _native_heap(),
        "gc_objects": len(objects),
        "types": dict(types.most_common(30)),
        "widgets": len(QApplication.allWidgets()),
        "top_level_widgets": len(QApplication.topLevelWidgets()),
        "panel_children": dict(qt_children.most_common(30)),
        "app_children": dict(app_children.most_common(15)),
        "states": len(engine.states()),
        "visible_alerts": len(engine.alerts.visible()),
        "core": core,
    }


def main() -> int:
    out = sys.argv[1]
    period = float(os.environ.get("DW_PROBE_SECONDS", "60"))
    from PySide6.QtCore import QTimer

    def started(app: Any) -> None:
        def write() -> None:
            with open(out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(snapshot(app)) + "\n")

        app._probe_timer = QTimer(app)
        app._probe_timer.setInterval(int(period * 1000))
        app._probe_timer.timeout.connect(write)
        app._probe_timer.start()
        write()

    return run_app_with(started, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
