"""``deskwatch check --nagios``: a check result in the Monitoring Plugins format.

What Nagios, Icinga, Zabbix' Nagios items and NRPE read (the Monitoring
Plugins development guidelines, "Plugin output" and "Performance data")::

    DESKWATCH CRITICAL - Printer — Status — desk1: Paper jam | 'computer.cpu'=12.5%;@90:;@98: …
    CRITICAL: Printer — Status — desk1: Paper jam
    OK: Computer — CPU usage: 12.5 %
    …

The first line is the status word (the exit code's name), a short summary of
the worst problems and, after ``|``, the performance data; the lines after it
are the long output, one per indicator, worst first.  Neither part may hold
``|`` (it would start performance data), so it is replaced in messages.

Performance data, one item per numeric indicator in
``'label'=value[UOM];warn;crit`` (min and max are not declared, so left
out, as the guidelines allow):

* the label is the indicator's state key (``printer.queued_jobs[desk1]``),
  kept to ASCII letters, digits and ``_.-[]``; an instance name with other
  characters (a Chinese printer name) has them replaced and a short hash
  appended, so two such names never share a label;
* UOMs are the guidelines' only: ``%``, ``s``/``ms``/``us``, ``B`` and ``c``
  (a count since start).  Hours and minutes are converted to seconds;
  units outside the list (°C, dB, dBFS, ppm) are given without a UOM;
* a value that could not be determined (unknown, or no reading yet) is the
  literal ``U``, and so is one with nothing to measure right now ("not set
  up" on a device that is otherwise observed: no speech for the speech
  level, no pause for the hum; its long output line says ``NOT OBSERVED``);
  the indicators of a device with nothing set up are left out.
  Numbers are plain decimals (no exponent, never NaN or infinity);
* thresholds are range expressions meaning exactly what Deskwatch judges
  where the syntax allows it: a one-sided limit is entered at equality, so
  high-is-bad is ``@90:`` (alert from 90 up) and low-is-bad ``@~:15``
  (alert from 15 down); a two-sided range (the room's season) warns outside
  ``low:high`` (the ends are normal) and is critical outside
  ``low-margin:high+margin``.  (Deskwatch is critical *at* the margin; a
  range expression that alerts outside cannot include its ends, so the two
  disagree on exactly those two values.)

The status itself is Deskwatch's (hysteresis, monitors' own judgements), not
recomputed from the performance data.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.core.engine import IndicatorState
from app.core.exporter import COUNTER_UNIT
from app.kernel.i18n import Text
from app.kernel.model import Direction, Level, Thresholds, format_value, worst

#: The plugin's name in the first line (``DESKWATCH OK - …``).
SERVICE = "DESKWATCH"
#: The status word of each exit code (the guidelines' "service status").
STATUS = {Level.OK: "OK", Level.WARNING: "WARNING", Level.CRITICAL: "CRITICAL", Level.UNKNOWN: "UNKNOWN"}
#: How many problems the first line names before "and N more".
SUMMARY_PROBLEMS = 3
#: A UOM the guidelines allow, kept as declared.
_KEPT_UNITS = {"%", "s", "ms", "us"}
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]")

_ALL_NORMAL = Text("{count} indicators observed, all normal", "已监测 {count} 项指标,全部正常")
_NOTHING = Text("no monitors enabled", "没有启用任何监测")
_MORE = Text("and {count} more", "另有 {count} 项")


def status_word(level: Level) -> str:
    """``OK``, ``WARNING``, ``CRITICAL`` or ``UNKNOWN`` (``NOT_SET_UP`` never is an exit code)."""
    return STATUS.get(level, "OK")


def perf_label(key: str) -> str:
    """An ASCII-safe, unique performance data label for a state key."""
    safe = _LABEL_UNSAFE.sub("_", key)
    if safe != key:
        # Replacing characters could make two instance names equal; the hash keeps them apart.
        safe += f"-{zlib.crc32(key.encode('utf-8', 'surrogatepass')):08x}"
    return safe


def perf_number(value: float) -> str:
    """A number in the guidelines' class ``[-0-9.]``: plain decimal, at most 6 decimals."""
    text = format(Decimal(repr(round(float(value), 6))).normalize(), "f")
    return "0" if text == "-0" else text


def perf_unit(state: IndicatorState) -> tuple[str, float]:
    """The UOM for an indicator's values and the factor from its declared unit to it."""
    ind = state.indicator
    if ind.unit in _KEPT_UNITS:
        return ind.unit, 1.0
    if ind.metric_unit == "seconds":  # hours, minutes: the exporter's base unit
        return "s", ind.metric_scale
    if ind.metric_unit == "bytes":
        return "B", ind.metric_scale
    if ind.metric_unit == COUNTER_UNIT:
        return "c", 1.0
    return "", 1.0


def _range(start: float | None, end: float | None, factor: float, inside: bool = False) -> str:
    """A range expression ``[@]start:end`` (``~`` for no start, nothing for no end)."""
    low = "~" if start is None else perf_number(start * factor)
    high = "" if end is None else perf_number(end * factor)
    return ("@" if inside else "") + f"{low}:{high}"


def perf_thresholds(th: Thresholds | None, band: str, factor: float) -> tuple[str, str]:
    """The warning and critical range expressions of a threshold ("" where there is none)."""
    if th is None:
        return "", ""
    if th.two_sided:
        normal = th.for_band(band)
        if normal.low is None and normal.high is None:
            return "", ""
        warn = _range(normal.low, normal.high, factor)
        margin = th.critical_margin
        if margin is None:
            return warn, ""
        low = None if normal.low is None else normal.low - margin
        high = None if normal.high is None else normal.high + margin
        return warn, _range(low, high, factor)

    def limit(value: float | None) -> str:
        if value is None:
            return ""
        if th.direction is Direction.HIGH_IS_BAD:
            return _range(value, None, factor, inside=True)
        return _range(None, value, factor, inside=True)

    return limit(th.warning), limit(th.critical)


@dataclass(frozen=True)
class PerfDatum:
    """One performance data item; ``value`` ``None`` is the guidelines' ``U`` (not determined)."""

    label: str
    value: float | None
    uom: str = ""
    warn: str = ""
    crit: str = ""

    def render(self) -> str:
        """``'label'=value[UOM];warn;crit`` with trailing empty fields dropped."""
        quoted = "'" + self.label.replace("'", "''") + "'"
        if self.value is None:
            return f"{quoted}=U"
        fields = [f"{perf_number(self.value)}{self.uom}", self.warn, self.crit]
        while fields[-1] == "":
            fields.pop()
        return f"{quoted}=" + ";".join(fields)


def _measured(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def not_observed(state: IndicatorState, states: Sequence[IndicatorState]) -> bool:
    """Whether ``state`` is "not set up" on a device observed otherwise: nothing to measure right now.

    (The headset is there and heard, but nobody spoke: no speech level.)  A
    device whose every indicator is not set up has nothing configured.
    """
    if state.level is not Level.NOT_SET_UP:
        return False
    device = state.indicator.device
    return any(s.indicator.device is device and s.level is not Level.NOT_SET_UP for s in states)


def perfdata(states: Sequence[IndicatorState]) -> list[PerfDatum]:
    """Performance data of the numeric indicators (not those of a device with nothing set up)."""
    found = []
    for state in states:
        if not state.indicator.numeric:
            continue
        if state.level is Level.NOT_SET_UP and not not_observed(state, states):
            continue
        uom, factor = perf_unit(state)
        measured = state.level not in (Level.UNKNOWN, Level.NOT_SET_UP)
        value = _measured(state.value) if measured else None
        if value is None:
            found.append(PerfDatum(perf_label(state.key), None))
            continue
        th = state.thresholds or state.indicator.thresholds
        warn, crit = perf_thresholds(th, state.band, factor)
        found.append(PerfDatum(perf_label(state.key), value * factor, uom, warn, crit))
    return found


def _text(text: str) -> str:
    """One line of output text: no ``|`` (it starts performance data), no line breaks."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first.replace("|", "/")


def _what(state: IndicatorState) -> str:
    """``Printer — Status — desk1``: the device and the indicator."""
    return _text(f"{state.indicator.device.label()} — {state.label()}")


def _problem(state: IndicatorState) -> str:
    """What is wrong: the message, else the value (``CPU usage: 99.0 %``), else the level."""
    if state.message:
        what = _text(state.message())
    elif state.value is not None:
        what = format_value(state.value, state.indicator.unit)
    else:
        what = state.level.text()
    return f"{_what(state)}: {what}"


def _order(states: Sequence[IndicatorState]) -> list[IndicatorState]:
    """Worst first (critical, warning, unknown, ok, not set up), declaration order within a level."""
    return sorted(states, key=lambda s: -s.level.rank)


def summary(states: Sequence[IndicatorState]) -> str:
    """The short output: the worst problems, or how many indicators are normal."""
    problems = [s for s in _order(states) if s.level.is_problem]
    if problems:
        named = [_problem(s) for s in problems[:SUMMARY_PROBLEMS]]
        rest = len(problems) - len(named)
        return "; ".join(named) + (f"; {_MORE.format(count=rest)()}" if rest else "")
    observed = [s for s in states if s.level is not Level.NOT_SET_UP]
    if not observed:
        return _NOTHING()
    return _ALL_NORMAL.format(count=len(observed))()


def long_output(states: Sequence[IndicatorState]) -> list[str]:
    """One line per indicator, worst first: ``CRITICAL: Printer — Status — desk1: Paper jam``."""
    lines = []
    for state in _order(states):
        word = status_word(state.level)
        if state.level is Level.NOT_SET_UP:
            word = "NOT OBSERVED" if not_observed(state, states) else "NOT SET UP"
        parts = [format_value(state.value, state.indicator.unit)] if state.value is not None else []
        if state.message:
            parts.append(_text(state.message()))
        detail = " — ".join(_text(p) for p in parts if p)
        lines.append(f"{word}: {_what(state)}" + (f": {detail}" if detail else ""))
    return lines


def render(states: Sequence[IndicatorState]) -> str:
    """The whole plugin output (first line with performance data, then the long output)."""
    level = worst(s.level for s in states)
    first = f"{SERVICE} {status_word(level)} - {summary(states)}"
    data = " ".join(d.render() for d in perfdata(states))
    if data:
        first += f" | {data}"
    return "\n".join([first, *long_output(states)])


__all__ = [
    "STATUS",
    "PerfDatum",
    "not_observed",
    "perf_label",
    "perf_number",
    "perf_thresholds",
    "perfdata",
    "render",
]
