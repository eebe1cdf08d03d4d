"""Qt-free helpers behind the panel, tray and fault reports.

Kept apart from the widgets so tests can check what the clerk reads without
a QApplication, and so the slow parts (history queries, ``setup_hint()``)
can run on a worker thread.
"""

from __future__ import annotations

import getpass
import math
import re
import socket
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.alerts import Alert
from app.core.engine import IndicatorState
from app.core.runtime import Runtime
from app.kernel.i18n import Text
from app.kernel.model import Device, Direction, Level, format_value, worst
from app.kernel.paths import private_dir, write_private

NO_MONITOR = Text(
    "No monitor for this device is installed in this copy of Deskwatch.",
    "此版本的 Deskwatch 未安装该设备的监测模块。",
)
SWITCHED_OFF = Text(
    "Switched off. Turn it on under Settings → {title}.",
    "已关闭。可在“设置 → {title}”中启用。",
)
WAITING = Text("Waiting for the first reading…", "正在等待第一次读数…")


def device_setup_notes(runtime: Runtime) -> dict[Device, Text | None]:
    """Per device group: why nothing is observed and how to set it up (``None``: configured).

    Calls each monitor's ``setup_hint()``, which may look at hardware: run it
    off the GUI thread.
    """
    notes: dict[Device, Text | None] = {}
    config = runtime.config
    registry = runtime.engine.registry
    running = {m.id: m for m in runtime.monitors}
    states = runtime.engine.states()
    for device in registry.devices:
        ids = [cls.id for cls in registry.monitors_of(device)]
        has_states = any(s.indicator.device is device for s in states)
        if not ids:
            # Breaks and other features feed the engine without a polled monitor.
            notes[device] = None if has_states else NO_MONITOR
            continue
        hints: list[Text] = []
        for monitor_id in ids:
            monitor = running.get(monitor_id)
            if monitor is None:
                title = config.monitor_classes[monitor_id].title
                hints.append(SWITCHED_OFF.format(title=title))
                continue
            try:
                hint = monitor.setup_hint()
            except Exception as exc:  # a broken hint must not hide the card
                hint = Text.same(f"{type(exc).__name__}: {exc}")
            if hint is None:
                hints = []
                break
            hints.append(hint)
        if hints:
            notes[device] = Text(" ".join(h.en for h in hints), " ".join(h.zh for h in hints))
        else:
            notes[device] = None if has_states else WAITING
    return notes


def format_duration(seconds: float, language: str | None = None) -> str:
    """Short human duration: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h`` (or Chinese)."""
    seconds = max(0, int(seconds))
    zh = (language or "").startswith("zh") or (language is None and Text("a", "b")() == "b")
    units = ("天", "小时", "分钟", "秒") if zh else (" d", " h", " min", " s")
    sep = "" if zh else " "
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}{units[0]}{sep}{hours}{units[1]}"
    if hours:
        return f"{hours}{units[1]}{sep}{minutes}{units[2]}"
    if minutes:
        return f"{minutes}{units[2]}"
    return f"{secs}{units[3]}"


def problems(states: list[IndicatorState]) -> list[IndicatorState]:
    """States that need someone (warning, critical, unknown), worst first; not set up is no problem."""
    bad = [s for s in states if s.level.is_problem]
    return sorted(bad, key=lambda s: (-s.level.rank, s.indicator.device.order))


#: Chip text for a value already out of range whose alert waits for its debounce time.
PENDING = Text("Pending", "待确认")
ALERT_IN = Text("{what}, alert in {left}", "{what},{left}后告警")
#: The hold is over; the engine raises the alert when the next reading confirms it.
ALERT_DUE = Text("{what}, alert at the next reading", "{what},下次读数时告警")
_OVER = Text("Over {limit}", "超过 {limit}")
_UNDER = Text("Under {limit}", "低于 {limit}")
_NOT_BACK_UNDER = Text("Not yet back under {limit}", "尚未回落到 {limit} 以下")
_NOT_BACK_OVER = Text("Not yet back over {limit}", "尚未回升到 {limit} 以上")
_OUT_OF_RANGE = Text("Out of range", "超出范围")


def shown_level(state: IndicatorState) -> tuple[Level, bool]:
    """The level to paint and whether it is still *pending*.

    While a reading is out of range but has not held for ``raise_after`` yet,
    the effective level is still ok (or "not set up": nothing was measurable
    before); showing a green "OK" then would claim a normal value.  The panel
    shows the raw level's colour with "Pending".
    """
    waiting = state.level in (Level.OK, Level.NOT_SET_UP)
    if waiting and state.raw_level in (Level.WARNING, Level.CRITICAL):
        return state.raw_level, True
    return state.level, False


def _limit(limit: float, unit: str) -> str:
    return f"{limit:g} {unit}".rstrip()


def out_of_range(state: IndicatorState) -> Text:
    """What is wrong with a pending value: "Over 1000 ppm", "Above the range 22–28 °C", or its message."""
    th, level, unit = state.thresholds, state.raw_level, state.indicator.unit
    value = state.value
    number = None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)
    fallback = state.message or _OUT_OF_RANGE
    if th is None or number is None:
        return fallback
    if th.two_sided:
        return th.describe(number, level, unit, state.band) or fallback
    limit = th.critical if level is Level.CRITICAL else th.warning
    if limit is None:
        return fallback
    high = th.direction is not Direction.LOW_IS_BAD
    if (number >= limit) if high else (number <= limit):
        return (_OVER if high else _UNDER).format(limit=_limit(limit, unit))
    # Hysteresis keeps the raw level until the value is back past its clear level.
    clear = th.clear_level(level)
    back = _NOT_BACK_UNDER if high else _NOT_BACK_OVER
    return back.format(limit=_limit(limit if clear is None else clear, unit))


def duration_text(seconds: float) -> Text:
    """:func:`format_duration` in both languages."""
    return Text(format_duration(seconds, "en"), format_duration(seconds, "zh_CN"))


def pending_note(state: IndicatorState, now: float, step: int = 1) -> Text | None:
    """ "Over 1000 ppm, alert in 40 s" for a pending state (``None`` when nothing is pending).

    The time left comes from the engine's debouncer (:attr:`IndicatorState.rises_at`);
    ``now`` is on the engine's clock.  It is rounded up to whole ``step``
    seconds (``step=60``: "alert in 1 min" until the last second), so a text
    nobody may be looking at changes only once a step.
    """
    if not shown_level(state)[1] or state.rises_at is None:
        return None
    what = out_of_range(state)
    left = math.ceil(state.rises_at - now)
    if left <= 0:
        return ALERT_DUE.format(what=what)
    return ALERT_IN.format(what=what, left=duration_text(math.ceil(left / step) * step))


def next_pending_change(states: Iterable[IndicatorState], now: float, step: int = 1) -> float | None:
    """When the first :func:`pending_note` of ``states`` (rounded to ``step``) will read differently.

    On the engine's clock; ``None`` when no countdown is running (nothing
    pending, or every hold is over and waits for the next reading).
    """
    moments = []
    for state in states:
        if state.rises_at is None or not shown_level(state)[1]:
            continue
        left = state.rises_at - now
        if left > 0:
            # The text shows ceil(left / step) steps; it drops one when left reaches one step less.
            moments.append(state.rises_at - (math.ceil(left / step) - 1) * step)
    return min(moments, default=None)


def state_line(state: IndicatorState) -> str:
    """``电脑系统: CPU 使用率 98.0 % — 严重`` in the current language."""
    value = format_value(state.value, state.indicator.unit)
    return f"{state.indicator.device.label()}: {state.label()} {value} — {state.level.text()}"


# -- the one count -------------------------------------------------------------

_STARTING = Text("Starting — waiting for the first readings…", "正在启动 — 等待首次读数…")
_ALL_NORMAL = Text("All equipment normal", "所有设备正常")
_UNSEEN_ONE = Text("1 alert needs attention", "1 条告警待处理")
_UNSEEN = Text("{n} alerts need attention", "{n} 条告警待处理")
_CLEARED = Text(" ({n} already cleared)", "(其中 {n} 条已恢复)")
_ACKED = Text("{n} acknowledged, still faulty", "{n} 条已确认,故障仍在")
_PENDING_N = Text("{n} out of range, alert pending", "{n} 项超限,等待告警")
_NOTHING_SET_UP = Text("Nothing is set up to watch yet", "尚未设置任何监测项")
_NOT_NORMAL = Text("{n} reading(s) not normal", "{n} 项读数异常")
_ACKED_LINE = Text("acknowledged", "已确认")
_CLEARED_LINE = Text("cleared, not yet acknowledged", "已恢复,尚未确认")
_PARTS_SEP = Text(" · ", ";")


@dataclass(frozen=True)
class Attention:
    """What needs the clerk: the one count the tray badge, tooltip, banner and alerts tab show.

    ``unseen`` (the badge and tab number) is every alert nobody has acknowledged
    yet, whether its condition is still present or has cleared since: each is
    something the clerk has not seen.  Acknowledged alerts whose condition is
    still present are counted apart (``acknowledged``), so a fault someone is
    already handling is neither counted as new nor dropped; values out of range
    whose alert still waits for its debounce are ``pending``.
    """

    unseen: int = 0
    cleared: int = 0
    acknowledged: int = 0
    pending: int = 0
    #: Problem states with no alert of their own (explained by another's, or
    #: restored from history before any alert): only said when nothing else is.
    other_problems: int = 0
    #: The overall effective level of the states (``None`` before the first reading).
    level: Level | None = None
    #: States observed (anything but not set up): "all normal" needs at least one.
    observed: int = 0

    @property
    def badge(self) -> int:
        """The number on the tray icon and the alerts tab."""
        return self.unseen

    def headline(self) -> Text:
        """One line for the banner and the tooltip's first line, the same words everywhere."""
        parts: list[Text] = []
        if self.unseen:
            head = _UNSEEN_ONE if self.unseen == 1 else _UNSEEN.format(n=self.unseen)
            if self.cleared:
                cleared = _CLEARED.format(n=self.cleared)
                head = Text(head.en + cleared.en, head.zh + cleared.zh)
            parts.append(head)
        if self.acknowledged:
            parts.append(_ACKED.format(n=self.acknowledged))
        if self.pending:
            parts.append(_PENDING_N.format(n=self.pending))
        if not parts and self.other_problems:
            parts.append(_NOT_NORMAL.format(n=self.other_problems))
        if not parts:
            if self.level is None:
                return _STARTING
            # "Normal" is a claim about something observed, never about nothing set up.
            return _ALL_NORMAL if self.observed else _NOTHING_SET_UP
        return Text(_PARTS_SEP.en.join(p.en for p in parts), _PARTS_SEP.zh.join(p.zh for p in parts))


def attention(states: list[IndicatorState], alerts: list[Alert]) -> Attention:
    """Count what needs the clerk (see :class:`Attention`) from the states and the visible alerts."""
    unseen = [a for a in alerts if a.needs_attention]
    acknowledged = [a for a in alerts if not a.needs_attention and a.ended is None]
    present = {a.key for a in alerts if a.ended is None}
    return Attention(
        unseen=len(unseen),
        cleared=sum(1 for a in unseen if a.ended is not None),
        acknowledged=len(acknowledged),
        pending=sum(1 for s in states if shown_level(s)[1]),
        other_problems=sum(1 for s in problems(states) if s.key not in present),
        level=overall_level(states),
        observed=sum(1 for s in states if s.level is not Level.NOT_SET_UP),
    )


def tooltip_summary(
    states: list[IndicatorState],
    alerts: list[Alert],
    now: float,
    limit: int = 5,
    step: int = 1,
    count: Attention | None = None,
) -> str:
    """What the tray tooltip says: the headline, then the alerts and pending values, worst first.

    A pending value's countdown is rounded up to ``step`` seconds (:func:`pending_note`);
    ``count`` is :func:`attention` of the same states and alerts, when the caller has it already.
    """
    count = attention(states, alerts) if count is None else count
    lines = [f"Deskwatch — {count.headline()()}"]
    by_key = {s.key: s for s in states}
    items: list[str] = []
    # Not yet acknowledged first (what the badge counts), then acknowledged, then cleared.
    ordered = sorted(alerts, key=lambda a: (not a.needs_attention, a.ended is not None))
    for alert in ordered:
        state = by_key.get(alert.key)
        if alert.ended is not None:
            label = state.label() if state else alert.indicator_id
            items.append(f"{alert.device.label()}: {label} — {_CLEARED_LINE()}")
        elif state is not None:
            line = state_line(state)
            items.append(line if alert.needs_attention else f"{line} ({_ACKED_LINE()})")
    for state in states:
        note = pending_note(state, now, step)
        if note is not None:
            value = format_value(state.value, state.indicator.unit)
            items.append(f"{state.indicator.device.label()}: {state.label()} {value} — {note()}")
    lines += items[:limit]
    if len(items) > limit:
        lines.append(Text("… and {n} more", "…… 另有 {n} 项").format(n=len(items) - limit)())
    return "\n".join(lines)


def overall_level(states: list[IndicatorState]) -> Level | None:
    """Worst level of all states; ``None`` before the first reading."""
    return worst(s.level for s in states) if states else None


# -- fault report to IT ------------------------------------------------------

REPORT_TITLE = Text("Deskwatch fault report", "Deskwatch 故障报告")


def _when(ts: float | None) -> str:
    return "—" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


@dataclass(frozen=True)
class FaultReport:
    """A fault report ready to copy, save and mail."""

    subject: str
    body: str
    key: str = ""
    path: Path | None = None

    def mailto(self, address: str) -> str:
        """A ``mailto:`` URL with subject and body filled in."""
        query = urllib.parse.urlencode(
            {"subject": self.subject, "body": self.body}, quote_via=urllib.parse.quote
        )
        return f"mailto:{urllib.parse.quote(address, safe='@,')}?{query}"


def build_fault_report(runtime: Runtime, alert: Alert, now: float | None = None) -> FaultReport:
    """Device, indicator, readings, times, host and user, and the last hour of history.

    Reads the history database: call it off the GUI thread.
    """
    now = time.time() if now is None else now
    engine = runtime.engine
    indicator = engine.indicators.get(alert.indicator_id)
    unit = indicator.unit if indicator else ""
    label = indicator.label() if indicator else alert.indicator_id
    if alert.instance:
        label = f"{label} — {alert.instance}"
    state = engine.state(alert.key)
    t = Text
    lines = [
        REPORT_TITLE(),
        "",
        f"{t('Device', '设备')()}: {alert.device.label()}",
        f"{t('Indicator', '指标')()}: {label} ({alert.key})",
        f"{t('Level', '级别')()}: {alert.level.text()} ({t('peak', '最高')()}: {alert.peak.text()})",
        f"{t('Message', '说明')()}: {alert.message() if alert.message else '—'}",
        f"{t('Current value', '当前值')()}: {format_value(state.value if state else alert.last_value, unit)}",
        f"{t('During the fault', '故障期间')()}: min {format_value(alert.value_min, unit)}, "
        f"avg {format_value(alert.value_avg, unit)}, max {format_value(alert.value_max, unit)}",
        f"{t('Started', '开始时间')()}: {_when(alert.started)}",
        f"{t('Cleared', '恢复时间')()}: {_when(alert.ended)}",
        f"{t('Acknowledged', '确认')()}: {_when(alert.acked_at)} {alert.acked_by or ''} {alert.note}".strip(),
        f"{t('Host', '主机')()}: {socket.gethostname()}",
        f"{t('User', '用户')()}: {engine.user or getpass.getuser()}",
        f"{t('Report time', '报告时间')()}: {_when(now)}",
        "",
    ]
    history = runtime.history
    if history is not None:
        history.flush()
        samples = history.samples(alert.key, now - 3600, now)
        lines.append(
            t("Last hour (per-minute min / avg / max, level):", "最近一小时(每分钟 最小/平均/最大,级别):")()
        )
        if not samples:
            lines.append("  —")
        for sample in samples[-60:]:
            values = " / ".join(format_value(v, unit) for v in (sample.vmin, sample.vavg, sample.vmax))
            lines.append(
                f"  {time.strftime('%H:%M', time.localtime(sample.ts))}  {values}  {sample.level.text()}"
            )
        earlier = [a for a in history.alerts_between(now - 7 * 86400, now) if a.key == alert.key]
        lines += ["", t("Episodes of this fault in the last 7 days:", "近 7 天此故障的发生记录:")()]
        for episode in earlier[-10:]:
            lines.append(
                f"  {_when(episode.started)} → {_when(episode.ended)}  {episode.peak.text()}"
                + (f"  ({episode.note})" if episode.note else "")
            )
    subject = f"[Deskwatch] {socket.gethostname()}: {alert.device.label()} — {label} ({alert.level.text()})"
    return FaultReport(subject, "\n".join(lines) + "\n", alert.key)


def save_fault_report(report: FaultReport, data_dir: Path, now: float | None = None) -> FaultReport:
    """Write the report into ``<data dir>/reports/`` and return it with its path."""
    now = time.time() if now is None else now
    folder = private_dir(data_dir / "reports")  # call and alert history: the clerk's only
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", report.key)[:60] or "alert"
    path = folder / f"fault-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{slug}.txt"
    write_private(path, report.body)
    return FaultReport(report.subject, report.body, report.key, path)
