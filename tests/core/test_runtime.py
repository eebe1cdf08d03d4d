"""The runtime: the services it builds for the CLI and the UI, and the work it runs on timers."""

from __future__ import annotations

import time
from pathlib import Path

from app.core.runtime import build_runtime
from app.kernel.model import Level
from tests.core.fakes import CLASSES
from tests.core.test_scheduler import wait_for


def test_the_running_app_prunes_old_history_on_a_timer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "deskwatch.toml"
    config.write_text("[history]\nretention_days = 1\n", "utf-8")
    runtime = build_runtime(config_path=config, data_dir=data, monitor_classes=CLASSES, only=["fake"])
    history = runtime.history
    assert history is not None
    runtime.prune_seconds = 0.2
    runtime.start()
    try:
        # Written after the start-up prune: only a prune while running removes it.
        old = time.time() - 3 * 86400
        history.add_record("selftest", {"old": True}, now=old)
        history.add_reading("fake.gauge", 1.0, Level.OK, old)
        history.flush()
        assert history.records("selftest", 0) != []
        wait_for(lambda: history.records("selftest", 0) == [], timeout=10)
        wait_for(lambda: history.samples("fake.gauge", 0, old + 3600) == [], timeout=10)
    finally:
        runtime.stop()


def test_the_running_app_hands_free_heap_back_on_a_timer(tmp_path: Path) -> None:
    runtime = build_runtime(data_dir=tmp_path / "data", monitor_classes=CLASSES, only=["fake"])
    runtime.release_heap_seconds = 0.1
    runtime.start()
    try:
        wait_for(lambda: runtime.heap_releases >= 3, timeout=10)
    finally:
        runtime.stop()
    released = runtime.heap_releases
    time.sleep(0.3)
    assert runtime.heap_releases == released  # stopped means stopped
