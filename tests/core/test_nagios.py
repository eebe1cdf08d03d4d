"""``check --nagios`` output: the Monitoring Plugins grammar, units, ranges that mean what Deskwatch judges.

:func:`parse_plugin_output` is a strict reading of the development
guidelines ("Plugin output", "Performance data", "Threshold and ranges"); the
CLI tests (``tests/test_cli_nagios.py``) run real checks through it too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pytest

import monitors
from app.core.config import load_config
from app.core.engine import Engine, IndicatorState
from app.core.nagios import perf_label, perf_number, perf_unit, render
from app.kernel.model import Level, Reading, make_key

# -- the grammar -------------------------------------------------------------------
#: value, min and max: the class [-0-9.] (no exponent, no NaN, no infinity), as one decimal number.
NUMBER = r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
#: [@][start:][end]; start may be ~ (negative infinity); no end is positive infinity.
RANGE = rf"@?(?:(?:~|{NUMBER}):)?(?:{NUMBER})?"
UOMS = ("us", "ms", "s", "%", "KB", "MB", "TB", "B", "c")
#: A label in single quotes ('' for a quote; never '='), or bare when it has no space, quote or '='.
DATUM = re.compile(
    r"(?:'(?P<quoted>(?:[^'=]|'')+)'|(?P<bare>[^'=\s]+))="
    rf"(?:(?P<undetermined>U)|(?P<value>{NUMBER})(?P<uom>{'|'.join(UOMS)})?)"
    rf"(?:;(?P<warn>{RANGE})(?:;(?P<crit>{RANGE})(?:;(?P<min>{NUMBER})?(?:;(?P<max>{NUMBER})?)?)?)?)?"
    r"(?= |$)"
)
FIRST_LINE = re.compile(
    r"DESKWATCH (?P<status>OK|WARNING|CRITICAL|UNKNOWN) - (?P<summary>[^|\n]*[^|\s])(?: \| (?P<perf>.+))?"
)
EXIT_CODE = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


@dataclass(frozen=True)
class Datum:
    """One parsed performance data item."""

    label: str
    value: float | None  # None: "U"
    uom: str
    warn: str
    crit: str


@dataclass(frozen=True)
class PluginOutput:
    """A parsed plugin output."""

    status: str
    summary: str
    perfdata: dict[str, Datum]
    long_output: list[str]


def _check_range(expression: str) -> None:
    """A range must name a start or an end, and start <= end."""
    if not expression:
        return
    body = expression.removeprefix("@")
    start, sep, end = body.rpartition(":")
    assert start or end, f"empty range {expression!r}"
    if sep and start not in ("", "~") and end:
        assert float(start) <= float(end), f"range {expression!r}: start > end"
    if not sep:
        assert float(end) >= 0, f"range {expression!r}: a bare negative end means 0:{end}, start > end"


def range_alerts(expression: str, x: float) -> bool:
    """Whether ``x`` is outside the range (or inside, with ``@``): the guidelines' meaning."""
    inside_is_bad = expression.startswith("@")
    body = expression.removeprefix("@")
    start_text, _, end_text = body.rpartition(":")
    start = -math.inf if start_text == "~" else (float(start_text) if start_text else 0.0)
    end = float(end_text) if end_text else math.inf
    inside = start <= x <= end
    return inside if inside_is_bad else not inside


def parse_plugin_output(text: str) -> PluginOutput:
    """Parse, failing on anything the guidelines do not allow."""
    lines = text.rstrip("\n").split("\n")
    match = FIRST_LINE.fullmatch(lines[0])
    assert match, f"first line is no plugin line: {lines[0]!r}"
    data: dict[str, Datum] = {}
    perf = match["perf"] or ""
    at = 0
    while at < len(perf):
        found = DATUM.match(perf, at)
        assert found, f"performance data breaks the grammar at {perf[at:]!r}"
        at = found.end() + 1  # items are separated by one space
        assert at <= len(perf) or found.end() == len(perf)
        label = found["bare"] or found["quoted"].replace("''", "'")
        assert label.isascii() and label.isprintable(), f"label {label!r} is not ASCII"
        assert label not in data, f"label {label!r} twice"
        for expression in (found["warn"] or "", found["crit"] or ""):
            _check_range(expression)
        value = None if found["undetermined"] else float(found["value"])
        data[label] = Datum(label, value, found["uom"] or "", found["warn"] or "", found["crit"] or "")
    for line in lines[1:]:
        assert "|" not in line, f"long output holds '|' (would start performance data): {line!r}"
        assert line.strip(), "empty long output line"
    return PluginOutput(match["status"], match["summary"], data, lines[1:])


# -- the grammar's own tests: it refuses what the guidelines refuse --------------------
@pytest.mark.parametrize(
    "item",
    [
        "'a'=1",
        "'a b'=1.5%;@90:;@98:",
        "'it''s'=U",
        "'t'=-3.5;16:24;11:29",
        "'t'=2;~:10;;0;100",
        "'t'=7c",
        "'t'=300ms;@~:5;;",
    ],
)
def test_the_grammar_accepts_guideline_items(item: str) -> None:
    assert parse_plugin_output(f"DESKWATCH OK - fine | {item}").perfdata


@pytest.mark.parametrize(
    "item",
    [
        "'a'=nan",
        "'a'=1e-05",
        "'a'=inf%",
        "'a'=1°C",
        "'a'=1dB",
        "'a'=1ppm",
        "'a=b'=1",
        "'it's'=1",
        "a=1,5",
        "'a'=U%",
        "'a'=1;20:10",
        "'a'=1;-5",
        "'a'=1;@",
    ],
)
def test_the_grammar_refuses_what_the_guidelines_refuse(item: str) -> None:
    with pytest.raises(AssertionError):
        parse_plugin_output(f"DESKWATCH OK - fine | {item}")


# -- Deskwatch's output --------------------------------------------------------------
@pytest.fixture
def engine(clock) -> Engine:  # type: ignore[no-untyped-def]
    return Engine(load_config(monitors.discover(), None), None, None, clock=clock, debounce=False)


def _output(engine: Engine, readings: list[Reading]) -> PluginOutput:
    engine.ingest(readings)
    return parse_plugin_output(render(engine.states()))


def test_units_outside_the_guidelines_list_are_converted_or_dropped(engine: Engine) -> None:
    out = _output(
        engine,
        [
            Reading("computer.cpu", 42.5),
            Reading("recorder.time_left", 10.0),  # hours
            Reading("recorder.newest_age", 2.0),  # minutes
            Reading("telephone.rtt", 120.0),  # ms
            Reading("printer.oldest_job_age", 30, instance="desk1"),  # s
            Reading("environment.co2", 800.0, instance="desk"),  # ppm
            Reading("environment.temperature", 25.0, instance="desk", band="summer"),  # °C
            Reading("headset.noise_floor", -70.0),  # dBFS
            Reading("environment.bad_frames", 3, instance="desk"),  # count since start
        ],
    )
    data = out.perfdata
    assert (data["computer.cpu"].value, data["computer.cpu"].uom) == (42.5, "%")
    assert (data["recorder.time_left"].value, data["recorder.time_left"].uom) == (36000.0, "s")
    assert data["recorder.time_left"].warn == "@~:28800"  # 8 h, in seconds like the value
    assert data["recorder.time_left"].crit == "@~:3600"
    assert (data["recorder.newest_age"].value, data["recorder.newest_age"].uom) == (120.0, "s")
    assert data["recorder.newest_age"].warn == "@3600:"
    assert (data["telephone.rtt"].value, data["telephone.rtt"].uom) == (120.0, "ms")
    assert data["printer.oldest_job_age[desk1]"].uom == "s"
    assert (data["environment.co2[desk]"].value, data["environment.co2[desk]"].uom) == (800.0, "")
    assert data["environment.temperature[desk]"].uom == ""
    assert (data["headset.noise_floor"].value, data["headset.noise_floor"].warn) == (-70.0, "@-59:")
    assert (data["environment.bad_frames[desk]"].value, data["environment.bad_frames[desk]"].uom) == (3, "c")
    assert out.status == "OK"


def test_two_sided_ranges_follow_the_band_the_seat_judges_in(engine: Engine) -> None:
    out = _output(
        engine,
        [
            Reading("environment.temperature", 25.0, instance="summer-room", band="summer"),
            Reading("environment.temperature", 25.0, instance="winter-room", band="winter"),
            Reading("environment.humidity", 50.0, instance="winter-room", band="winter"),
        ],
    )
    summer, winter = (out.perfdata[f"environment.temperature[{r}-room]"] for r in ("summer", "winter"))
    assert (summer.warn, summer.crit) == ("22:28", "17:33")  # critical 5 °C outside
    assert (winter.warn, winter.crit) == ("16:24", "11:29")
    assert out.perfdata["environment.humidity[winter-room]"].warn == "30:60"
    assert out.perfdata["environment.humidity[winter-room]"].crit == ""  # no critical margin declared
    assert out.status == "WARNING"  # 25 °C in winter
    assert out.summary.startswith("Environment — Room temperature — winter-room: ")


@pytest.mark.parametrize(
    ("indicator", "instance", "band"),
    [
        ("computer.cpu", "", ""),  # high is bad
        ("computer.memory_available", "", ""),  # low is bad
        ("printer.queued_jobs", "desk1", ""),  # whole numbers: equality matters
        ("headset.noise_floor", "", ""),  # negative limits
        ("recorder.time_left", "", ""),  # converted unit
        ("environment.temperature", "desk", "winter"),  # two-sided
    ],
)
def test_ranges_alert_where_deskwatch_judges(indicator: str, instance: str, band: str) -> None:
    """For values around every limit, a range says "alert" exactly when Deskwatch's level says so.

    Two-sided critical differs only *at* the margin (see app.core.nagios); those points are skipped.
    """
    ind = load_config(monitors.discover(), None).registry.indicators[indicator]
    th = ind.thresholds
    assert th is not None
    th_band = th.for_band(band)
    limits = [v for v in (th.warning, th.critical, th_band.low, th_band.high) if v is not None]
    margin = th.critical_margin or 0.0
    limits += [th_band.low - margin, th_band.high + margin] if th.two_sided else []  # type: ignore[operator]
    checked = 0
    for limit in limits:
        for x in (limit - 1.0, limit - 0.01, limit, limit + 0.01, limit + 1.0):
            level = th.judge(x, band=band)  # a fresh reading: no hysteresis
            state = IndicatorState(make_key(indicator, instance), ind, instance, x, level, band=band)
            datum = parse_plugin_output(render([state])).perfdata[perf_label(state.key)]
            factor = perf_unit(state)[1]
            assert range_alerts(datum.warn, x * factor) == (level in (Level.WARNING, Level.CRITICAL)), x
            at_margin = th.two_sided and x in (th_band.low - margin, th_band.high + margin)  # type: ignore[operator]
            if datum.crit and not at_margin:
                assert range_alerts(datum.crit, x * factor) == (level is Level.CRITICAL), x
            checked += 1
    assert checked >= 10


def test_unknown_is_u_and_not_set_up_is_left_out(engine: Engine) -> None:
    out = _output(
        engine,
        [
            Reading("computer.cpu", 10.0),
            Reading("printer.queued_jobs", None, level=Level.UNKNOWN, instance="desk1"),
            Reading("computer.load", float("nan"), level=Level.UNKNOWN),
            Reading("environment.co2", None, level=Level.NOT_SET_UP, instance="desk"),
            Reading("telephone.rtt", float("inf")),
        ],
    )
    assert out.perfdata["printer.queued_jobs[desk1]"].value is None
    assert out.perfdata["computer.load"].value is None
    assert "environment.co2[desk]" not in out.perfdata
    assert out.perfdata["telephone.rtt"].value is None  # never "inf"
    assert out.status == "CRITICAL"  # the engine judges an infinite round trip critical
    assert any(line.startswith("NOT SET UP: Environment") for line in out.long_output)


def test_labels_are_ascii_unique_and_never_break_the_line(engine: Engine) -> None:
    """Printer names from outside: Chinese, spaces, quotes, '=', '|' and a newline."""
    names = ["前台打印机", "后台打印机", "it's = 2", "a|b\nc"]
    out = _output(
        engine,
        [Reading("printer.queued_jobs", 12, instance=n, message=None) for n in names]
        + [Reading("printer.status", "jam", level=Level.CRITICAL, instance="x|y", message=None)],
    )
    labels = [label for label in out.perfdata if label.startswith("printer.queued_jobs")]
    assert len(labels) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+", label) for label in labels)
    assert out.status == "CRITICAL"
    assert "x/y" in out.summary  # '|' in a name is shown as '/'


def test_summary_names_the_worst_first_and_counts_the_rest(engine: Engine) -> None:
    readings = [Reading("printer.status", "jam", level=Level.CRITICAL, instance=f"p{n}") for n in range(5)]
    out = _output(engine, [Reading("computer.cpu", 95.0), *readings])
    assert out.status == "CRITICAL"
    assert len(out.summary.split("; ")) == 4
    assert out.summary.endswith("; and 3 more")  # 5 critical printers + 1 CPU warning, 3 named
    assert out.long_output[0].startswith("CRITICAL: Printer")
    assert out.long_output[5] == "WARNING: Computer — CPU usage: 95.0 %"


def test_all_normal_and_nothing_enabled() -> None:
    assert parse_plugin_output(render([])).summary == "no monitors enabled"
    state = IndicatorState(
        "computer.cpu", load_config(monitors.discover(), None).registry.indicators["computer.cpu"]
    )
    state.value, state.level = 12.0, Level.OK
    out = parse_plugin_output(render([state]))
    assert (out.status, out.summary) == ("OK", "1 indicators observed, all normal")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-7, "0"),
        (1.5e-6, "0.000002"),
        (1e20, "100000000000000000000"),
        (-0.0, "0"),
        (28800.0, "28800"),
        (2, "2"),
    ],
)
def test_numbers_are_plain_decimals(value: float, text: str) -> None:
    assert perf_number(value) == text
