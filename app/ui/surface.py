"""The application surface: everything windows and features may use of the running tray app.

:class:`~app.ui.main.DeskwatchApp` builds one :class:`Surface` and hands it
to the panel, the tray icon, the dialogs and each feature's
``install(surface)``; none of them imports ``app.ui.main``.  The surface holds

- the :attr:`~Surface.runtime` (and its :attr:`~Surface.engine`),
- the one :attr:`~Surface.worker` for blocking calls (results come back on
  the GUI thread) and the :attr:`~Surface.bridge` that re-emits engine
  changes on the GUI thread,
- the :attr:`~Surface.tray_menu` and its named built-in actions,
- card slots: widgets a feature puts on a device's card
  (:meth:`~Surface.add_card_widget`), kept across panel rebuilds,
- features, registered by their type (:meth:`~Surface.add_feature`,
  :meth:`~Surface.feature`),
- typed signals: *requests* the menu and panel emit and the app or a feature
  handles, and *announcements* the app makes, among them :attr:`~Surface.stopping`,
  which features connect to for saving and closing before the runtime stops.

It is a small object rather than a Protocol so that a test can build one on
a runtime without the rest of the application.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from PySide6.QtCore import QMetaMethod, QObject, Signal, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from app.core.config import Config
from app.core.engine import Engine
from app.core.runtime import Runtime
from app.kernel.model import Device
from app.ui.bridge import EngineBridge, Worker

log = logging.getLogger(__name__)

FeatureT = TypeVar("FeatureT", bound=QObject)
#: How long stopping waits for background jobs (queued acknowledgements are quick; a
#: check or a read stuck in a call that never returns must not keep Deskwatch from quitting).
STOP_WAIT_S = 10.0


class Surface(QObject):
    """What the running app offers its windows and features (see the module docstring)."""

    # -- requests: emitted by the tray menu and the panel, handled by the app or a feature --
    #: Start a break now (the breaks feature).
    take_break_requested = Signal()
    #: Pause break reminders for so many minutes (the breaks feature).
    pause_reminders_requested = Signal(int)
    #: Open the start-of-shift check (the self-test feature).
    selftest_requested = Signal()
    #: Open the report dialog (the self-test feature).
    report_requested = Signal()
    #: Show the status panel / the alert centre / the settings dialog (the app).
    panel_requested = Signal()
    alerts_requested = Signal()
    settings_requested = Signal()
    #: Send an :class:`~app.core.alerts.Alert` to IT as a fault report (the app).
    fault_report_requested = Signal(object)

    # -- announcements: made by the app, heard by windows and features -----------------------
    #: The UI language changed (``zh_CN``/``en``); retranslate.
    language_changed = Signal(str)
    #: New settings are in force (the new :class:`~app.core.config.Config`).
    config_applied = Signal(object)
    #: A feature put a widget on a card: (:class:`~app.kernel.model.Device`, ``QWidget``).
    card_widget_added = Signal(object, object)
    #: The app is about to stop the runtime: save state, close windows, stop timers now.
    stopping = Signal()

    def __init__(self, runtime: Runtime, worker: Worker | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self.worker = worker if worker is not None else Worker(self)
        self.bridge = EngineBridge(runtime.engine, self)
        self.tray_menu = QMenu()
        #: Whether a system tray shows the icon (closing the panel then only hides it).
        self.has_tray = False
        #: The window dialogs open over while it is visible (the status panel).
        self.main_window: QWidget | None = None
        self._actions: dict[str, QAction] = {}
        self._cards: dict[Device, list[QWidget]] = {}
        self._features: dict[type[QObject], QObject] = {}
        self._stopped = False

    @property
    def engine(self) -> Engine:
        """The engine (states, alerts, acknowledgement)."""
        return self.runtime.engine

    @property
    def config(self) -> Config:
        """The configuration in force."""
        return self.runtime.config

    # -- tray menu ------------------------------------------------------------------------
    def add_action(self, name: str, action: QAction) -> QAction:
        """Name a tray-menu action so features can find it (e.g. to insert their own after it)."""
        self._actions[name] = action
        return action

    def action(self, name: str) -> QAction:
        """A named tray-menu action (``KeyError`` when there is none)."""
        return self._actions[name]

    def insert_action_after(self, anchor: QAction | None, action: QAction) -> None:
        """Put ``action`` in the tray menu right after ``anchor`` (at the end without one)."""
        actions = self.tray_menu.actions()
        if anchor is None or anchor not in actions or actions.index(anchor) + 1 >= len(actions):
            self.tray_menu.addAction(action)
        else:
            self.tray_menu.insertAction(actions[actions.index(anchor) + 1], action)

    def handled(self, request: SignalInstance) -> bool:
        """Whether anybody listens to one of this surface's request signals."""
        return self.isSignalConnected(QMetaMethod.fromSignal(request))

    # -- cards and features ------------------------------------------------------------------
    def add_card_widget(self, device: Device, widget: QWidget) -> None:
        """Put a feature's widget at the bottom of ``device``'s card (kept across language changes)."""
        self._cards.setdefault(device, []).append(widget)
        self.card_widget_added.emit(device, widget)

    def card_widgets(self, device: Device) -> list[QWidget]:
        """The widgets features put on ``device``'s card, in the order added."""
        return list(self._cards.get(device, ()))

    def card_slots(self) -> dict[Device, list[QWidget]]:
        """Every card's feature widgets."""
        return {device: list(widgets) for device, widgets in self._cards.items()}

    def add_feature(self, feature: FeatureT) -> FeatureT:
        """Register an installed feature under its type (one per type); returns it."""
        self._features[type(feature)] = feature
        return feature

    def feature(self, kind: type[FeatureT]) -> FeatureT | None:
        """The installed feature of type ``kind``, if any."""
        found = self._features.get(kind)
        return found if isinstance(found, kind) else None

    def dialog_parent(self) -> QWidget | None:
        """The window a dialog should open over: the main window while it is shown, else none."""
        window = self.main_window
        return window if window is not None and window.isVisible() else None

    # -- actions every window may take ------------------------------------------------------
    def acknowledge(self, alert_ids: Iterable[int], note: str = "") -> None:
        """Acknowledge alerts off the GUI thread (it writes to the history database)."""
        ids = list(alert_ids)
        engine = self.engine
        self.worker.submit(lambda: [engine.acknowledge(i, note) for i in ids])

    def acknowledge_all(self, note: str = "") -> None:
        """Acknowledge every alert that needs attention."""
        engine = self.engine
        self.worker.submit(lambda: engine.acknowledge_all(note))

    def apply_config(self, config: Config, on_done: Callable[[Config], None] | None = None) -> None:
        """Put a new configuration in force without a restart (monitors rebuilt off the GUI thread).

        :attr:`config_applied` is emitted on the GUI thread when it is in
        force, then ``on_done(config)`` is called.
        """
        runtime = self.runtime

        def done(new: Config) -> None:
            self.config_applied.emit(new)
            if on_done is not None:
                on_done(new)

        self.worker.submit(lambda: runtime.reload(config), done)

    # -- lifecycle ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Tell features to stop (:attr:`stopping`), then stop the worker and the bridge (idempotent).

        The runtime is the app's to stop, after this returns.
        """
        if self._stopped:
            return
        self._stopped = True
        try:
            self.stopping.emit()
        finally:
            self.bridge.detach()
            self.worker.shutdown(wait=True, timeout=STOP_WAIT_S)
