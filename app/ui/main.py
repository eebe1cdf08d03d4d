"""The tray application: builds the runtime, the tray icon, the panel, and wires them together.

:mod:`app.ui.startup` builds it once the runtime is ready (the tray icon
comes first).  Other features plug in through :data:`FEATURES`: each named module's
``install(surface)`` receives the app's :class:`~app.ui.surface.Surface` and
may add tray-menu actions and card widgets, handle its requests and connect
to its announcements (``stopping`` among them).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QApplication, QMenu, QMessageBox, QSystemTrayIcon

from app.core.alerts import Alert
from app.core.config import Config
from app.core.engine import Engine
from app.core.runtime import Runtime
from app.core.status import FaultReport, build_fault_report, save_fault_report
from app.kernel import i18n
from app.kernel.model import Level
from app.kernel.monitor import LoopLatencyProbe
from app.ui.autostart import Autostart, autostart_for_platform
from app.ui.bridge import LoopWatch, Worker
from app.ui.keys import name as name_widget
from app.ui.notifications import desktop_notifier
from app.ui.surface import Surface
from app.ui.theme import apply_style
from app.ui.translations import Translations
from app.ui.tray import Announcer, TrayIcon

if TYPE_CHECKING:  # imported when first shown: most days the panel and the settings never are
    from app.ui.panel.window import StatusPanel
    from app.ui.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

#: Optional features built by other modules; each has ``install(surface: Surface) -> None``.
FEATURES: tuple[str, ...] = ("app.ui.breaks", "app.ui.selftest")
PAUSE_CHOICES_MIN = (15, 30, 60)
#: Keys of the built-in actions; they work in the status panel and are shown in the tray menu.
ACTION_KEYS: dict[str, str] = {
    "alerts": "Ctrl+2",
    "ack_all": "Ctrl+Shift+A",
    "break": "Ctrl+B",
    "selftest": "Ctrl+T",
    "settings": "Ctrl+,",
}
#: The panel's own key for its status tab (cards, then a card's detail with Enter).
STATUS_KEY = "Ctrl+1"
#: How often and how many times to look for a tray that was missing at start-up (2 min).
TRAY_PROBE_MS, TRAY_PROBE_TRIES = 4000, 30


class DeskwatchApp(QObject):
    """The running desktop application: owns the runtime, the tray icon and the panel.

    Windows and features see only its :attr:`surface` (:mod:`app.ui.surface`);
    the app handles the surface's window requests (panel, alert centre,
    settings, fault reports) and makes its announcements (language, config,
    stopping).
    """

    def __init__(
        self,
        runtime: Runtime,
        probe: LoopLatencyProbe | None = None,
        *,
        tray: bool | None = None,
        translations: Translations | None = None,
        autostart: Autostart | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.surface = Surface(runtime, parent=self)
        self.probe = probe or runtime.context.loop_probe or LoopLatencyProbe()
        self.translations = translations or Translations()
        self.autostart = autostart if autostart is not None else autostart_for_platform()
        # Times the engine's updates as they reach the GUI thread: the freeze indicator's measure.
        self.loop_watch = LoopWatch(self.probe, parent=self)
        self.loop_watch.attach(self.surface.bridge)
        self.surface.has_tray = QSystemTrayIcon.isSystemTrayAvailable() if tray is None else tray
        self.last_report: FaultReport | None = None
        self.report_box: QMessageBox | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._build_menu()
        surface = self.surface
        surface.panel_requested.connect(self.show_panel)
        surface.alerts_requested.connect(self.show_alerts)
        surface.settings_requested.connect(self.open_settings)
        surface.fault_report_requested.connect(self.report_fault)
        # Connected before any feature installs: the app's own follow-up runs first.
        surface.config_applied.connect(self._config_applied)
        # The panel is built the first time it is needed (:attr:`panel`): hidden
        # in the tray all day, its widgets and the fonts they load (the CJK
        # faces, regular and bold, in Chinese) cost some 15 MiB, 20 in Chinese.
        self._panel: StatusPanel | None = None
        self._notices: dict[str, str | None] = {}
        self._set_keys()
        self.tray: TrayIcon | None = TrayIcon(surface) if self.has_tray else None
        self.announcer = Announcer(surface, self.notify, desktop=desktop_notifier())
        self._show_tray_notice()
        self._stopped = False
        # At login the tray host may start after Deskwatch: keep looking for it
        # for a while and move into the tray as soon as it appears.
        self._tray_probe = QTimer(self)
        self._tray_probe.setInterval(TRAY_PROBE_MS)
        self._tray_probe.timeout.connect(self._look_for_tray)
        self._tray_probe_left = TRAY_PROBE_TRIES if tray is None and not self.has_tray else 0

    @property
    def panel(self) -> StatusPanel:
        """The status panel, built (hidden) the first time anything needs it."""
        if self._panel is None:
            from app.ui.panel.window import StatusPanel

            panel = StatusPanel(self.surface)
            self._panel = panel
            self.surface.main_window = panel
            self._install_keys(panel)
            self._name_panel()
            for kind, text in self._notices.items():
                panel.set_notice(kind, text)
        return self._panel

    @property
    def panel_built(self) -> bool:
        """Whether the status panel has been built yet."""
        return self._panel is not None

    def _set_notice(self, kind: str, text: str | None) -> None:
        """A notice for the panel: shown at once if it is built, else when it is."""
        self._notices[kind] = text
        if self._panel is not None:
            self._panel.set_notice(kind, text)

    @property
    def engine(self) -> Engine:
        """The engine (states, alerts, acknowledgement)."""
        return self.runtime.engine

    @property
    def worker(self) -> Worker:
        """The surface's worker (blocking calls off the GUI thread)."""
        return self.surface.worker

    @property
    def tray_menu(self) -> QMenu:
        """The tray icon's menu (the surface's)."""
        return self.surface.tray_menu

    @property
    def has_tray(self) -> bool:
        """Whether Deskwatch lives in a system tray (else in its window)."""
        return self.surface.has_tray

    # -- menu -------------------------------------------------------------------
    def _build_menu(self) -> None:
        surface = self.surface
        menu = surface.tray_menu
        add = self._add_action
        add("open", self.show_panel)
        add("alerts", self.show_alerts)
        add("ack_all", surface.acknowledge_all)
        menu.addSeparator()
        add("break", surface.take_break_requested.emit)
        self.pause_menu = menu.addMenu("")
        for minutes in PAUSE_CHOICES_MIN:
            action = self.pause_menu.addAction("")
            action.triggered.connect(
                lambda _checked=False, m=minutes: surface.pause_reminders_requested.emit(m)
            )
            surface.add_action(f"pause_{minutes}", action)
        add("selftest", surface.selftest_requested.emit)
        menu.addSeparator()
        add("settings", self.open_settings)
        add("quit", self.quit)
        menu.aboutToShow.connect(self._update_menu)
        self.retranslate_menu()

    def _set_keys(self) -> None:
        """The built-in actions' keys (the tray menu shows them)."""
        for name, key in ACTION_KEYS.items():
            self.action(name).setShortcut(QKeySequence(key))

    def _install_keys(self, panel: StatusPanel) -> None:
        """The built-in actions' keys, active in the panel (the window keeps them across rebuilds)."""
        for name in ACTION_KEYS:
            panel.addAction(self.action(name))
        status = QShortcut(QKeySequence(STATUS_KEY), panel)
        status.activated.connect(self.show_status)

    def _name_panel(self) -> None:
        """Screen-reader names for the panel's tabs and card list (the panel rebuilds them per language)."""
        panel = self.panel
        name_widget(
            panel.tabs,
            self.tr("Status and alerts"),
            self.tr("{0}: status, {1}: alerts").format(STATUS_KEY, ACTION_KEYS["alerts"]),
        )
        cards = panel.stack.widget(0)
        if cards is not None:
            name_widget(cards, self.tr("Devices"))

    def _add_action(self, name: str, slot: Callable[[], object]) -> QAction:
        action = self.surface.tray_menu.addAction("")
        action.triggered.connect(lambda _checked=False: slot())
        return self.surface.add_action(name, action)

    def action(self, name: str) -> QAction:
        """A built-in menu action: open, alerts, ack_all, break, pause_N, selftest, settings, quit."""
        return self.surface.action(name)

    def retranslate_menu(self) -> None:
        """Set the built-in menu texts in the current language."""
        texts = {
            # "&" marks the key that picks the entry while the menu is open (Alt-free in a menu).
            "open": self.tr("&Open status panel"),
            "alerts": self.tr("&Alert centre"),
            "ack_all": self.tr("Acknowledge a&ll alerts"),
            "break": self.tr("Take a &break now"),
            "selftest": self.tr("Start-of-shift &check…"),
            "settings": self.tr("&Settings…"),
            "quit": self.tr("&Quit Deskwatch"),
        }
        for name, text in texts.items():
            self.action(name).setText(text)
        self.pause_menu.setTitle(self.tr("&Pause break reminders"))
        for minutes in PAUSE_CHOICES_MIN:
            self.action(f"pause_{minutes}").setText(self.tr("For %n minute(s)", "", minutes))

    def _update_menu(self) -> None:
        # Requests nobody handles (a feature not installed) are shown but disabled.
        surface = self.surface
        self.action("break").setEnabled(surface.handled(surface.take_break_requested))
        self.pause_menu.setEnabled(surface.handled(surface.pause_reminders_requested))
        self.action("selftest").setEnabled(surface.handled(surface.selftest_requested))
        self.action("ack_all").setEnabled(any(a.needs_attention for a in self.engine.alerts.visible()))

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        """Start monitoring and show the tray icon (or the panel where there is no tray)."""
        self.runtime.start()
        self.loop_watch.start()
        if self.tray is not None:
            self.tray.show()
        else:
            self.show_panel()
            if self._tray_probe_left:
                self._tray_probe.start()

    def _look_for_tray(self, available: bool | None = None) -> None:
        """Adopt a system tray that appeared after start-up."""
        self._tray_probe_left -= 1
        if available is None:
            available = QSystemTrayIcon.isSystemTrayAvailable()
        if available and self.tray is None:
            self.surface.has_tray = True
            self.tray = TrayIcon(self.surface)
            self.tray.show()
            self._show_tray_notice()
        if self.tray is not None or self._tray_probe_left <= 0:
            self._tray_probe.stop()

    def stop(self) -> None:
        """Stop monitoring and release everything (idempotent).

        Features hear :attr:`Surface.stopping` first, while the history is
        still open, so they can save their state.
        """
        if self._stopped:
            return
        self._stopped = True
        self.loop_watch.stop()
        self._tray_probe.stop()
        self.announcer.timer.stop()
        self.surface.stop()
        if self.tray is not None:
            self.tray.icon.hide()
        self.runtime.stop()

    def quit(self) -> None:
        """Quit the application."""
        # exit(), not quit(): Qt 6's quit() first asks every window to close,
        # and the panel refuses (it hides to the tray), which would cancel it.
        QApplication.exit(0)

    # -- windows ----------------------------------------------------------------
    def _show_tray_notice(self) -> None:
        text = None
        if not self.has_tray:
            text = self.tr(
                "No system tray was found, so Deskwatch runs in this window. "
                "Closing it quits Deskwatch; minimise it instead."
            )
        self._set_notice("tray", text)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setQuitOnLastWindowClosed(not self.has_tray)

    def show_panel(self) -> None:
        """Show the status panel and bring it to the front."""
        self.panel.show()
        self.panel.setWindowState(self.panel.windowState() & ~self.panel.windowState().WindowMinimized)
        self.panel.raise_()
        self.panel.activateWindow()

    def show_alerts(self) -> None:
        """Show the panel on the alert centre, the keyboard in its list."""
        self.show_panel()
        self.panel.show_alerts()
        self.panel.alerts.focus_list()

    def show_status(self) -> None:
        """Show the panel's cards (leaving a detail view), the keyboard on the first card."""
        self.show_panel()
        panel = self.panel
        panel.tabs.setCurrentIndex(panel.STATUS_TAB)
        panel.stack.setCurrentIndex(0)
        focusable = [card for card in panel.cards.values() if card.focusPolicy() != Qt.FocusPolicy.NoFocus]
        if focusable:
            focusable[0].setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            panel.tabs.tabBar().setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_settings(self) -> SettingsDialog:
        """Open (or bring forward) the settings dialog."""
        if self.settings_dialog is None:
            from app.ui.settings_dialog import SettingsDialog

            self.settings_dialog = SettingsDialog(self.surface, self.autostart, self.panel)
            self.settings_dialog.finished.connect(self._settings_closed)
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()
        return self.settings_dialog

    def _settings_closed(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None

    def notify(self, title: str, body: str, level: Level) -> None:
        """A desktop notification (the tray's balloon), or a notice on the panel without a tray."""
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            icon = {
                Level.CRITICAL: QSystemTrayIcon.MessageIcon.Critical,
                Level.WARNING: QSystemTrayIcon.MessageIcon.Warning,
            }.get(level, QSystemTrayIcon.MessageIcon.Information)
            self.tray.icon.showMessage(title, body, icon, 10_000)
        else:
            self._set_notice("alert", f"{title} — {body.splitlines()[0]}")

    # -- actions ----------------------------------------------------------------
    def report_fault(self, alert: Alert) -> None:
        """Build a fault report for IT: clipboard, a file in the data folder, optionally an e-mail."""
        runtime = self.runtime

        def build() -> FaultReport:
            return save_fault_report(build_fault_report(runtime, alert), runtime.context.data_dir)

        self.worker.submit(build, self._report_ready, self._report_failed)

    def _report_ready(self, report: FaultReport) -> None:
        self.last_report = report
        clipboard = QApplication.clipboard()
        clipboard.setText(report.body)
        email = str(self.runtime.config.get("alerts", "it_email") or "")
        box = QMessageBox(self.panel)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle(self.tr("Report to IT"))
        box.setText(self.tr("The fault report is on the clipboard and saved as:\n{0}").format(report.path))
        box.setDetailedText(report.body)
        mail_button = None
        if email:
            mail_button = box.addButton(
                self.tr("Open e-mail to {0}").format(email), QMessageBox.ButtonRole.ActionRole
            )
        box.addButton(QMessageBox.StandardButton.Close)

        def clicked(button: QAbstractButton) -> None:
            if mail_button is not None and button is mail_button:
                QDesktopServices.openUrl(QUrl(report.mailto(email)))

        box.buttonClicked.connect(clicked)
        box.open()
        self.report_box = box

    def _report_failed(self, error: BaseException) -> None:
        QMessageBox.warning(
            self.panel,
            self.tr("Report to IT"),
            self.tr("The fault report could not be saved: {0}").format(error),
        )

    # -- settings -----------------------------------------------------------------
    def _config_applied(self, _config: Config) -> None:
        """New settings are in force: follow a language change, re-read every card and the tray."""
        language = i18n.current_language()
        if language != self.translations.language:
            self.set_language(language)
        if self._panel is not None:  # a panel built later reads the new settings then
            self._panel.sync_all()
        if self.tray is not None:
            self.tray.refresh()

    def set_language(self, language: str) -> None:
        """Switch the UI language at run time."""
        i18n.set_language(language)
        self.translations.install(language)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_style(app, language)
        self.retranslate_menu()
        if self._panel is not None:  # a panel built later is built in the new language
            self._panel.retranslate()
            self._name_panel()
        self._show_tray_notice()
        if self.tray is not None:
            self.tray.refresh()
        self.surface.language_changed.emit(language)


def load_features(app: DeskwatchApp, features: Iterable[str] = FEATURES) -> list[str]:
    """Import each feature module and call its ``install(surface)``; returns the names installed.

    A feature that is not there is skipped quietly; one that fails is logged
    and the application goes on without it.
    """
    installed = []
    for name in features:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                log.debug("feature %s not present", name)
            else:
                log.exception("feature %s could not be loaded", name)
            continue
        except Exception:
            log.exception("feature %s could not be loaded", name)
            continue
        try:
            install: Callable[[Surface], None] = module.install
            install(app.surface)
        except Exception:
            log.exception("feature %s failed to install", name)
            continue
        installed.append(name)
    return installed
