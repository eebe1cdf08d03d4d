"""The tray icon (colour and badge by worst level, tooltip summary) and alert announcements."""

from __future__ import annotations

import logging
import math
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Qt, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app.core.alerts import Alert, AlertEvent, AlertEventKind
from app.core.engine import IndicatorState
from app.core.status import attention, next_pending_change, shown_level, tooltip_summary
from app.kernel.model import Level, format_value, worst
from app.kernel.paths import resources_dir
from app.ui.notifications import DEFAULT_ACTION, DesktopNotifier, Note
from app.ui.surface import Surface
from app.ui.theme import level_icon

log = logging.getLogger(__name__)

ALERT_SOUND = resources_dir() / "sounds" / "alert.wav"
#: The tooltip's countdown of a pending value ("alert in 3 min") moves in steps of this many
#: seconds: nobody may be hovering over the icon, so it is redrawn once a step, not every second.
TOOLTIP_STEP_S = 60
#: How far past its moment the tooltip is redrawn (ms), so the new text is the one shown.
COUNTDOWN_MARGIN_MS = 50
#: Longest time the tray goes without redrawing while readings arrive (s; see ``TrayIcon._on_states``).
FULL_REDRAW_S = 10.0
#: How often the end of a call is looked for while notifications are held for it (ms).
CALL_WATCH_MS = 1_000
#: The key of the one notification that sums up the alerts held during a call.
CALL_SUMMARY_KEY = "deskwatch.during-call"


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
        # A pending value's "alert in 3 min" counts down between readings: one
        # shot at the next moment its text changes, never a running tick.
        self._countdown = QTimer(self)
        self._countdown.setSingleShot(True)
        # On the moment: a coarse timer may fire early, find the old text still right and go again.
        self._countdown.setTimerType(Qt.TimerType.PreciseTimer)
        self._countdown.timeout.connect(self.refresh)
        #: Each indicator's (level, raw level) as last drawn, and the keys of the alerts then visible.
        self._drawn: dict[str, tuple[Level, Level]] = {}
        self._alert_keys: frozenset[str] = frozenset()
        self._drawn_at = -math.inf
        surface.bridge.states_changed.connect(self._on_states)
        surface.bridge.states_removed.connect(self._on_removed)
        surface.bridge.alert_event.connect(lambda _event: self.refresh())
        self.refresh()

    def _on_states(self, changed: list[IndicatorState]) -> None:
        """Redraw unless no changed state can change the colour, the badge or the tooltip.

        Most batches are new values of indicators that are fine and stay
        fine, a few a second on a full seat; redrawing for each recomputed
        every indicator's share of the tooltip (0.3 ms, a third of the GUI
        thread's CPU).  The tooltip shows only alerting and pending
        indicators' values, the colour and badge only levels, so a state
        whose levels are the ones drawn, that is not pending and has no
        visible alert changes none of them.  Anything else that moves them
        (alerts, acknowledgements, a pending countdown) redraws by its own
        path; :data:`FULL_REDRAW_S` bounds what time alone could change.
        """
        for state in changed:
            if (
                self._drawn.get(state.key) != (state.level, state.raw_level)
                or shown_level(state)[1]
                or state.key in self._alert_keys
            ):
                self.refresh()
                return
        if time.monotonic() - self._drawn_at >= FULL_REDRAW_S:
            self.refresh()

    def _on_removed(self, _keys: frozenset[str]) -> None:
        """States went without a batch (a monitor switched off): what was drawn may count them."""
        self.refresh()

    def show(self) -> None:
        """Put the icon in the tray."""
        self.icon.show()

    def refresh(self) -> None:
        """Recompute colour, badge and tooltip."""
        engine = self.surface.engine
        states, alerts = engine.states(), engine.alerts.visible()
        self._drawn = {s.key: (s.level, s.raw_level) for s in states}
        self._alert_keys = frozenset(a.key for a in alerts)
        self._drawn_at = time.monotonic()
        count = attention(states, alerts)
        self.level, self.badge = count.level, count.badge
        if self._shown != (self.level, self.badge):
            # Redrawing the icon costs an X round trip: only when it changes.
            self.icon.setIcon(level_icon(self.level, self.badge))
            self._shown = (self.level, self.badge)
        now = engine.clock()
        tooltip = tooltip_summary(states, alerts, now, step=TOOLTIP_STEP_S, count=count)
        if tooltip != self.icon.toolTip():  # every batch of readings lands here
            self.icon.setToolTip(tooltip)
        change = next_pending_change(states, now, TOOLTIP_STEP_S) if count.pending else None
        if change is None:
            self._countdown.stop()
        else:
            self._countdown.start(math.ceil((change - now) * 1000) + COUNTDOWN_MARGIN_MS)

    @property
    def countdown(self) -> QTimer:
        """The one-shot timer that redraws a pending countdown (tests)."""
        return self._countdown

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

    Nothing pops up and no sound plays while the clerk is in a call (the
    shared call state): a notification would cover the CRM in front of a
    caller, and a sound would go into the caller's ear.  Alerts raised
    during a call are held and shown when it ends — one notification when one
    alert is still there, else one summary of them all; those acknowledged or
    cleared meanwhile are not shown at all.

    With a :class:`~app.ui.notifications.DesktopNotifier` (``desktop``) the
    notifications go to the desktop's notification server; ``notify`` is the
    fallback (the tray balloon or the panel's notice) for a note the server
    did not take, and the only way without one.
    """

    def __init__(
        self,
        surface: Surface,
        notify: Callable[[str, str, Level], None],
        sound: SoundPlayer | None = None,
        clock: Callable[[], float] = time.monotonic,
        desktop: DesktopNotifier | None = None,
    ) -> None:
        super().__init__(surface)
        self.surface = surface
        self.notify = notify
        self.sound = sound or SoundPlayer()
        self.clock = clock
        self.desktop = desktop
        self._last_announced: dict[int, float] = {}
        #: When each alert was last announced in full (not held or muted in a call): flaps keep quiet after.
        self._announced_in_full: dict[int, float] = {}
        #: Alerts announced during the call in progress (id -> was a re-announcement), shown after it.
        self._held: dict[int, bool] = {}
        #: Which alerts each desktop notification on screen tells of (by its key).
        self._noted: dict[str, set[int]] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(30_000)
        self.timer.timeout.connect(self.check_reannounce)
        self.timer.start()
        # The call state changes on the audio threads; its end (after the hang-over) is seen by asking.
        self._call_watch = QTimer(self)
        self._call_watch.setInterval(CALL_WATCH_MS)
        self._call_watch.timeout.connect(self.check_call_ended)
        surface.bridge.alert_event.connect(self.on_event)
        if desktop is not None:
            desktop.setParent(self)
            desktop.undelivered.connect(self._fall_back)
            desktop.action_invoked.connect(self._clicked)
            desktop.dismissed.connect(lambda key: self._noted.pop(key, None))
            surface.stopping.connect(desktop.stop)

    def _switched_on(self, key: str) -> bool:
        """An ``[alerts]`` switch (``notifications``, ``sounds``)."""
        return bool(self.surface.config.get("alerts", key))

    def _reannounce_minutes(self) -> float:
        """``alerts.reannounce_minutes`` (a number, checked when the config was loaded)."""
        return float(self.surface.config.get("alerts", "reannounce_minutes"))

    def on_event(self, event: AlertEvent) -> None:
        """Announce raised and escalated alerts; take back what was acknowledged or cleared."""
        alert = event.alert
        if event.kind in (AlertEventKind.RAISED, AlertEventKind.ESCALATED):
            if event.kind is AlertEventKind.RAISED and self._recently_announced_flap(alert):
                return  # a flapping device reopened an episode the clerk was just told about
            self.announce(alert)
            return
        if event.kind in (AlertEventKind.ACKNOWLEDGED, AlertEventKind.CLOSED):
            self._last_announced.pop(alert.id, None)
            self._announced_in_full.pop(alert.id, None)
        if event.kind in (AlertEventKind.ACKNOWLEDGED, AlertEventKind.CLOSED, AlertEventKind.CLEARED):
            # Seen or gone: a notification still on screen about it would be stale.
            self._held.pop(alert.id, None)
            self._withdraw(alert.id)

    def announce(self, alert: Alert, again: bool = False) -> None:
        """Show a notification (if enabled) and play the sound (if enabled); both wait out a call."""
        self._last_announced[alert.id] = self.clock()
        notifications, sounds = self._switched_on("notifications"), self._switched_on("sounds")
        in_call = (notifications or sounds) and self.in_call()
        if notifications:
            if in_call:
                self._held[alert.id] = self._held.get(alert.id, False) or again
                if not self._call_watch.isActive():
                    self._call_watch.start()
            else:
                self._show(alert, again)
        if sounds and not in_call:
            self.sound.play()
        if not in_call:
            self._announced_in_full[alert.id] = self.clock()

    def _texts(self, alert: Alert, again: bool = False) -> tuple[str, str]:
        """A notification's summary and body for ``alert``."""
        indicator = self.surface.engine.indicators.get(alert.indicator_id)
        label = indicator.label() if indicator else alert.indicator_id
        unit = indicator.unit if indicator else ""
        title = f"{alert.device.label()}: {alert.level.text()}"
        if again:
            title = self.tr("Still unacknowledged — {0}").format(title)
        body = f"{label} {format_value(alert.last_value, unit)}"
        if alert.message is not None:
            body += "\n" + alert.message()
        return title, body

    def _show(self, alert: Alert, again: bool = False) -> None:
        title, body = self._texts(alert, again)
        self._send(alert.key, title, body, alert.level, {alert.id})

    def _send(self, key: str, title: str, body: str, level: Level, alert_ids: set[int]) -> None:
        if self.desktop is None:
            self.notify(title, body, level)
            return
        self._noted[key] = set(alert_ids)
        self.desktop.show(Note(key, title, body, level, self.tr("Open alert centre")))

    def _withdraw(self, alert_id: int) -> None:
        """Close desktop notifications that told only of alerts now seen or gone."""
        for key, ids in list(self._noted.items()):
            ids.discard(alert_id)
            if not ids:
                del self._noted[key]
                if self.desktop is not None:
                    self.desktop.close(key)

    def _fall_back(self, note: Note) -> None:
        """The notification server did not take ``note``: show it the way Deskwatch does without one."""
        self._noted.pop(note.key, None)
        self.notify(note.summary, note.body, note.level)

    def _clicked(self, _key: str, action: str) -> None:
        if action == DEFAULT_ACTION:
            self.surface.alerts_requested.emit()

    def check_call_ended(self) -> None:
        """After a call: show what was held — one alert as itself, several as one summary."""
        if self._held and self.in_call():
            return
        self._call_watch.stop()
        held, self._held = self._held, {}
        alerts = [
            a
            for a in self.surface.engine.alerts.visible()
            if a.id in held and a.needs_attention and a.ended is None
        ]
        if not alerts or not self._switched_on("notifications"):
            return
        now = self.clock()
        for alert in alerts:
            self._last_announced[alert.id] = now
            self._announced_in_full[alert.id] = now
        if len(alerts) == 1:
            self._show(alerts[0], held[alerts[0].id])
            return
        title = self.tr("Alerts during your call: {0}").format(len(alerts))
        body = "\n".join(" — ".join(self._texts(a)).splitlines()[0] for a in alerts)
        self._send(CALL_SUMMARY_KEY, title, body, worst(a.level for a in alerts), {a.id for a in alerts})

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
