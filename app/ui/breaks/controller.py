"""The break reminders in the desktop app: show what the break service says, ask it for what the clerk chose.

The policy, its clock and the activity sampling live in the Qt-free
:class:`~app.core.breaks.BreakService`, which the runtime builds, starts and
stops (so ``run --headless`` has break reminders too).  The controller
listens to its updates — from the service's thread, so they come through a
queued signal — and renders :class:`~app.core.breaks.BreakStatus`; the
buttons call the service's actions.  Nothing here decides *when*, and
nothing here reads the keyboard, the mouse or the call state.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from app.core.breaks import (
    BreakEvent,
    BreakScheduler,
    BreakService,
    BreakStatus,
    BreakUpdate,
    EventKind,
    Phase,
)
from app.kernel.model import Device
from app.ui.breaks.card import BreaksCard
from app.ui.breaks.windows import BreakWindow, PreBreakNotice, QuietNotice
from app.ui.surface import Surface

log = logging.getLogger(__name__)


class BreaksController(QObject):
    """The notice, the break windows, the quiet notice and the card, kept in step with the service."""

    #: A :class:`BreakUpdate` from whichever thread ticked or acted (queued onto the GUI thread).
    updated = Signal(object)

    def __init__(self, service: BreakService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.notice = PreBreakNotice()
        self.quiet = QuietNotice()
        #: The break windows on screen now (one per screen during a break, else empty).
        self.windows: list[BreakWindow] = []
        self._pool: list[BreakWindow] = []
        self._retired: list[BreakWindow] = []
        self.card = BreaksCard()
        #: Every event seen (for tests and diagnostics).
        self.events: list[BreakEvent] = []
        self._closed = False
        self._week_refreshed = -float("inf")
        self._week: list[Any] = []
        self._last_phase: Phase | None = None
        self._rendered = 0  # serial of the update on screen
        # Whether anything of ours is on screen (written on the GUI thread, read by the
        # service's): while nothing is, a tick that changes no phase has nothing to draw.
        self._on_screen = False
        self._forwarded_phase: Phase | None = None
        self.updated.connect(self._on_update)  # direct from the GUI thread, queued from others
        self._listener = self._forward  # kept: the same callable is removed at close
        service.add_listener(self._listener)
        # The card is drawn while it can be seen: at once when the panel shows it.
        self.card.installEventFilter(self)
        service.attach_view()  # breaks are announced now that someone can see them
        self.notice.postpone_clicked.connect(self.postpone)
        self.notice.phone_clicked.connect(self.back_to_work_for_phone)
        self.notice.skip_clicked.connect(self.skip)
        self.notice.start_clicked.connect(self.start_now)
        self.card.take_break_clicked.connect(self.take_break_now)

    @property
    def scheduler(self) -> BreakScheduler:
        """The service's scheduler (for tests)."""
        return self.service.scheduler

    def _forward(self, update: BreakUpdate) -> None:
        """Pass an update on to the GUI thread when it has something to show or do (any thread).

        The service ticks every second or so; in working time with nothing of
        ours on screen (the card hidden in the tray's panel), an update without
        events or a new phase would only wake the GUI thread to draw nothing.
        """
        phase = update.status.phase
        if update.events or self._on_screen or phase is not self._forwarded_phase:
            self._forwarded_phase = phase
            self.updated.emit(update)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Looked up with getattr: Qt may still call in while the Python side is being torn down.
        if getattr(self, "_closed", True) or watched is not getattr(self, "card", None):
            return False
        if event.type() in (QEvent.Type.Show, QEvent.Type.Hide):
            if event.type() is QEvent.Type.Show:
                self.render()  # what was not drawn while hidden
            self._note_on_screen()
        return False

    def _note_on_screen(self) -> None:
        self._on_screen = (
            self.notice.isVisible() or self.quiet.isVisible() or bool(self.windows) or self.card.isVisible()
        )

    def _on_update(self, update: BreakUpdate) -> None:
        if self._closed:
            return
        self.events += update.events
        for event in update.events:
            if event.kind is EventKind.SOUND and not update.in_call:
                QApplication.beep()
        self.render(update)

    # -- actions: the service decides ---------------------------------------------------
    def postpone(self) -> None:
        """Postpone button."""
        self.service.postpone()

    def skip(self) -> None:
        """Skip button."""
        self.service.skip()

    def start_now(self) -> None:
        """Start-now button of the notice."""
        self.service.start_now()

    def back_to_work_for_phone(self) -> None:
        """ "Back to work: phone call" (notice or window): held as for a call, strict mode too."""
        self.service.hold_for_phone()

    def take_break_now(self) -> None:
        """Tray / card: take a break now (held until a call ends)."""
        self.service.take_break_now()

    def pause(self, minutes: int) -> None:
        """Tray: pause reminders for ``minutes``."""
        self.service.pause(float(minutes))

    # -- rendering --------------------------------------------------------------------------
    def render(self, update: BreakUpdate | None = None) -> None:
        """Show exactly what the service's status calls for (``None``: ask for it now).

        An update older than the one on screen (queued from the service's
        thread while the clerk's action was already shown) is not drawn.
        """
        if self._closed:
            return
        now = self.service.clock()
        update = self.service.snapshot(now) if update is None else update
        if update.serial < self._rendered:
            return
        self._rendered = update.serial
        status = update.status
        postpone_minutes = self.service.settings.postpone_seconds / 60
        if status.phase is Phase.NOTICE:
            self.notice.show_status(status, postpone_minutes)
            if not self.notice.isVisible():
                self.notice.place()
                self.notice.show()
        else:
            self.notice.hide()
        if status.phase is Phase.OVERDUE:
            self.quiet.show_status(status)
            if not self.quiet.isVisible():
                self.quiet.place()
                self.quiet.show()
                self.quiet.lower()  # a call is on: below the softphone's window, never over it
        else:
            self.quiet.hide()
        if status.phase is Phase.BREAK:
            self._show_windows(status, postpone_minutes)
        else:
            self._close_windows()
        if self.card.isVisible():
            self._render_card(status, now)
        self._note_on_screen()

    def _render_card(self, status: BreakStatus, now: float) -> None:
        """Draw the card; only while it can be seen (its Show event draws what came meanwhile).

        Setting a label's text lays it out with the app font even while hidden,
        which in Chinese maps the CJK collection (4 MiB resident) in a tray app
        whose panel may never be opened.
        """
        if now - self._week_refreshed > 60 or status.phase is not self._last_phase:
            self._week_refreshed = now
            self._week = self.service.week(now)
        self._last_phase = status.phase
        limit = self.service.settings.plan.daily_limit / 3600
        self.card.show_status(status, self.service.source_label, self._week, limit)

    def _show_windows(self, status: BreakStatus, postpone_minutes: float) -> None:
        screens = QGuiApplication.screens()
        if [w.screen_ for w in self._pool] != screens:
            # Screens were plugged or unplugged: build a window per screen.  Old windows
            # are hidden and kept (deleting one from inside its own button's signal crashes).
            for window in self._pool:
                window.hide()
            self._retired += self._pool
            self._pool = []
            for screen in screens:
                window = BreakWindow()
                window.screen_ = screen
                window.postpone_clicked.connect(self.postpone)
                window.skip_clicked.connect(self.skip)
                window.phone_clicked.connect(self.back_to_work_for_phone)
                window.setScreen(screen)
                window.setGeometry(screen.geometry())
                self._pool.append(window)
        for window in self._pool:
            window.show_status(status, postpone_minutes)
            if not window.isVisible():
                window.show()
                window.raise_()
                window.activateWindow()
                window.phone_button.setFocus()  # Enter / Space / Alt+B: back to the phone
        self.windows = list(self._pool)

    def _close_windows(self) -> None:
        for window in self.windows:
            window.hide()
        self.windows = []

    def retranslate(self, _language: str = "") -> None:
        """Re-render in the current language."""
        self.render()

    def apply_config(self, _config: object = None) -> None:
        """New settings are in force (the runtime gave the service the new timing): re-render."""
        self.render()

    def close(self) -> None:
        """Stop listening and close every window (idempotent); the runtime stops the service."""
        if self._closed:
            return
        self._closed = True
        self.card.removeEventFilter(self)
        self.service.remove_listener(self._listener)
        self.service.detach_view()
        self.notice.close()
        self.quiet.close()
        for window in self._pool + self._retired:
            window.allow_close()
            window.close()
        self.windows = []


def install(surface: Surface) -> None:
    """Show the runtime's break reminders in the tray app (nothing when they are switched off).

    The controller is registered on the surface (``surface.feature(BreaksController)``),
    puts its card on the breaks card, handles the tray's break requests and
    closes when the app is stopping; the runtime stops the service after that.
    """
    service = surface.runtime.breaks
    if service is None:
        log.info("break reminders are switched off in the config")
        return
    controller = surface.add_feature(BreaksController(service, surface))
    surface.take_break_requested.connect(controller.take_break_now)
    surface.pause_reminders_requested.connect(controller.pause)
    surface.add_card_widget(Device.BREAKS, controller.card)
    surface.language_changed.connect(controller.retranslate)
    surface.config_applied.connect(controller.apply_config)
    surface.stopping.connect(controller.close)
    controller.render()
