"""Qt-free helpers behind the panel, tray and fault reports.

Kept apart from the widgets so tests can check what the clerk reads without
a QApplication, and so the slow parts (history queries, ``setup_hint()``)
can run on a worker thread.
"""

from __future__ import annotations

import getpass
import re
import socket
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from app.core.alerts import Alert
from app.core.engine import IndicatorState
from app.core.runtime import Runtime
from app.kernel.i18n import Text
from app.kernel.model import Device, Level, format_value, worst
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


def shown_level(state: IndicatorState) -> tuple[Level, bool]:
    """The level to paint and whether it is still *pending*.

    While a reading is out of range but has not held for ``raise_after`` yet,
    the effective level is still ok; showing a green "OK" then would claim a
    normal value.  The panel shows the raw level's colour with "Pending".
    """
    if state.level is Level.OK and state.raw_level in (Level.WARNING, Level.CRITICAL):
        return state.raw_level, True
    return state.level, False


def state_line(state: IndicatorState) -> str:
    """``电脑系统: CPU 使用率 98.0 % — 严重`` in the current language."""
    value = format_value(state.value, state.indicator.unit)
    return f"{state.indicator.device.label()}: {state.label()} {value} — {state.level.text()}"


def tooltip_summary(states: list[IndicatorState], limit: int = 5) -> str:
    """What the tray tooltip says: overall level, then the worst few problems."""
    bad = problems(states)
    if not states:
        return Text("Deskwatch — starting…", "Deskwatch — 正在启动…")()
    if not bad:
        return Text("Deskwatch — all normal", "Deskwatch — 一切正常")()
    head = Text("Deskwatch — {n} problem(s)", "Deskwatch — {n} 项异常").format(n=len(bad))()
    lines = [head] + [state_line(s) for s in bad[:limit]]
    if len(bad) > limit:
        lines.append(Text("… and {n} more", "…… 另有 {n} 项").format(n=len(bad) - limit)())
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
