"""Starting the tray application: the icon first, everything heavy behind it.

``run_gui(args)`` is what ``deskwatch`` (and ``deskwatch run --demo``) call.
Loading the monitors (numpy, the audio stack, the device libraries), reading
the configuration, opening and pruning the history and building the panel
take several times as long as putting an icon in the tray, so start-up comes
in two steps:

1. Qt, the single-instance check and a *starting* icon (tooltip "Deskwatch
   is starting…", a menu with Quit) — this module imports nothing of the
   monitors, the core services or the windows;
2. on a background thread the runtime is built (monitors discovered,
   configuration read, history opened — blocking I/O, which never runs on
   the GUI thread); back on the GUI thread :class:`~app.ui.main.DeskwatchApp`
   is built and started, and its own tray icon takes the starting icon's
   place.

A quit (menu, SIGTERM, the session ending) during step 2 stops cleanly: the
runtime, once built, is closed without ever being started.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, Qt, Signal
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from app.kernel import i18n
from app.kernel.monitor import LoopLatencyProbe
from app.kernel.paths import user_data_dir
from app.ui.single import SingleInstance, ask_running_instance, server_name
from app.ui.theme import apply_style, level_icon
from app.ui.translations import Translations

if TYPE_CHECKING:
    from app.core.runtime import Runtime
    from app.ui.main import DeskwatchApp

log = logging.getLogger(__name__)

#: How long a quit during start-up waits for the runtime being built, so that its history is closed.
BUILD_WAIT_S = 5.0

_signal_plumbing: list[socket.socket | QSocketNotifier] = []


def install_signal_handlers(qapp: QApplication) -> QSocketNotifier | None:
    """Quit cleanly on SIGINT/SIGTERM without a polling timer.

    Python runs signal handlers only between bytecodes, which never happens
    while Qt waits in C++; the wake-up fd makes the signal visible to the
    event loop as a readable socket.
    """
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    reader.setblocking(False)
    try:
        signal.set_wakeup_fd(writer.fileno())
    except ValueError:  # not the main thread
        return None
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_args: None)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, qapp)

    def wake() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)
        qapp.exit(0)  # see DeskwatchApp.quit

    notifier.activated.connect(wake)
    # Module-level references: the sockets must live as long as the process,
    # whatever the caller does with the returned notifier.
    _signal_plumbing[:] = [reader, writer, notifier]
    return notifier


class StartingIcon(QObject):
    """The tray icon shown while the runtime is being built: the app's mark, a tooltip, Quit."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = QMenu()
        self.quit_action = self.menu.addAction(self.tr("&Quit Deskwatch"))
        # exit(), not quit(): see DeskwatchApp.quit.
        self.quit_action.triggered.connect(lambda _checked=False: QApplication.exit(0))
        self.icon = QSystemTrayIcon(level_icon(None), self)
        self.icon.setToolTip(self.tr("Deskwatch is starting…"))
        self.icon.setContextMenu(self.menu)

    def show(self) -> None:
        """Put the icon in the tray."""
        self.icon.show()

    def close(self) -> None:
        """Take the icon out of the tray (the app's own icon is there by now)."""
        self.icon.hide()
        # The icon first: it must not outlive the menu it shows.
        self.icon.deleteLater()
        self.menu.deleteLater()


class RuntimeBuilder(QObject):
    """Builds the runtime on a thread of its own; :attr:`built` / :attr:`failed` arrive on the GUI thread."""

    built = Signal(object)
    failed = Signal(object)

    def __init__(self, build: Callable[[], Runtime], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._build = build
        self._done = threading.Event()
        self.runtime: Runtime | None = None
        self._thread = threading.Thread(target=self._run, name="deskwatch-startup", daemon=True)

    def start(self) -> None:
        """Start building."""
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Block until the build has finished (a quit during start-up); False on timeout."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        try:
            runtime = self._build()
        except BaseException as exc:  # reported on the GUI thread, which re-raises it
            self._done.set()
            self.failed.emit(exc)
            return
        self.runtime = runtime
        self._done.set()
        self.built.emit(runtime)


def _runtime_for(args: argparse.Namespace, probe: LoopLatencyProbe) -> Runtime:
    """Discover the monitors and build the runtime the command asks for (the demo's or the real one)."""
    import monitors
    from app.core.runtime import build_runtime

    if getattr(args, "demo", False):
        from app.core.demo import QuietSimulatedFaults, demo_monitor_classes

        logging.getLogger("app.core.scheduler").addFilter(QuietSimulatedFaults())
        # The demo keeps its own history and settings so it never mixes with real data.
        data_dir = args.data_dir or (user_data_dir() / "demo")
        config_path = args.config or (Path(data_dir) / "deskwatch-demo.toml")
        return build_runtime(
            config_path=config_path,
            data_dir=data_dir,
            loop_probe=probe,
            monitor_classes=demo_monitor_classes(monitors.discover()),
        )
    return build_runtime(
        monitor_classes=monitors.discover(), config_path=args.config, data_dir=args.data_dir, loop_probe=probe
    )


class Startup(QObject):
    """Step 2 of the start-up: waits for the runtime, then builds and starts the app."""

    def __init__(
        self, qapp: QApplication, args: argparse.Namespace, single: SingleInstance, translations: Translations
    ) -> None:
        super().__init__(qapp)
        self.qapp = qapp
        self.args = args
        self.single = single
        self.translations = translations
        self.probe = LoopLatencyProbe()
        self.app: DeskwatchApp | None = None
        self.error: BaseException | None = None
        self.starting: StartingIcon | None = None
        self._stopped = False
        self._panel_asked = False
        single.show_requested.connect(self._show_requested)
        qapp.commitDataRequest.connect(lambda _manager: self._session_ending())
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.starting = StartingIcon(self)
            self.starting.show()
        self.builder = RuntimeBuilder(lambda: _runtime_for(args, self.probe), self)
        self.builder.built.connect(self._built, Qt.ConnectionType.QueuedConnection)
        self.builder.failed.connect(self._failed, Qt.ConnectionType.QueuedConnection)
        self.builder.start()

    def _built(self, runtime: Runtime) -> None:
        if self._stopped:  # quit while it was being built: stop() closes it
            return
        try:
            self._start_app(runtime)
        except BaseException as exc:  # as a failure in build_runtime: out of run_gui, not into Qt's log
            self._failed(exc)

    def _start_app(self, runtime: Runtime) -> None:
        from app.ui.main import DeskwatchApp, load_features

        if getattr(self.args, "lang", None):
            i18n.set_language(self.args.lang)
        language = i18n.current_language()  # the config's, now that it is read
        if language != self.translations.language:
            self.translations.install(language)
        apply_style(self.qapp, language)
        app = DeskwatchApp(runtime, self.probe, translations=self.translations)
        self.app = app
        load_features(app)
        self.qapp.aboutToQuit.connect(app.stop)
        app.start()
        if self.starting is not None:
            self.starting.close()  # after the app's icon is shown: the tray is never empty
            self.starting = None
        if self._panel_asked:
            app.show_panel()

    def _show_requested(self) -> None:
        """Another launch asked for the panel: show it, or as soon as it exists."""
        if self.app is not None:
            self.app.show_panel()
        else:
            self._panel_asked = True

    def _session_ending(self) -> None:
        # The desktop session is ending: stop cleanly now (history flushed, clean
        # heartbeat) rather than die with the X connection, which would be
        # reported as a crash at the next start.
        if self.app is not None:
            self.app.quit()
        else:
            QApplication.exit(0)  # stop() closes what is being built

    def _failed(self, error: BaseException) -> None:
        self.error = error
        self.qapp.exit(1)

    def stop(self) -> None:
        """Stop the app, or, when the loop ended before it was built, close the runtime being built."""
        self._stopped = True
        if self.app is not None:
            self.app.stop()
            return
        if self.builder.wait(BUILD_WAIT_S) and self.builder.runtime is not None:
            # Built but never started: only its history is open.
            self.builder.runtime.stop()


def run_gui(args: argparse.Namespace) -> int:
    """Run the tray application until quit; returns the process exit code."""
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Deskwatch")
    qapp.setOrganizationName("Deskwatch")
    qapp.setDesktopFileName("deskwatch")
    qapp.setWindowIcon(level_icon(None))
    name = server_name("-demo" if getattr(args, "demo", False) else "")
    if ask_running_instance(name):
        log.info("Deskwatch is already running; asked it to show its panel")
        return 0
    single = SingleInstance(name)
    single.listen()
    translations = Translations()
    # The system's language (or --lang) until the configuration is read.
    translations.install(getattr(args, "lang", None) or i18n.current_language())
    # Quitting before the app is built must not close a window that is not there.
    qapp.setQuitOnLastWindowClosed(False)
    notifier = install_signal_handlers(qapp)
    startup = Startup(qapp, args, single, translations)
    try:
        code = int(qapp.exec())
    finally:
        startup.stop()
        single.close()
        del notifier
    if startup.error is not None:
        raise startup.error
    return code
