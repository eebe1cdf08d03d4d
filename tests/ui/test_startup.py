"""Start-up: the tray icon first, the monitors and their libraries behind it, and only what is configured.

The first test runs the real ``deskwatch run`` on Xvfb with a tray
(:mod:`tests.ui.startup_probe` records ``sys.modules`` when the starting icon
is shown and once every monitor has answered); the others drive
:func:`app.ui.startup.run_gui` in this process through its two ways of
ending early, and the status panel that waits until it is first shown.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.core.runtime import Runtime, build_runtime
from app.kernel.model import Device, Level
from app.kernel.monitor import LoopLatencyProbe
from app.ui import startup
from tests.ui.conftest import CLASSES, CPU, FakeAutostart, reading
from tests.xserver import XServer, xvfb

ROOT = Path(__file__).resolve().parents[2]

#: A seat that needs none of the device libraries: no printer, no headset, no recorder, no sensor,
#: no exporter (the defaults for the last two).
NOTHING_NEEDS_THEM = "".join(
    f"[monitors.{name}]\nenabled = false\n" for name in ("printer", "headset", "hearing", "recorder")
)
#: Loaded only when a configured device or feature needs them.
ON_DEMAND = ("prometheus_client", "cups", "pyaudio", "numpy")
#: Never loaded by ``deskwatch run`` that writes no setting: the instance socket is Python's own,
#: and tomlkit is imported only to write the user's file.  Nor OpenSSL's libcrypto (``_hashlib``,
#: ``ssl``: 4 MiB resident; random tokens come from ``os.urandom``), ``html``'s entity tables or
#: ``difflib`` (suggestions for a config file with a mistake in it).
NEVER = ("PySide6.QtNetwork", "tomlkit", "_hashlib", "ssl", "html", "difflib")
#: Nor, on Linux, platformdirs (half a MiB for two XDG paths; :func:`app.kernel.paths._user_dir`).
if sys.platform.startswith("linux"):
    NEVER += ("platformdirs",)


@contextmanager
def bounded_loop(seconds: float = 20.0) -> Iterator[None]:
    """End the event loop after ``seconds`` should what the test waits for never come."""
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(lambda: QApplication.exit(99))
    guard.start(int(seconds * 1000))
    try:
        yield
    finally:
        guard.stop()


@pytest.fixture(scope="module")
def xserver() -> Iterator[XServer]:
    with xvfb(with_tray=True) as server:
        yield server


@pytest.mark.xserver
def test_the_icon_comes_before_the_monitors_and_libraries_load_only_when_configured(
    xserver: XServer, tmp_path: Path
) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text(NOTHING_NEEDS_THEM, "utf-8")
    out = tmp_path / "loaded.json"
    env = {**xserver.env, "DESKWATCH_CONFIG": str(config), "DESKWATCH_DATA_DIR": str(tmp_path / "data")}
    with (tmp_path / "app.log").open("w") as log:
        result = subprocess.run(
            [sys.executable, "-m", "tests.ui.startup_probe", str(out), "run"],
            cwd=ROOT, env=env, stdout=log, stderr=log, timeout=150,
        )  # fmt: skip
    app_log = (tmp_path / "app.log").read_text("utf-8", errors="replace")
    assert result.returncode == 0, app_log[-3000:]
    record = json.loads(out.read_text("utf-8"))
    # The starting icon was shown before anything heavy was imported …
    assert record["at_icon"] == [], f"loaded before the tray icon: {record['at_icon']}"
    # … and the app really started behind it, every monitor answering.
    assert {"monitors", "app.ui.main", "app.core.runtime"} <= set(record["started"])
    assert record["answered"] == record["monitors"] and "computer" in record["monitors"]
    assert record["starting_icon_closed"] is True
    # Nothing configured needs the device libraries or the exporter: none was imported.
    assert not set(ON_DEMAND) & set(record["started"]), record["started"]
    assert not set(NEVER) & set(record["started"]), record["started"]
    assert "deskwatch-startup" not in record["threads"], "the start-up thread ends once the runtime is built"


@pytest.fixture
def gui_args(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[argparse.Namespace]:
    """``run_gui`` arguments in this process: a private instance socket, the test's signal handlers kept."""
    monkeypatch.setattr(startup, "server_name", lambda suffix="": str(tmp_path / f"instance{suffix}.sock"))
    monkeypatch.setattr(startup, "install_signal_handlers", lambda _qapp: None)
    (tmp_path / "deskwatch.toml").write_text("", "utf-8")
    quits = qapp.quitOnLastWindowClosed()
    yield argparse.Namespace(config=tmp_path / "deskwatch.toml", data_dir=tmp_path / "data", lang="en")
    qapp.setQuitOnLastWindowClosed(quits)


def test_a_quit_while_the_runtime_is_built_closes_it_unstarted(
    qapp: QApplication, gui_args: argparse.Namespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    built: list[Runtime] = []

    def slow_build(args: argparse.Namespace, probe: LoopLatencyProbe) -> Runtime:
        assert release.wait(10), "the test never let the build finish"
        runtime = build_runtime(
            monitor_classes=CLASSES, config_path=args.config, data_dir=args.data_dir, loop_probe=probe
        )
        built.append(runtime)
        return runtime

    monkeypatch.setattr(startup, "_runtime_for", slow_build)
    created: list[object] = []
    original_init = startup.Startup.__init__

    def remember(self: startup.Startup, *args: Any) -> None:
        original_init(self, *args)
        created.append(self)

    monkeypatch.setattr(startup.Startup, "__init__", remember)

    def quit_then_finish_building() -> None:
        QApplication.exit(0)
        release.set()

    QTimer.singleShot(50, quit_then_finish_building)
    assert startup.run_gui(gui_args) == 0
    (runtime,) = built
    (started,) = created
    assert isinstance(started, startup.Startup) and started.app is None
    assert not runtime.scheduler.running
    # Closed: SQLite removes the write-ahead log when its last connection closes.
    assert (gui_args.data_dir / "history.sqlite3").exists()
    assert not (gui_args.data_dir / "history.sqlite3-wal").exists()
    qapp.processEvents()  # the late "built" signal must not bring the app up after all
    assert started.app is None


def test_a_runtime_that_cannot_be_built_ends_the_app_with_its_error(
    qapp: QApplication, gui_args: argparse.Namespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_args: argparse.Namespace, _probe: LoopLatencyProbe) -> Runtime:
        raise OSError("the data folder is on a disk that went away")

    monkeypatch.setattr(startup, "_runtime_for", broken)
    with bounded_loop(), pytest.raises(OSError, match="disk that went away"):
        startup.run_gui(gui_args)


def test_an_app_that_cannot_be_built_ends_with_its_error_and_closes_the_runtime(
    qapp: QApplication, gui_args: argparse.Namespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.ui.main

    built: list[Runtime] = []

    def build(args: argparse.Namespace, probe: LoopLatencyProbe) -> Runtime:
        runtime = build_runtime(
            monitor_classes=CLASSES, config_path=args.config, data_dir=args.data_dir, loop_probe=probe
        )
        built.append(runtime)
        return runtime

    class Unbuildable:
        def __init__(self, *_args: Any, **_kwargs: Any) -> None:
            raise RuntimeError("no display for the panel")

    monkeypatch.setattr(startup, "_runtime_for", build)
    monkeypatch.setattr(app.ui.main, "DeskwatchApp", Unbuildable)
    with bounded_loop(), pytest.raises(RuntimeError, match="no display for the panel"):
        startup.run_gui(gui_args)
    (runtime,) = built
    assert not runtime.scheduler.running
    assert not (gui_args.data_dir / "history.sqlite3-wal").exists()


def test_the_panel_is_built_when_first_shown_with_what_happened_before(qtbot: Any, make_runtime: Any) -> None:
    from app.ui.main import DeskwatchApp

    app = DeskwatchApp(make_runtime(), tray=False, autostart=FakeAutostart())
    try:
        assert not app.panel_built
        app.engine.ingest([reading(CPU, 97.5)])
        app.notify("Printer", "Out of paper", Level.WARNING)  # no tray: the notice waits for the panel
        assert not app.panel_built
        app.show_panel()
        assert app.panel_built
        qtbot.addWidget(app.panel)
        app.panel.flush_pending()
        assert app.panel.cards[Device.COMPUTER].level is Level.CRITICAL
        assert "Out of paper" in app.panel.notice.text()
        assert "No system tray was found" in app.panel.notice.text()
        assert app.surface.main_window is app.panel
    finally:
        app.stop()


#: Imports PySide6 (with or without Deskwatch's adjustment), then stdlib modules, and counts cached sources.
CACHED_SOURCES = """
import importlib, linecache, sys
importlib.import_module(sys.argv[1])
import email.mime.text, json, csv, wave, zipfile
print(len(linecache.cache))
"""


@pytest.mark.parametrize(("first", "most"), [("app.ui", 0), ("PySide6.QtCore", None)])
def test_modules_imported_after_qt_leave_no_source_in_memory(first: str, most: int | None) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CACHED_SOURCES, first],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    cached = int(result.stdout.split()[-1])
    if most is not None:
        assert cached <= most, f"{cached} source files kept in linecache"
    else:  # PySide6 on its own keeps them: the adjustment is what makes the difference
        assert cached > 10
