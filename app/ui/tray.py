"""The tray icon (colour and badge by worst level, tooltip summary) and alert announcements."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app.core.alerts import Alert, AlertEvent, AlertEventKind
from app.core.status import attention, tooltip_summary
from app.kernel.model import Level, format_value
from app.kernel.paths import resources_dir
from app.ui.surface import Surface
from app.ui.theme import level_icon

log = logging.getLogger(__name__)

ALERT_SOUND = resources_dir() / "sounds" / "alert.wav"
# How often a pending value's countdown is redrawn between readings (ms).
PENDING_REFRESH_MS = 1_000


class TrayIcon(QObject):
    """Keeps the tray icon's colour, badge and tooltip in step with the engine."""

    def __init__(self, surface: Surface) -> None:
        super().__init__(surface)
        self.surface = surface
        self.icon = QSystemTrayIcon(self)
        self.icon.setContextMenu(surface.tray_menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(surface.alerts_requested.emit)
        self.level: Level | None = None
        self.badge = 0
        self._shown: tuple[Level | None, int] | None = None
        # A pending value's "alert in 40 s" counts down between readings.
        self._countdown = QTimer(self)
        self._countdown.setInterval(PENDING_REFRESH_MS)
        self._countdown.timeout.connect(self.refresh)
        surface.bridge.states_changed.connect(lambda _states: self.refresh())
        surface.bridge.alert_event.connect(lambda _event: self.refresh())
        self.refresh()

    def show(self) -> None:
        """Put the icon in the tray."""
        self.icon.show()

    def refresh(self) -> None:
        """Recompute colour, badge and tooltip."""
        engine = self.surface.engine
        states, alerts = engine.states(), engine.alerts.visible()
        count = attention(states, alerts)
        self.level, self.badge = count.level, count.badge
        if self._shown != (self.level, self.badge):
            # Redrawing the icon costs an X round trip: only when it changes.
            self.icon.setIcon(level_icon(self.level, self.badge))
            self._shown = (self.level, self.badge)
        tooltip = tooltip_summary(states, alerts, engine.clock())
        if tooltip != self.icon.toolTip():  # every batch of readings lands here
            self.icon.setToolTip(tooltip)
        if count.pending and not self._countdown.isActive():
            self._countdown.start()
        elif not count.pending:
            self._countdown.stop()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.surface.panel_requested.emit()


class SoundPlayer:
    """Plays the alert sound without blocking: the platform's player, else a beep."""

    def __init__(self, path: Path = ALERT_SOUND) -> None:
        self.path = path
        self.played = 0

    def play(self) -> None:
        """Start the sound and return at once."""
        self.played += 1
        if sys.platform == "win32":
            import winsound

            winsound.PlaySound(str(self.path), winsound.SND_FILENAME | winsound.SND_ASYNC)
            return
        for player in ("paplay", "aplay"):
            exe = shutil.which(player)
            # Detached: the player is not our child, so nothing waits for it.
            if exe and self.path.exists() and QProcess.startDetached(exe, [str(self.path)])[0]:
                return
        QApplication.beep()


class Announcer(QObject):
    """Desktop notifications for new alerts, re-announcement of unacknowledged critical ones, sounds.

    Sounds are never played while the clerk is in a call (the shared call
    state), because they would go into the caller's ear.
    """

    def __init__(
        self,
        surface: Surface,
        notify: Callable[[str, str, Level], None],
        sound: SoundPlayer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(surface)
        self.surface = surface
        self.notify = notify
        self.sound = sound or SoundPlayer()
        self.clock = clock
        self._last_announced: dict[int, float] = {}
        #: When each alert was last announced in full (not muted by a call): flaps stay quiet after it.
        self._announced_in_full: dict[int, float] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(30_000)
        self.timer.timeout.connect(self.check_reannounce)
        self.timer.start()
        surface.bridge.alert_event.connect(self.on_event)

    def _switched_on(self, key: str) -> bool:
        """An ``[alerts]`` switch (``notifications``, ``sounds``)."""
        return bool(self.surface.config.get("alerts", key))

    def _reannounce_minutes(self) -> float:
        """``alerts.reannounce_minutes`` (a number, checked when the config was loaded)."""
        return float(self.surface.config.get("alerts", "reannounce_minutes"))

    def on_event(self, event: AlertEvent) -> None:
        """Announce raised and escalated alerts."""
        if event.kind in (AlertEventKind.RAISED, AlertEventKind.ESCALATED):
            if event.kind is AlertEventKind.RAISED and self._recently_announced_flap(event.alert):
                return  # a flapping device reopened an episode the clerk was just told about
            self.announce(event.alert)
        elif event.kind in (AlertEventKind.ACKNOWLEDGED, AlertEventKind.CLOSED):
            self._last_announced.pop(event.alert.id, None)
            self._announced_in_full.pop(event.alert.id, None)

    def announce(self, alert: Alert, again: bool = False) -> None:
        """Show a notification (if enabled) and play the sound (if enabled and not in a call)."""
        self._last_announced[alert.id] = self.clock()
        if self._switched_on("notifications"):
            indicator = self.surface.engine.indicators.get(alert.indicator_id)
            label = indicator.label() if indicator else alert.indicator_id
            unit = indicator.unit if indicator else ""
            title = f"{alert.device.label()}: {alert.level.text()}"
            if again:
                title = self.tr("Still unacknowledged — {0}").format(title)
            body = f"{label} {format_value(alert.last_value, unit)}"
            if alert.message is not None:
                body += "\n" + alert.message()
            self.notify(title, body, alert.level)
        muted = self._switched_on("sounds") and self.in_call()
        if self._switched_on("sounds") and not muted:
            self.sound.play()
        if not muted:
            self._announced_in_full[alert.id] = self.clock()

    def _recently_announced_flap(self, alert: Alert) -> bool:
        """A reopened (coalesced) episode announced within the re-announce time stays quiet."""
        last = self._announced_in_full.get(alert.id)
        if alert.raises <= 1 or last is None:
            return False
        quiet = max(self._reannounce_minutes(), 1.0) * 60
        return self.clock() - last < quiet

    def in_call(self) -> bool:
        """Whether the clerk is on a call right now."""
        return self.surface.runtime.context.call_state.in_call

    def check_reannounce(self) -> None:
        """Re-announce critical alerts nobody acknowledged within ``alerts.reannounce_minutes``."""
        minutes = self._reannounce_minutes()
        if minutes <= 0:
            return
        now = self.clock()
        for alert in self.surface.engine.alerts.visible():
            if alert.needs_attention and alert.ended is None and alert.level is Level.CRITICAL:
                last = self._last_announced.setdefault(alert.id, now)
                if now - last >= minutes * 60:
                    self.announce(alert, again=True)
