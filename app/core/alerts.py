"""Alert lifecycle: debounce, episodes, acknowledgement, escalation.

An indicator's *raw* level (from thresholds or the monitor) becomes its
*effective* level only after holding for the debounce time.  Whenever the
effective level leaves ok an :class:`Alert` episode opens:

``raised → acknowledged → cleared``.  Acknowledging does not clear; an alert
that clears unacknowledged stays visible until someone acknowledges it; a rise
in severity after an acknowledgement raises it again.

A condition that comes back soon (within :data:`FLAP_WINDOW_SECONDS`) while
its cleared episode is still waiting to be seen reopens that episode (one more
*raise*, a new last-raised time) instead of opening another: a printer that
flaps 5 000 times over a weekend is one alert "raised 5 000 times", not 5 000
alerts in memory, in the database and on the next start.  Once acknowledged,
the next raise is a new episode; so is one that comes back after a long quiet
spell, so that reports still count yesterday's and today's fault apart.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from app.kernel.i18n import Text
from app.kernel.model import Device, Level, Thresholds, Value

log = logging.getLogger(__name__)

#: A condition back within this long of its unseen episode clearing is a flap of that episode.
FLAP_WINDOW_SECONDS = 3600.0


@dataclass
class Debouncer:
    """Turns raw levels into an effective level after they hold long enough."""

    effective: Level = Level.OK
    candidate: Level | None = None
    candidate_since: float = 0.0

    def update(self, raw: Level, now: float, thresholds: Thresholds | None) -> Level:
        """Feed the raw level observed at ``now``; return the effective level."""
        if raw == self.effective:
            self.candidate = None
            return self.effective
        if raw != self.candidate:
            self.candidate, self.candidate_since = raw, now
        hold = 0.0
        # Entering "not set up" (nothing configured, or nothing to measure right now: no
        # speech for the speech level) is a fact, not a value to debounce.
        if thresholds is not None and raw is not Level.NOT_SET_UP:
            if raw.rank > self._base.rank:
                hold = thresholds.raise_after
            elif self.effective is not Level.NOT_SET_UP:
                hold = thresholds.clear_after
        if now - self.candidate_since >= hold:
            self.effective, self.candidate = raw, None
        return self.effective

    def rises_at(self, thresholds: Thresholds | None) -> float | None:
        """When the waiting (candidate) level takes effect if it holds; ``None`` unless a rise waits.

        The same hold :meth:`update` applies: ``raise_after`` from the moment the
        candidate was first seen.  Only rises (towards an alert) count; a level
        waiting to clear is no news for the clerk.
        """
        candidate = self.candidate
        if candidate is None or candidate is Level.NOT_SET_UP or thresholds is None:
            return None
        if candidate.rank <= self._base.rank:
            return None
        return self.candidate_since + thresholds.raise_after

    @property
    def _base(self) -> Level:
        """The level a rise is measured from: out of "not set up" a value out of range
        waits for ``raise_after`` as it does from ok -- one reading after a spell with
        nothing to measure must not alert at once (a false alarm).  Ok itself is shown at once.
        """
        return Level.OK if self.effective is Level.NOT_SET_UP else self.effective


class AlertState(Enum):
    """Where an alert stands in its lifecycle."""

    ACTIVE = "active"  # condition present, nobody has acknowledged it
    ACKNOWLEDGED = "acknowledged"  # condition present, acknowledged
    CLEARED = "cleared"  # condition gone, not yet acknowledged: still shown
    CLOSED = "closed"  # condition gone and acknowledged


@dataclass
class Alert:
    """One episode of an indicator being out of its normal state."""

    id: int
    key: str
    indicator_id: str
    instance: str
    device: Device
    level: Level
    peak: Level
    started: float
    message: Text | None = None
    ended: float | None = None
    acked_at: float | None = None
    acked_by: str | None = None
    acked_level: Level | None = None
    note: str = ""
    value_min: float | None = None
    value_max: float | None = None
    value_sum: float = 0.0
    value_count: int = 0
    last_value: Value = None
    #: Times the condition was raised in this episode: more than 1 means it flapped
    #: (cleared and came back before anyone acknowledged it).
    raises: int = 1
    #: When the condition was last raised (``started`` is the first time).
    last_raised: float | None = None

    def __post_init__(self) -> None:
        if self.last_raised is None:
            self.last_raised = self.started

    @property
    def state(self) -> AlertState:
        """Lifecycle state derived from end and acknowledgement."""
        if self.ended is None:
            return AlertState.ACTIVE if self.acked_at is None else AlertState.ACKNOWLEDGED
        return AlertState.CLEARED if self.acked_at is None else AlertState.CLOSED

    @property
    def needs_attention(self) -> bool:
        """True while nobody has acknowledged the alert at its current severity."""
        return self.acked_at is None

    @property
    def value_avg(self) -> float | None:
        """Mean of the numeric values seen during the episode."""
        return self.value_sum / self.value_count if self.value_count else None

    def observe(self, value: Value) -> None:
        """Fold a reading's value into the episode statistics."""
        self.last_value = value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        number = float(value)
        self.value_min = number if self.value_min is None else min(self.value_min, number)
        self.value_max = number if self.value_max is None else max(self.value_max, number)
        self.value_sum += number
        self.value_count += 1


class AlertEventKind(Enum):
    """What happened to an alert."""

    RAISED = "raised"
    ESCALATED = "escalated"  # severity rose after acknowledgement: needs attention again
    CHANGED = "changed"  # severity changed without needing new attention
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    CLOSED = "closed"


@dataclass(frozen=True)
class AlertEvent:
    """Notification of an alert transition, delivered to listeners."""

    kind: AlertEventKind
    alert: Alert
    time: float


AlertListener = Callable[[AlertEvent], None]


@dataclass
class AlertBook:
    """All alerts that are still of interest (not closed), keyed by id.

    Thread-safe: the engine feeds it from worker threads while the UI
    acknowledges from the GUI thread.
    """

    next_id: Callable[[], int] = field(default_factory=lambda: itertools.count(1).__next__)
    alerts: dict[int, Alert] = field(default_factory=dict)
    listeners: list[AlertListener] = field(default_factory=list)
    #: See :data:`FLAP_WINDOW_SECONDS`.
    flap_window: float = FLAP_WINDOW_SECONDS
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def _emit(self, kind: AlertEventKind, alert: Alert, now: float) -> None:
        event = AlertEvent(kind, alert, now)
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:  # one broken listener must not keep the event from the others
                log.exception("alert listener %r failed on %s of %s", listener, kind.value, alert.key)

    def open_for(self, key: str) -> Alert | None:
        """The alert whose condition is still present for ``key``, if any."""
        with self._lock:
            for alert in self.alerts.values():
                if alert.key == key and alert.ended is None:
                    return alert
            return None

    def reopenable_for(self, key: str, now: float) -> Alert | None:
        """The episode of ``key`` a raise at ``now`` continues: cleared recently, not yet seen."""
        with self._lock:
            waiting = [
                a
                for a in self.alerts.values()
                if a.key == key
                and a.state is AlertState.CLEARED
                and now - (a.ended or 0.0) <= self.flap_window
            ]
            return max(waiting, key=lambda a: (a.ended or 0.0, a.id), default=None)

    def visible(self) -> list[Alert]:
        """Alerts to show: active, acknowledged-but-present, and cleared-unacknowledged."""
        with self._lock:
            return sorted(self.alerts.values(), key=lambda a: (-a.level.rank, a.started))

    def restore(self, alert: Alert) -> None:
        """Put back an alert loaded from history at start-up."""
        with self._lock:
            self.alerts[alert.id] = alert

    def transition(
        self,
        *,
        key: str,
        indicator_id: str,
        instance: str,
        device: Device,
        old: Level,
        new: Level,
        value: Value,
        message: Text | None,
        now: float,
    ) -> Alert | None:
        """Apply an effective-level change (or a repeated level) for ``key``."""
        with self._lock:
            alert = self.open_for(key)
            if not new.is_problem:  # ok, or no longer set up: nothing to alert about
                if alert is None:
                    return None
                alert.ended = now
                if alert.acked_at is not None:
                    del self.alerts[alert.id]
                    self._emit(AlertEventKind.CLOSED, alert, now)
                else:
                    self._emit(AlertEventKind.CLEARED, alert, now)
                return alert
            if alert is None:
                alert = self.reopenable_for(key, now)
                if alert is not None:
                    self._reopen(alert, new, value, message, now)
                    return alert
                alert = Alert(
                    id=self.next_id(),
                    key=key,
                    indicator_id=indicator_id,
                    instance=instance,
                    device=device,
                    level=new,
                    peak=new,
                    started=now,
                    message=message,
                )
                alert.observe(value)
                self.alerts[alert.id] = alert
                self._emit(AlertEventKind.RAISED, alert, now)
                return alert
            alert.observe(value)
            if message is not None:
                alert.message = message
            if new == alert.level:
                return alert
            alert.level = new
            if new.rank > alert.peak.rank:
                alert.peak = new
            if alert.acked_level is not None and new.rank > alert.acked_level.rank:
                alert.acked_at = alert.acked_by = alert.acked_level = None
                self._emit(AlertEventKind.ESCALATED, alert, now)
            else:
                self._emit(AlertEventKind.CHANGED, alert, now)
            return alert

    def _reopen(self, alert: Alert, level: Level, value: Value, message: Text | None, now: float) -> None:
        """The condition is back before its cleared episode was seen: continue that episode."""
        alert.ended = None
        alert.raises += 1
        alert.last_raised = now
        alert.level = level
        if level.rank > alert.peak.rank:
            alert.peak = level
        if message is not None:
            alert.message = message
        alert.observe(value)
        # Raised again, as far as anyone listening is concerned (notify, persist, export).
        self._emit(AlertEventKind.RAISED, alert, now)

    def acknowledge(self, alert_id: int, user: str, now: float, note: str = "") -> Alert | None:
        """Acknowledge one alert; returns it, or ``None`` if it is unknown or done."""
        with self._lock:
            alert = self.alerts.get(alert_id)
            if alert is None or alert.acked_at is not None:
                return None
            alert.acked_at, alert.acked_by, alert.acked_level = now, user, alert.level
            if note:
                alert.note = note
            self._emit(AlertEventKind.ACKNOWLEDGED, alert, now)
            if alert.ended is not None:
                del self.alerts[alert.id]
                self._emit(AlertEventKind.CLOSED, alert, now)
            return alert

    def acknowledge_all(self, user: str, now: float, note: str = "") -> list[Alert]:
        """Acknowledge every alert that needs attention."""
        with self._lock:
            pending = [a.id for a in self.visible() if a.needs_attention]
            done = [self.acknowledge(i, user, now, note) for i in pending]
            return [a for a in done if a is not None]
