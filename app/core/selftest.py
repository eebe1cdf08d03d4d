"""The start-of-shift check: every device's active check, as one checklist.

Procedure 二/三 asks clerks to confirm the desk's equipment works *before*
they start.  Each enabled monitor runs its :meth:`Monitor.self_test` (record
and play back, line ping, test page …); a monitor without an active check is
polled once and its readings judged by an :class:`Engine` with the thresholds
in force.  The result is a checklist of pass / fail / skipped lines, each
failure with what to do about it, stored in history as a ``"selftest"``
record so supervisors' reports and the exporter can show it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.config import Config
from app.core.engine import Engine, IndicatorState
from app.core.history import History
from app.kernel.i18n import Text
from app.kernel.model import Device, Level, format_value, worst
from app.kernel.monitor import CheckResult, Monitor

log = logging.getLogger(__name__)

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"
STATUSES = (PASS, FAIL, SKIPPED)
RECORD_KIND = "selftest"
#: History key (``kv`` table) holding the local date the check was last offered.
OFFERED_KEY = "selftest.last_offered_day"

STATUS_TEXT = {
    PASS: Text("Pass", "通过"),
    FAIL: Text("Fail", "未通过"),
    SKIPPED: Text("Skipped", "跳过"),
}

MSG_ALL_NORMAL = Text("All readings normal", "各项读数正常")
MSG_WARNINGS = Text("Usable, with warnings: {items}", "可以使用,但有警告:{items}")
MSG_FAULTS = Text("Fault: {items}", "故障:{items}")
MSG_AND_WARNINGS = Text("{faults}. Warnings: {items}", "{faults}。警告:{items}")
MSG_NO_READING = Text("The device gave no reading", "设备没有读数")
MSG_DISABLED = Text("Switched off in the settings", "已在设置中关闭")
MSG_CHECK_FAILED = Text("The check could not run: {error}", "检查无法进行:{error}")
MSG_TIMEOUT = Text("The check did not finish within {seconds:g} s", "检查在 {seconds:g} 秒内未完成")
ADVICE_SETUP = Text(
    "Set the device up in Settings, then run the check again",
    "请在设置中配置该设备,然后重新检查",
)


@dataclass(frozen=True)
class DeviceCheck:
    """The checklist lines of one monitor."""

    monitor_id: str
    device: Device
    title: Text
    results: tuple[CheckResult, ...]
    seconds: float = 0.0

    def line_title(self, result: CheckResult, lang: str | None = None) -> str:
        """How a checklist line is named: the device, plus the check's own name when it adds something."""
        title, name = self.title(lang), result.name(lang)
        if name == title:
            return title
        return name if name.startswith(title) else f"{title} — {name}"

    @property
    def status(self) -> str:
        """``fail`` if any line failed, ``skipped`` if all were skipped, else ``pass``."""
        statuses = {r.status for r in self.results}
        if FAIL in statuses:
            return FAIL
        if statuses <= {SKIPPED}:
            return SKIPPED
        return PASS


@dataclass(frozen=True)
class SelfTestResult:
    """A whole start-of-shift check."""

    started: float
    finished: float
    checks: tuple[DeviceCheck, ...]
    user: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no device failed (skipped devices do not fail the check)."""
        return all(c.status != FAIL for c in self.checks)

    @property
    def status(self) -> str:
        """Overall ``pass`` or ``fail``."""
        return PASS if self.passed else FAIL

    def counts(self) -> dict[str, int]:
        """How many checklist lines passed, failed, were skipped."""
        counts = dict.fromkeys(STATUSES, 0)
        for check in self.checks:
            for result in check.results:
                counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON form, as stored in history and printed by ``selftest --json``."""
        return {
            "started": self.started,
            "finished": self.finished,
            "status": self.status,
            "user": self.user,
            "options": dict(self.options),
            "counts": self.counts(),
            "checks": [
                {
                    "monitor": c.monitor_id,
                    "device": c.device.id,
                    "title": c.title.to_dict(),
                    "status": c.status,
                    "seconds": round(c.seconds, 3),
                    "results": [_result_to_dict(r) for r in c.results],
                }
                for c in self.checks
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SelfTestResult:
        """Inverse of :meth:`to_dict`; tolerant of records from other versions."""
        checks = []
        for item in data.get("checks", []):
            device = Device.named(str(item.get("device", "computer")))
            checks.append(
                DeviceCheck(
                    monitor_id=str(item.get("monitor", "")),
                    device=device,
                    title=Text.from_dict(item.get("title")) or Text.same(str(item.get("monitor", ""))),
                    results=tuple(_result_from_dict(r) for r in item.get("results", [])),
                    seconds=float(item.get("seconds", 0.0)),
                )
            )
        return cls(
            started=float(data.get("started", 0.0)),
            finished=float(data.get("finished", 0.0)),
            checks=tuple(checks),
            user=str(data.get("user", "")),
            options=dict(data.get("options", {})),
        )


def _result_to_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "name": result.name.to_dict(),
        "status": result.status,
        "message": result.message.to_dict(),
        "advice": result.advice.to_dict() if result.advice else None,
        "detail": _jsonable(result.detail),
    }


def _result_from_dict(data: Mapping[str, Any]) -> CheckResult:
    status = str(data.get("status", SKIPPED))
    return CheckResult(
        name=Text.from_dict(data.get("name")) or Text.same("?"),
        status=status if status in STATUSES else SKIPPED,
        message=Text.from_dict(data.get("message")) or Text.same(""),
        advice=Text.from_dict(data.get("advice")),
        detail=dict(data.get("detail") or {}),
    )


def _jsonable(value: Any) -> Any:
    """Monitors may put anything in ``detail``; keep what JSON can hold."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class SelfTest:
    """Runs the start-of-shift check over a set of monitors.

    ``use_latest_states`` is for the running application: monitors without
    an active check are judged on the engine's latest states instead of
    being polled a second time alongside the scheduler.  One-shot runs (the
    CLI) poll each such monitor once and judge it with a private engine.
    """

    def __init__(
        self,
        config: Config,
        monitors: Iterable[Monitor],
        *,
        engine: Engine | None = None,
        use_latest_states: bool = False,
        clock: Callable[[], float] = time.time,
        user: str = "",
    ) -> None:
        self.config = config
        self.monitors = list(monitors)
        self.engine = engine
        self.use_latest_states = use_latest_states and engine is not None
        self.clock = clock
        self.user = user or (engine.user if engine is not None else "")
        self._started: set[str] = set()

    def run(self, options: Mapping[str, Any] | None = None) -> SelfTestResult:
        """Check every monitor concurrently (each within its timeout) and build the checklist."""
        options = dict(options or {})
        started = self.clock()
        done: dict[str, DeviceCheck] = {}
        lock = threading.Lock()

        def work(monitor: Monitor) -> None:
            check = self._check_one(monitor, options)
            with lock:
                done[monitor.id] = check

        threads = []
        for monitor in self.monitors:
            thread = threading.Thread(
                target=work, args=(monitor,), name=f"selftest-{monitor.id}", daemon=True
            )
            thread.start()
            threads.append((monitor, thread))
        begin = time.monotonic()
        checks: list[DeviceCheck] = []
        for monitor, thread in threads:
            limit = _check_timeout(monitor)
            thread.join(max(0.0, limit - (time.monotonic() - begin)))
            with lock:
                check = done.get(monitor.id)
            if check is None:
                # A hung driver keeps its daemon thread; the checklist must still finish.
                result = CheckResult(
                    type(monitor).title,
                    FAIL,
                    MSG_TIMEOUT.format(seconds=limit),
                    monitor.device.advice,
                )
                check = DeviceCheck(monitor.id, monitor.device, type(monitor).title, (result,), limit)
            checks.append(check)
        checks += self._disabled()
        checks.sort(key=lambda c: (c.device.order, c.monitor_id))
        return SelfTestResult(started, self.clock(), tuple(checks), self.user, options)

    # -- one monitor -----------------------------------------------------------
    def _check_one(self, monitor: Monitor, options: Mapping[str, Any]) -> DeviceCheck:
        title = type(monitor).title
        begin = time.monotonic()
        try:
            results = self._results(monitor, options)
        except Exception as exc:  # a broken check is a failed check, never a crash
            log.warning("self-test of %s failed", monitor.id, exc_info=exc)
            results = [
                CheckResult(
                    title,
                    FAIL,
                    MSG_CHECK_FAILED.format(error=f"{type(exc).__name__}: {exc}"),
                    monitor.device.advice,
                )
            ]
        fixed = tuple(_with_advice(r, monitor.device) for r in results)
        return DeviceCheck(monitor.id, monitor.device, title, fixed, time.monotonic() - begin)

    def _results(self, monitor: Monitor, options: Mapping[str, Any]) -> list[CheckResult]:
        hint = monitor.setup_hint()
        if hint is not None:
            return [CheckResult(type(monitor).title, SKIPPED, hint, ADVICE_SETUP)]
        if not self.use_latest_states and monitor.id not in self._started:
            # One-shot runs have no scheduler to start the monitor; do it once here.
            monitor.start()
            self._started.add(monitor.id)
        active = monitor.self_test(options)
        if active is not None:
            if not active:
                return [CheckResult(type(monitor).title, SKIPPED, MSG_NO_READING)]
            return list(active)
        return [self._judge(monitor, self._states(monitor))]

    def _states(self, monitor: Monitor) -> list[IndicatorState]:
        prefix = monitor.id + "."
        if self.use_latest_states and self.engine is not None:
            return [s for s in self.engine.states() if s.indicator.id.startswith(prefix)]
        engine = Engine(self.config, type(monitor).indicators, None, clock=self.clock, debounce=False)
        engine.ingest(monitor.poll())
        return engine.states()

    def _judge(self, monitor: Monitor, states: list[IndicatorState]) -> CheckResult:
        title = type(monitor).title
        unobserved = (Level.UNKNOWN, Level.NOT_SET_UP)
        known = [s for s in states if s.level not in unobserved]
        if not known:
            failed = next((s.message for s in states if s.level is Level.UNKNOWN and s.message), None)
            if failed is not None:  # the monitor itself failed: that is a fault to report
                return CheckResult(title, FAIL, failed, monitor.device.advice)
            not_set_up = next((s.message for s in states if s.level is Level.NOT_SET_UP and s.message), None)
            if not_set_up is not None:
                return CheckResult(title, SKIPPED, not_set_up, ADVICE_SETUP)
            return CheckResult(title, SKIPPED, MSG_NO_READING)
        levels = {s.key: self._level(s) for s in states}
        level = worst(levels.values())
        bad = [s for s in states if levels[s.key] in (Level.WARNING, Level.CRITICAL)]
        # What could not be observed (a headset delivering no audio) is no pass:
        # one line per distinct reason, not one per indicator.
        reasons: dict[str, IndicatorState] = {}
        for s in states:
            if s.level is Level.UNKNOWN and s.message is not None:
                reasons.setdefault(s.message.en, s)
        detail = {"level": level.name.lower(), "indicators": {k: v.name.lower() for k, v in levels.items()}}
        if not bad and not reasons:
            return CheckResult(title, PASS, MSG_ALL_NORMAL, detail=detail)
        faults = [st for st in bad if levels[st.key] is Level.CRITICAL] + list(reasons.values())
        warnings = [st for st in bad if levels[st.key] is Level.WARNING]
        advice = monitor.device.advice
        if faults:
            message = MSG_FAULTS.format(items=_describe(faults))
            if warnings:
                message = MSG_AND_WARNINGS.format(faults=message, items=_describe(warnings))
            return CheckResult(title, FAIL, message, advice, detail)
        # A warning (disk getting full, warm room) does not stop the shift, but says what to watch.
        return CheckResult(title, PASS, MSG_WARNINGS.format(items=_describe(warnings)), advice, detail)

    def _level(self, state: IndicatorState) -> Level:
        """The level a one-shot reading stands for.

        An indicator whose thresholds must hold for a while (``raise_after``,
        e.g. CPU above 98 % for a minute) is not a fault on one sample: a
        single critical poll counts as a warning.  The running app's states
        are already debounced and count as they are.
        """
        if self.use_latest_states or state.level is not Level.CRITICAL:
            return state.level
        thresholds = self.config.indicator_thresholds(state.indicator)
        if thresholds is not None and thresholds.raise_after > 0 and state.raw_level is Level.CRITICAL:
            return Level.WARNING
        return state.level

    def _disabled(self) -> list[DeviceCheck]:
        running = {m.id for m in self.monitors}
        enabled = {cls.id for cls in self.config.enabled_monitors()}
        checks = []
        for mid, cls in self.config.monitor_classes.items():
            if mid in running or mid in enabled:
                continue
            result = CheckResult(cls.title, SKIPPED, MSG_DISABLED)
            checks.append(DeviceCheck(mid, cls.device, cls.title, (result,)))
        return checks


def _describe(states: list[IndicatorState]) -> Text:
    """``label: message (value)`` for each bad state, in both languages."""

    def one(state: IndicatorState, lang: str) -> str:
        what = state.message(lang) if state.message else format_value(state.value, state.indicator.unit)
        return f"{state.label(lang)}{':' if lang.startswith('zh') else ': '}{what}"

    return Text("; ".join(one(s, "en") for s in states), ";".join(one(s, "zh_CN") for s in states))


def _with_advice(result: CheckResult, device: Device) -> CheckResult:
    if result.status == FAIL and result.advice is None:
        return CheckResult(result.name, result.status, result.message, device.advice, result.detail)
    return result


def _check_timeout(monitor: Monitor) -> float:
    """How long the checklist waits for one monitor's check.

    An active check (printing a page, recording a sample) takes longer than a
    poll: twice the poll timeout, or longer when the monitor declares its own
    wait (any ``*_timeout`` setting, such as the printer's ``test_page_timeout``).
    """
    seconds = float(monitor.options.get("timeout", type(monitor).timeout))
    own = [
        float(value)
        for key, value in monitor.options.items()
        if key.endswith("_timeout") and isinstance(value, int | float) and not isinstance(value, bool)
    ]
    return max([seconds * 2, *(seconds + wait for wait in own)])


# -- storing and offering -------------------------------------------------------
def store(history: History, result: SelfTestResult) -> None:
    """Keep the result for reports, the exporter and the next start."""
    history.add_record(RECORD_KIND, result.to_dict(), now=result.finished)


def latest(history: History) -> tuple[float, SelfTestResult] | None:
    """The most recent stored check, if any."""
    try:
        found = history.latest_record(RECORD_KIND)
        if found is None:
            return None
        return found[0], SelfTestResult.from_dict(found[1])
    except (ValueError, TypeError, AttributeError):
        log.warning("stored self-test record unreadable")
        return None


def _local_day(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).date().isoformat()


def first_login_today(history: History, now: float | None = None) -> bool:
    """True when Deskwatch has not offered the check yet on this (local) day."""
    now = time.time() if now is None else now
    return bool(history.get_state(OFFERED_KEY) != _local_day(now))


def should_offer(config: Config, history: History | None, now: float | None = None) -> bool:
    """Whether to offer the check now; marks today as offered when it says yes.

    Offered once per day at the first start of Deskwatch (which is the
    clerk's login, as Deskwatch starts with the session), if enabled.
    """
    if history is None or not config.get("selftest", "offer_at_first_login"):
        return False
    now = time.time() if now is None else now
    if not first_login_today(history, now):
        return False
    history.set_state(OFFERED_KEY, _local_day(now))
    return True


__all__ = [
    "FAIL",
    "PASS",
    "SKIPPED",
    "STATUS_TEXT",
    "DeviceCheck",
    "SelfTest",
    "SelfTestResult",
    "first_login_today",
    "latest",
    "should_offer",
    "store",
]
