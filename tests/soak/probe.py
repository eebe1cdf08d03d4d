"""Soak diagnostic: ``python -m tests.soak.probe OUT.jsonl run --config …`` (the app, with snapshots).

Runs ``app.cli`` in this process and every ``DW_PROBE_SECONDS`` (60) appends
one JSON line to OUT.jsonl: RSS, gc object count, the top Python types, Qt
widget count, QObject children by class under the panel, engine state/alert
counts and the sizes of per-key structures in the core, glibc's heap, and the
RSS of every memory mapping (``/proc/self/smaps``).  Compare lines a few
minutes apart to see what accumulates: ``python -m tests.soak.compare OUT.jsonl``.
``DW_PROBE_TRIM=1`` adds RSS after ``malloc_trim``; ``DW_PROBE_TRACEMALLOC=N``
traces Python allocations (N frames) and pickles a snapshot with each line.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import sys
import time
import tracemalloc
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


def _mapping_kind(path: str) -> str:
    """A mapping's family: what it is for, so families can be summed and compared over time."""
    if not path:
        return "[anon]"
    if path.startswith("["):
        return "[stack]" if path.startswith("[stack") else path
    if "pulse-shm" in path or path.startswith("/memfd:pulseaudio"):
        return "pulse-shm"
    if path.startswith("/memfd:"):
        return "memfd:" + path[len("/memfd:") :].split(" ")[0]
    if path.startswith("/dev/shm/"):
        return "/dev/shm"
    return "file:" + path.rsplit("/", 1)[-1]


def _smaps() -> dict[str, object]:
    """RSS (KiB) per mapping family and per single mapping (``start path``) from /proc/self/smaps.

    Diff two snapshots' ``mappings`` to see which mapping grows; ``count`` per family
    shows mappings being created and not unmapped (a stream's shared memory left behind).
    """
    families: dict[str, list[int]] = {}
    mappings: dict[str, int] = {}
    key = kind = ""
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            head = line.split(None, 5)
            if "-" in head[0] and not head[0].endswith(":"):
                path = head[5].strip() if len(head) > 5 else ""
                kind = _mapping_kind(path)
                key = f"{head[0].split('-')[0]} {path}"
                families.setdefault(kind, [0, 0])[1] += 1
            elif head[0] == "Rss:":
                kib = int(head[1])
                families[kind][0] += kib
                if kib:
                    mappings[key] = kib
    return {
        "families": {k: {"rss_kib": v[0], "count": v[1]} for k, v in sorted(families.items())},
        "mappings": mappings,
    }


_TRACE_OUT: list[str] = []  # tracemalloc snapshot path prefix, when DW_PROBE_TRACEMALLOC is set


def _tracemalloc_start(out: str) -> None:
    """``DW_PROBE_TRACEMALLOC=FRAMES``: trace Python allocations; each snapshot is also pickled."""
    frames = int(os.environ.get("DW_PROBE_TRACEMALLOC", "0"))
    if frames > 0:
        tracemalloc.start(frames)
        _TRACE_OUT.append(out)


def _tracemalloc_dump() -> None:
    """Pickle a tracemalloc snapshot next to the probe output (compare two with ``compare_to``)."""
    if _TRACE_OUT:
        snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        snap.dump(f"{_TRACE_OUT[0]}.{int(time.time())}.tracemalloc")


def snapshot(app: Any) -> dict[str, object]:
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    gc.collect()
    smaps = _smaps()  # before any malloc_trim below
    _tracemalloc_dump()
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
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": len(os.listdir("/proc/self/task")),
        "native": _native_heap(),
        "smaps": smaps,
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
    _tracemalloc_start(out)
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
