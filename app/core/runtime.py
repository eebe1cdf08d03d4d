"""Assembles config, history, engine, monitors, scheduler and break reminders (Qt-free).

Used by the tray app, ``deskwatch run --headless``, ``deskwatch check`` and
tests, so that all of them run exactly the same monitoring.  The break
service runs here too (its own thread, started and stopped with the
runtime): the headless app and the exporter have break state as the tray
app has, and the UI only shows it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.breaks import BreakService, BreakSettings
from app.core.config import Config, load_config
from app.core.engine import MONITOR_FAILED, Engine
from app.core.history import History
from app.core.scheduler import Scheduler
from app.kernel import i18n
from app.kernel.memory import release_free_heap
from app.kernel.monitor import LoopLatencyProbe, Monitor, MonitorContext
from app.kernel.paths import HISTORY_FILE_NAME, secure_data_dir, user_config_path, user_data_dir

if TYPE_CHECKING:  # imported when switched on: prometheus_client costs start-up time
    from app.core.exporter import Exporter

log = logging.getLogger(__name__)

HISTORY_FILE = HISTORY_FILE_NAME
#: How often the running app deletes history older than ``retention_days``.
PRUNE_SECONDS = 3600.0
#: How often the running app hands free heap pages back to the OS (see app.kernel.memory).
#: A trim costs about a millisecond; every minute keeps free pages from piling up between them.
RELEASE_HEAP_SECONDS = 60.0


@dataclass
class Runtime:
    """Everything a running Deskwatch consists of, minus the UI."""

    config: Config
    engine: Engine
    scheduler: Scheduler
    context: MonitorContext
    history: History | None
    monitors: list[Monitor] = field(default_factory=list)
    #: Prometheus endpoint / textfile writer, when ``[exporter]`` switches it on.
    exporter: Exporter | None = None
    #: Break reminders, when ``[breaks]`` switches them on (never in ``check`` mode).
    breaks: BreakService | None = None
    #: Seconds between prunes of history older than the retention limit while running.
    prune_seconds: float = PRUNE_SECONDS
    #: Seconds between hand-backs of free heap memory to the OS (keeps a shift's RSS level).
    release_heap_seconds: float = RELEASE_HEAP_SECONDS
    #: How many hand-backs ran (the soak and the tests read it).
    heap_releases: int = field(default=0, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _housekeeper: threading.Thread | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        """Start background polling, break reminders and the metrics exporter (each if configured)."""
        self.scheduler.start()
        if self.breaks is not None:
            self.breaks.start()
        if self.exporter is not None:
            self.exporter.start()
        if self._housekeeper is None:
            self._stopping.clear()
            # A tray app runs for weeks: pruning only at start would let the database grow,
            # and heap pages freed inside thread arenas would never go back to the OS.
            self._housekeeper = threading.Thread(
                target=self._housekeeping_loop, name="deskwatch-housekeeping", daemon=True
            )
            self._housekeeper.start()

    def stop(self) -> None:
        """Stop polling, break reminders and the exporter, close monitors, flush and close history."""
        self._stopping.set()
        if self._housekeeper is not None:
            self._housekeeper.join(5.0)
            self._housekeeper = None
        self.scheduler.stop()
        if self.breaks is not None:
            self.breaks.close()  # saves the break state: before the history closes
        if self.exporter is not None:
            self.exporter.stop()
        if self.history is not None:
            self.history.close()

    def _housekeeping_loop(self) -> None:
        next_prune = time.monotonic() + self.prune_seconds
        next_release = time.monotonic() + self.release_heap_seconds
        while not self._stopping.wait(max(0.0, min(next_prune, next_release) - time.monotonic())):
            now = time.monotonic()
            if now >= next_prune:
                next_prune = now + self.prune_seconds
                self._prune_history()
                next_release = now  # a prune frees its query buffers: hand them back now
            if now >= next_release:
                next_release = now + self.release_heap_seconds
                release_free_heap()
                self.heap_releases += 1

    def _prune_history(self) -> None:
        history = self.history
        if history is None:
            return
        try:
            history.prune()
        except Exception:  # a failing prune is retried at the next turn, never fatal
            log.exception("pruning the history failed")

    def reload(self, config: Config | None = None) -> Config:
        """Apply a new configuration without a restart (the settings dialog calls this).

        ``config`` defaults to re-reading the user's file.  Thresholds and app
        settings take effect at the next reading; when any monitor's settings
        changed (or one was switched on or off) every monitor is rebuilt and
        polling restarts.  Blocks while polls in flight finish: call it off
        the GUI thread.
        """
        if config is None:
            config = load_config(self.config.monitor_classes, self.config.user_path)
        old = self.config
        # Compared first: the monitors' context shares (and is about to refill) the old app settings.
        breaks_changed = config.app.get("breaks") != old.app.get("breaks")
        i18n.set_language(config.get("", "language"))
        self.context.app.clear()
        self.context.app.update(config.app)
        self.engine.config = config
        self.config = config
        if self.breaks is not None and breaks_changed:
            # New timing; switching reminders on or off, or another activity source, needs a restart.
            self.breaks.apply_settings(BreakSettings.from_config(config.app["breaks"]))
        if config.monitors == old.monitors:
            return config
        running = self.scheduler.running
        self.scheduler.stop()
        classes = config.enabled_monitors()
        for monitor_id in set(old.monitors) - {cls.id for cls in classes}:
            self.engine.forget(monitor_id)
        self.monitors = _create_monitors(classes, config, self.context, self.engine)
        self.scheduler = Scheduler(self.engine, self.monitors)
        if running:
            self.scheduler.start()
        return config


def build_runtime(
    *,
    monitor_classes: Mapping[str, type[Monitor]],
    config_path: Path | None = None,
    data_dir: Path | None = None,
    mode: str = "app",
    only: Iterable[str] | None = None,
    loop_probe: LoopLatencyProbe | None = None,
    clock: Callable[[], float] | None = None,
) -> Runtime:
    """Build a runtime over ``monitor_classes`` (by id; the CLI and UI hand in ``monitors.discover()``).

    ``mode`` ``"check"`` keeps no history and skips debounce. The services
    never import the monitors package themselves: what runs is the caller's
    choice, which is how the demo and the tests run their own monitors.
    """
    config = load_config(monitor_classes, config_path if config_path is not None else user_config_path())
    i18n.set_language(config.get("", "language"))
    data_dir = data_dir if data_dir is not None else user_data_dir()
    # Call and alert history are the clerk's: 0700, also when an older version made it 0755.
    with contextlib.suppress(OSError):
        secure_data_dir(data_dir)
    history = None
    if mode == "app":
        history = History(
            data_dir / HISTORY_FILE,
            sample_seconds=float(config.get("history", "sample_seconds")),
            retention_days=float(config.get("history", "retention_days")),
        )
        history.prune()
    context = MonitorContext(data_dir=data_dir, mode=mode, loop_probe=loop_probe, app=config.app)
    classes = config.enabled_monitors()
    if only is not None:
        wanted = set(only)
        classes = [cls for cls in monitor_classes.values() if cls.id in wanted]
    # The engine judges with the configuration's registry: every declared indicator.
    engine = Engine(config, config.registry, history, clock=clock or time.time, debounce=mode == "app")
    instances = _create_monitors(classes, config, context, engine)
    scheduler = Scheduler(engine, instances)
    breaks = None
    if mode == "app" and config.get("breaks", "enabled"):
        breaks = BreakService.from_config(config.app["breaks"], engine, history, context.call_state)
    exporter = None
    if mode == "app" and (config.get("exporter", "enabled") or config.get("exporter", "textfile")):
        from app.core.exporter import Exporter

        exporter = Exporter.from_config(config, engine, history, breaks)
    return Runtime(config, engine, scheduler, context, history, instances, exporter, breaks=breaks)


def _create_monitors(
    classes: Iterable[type[Monitor]], config: Config, context: MonitorContext, engine: Engine
) -> list[Monitor]:
    instances: list[Monitor] = []
    for cls in classes:
        try:
            instances.append(cls(config.monitor(cls.id), context))
        except Exception as exc:  # a broken monitor must not stop the others
            log.exception("monitor %s could not be created", cls.id)
            engine.mark_unknown(cls.id, MONITOR_FAILED.format(error=f"{type(exc).__name__}: {exc}"))
    return instances
