"""What a device card says before it is opened, and what a screen reader says for it (Qt-free).

A card leads with its state: one line per problem (and one line of what to
do), then one compact line per healthy item (an instance: a printer queue,
a sensor, a SIP transport), or "All normal · checked 12:03:05".  The full
rows are one click away; every summarised text keeps its whole wording for
the tooltip.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

from app.core.engine import IndicatorState
from app.core.status import pending_note, shown_level
from app.kernel.i18n import Text
from app.kernel.model import Device, Level, format_value, worst

#: How many values a compact line names; the rest are counted ("+4") and listed in its tooltip.
LINE_VALUES = 3
#: Widest piece of text (in Latin-letter widths; a Chinese character counts two) a compact line keeps.
PIECE_WIDTH = 26

_ALL_NORMAL = Text("All normal · checked {time}", "全部正常 · {time} 检查")
_WHAT_TO_DO = Text("What to do: {advice}", "处理方法:{advice}")
_MORE = Text("+{n} more", "另 {n} 项")
_SEP = " · "


@dataclass(frozen=True)
class CompactLine:
    """One healthy item in one line (``text``) and in full, one reading a line (``full``)."""

    text: Text
    full: Text


@dataclass(frozen=True)
class CardSummary:
    """What a closed card shows, top to bottom."""

    #: The worst effective level (``None``: no state yet).
    level: Level | None
    #: One line per problem or pending value, worst first: (its level as painted, the line).
    problems: tuple[tuple[Level, Text], ...]
    #: What to do about the problems (the device's declared advice), when there are any.
    advice: Text | None
    #: Healthy items, one compact line each (instances in the order they first report).
    lines: tuple[CompactLine, ...]
    #: "All normal · checked 12:03:05" when everything observed is normal, else ``None``.
    all_normal: Text | None
    #: Why indicators are not set up (each reason once), for a card without a setup note.
    not_set_up: tuple[Text, ...] = ()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def shorten(text: str, width: int = PIECE_WIDTH) -> str:
    """``text`` cut to about ``width`` Latin-letter widths, at a word end where there is one, with "…"."""
    if _width(text) <= width:
        return text
    kept, used = "", 0
    for char in text:
        used += _width(char)
        if used > width - 1:
            break
        kept += char
    cut = kept.rsplit(" ", 1)[0] if " " in kept[width // 2 :] else kept
    return cut.rstrip(" ,;:—-") + "…"


def value_text(state: IndicatorState) -> Text:
    """A state's value as the clerk reads it: a state indicator's message, else the number and unit."""
    if not state.indicator.numeric and state.message is not None and state.value is not None:
        return state.message
    return Text.same(format_value(state.value, state.indicator.unit))


def _healthy(state: IndicatorState) -> bool:
    return state.level is Level.OK and not shown_level(state)[1]


def group_by_instance(states: list[IndicatorState]) -> list[tuple[str, list[IndicatorState]]]:
    """States grouped by their instance ("" for a device's own indicators), in first-seen order."""
    groups: dict[str, list[IndicatorState]] = {}
    for state in states:
        groups.setdefault(state.instance, []).append(state)
    return list(groups.items())


def compact_line(instance: str, states: list[IndicatorState]) -> CompactLine:
    """``desk: 23.4 °C · 45.6 %RH · 612 ppm`` — the first values of an item, the rest counted."""

    # Short state words and measured values first; long texts (paths, full sentences) last.
    def rank(state: IndicatorState) -> int:
        text = value_text(state).en
        if not state.indicator.numeric:
            return 0 if _width(text) <= PIECE_WIDTH else 3
        return 1 if state.indicator.unit else 2

    # A value not reported ("—") says nothing in one line; the tooltip still lists it.
    ordered = sorted([s for s in states if s.value is not None] or states, key=rank)

    def piece(state: IndicatorState, lang: str) -> str:
        # A bare number says nothing without its name: "Jobs waiting 0", "MOS 4.4"; "23.4 °C" does.
        text = value_text(state)(lang)
        if state.indicator.numeric and not state.indicator.unit and state.value is not None:
            return f"{state.indicator.label(lang)} {text}"
        return text

    def line(lang: str) -> str:
        values = [piece(s, lang) for s in ordered]
        pieces = [shorten(v) for v in values[:LINE_VALUES]]
        if len(values) > LINE_VALUES:
            pieces.append(_MORE.format(n=len(values) - LINE_VALUES)(lang))
        head = f"{instance}: " if instance else ""
        return head + _SEP.join(pieces)

    def full(lang: str) -> str:
        return "\n".join(f"{s.label(lang)}: {value_text(s)(lang)}" for s in states)

    return CompactLine(Text(line("en"), line("zh_CN")), Text(full("en"), full("zh_CN")))


def problem_line(state: IndicatorState, now: float) -> Text:
    """``Printer status — Back2: Out of paper`` (or a pending value's "Over 1000 ppm, alert in 40 s")."""
    note = pending_note(state, now)
    if note is not None:
        what = note
    elif state.message is not None:
        what = state.message
    else:
        what = value_text(state)
    return Text(f"{state.label.en}: {what.en}", f"{state.label.zh}:{what.zh}")


def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def card_summary(device: Device, states: list[IndicatorState], now: float) -> CardSummary:
    """The summary of one device card from its indicators' states (``now`` on the engine's clock)."""
    level = worst(s.level for s in states) if states else None
    troubled = [s for s in states if s.level.is_problem or shown_level(s)[1]]
    troubled.sort(key=lambda s: -shown_level(s)[0].rank)
    problems = tuple((shown_level(s)[0], problem_line(s, now)) for s in troubled)
    lines = []
    for instance, group in group_by_instance(states):
        healthy = [s for s in group if _healthy(s)]
        if healthy:
            lines.append(compact_line(instance, healthy))
    observed = [s for s in states if s.level is not Level.NOT_SET_UP]
    all_normal = None
    if observed and not troubled:
        checked = _clock(max(s.updated for s in observed))
        all_normal = _ALL_NORMAL.format(time=checked)
    advice = _WHAT_TO_DO.format(advice=device.advice) if problems and device.advice is not None else None
    reasons: dict[str, Text] = {}
    for state in states:
        if state.level is Level.NOT_SET_UP and state.message is not None:
            reasons.setdefault(state.message.en, state.message)
    return CardSummary(level, problems, advice, tuple(lines), all_normal, tuple(reasons.values()))


# -- what a screen reader says ----------------------------------------------------


def _what(state: IndicatorState) -> Text:
    return state.message if state.message is not None else value_text(state)


def spoken_card(device: Device, states: list[IndicatorState]) -> Text:
    """A card's accessible name: "打印机 Back2, 严重, 缺纸" — the device, its worst item, level and why."""
    if not states:
        return device.label
    bad = [s for s in states if s.level.is_problem or shown_level(s)[1]]
    if not bad:
        level = worst(s.level for s in states)
        return Text(f"{device.label.en}, {level.text.en}", f"{device.label.zh}, {level.text.zh}")
    first = max(bad, key=lambda s: shown_level(s)[0].rank)
    return _spoken(
        Text(f"{device.label.en} {first.instance}".rstrip(), f"{device.label.zh} {first.instance}".rstrip()),
        first,
    )


def spoken_row(state: IndicatorState) -> Text:
    """A row's accessible name: "打印机状态 — Back2, 严重, 缺纸"."""
    return _spoken(state.label, state)


def _spoken(who: Text, state: IndicatorState) -> Text:
    level, pending = shown_level(state)
    pending_word = Text(" (pending)", "(待确认)") if pending else Text("", "")
    what = _what(state)
    return Text(
        f"{who.en}, {level.text.en}{pending_word.en}, {what.en}",
        f"{who.zh}, {level.text.zh}{pending_word.zh}, {what.zh}",
    )
