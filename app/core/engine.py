"""The engine: judges readings, tracks indicator states, drives alerts and history.

Qt-free and thread-safe.  Monitors' worker threads call :meth:`Engine.ingest`;
the UI (through a Qt bridge) and the CLI read :meth:`Engine.states` and
acknowledge alerts.  Listeners are called on the thread that caused the change:
the Qt layer re-emits them as queued signals.
"""

from __future__ import annotations

import getpass
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.core.alerts import Alert, AlertBook, AlertListener, Debouncer
from app.core.config import Config
from app.core.history import History, StorageProblem
from app.core.registry import HISTORY_STORAGE
from app.kernel.i18n import Text
from app.kernel.model import Device, Indicator, Level, Reading, Thresholds, Value, make_key, split_key, worst
from app.kernel.registry import Registry

log = logging.getLogger(__name__)

MONITOR_FAILED = Text("Monitor failed: {error}", "监测失败:{error}")

HISTORY_OK = Text("Records are being saved", "记录正常保存")
HISTORY_FAILING = Text(
    "Cannot save records ({error}); {pending} kept in memory and saved when the disk is usable again",
    "无法保存记录({error});{pending} 条暂存在内存中,磁盘恢复后自动写入",
)
#: Seconds between retries of writes a failing disk held back.
HISTORY_RETRY_SECONDS = 5.0


@dataclass
class IndicatorState:
    """The latest judged state of one indicator (instance)."""

    key: str
    indicator: Indicator
    instance: str = ""
    value: Value = None
    level: Level = Level.UNKNOWN
    raw_level: Level = Level.UNKNOWN
    message: Text | None = None
    since: float = 0.0  # when the effective level was entered
    updated: float = 0.0  # when the last reading arrived
    detail: dict[str, Any] = field(default_factory=dict)
    #: The band of a two-sided threshold the last reading was judged in (``""``: none).
    band: str = ""
    #: The thresholds the last reading was judged with (config overrides applied).
    thresholds: Thresholds | None = None
    #: While the raw level is above the effective one and waits for its debounce
    #: (``raise_after``): when it takes effect if it holds (an engine clock time).
    #: ``None`` when nothing waits.  Taken from the engine's debouncer, not guessed.
    rises_at: float | None = None

    @property
    def label(self) -> Text:
        """Indicator label, with the instance name when there is one."""
        if not self.instance:
            return self.indicator.label
        return Text(
            f"{self.indicator.label.en} — {self.instance}", f"{self.indicator.label.zh} — {self.instance}"
        )


_T = TypeVar("_T")

StateListener = Callable[[list[IndicatorState]], None]
#: Called with the keys of states that are gone (their monitor was switched off).
RemovalListener = Callable[[frozenset[str]], None]


def _tell(listeners: list[Callable[[_T], None]], news: _T, kind: str) -> None:
    """Hand ``news`` to each listener; a broken listener must not stop monitoring."""
    for listener in list(listeners):
        try:
            listener(news)
        except Exception:
            log.exception("%s listener failed", kind)


class Engine:
    """Holds indicator states and alerts; everything goes through its lock.

    The indicators it judges are a :class:`Registry`: the configuration's own
    (``indicators=None``; what the runtime uses, so engine, config, reports and
    rules read one registry), a given one, or one made of the given indicators
    (a one-monitor check, tests).
    """

    def __init__(
        self,
        config: Config,
        indicators: Registry | Iterable[Indicator] | None = None,
        history: History | None = None,
        clock: Callable[[], float] = time.time,
        user: str | None = None,
        debounce: bool = True,
    ) -> None:
        self.config = config
        self.history = history
        self.clock = clock
        # One-shot checks judge each reading as it is: there is no "held for N s".
        self.debounce = debounce
        self.user = user or config.app[""].get("user") or _login_name()
        if indicators is None:
            indicators = config.registry
        self.registry = indicators if isinstance(indicators, Registry) else Registry(indicators=indicators)
        self._states: dict[str, IndicatorState] = {}
        self._debouncers: dict[str, Debouncer] = {}
        self._lock = threading.RLock()
        self._state_listeners: list[StateListener] = []
        self._removal_listeners: list[RemovalListener] = []
        self.alerts = AlertBook(next_id=history.next_alert_id) if history else AlertBook()
        if history is not None:
            self.alerts.listeners.append(history.record_event)
            for alert in history.open_alerts():
                self.alerts.restore(alert)
                if alert.ended is None:
                    # Resume the episode instead of raising a duplicate after a restart.
                    self._debouncers[alert.key] = Debouncer(effective=alert.level)
        self._history_failing: tuple[bool, StorageProblem | None] | None = None
        self._history_retry_at = 0.0
        if history is not None:
            self.register_indicators([HISTORY_STORAGE])

    # -- declarations -----------------------------------------------------
    @property
    def indicators(self) -> Mapping[str, Indicator]:
        """The registry's indicators by id (read-only)."""
        return self.registry.indicators

    def register_indicators(self, indicators: Iterable[Indicator]) -> None:
        """Add indicators to the registry (a feature's own; no-op for ones already declared)."""
        with self._lock:
            self.registry.add(indicators)

    def add_state_listener(self, listener: StateListener) -> None:
        """Call ``listener(changed_states)`` after every batch of readings."""
        self._state_listeners.append(listener)

    def add_removal_listener(self, listener: RemovalListener) -> None:
        """Call ``listener(keys)`` when states go without a reading (:meth:`forget`)."""
        self._removal_listeners.append(listener)

    def add_alert_listener(self, listener: AlertListener) -> None:
        """Call ``listener(event)`` on every alert transition."""
        self.alerts.listeners.append(listener)

    # -- readings -----------------------------------------------------------
    def ingest(self, readings: Iterable[Reading], now: float | None = None) -> list[IndicatorState]:
        """Judge a batch of readings and update states, alerts and history."""
        now = self.clock() if now is None else now
        changed: list[IndicatorState] = []
        with self._lock:
            for reading in readings:
                state = self._ingest_one(reading, now)
                if state is not None:
                    changed.append(state)
            storage = self._check_history(now)
            if storage is not None:
                changed.append(storage)
        self._notify(changed)
        return changed

    def _check_history(self, now: float) -> IndicatorState | None:
        """Retry held-back writes and report when saving starts or stops failing."""
        history = self.history
        if history is None:
            return None
        if history.pending_writes and now >= self._history_retry_at:
            self._history_retry_at = now + HISTORY_RETRY_SECONDS
            history.retry_pending()
        failing = history.last_error is not None
        # A lasting condition (file damaged and moved aside, or in memory only) counts as failing too.
        situation = (failing, history.problem)
        if situation == self._history_failing:
            return None
        self._history_failing = situation
        if failing:
            message = HISTORY_FAILING.format(error=history.last_error, pending=history.pending_writes)
            reading = Reading(HISTORY_STORAGE.id, False, Level.CRITICAL, message)
        elif history.problem is not None:
            reading = Reading(HISTORY_STORAGE.id, False, history.problem.level, history.problem.message)
        else:
            reading = Reading(HISTORY_STORAGE.id, True, Level.OK, HISTORY_OK)
        return self._ingest_one(reading, now)

    def _ingest_one(self, reading: Reading, now: float) -> IndicatorState | None:
        indicator = self.indicators.get(reading.indicator_id)
        if indicator is None:
            log.error("reading for undeclared indicator %s dropped", reading.indicator_id)
            return None
        key = reading.key
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = IndicatorState(key, indicator, reading.instance, since=now)
        thresholds = self.config.indicator_thresholds(indicator)
        raw = reading.level
        message = reading.message
        if raw is None:
            raw = self._judge(reading.value, thresholds, state.raw_level, reading.band)
            number = _as_number(reading.value)
            if message is None and thresholds is not None and number is not None:
                # A range says where the value lies ("Above the summer range 22–28 °C").
                message = thresholds.describe(number, raw, indicator.unit, reading.band)
        debouncer = self._debouncers.setdefault(key, Debouncer(effective=Level.OK))
        old = debouncer.effective
        held = thresholds if self.debounce else None
        new = debouncer.update(raw, now, held)
        if new != state.level or state.updated == 0.0:
            state.since = now if new != state.level else state.since
        state.value, state.raw_level, state.level = reading.value, raw, new
        state.message, state.updated, state.detail = message, now, dict(reading.detail)
        state.band, state.thresholds = reading.band, thresholds
        state.rises_at = debouncer.rises_at(held)
        alert_level = new
        if new is Level.UNKNOWN and self._explained(reading):
            alert_level = Level.OK  # the cause has its own alert; do not cry wolf eight times
        if alert_level != old or alert_level.is_problem:
            self.alerts.transition(
                key=key,
                indicator_id=indicator.id,
                instance=reading.instance,
                device=indicator.device,
                old=old,
                new=alert_level,
                value=reading.value,
                message=message,
                now=now,
            )
        if self.history is not None:
            self.history.add_reading(key, reading.value, new, now)
        return state

    def _explained(self, reading: Reading) -> bool:
        """Whether an unknown reading is explained by its ``caused_by`` reading being a problem."""
        cause = self._states.get(reading.caused_by) if reading.caused_by else None
        return cause is not None and cause.raw_level.is_problem

    @staticmethod
    def _judge(value: Value, thresholds: Thresholds | None, previous: Level, band: str) -> Level:
        if value is None:
            return Level.UNKNOWN
        number = _as_number(value)
        if thresholds is None or number is None:
            return Level.OK
        return thresholds.judge(number, previous, band)

    def mark_unknown(self, monitor_id: str, message: Text, now: float | None = None) -> None:
        """Report every indicator of a failed monitor as unknown, with why."""
        with self._lock:
            keys = [k for k in self._states if split_key(k)[0].startswith(monitor_id + ".")]
            if not keys:
                keys = [i.id for i in self.indicators.values() if i.id.startswith(monitor_id + ".")]
            readings = []
            for key in keys:
                indicator_id, instance = split_key(key)
                # One failed monitor is one alert: the first indicator carries it.
                cause = keys[0] if key != keys[0] else ""
                readings.append(
                    Reading(indicator_id, None, Level.UNKNOWN, message, instance, caused_by=cause)
                )
        self.ingest(readings, now)

    def forget(self, monitor_id: str) -> None:
        """Drop the states of a monitor that was switched off.

        Its open alerts end (nobody watches the condition any more); those not
        yet acknowledged stay visible until seen, like any cleared alert.  The
        removal listeners are told which states went: no batch of readings
        will ever mention them again.
        """
        now = self.clock()
        with self._lock:
            removed = frozenset(k for k in self._states if split_key(k)[0].startswith(monitor_id + "."))
            for key in removed:
                state = self._states.pop(key)
                self._debouncers.pop(key, None)
                self.alerts.transition(
                    key=key,
                    indicator_id=state.indicator.id,
                    instance=state.instance,
                    device=state.indicator.device,
                    old=state.level,
                    new=Level.OK,
                    value=state.value,
                    message=state.message,
                    now=now,
                )
        if removed:
            _tell(self._removal_listeners, removed, "removal")

    def _notify(self, changed: list[IndicatorState]) -> None:
        if changed:
            _tell(self._state_listeners, changed, "state")

    # -- queries ------------------------------------------------------------
    def states(self) -> list[IndicatorState]:
        """Current states, in device order then declaration order."""
        order = {iid: n for n, iid in enumerate(self.indicators)}
        with self._lock:
            return sorted(
                self._states.values(),
                key=lambda s: (s.indicator.device.order, order.get(s.indicator.id, 0), s.instance),
            )

    def state(self, key: str) -> IndicatorState | None:
        """One indicator state by key."""
        with self._lock:
            return self._states.get(key)

    def worst_level(self, device: Device | None = None) -> Level:
        """Worst effective level overall or of one device group."""
        with self._lock:
            return worst(
                s.level for s in self._states.values() if device is None or s.indicator.device is device
            )

    # -- acknowledgement ----------------------------------------------------
    def acknowledge(self, alert_id: int, note: str = "", user: str | None = None) -> Alert | None:
        """Acknowledge one alert as the current clerk (or ``user``)."""
        return self.alerts.acknowledge(alert_id, user or self.user, self.clock(), note)

    def acknowledge_all(self, note: str = "", user: str | None = None) -> list[Alert]:
        """Acknowledge every alert that needs attention."""
        return self.alerts.acknowledge_all(user or self.user, self.clock(), note)


def _as_number(value: Value) -> float | None:
    """A reading's value as a number to judge, or ``None`` (text, yes/no, nothing)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some service contexts
        return "unknown"


__all__ = ["HISTORY_STORAGE", "MONITOR_FAILED", "Engine", "IndicatorState", "make_key"]
