"""环境监控: room temperature, relative humidity and CO₂ from serial sensors.

Procedure 四.1: temperature, humidity and similar parameters in the normal
range, no alarm; the room well ventilated.  Ranges follow GB/T 18883 (indoor
air quality): summer 22–28 °C and 40–80 %RH, winter 16–24 °C and 30–60 %RH,
CO₂ ≤ 1000 ppm.  The season follows the date (heating season November–March
by default) unless a setting fixes it.  The ranges are two-sided thresholds
with one band per season: the monitor names the season in each reading, the
engine judges (overridable under ``[indicators."environment.temperature"]``).

Sensors are declared as a list of tables in the config file::

    [[monitors.environment.sensors]]
    name = "desk"
    protocol = "text"          # text | modbus | mhz19
    port = "/dev/ttyUSB0"      # or "COM3", a pyserial URL, or usb_id = "1a86:7523"

Each sensor is read by its own thread (``sensors.reader``); ``poll()`` only
reports the latest snapshot, so a silent port never blocks a poll.  The sensor
table schema and the protocol sessions are in ``sensors.environment_sensors``.

Pollutants (issue 18) are judged the way GB/T 18883-2022 states its limits:
on a rolling time-weighted average over the standard's window
(:class:`RollingAverage`, per-minute buckets, kept across restarts in
``air_windows.json`` in the data folder).  ``environment.<q>`` carries the
average and is "not observed" until 75 % of the window is covered (the
standard's own sampling rule); ``environment.<q>_now`` carries the short-term
mean and is the early warning: above the limit for ``raise_after`` it warns
that the average will follow, before the average crosses.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.kernel.i18n import Text
from app.kernel.model import (
    Band,
    DemoSignal,
    Device,
    Direction,
    Indicator,
    IndicatorMaker,
    Level,
    Reading,
    Thresholds,
    make_key,
)
from app.kernel.monitor import Monitor, MonitorContext
from app.kernel.paths import write_private
from app.kernel.settings import Setting
from sensors.environment_sensors import (
    SENSOR_FIELDS,
    SensorDefinition,
    define_sensor,
    room_temperature,
    sensor_problem,
)
from sensors.measurement import CO2, HCHO, HUMIDITY, PM10, PM25, TEMPERATURE, TVOC
from sensors.reader import CONNECTED, DISCONNECTED, NO_ANSWER, SensorReader, SensorStatus
from sensors.serial_transport import Backoff

log = logging.getLogger(__name__)

SEASONS: tuple[str, ...] = ("auto", "summer", "winter")

#: How long the first poll waits for every sensor's first reading (or failure).
FIRST_READING_WAIT_S = 5.0


#: The device group this monitor watches (its card, self-check advice and demo).
ENVIRONMENT = Device(
    "environment",
    Text("Environment", "环境监控"),
    60,
    advice=Text(
        "Tell the supervisor about the room's temperature, humidity or air; check the sensor's cable",
        "向班长反映室内温度、湿度或空气状况;检查传感器连线",
    ),
    demo=(
        DemoSignal("temperature", Text("Temperature", "温度"), "°C", Direction.HIGH_IS_BAD, 28, 30, 24.5),
        DemoSignal("humidity", Text("Humidity", "相对湿度"), "%", Direction.HIGH_IS_BAD, 80, 90, 52),
        DemoSignal("co2", Text("CO₂", "二氧化碳"), "ppm", Direction.HIGH_IS_BAD, 1000, 1500, 620),
    ),
    demo_offset=1,
)

_ind = IndicatorMaker("environment", ENVIRONMENT)


SEASON_NAMES = {"summer": Text("summer", "夏季"), "winter": Text("winter", "冬季")}


def _seasons(summer: tuple[float, float], winter: tuple[float, float]) -> tuple[Band, ...]:
    """GB/T 18883's two ranges; the monitor names the season that applies in each reading."""
    return (
        Band("summer", SEASON_NAMES["summer"], *summer),
        Band("winter", SEASON_NAMES["winter"], *winter),
    )


#: Ranges are judged by the engine like every threshold: overridable under
#: ``[indicators."environment.temperature"]`` (``summer_low``, ``winter_high``,
#: ``critical_margin``, ``clear_margin`` …) and exported as Prometheus rules.
TEMPERATURE_IND = _ind(
    "temperature",
    Text("Room temperature", "室内温度"),
    "°C",
    description=Text(
        "GB/T 18883: summer 22–28 °C, winter 16–24 °C", "GB/T 18883:夏季 22–28 °C,冬季 16–24 °C"
    ),
    # Critical 5 °C outside; back 0.5 °C inside to clear, so the edge does not flap.
    thresholds=Thresholds(
        Direction.OUTSIDE_IS_BAD,
        bands=_seasons((22.0, 28.0), (16.0, 24.0)),
        critical_margin=5.0,
        clear_margin=0.5,
    ),
    metric_unit="celsius",
)
HUMIDITY_IND = _ind(
    "humidity",
    Text("Relative humidity", "相对湿度"),
    "%",
    description=Text("GB/T 18883: summer 40–80 %, winter 30–60 %", "GB/T 18883:夏季 40–80 %,冬季 30–60 %"),
    thresholds=Thresholds(
        Direction.OUTSIDE_IS_BAD, bands=_seasons((40.0, 80.0), (30.0, 60.0)), clear_margin=2.0
    ),
    metric_unit="ratio",
    metric_scale=0.01,
)
CO2_IND = _ind(
    "co2",
    Text("CO₂ concentration", "二氧化碳浓度"),
    "ppm",
    description=Text(
        "GB/T 18883: at most 1000 ppm; ventilate above", "GB/T 18883:不超过 1000 ppm,超过请通风"
    ),
    thresholds=Thresholds(Direction.HIGH_IS_BAD, 1000, 2000, 950, 1900, raise_after=60, clear_after=60),
    metric_unit="ppm",
)
LINK_IND = _ind("sensor", Text("Sensor connected", "传感器连接"), "", numeric=False)
AGE_IND = _ind(
    "data_age",
    Text("Time since last valid reading", "距上次有效读数"),
    "s",
    metric_unit="seconds",
)
BAD_FRAMES_IND = _ind(
    "bad_frames",
    Text("Corrupt frames received", "收到的损坏数据帧"),
    "",
    description=Text(
        "Garbage and frames with a bad checksum, counted since start", "自启动以来的乱码与校验错误帧数"
    ),
    metric_unit="total",
)
VALUE_INDICATORS = {TEMPERATURE: TEMPERATURE_IND, HUMIDITY: HUMIDITY_IND, CO2: CO2_IND}


# -- pollutants: GB/T 18883-2022 limits on rolling averages -------------------

#: Width of one bucket of a rolling average (s): memory is bounded by window / bucket.
BUCKET_S = 60.0
#: Share of the window that must be observed before its average is judged.  GB/T 18883's
#: monitoring annex asks for 45 min of a 1 h average, 6 h of 8 h and 18 h of a day: 75 %.
COVERAGE = 0.75
#: How often the averages are saved for the next start (s); a crash costs at most this much.
SAVE_EVERY_S = 300.0
#: File in the data folder holding the averages' buckets between runs.
WINDOWS_FILE = "air_windows.json"


@dataclass(frozen=True)
class AirLimit:
    """One GB/T 18883-2022 limit: the quantity, its limit and averaging window, how it is shown."""

    quantity: str
    label: Text
    unit: str
    #: The standard's limit, in ``unit``.
    limit: float
    #: The standard's averaging window (s).
    window: float
    #: Span of the short-term mean the early warning judges (s).
    short: float
    #: How long the short-term mean must stay above the limit before it warns (s).
    raise_after: float
    #: Decimals shown.
    digits: int
    metric_unit: str


HOUR = 3600.0
#: GB/T 18883-2022 table 1 (see README, "Air quality" for what could be checked, and where).
AIR_LIMITS: dict[str, AirLimit] = {
    limit.quantity: limit
    for limit in (
        AirLimit(HCHO, Text("Formaldehyde", "甲醛"), "mg/m³", 0.08, 1 * HOUR, 300.0, 600.0, 3, "mg_per_m3"),
        AirLimit(PM25, Text("PM2.5", "PM2.5"), "µg/m³", 50.0, 24 * HOUR, 900.0, 1800.0, 1, "ug_per_m3"),
        AirLimit(PM10, Text("PM10", "PM10"), "µg/m³", 100.0, 24 * HOUR, 900.0, 1800.0, 1, "ug_per_m3"),
        AirLimit(
            TVOC, Text("TVOC", "总挥发性有机物"), "mg/m³", 0.60, 8 * HOUR, 900.0, 1800.0, 2, "mg_per_m3"
        ),
        AirLimit(CO2, Text("CO₂", "二氧化碳"), "ppm", 1000.0, 24 * HOUR, 900.0, 1800.0, 0, "ppm"),
    )
}


def _window_text(seconds: float) -> str:
    return f"{seconds / HOUR:g} h"


def _window_zh(seconds: float) -> str:
    return f"{seconds / HOUR:g} 小时"


class RollingAverage:
    """Time-weighted rolling mean of one quantity, in per-:data:`BUCKET_S` buckets.

    Each sample holds its value until the next one, for at most ``max_hold``
    seconds: a sensor that was unplugged leaves a gap that is *not* covered
    (rather than its last value stretched over the gap).  Each bucket keeps
    the value-seconds and the seconds covered, so memory is bounded by
    ``window / bucket`` whatever the sample rate.  Times are wall-clock
    seconds so that a saved average can be continued after a restart.
    Pure code: the caller passes every time.
    """

    def __init__(self, window: float, max_hold: float, bucket: float = BUCKET_S) -> None:
        self.window = window
        self.max_hold = max_hold
        self.bucket = bucket
        #: bucket index → [value-seconds, seconds covered], oldest first (indices only grow).
        self._buckets: dict[int, list[float]] = {}
        #: Value-seconds and seconds of every stored bucket, so a window's mean needs no walk.
        self._total = [0.0, 0.0]
        self._last: tuple[float, float] | None = None
        #: The last time-to-limit answer and the minute, limit and coverage it was for.
        self._eta: tuple[tuple[int, float, float], float | None] | None = None

    def __len__(self) -> int:
        return len(self._buckets)

    @property
    def last(self) -> tuple[float, float] | None:
        """The latest sample (time, value), or ``None``."""
        return self._last

    def add(self, at: float, value: float) -> None:
        """Record a sample taken at ``at``; the previous one is credited up to it."""
        last = self._last
        if last is not None:
            if at < last[0]:
                # The wall clock was set back: what lies after the new "now" did not happen yet.
                newest = math.floor(at / self.bucket)
                while self._buckets and next(reversed(self._buckets)) > newest:
                    self._drop(next(reversed(self._buckets)))
                self._last = (at, value)
                return
            self._credit(self._buckets, last[0], min(at, last[0] + self.max_hold), last[1])
        self._last = (at, value)
        # Indices only grow, so the dict's first keys are the oldest: drop from the front.
        oldest = math.floor((at - self.window) / self.bucket) - 1
        while self._buckets and next(iter(self._buckets)) < oldest:
            self._drop(next(iter(self._buckets)))

    def _drop(self, index: int) -> None:
        amount, seconds = self._buckets.pop(index)
        self._total[0] -= amount
        self._total[1] -= seconds
        if not self._buckets:
            self._total = [0.0, 0.0]  # start clean: no rounding carried over a gap

    def _credit(self, into: dict[int, list[float]], start: float, end: float, value: float) -> None:
        while start < end:
            index = math.floor(start / self.bucket)
            edge = min(end, (index + 1) * self.bucket)
            cell = into.setdefault(index, [0.0, 0.0])
            cell[0] += value * (edge - start)
            cell[1] += edge - start
            if into is self._buckets:
                self._total[0] += value * (edge - start)
                self._total[1] += edge - start
            start = edge

    def _chosen(self, first: int, last_index: int) -> Iterator[tuple[int, list[float]]]:
        """The stored buckets ``first``…``last_index``, oldest first."""
        if last_index - first < len(self._buckets):  # a short span: look its buckets up
            for index in range(first, last_index + 1):
                cell = self._buckets.get(index)
                if cell is not None:
                    yield index, cell
        else:
            yield from ((i, c) for i, c in self._buckets.items() if first <= i <= last_index)

    def _open(self, now: float, first: int) -> tuple[float, float]:
        """Start and end of the latest sample's uncredited hold, from bucket ``first`` on."""
        if self._last is None:
            return now, now
        at, _ = self._last
        return max(at, first * self.bucket), min(now, at + self.max_hold)

    def _cells(self, now: float, span: float) -> list[tuple[int, float, float]]:
        """(index, value-seconds, covered) of the buckets in (now − span, now], the open sample included."""
        first = math.ceil((now - span) / self.bucket)
        cells = {i: list(c) for i, c in self._chosen(first, math.floor(now / self.bucket))}
        if self._last is not None:
            self._credit(cells, *self._open(now, first), self._last[1])
        return [(i, c[0], c[1]) for i, c in cells.items()]

    def mean(self, now: float, span: float | None = None) -> tuple[float | None, float]:
        """Mean over the last ``span`` seconds (the window by default) and the seconds it covers.

        This runs at every poll: the whole window is the running total less
        the one or two buckets that have just left it; a short span looks up
        its few buckets.
        """
        span = self.window if span is None else span
        first = math.ceil((now - span) / self.bucket)
        if span >= self.window:
            amount, covered = self._total
            for index, (value_seconds, seconds) in self._buckets.items():
                if index >= first:
                    break
                amount -= value_seconds
                covered -= seconds
        else:
            amount = covered = 0.0
            for _, (value_seconds, seconds) in self._chosen(first, math.floor(now / self.bucket)):
                amount += value_seconds
                covered += seconds
        start, end = self._open(now, first)
        if self._last is not None and end > start:
            amount += self._last[1] * (end - start)
            covered += end - start
        if covered <= 1e-9:  # nothing left but rounding from the running total
            return None, 0.0
        return amount / covered, covered

    def time_to_reach(self, now: float, limit: float, value: float, needed: float = 0.0) -> float | None:
        """Seconds until the window's mean reaches ``limit`` if ``value`` held from now on.

        The mean counts only once ``needed`` seconds of the window are covered
        (the coverage rule), so a day's average seen for ten minutes is not
        "there already".  ``0`` when it is there, ``None`` when it never gets
        there (``value`` below the limit).  Old buckets leave the window as
        the future comes in, so the answer uses the window's actual contents.
        Worked out once a minute: the answer is "in about 3 h", not to the second.
        """
        mean, covered = self.mean(now)
        if mean is not None and mean >= limit and covered >= needed:
            return 0.0
        if value < limit:
            return None
        key = (math.floor(now / self.bucket), limit, needed)
        if self._eta is not None and self._eta[0] == key:
            return self._eta[1]
        cells = self._cells(now, self.window)
        # Prefix sums over the window's buckets, oldest first: what has left the window after t.
        starts = [i * self.bucket for i, _, _ in cells]
        sums, covers = [0.0], [0.0]
        for _, amount, seconds in cells:
            sums.append(sums[-1] + amount)
            covers.append(covers[-1] + seconds)
        edge = now - self.window
        # A few hundred steps at most.
        step = max(self.bucket, self.window / 288)
        ahead, answer = step, self.window
        while ahead <= self.window:
            gone = bisect.bisect_left(starts, edge + ahead)
            amount = sums[-1] - sums[gone] + value * ahead
            seconds = covers[-1] - covers[gone] + ahead
            if seconds >= needed and amount / seconds >= limit:
                answer = ahead
                break
            ahead += step
        self._eta = (key, answer)
        return answer

    def state(self) -> dict[str, Any]:
        """What :meth:`restore` needs (JSON-ready)."""
        return {
            "buckets": [[i, round(c[0], 6), round(c[1], 3)] for i, c in self._buckets.items()],
            "last": list(self._last) if self._last is not None else None,
        }

    def restore(self, state: Mapping[str, Any], now: float) -> None:
        """Continue from a saved :meth:`state`; buckets already out of the window are dropped."""
        oldest = math.floor((now - self.window) / self.bucket)
        newest = math.floor(now / self.bucket)
        # Oldest first, as :meth:`add` keeps them.
        for index, amount, seconds in sorted(state.get("buckets", []), key=lambda cell: int(cell[0])):
            if oldest <= int(index) <= newest and 0 < float(seconds) <= self.bucket + 1e-6:
                self._buckets[int(index)] = [float(amount), float(seconds)]
                self._total[0] += float(amount)
                self._total[1] += float(seconds)
        last = state.get("last")
        if last is not None and float(last[0]) <= now:
            self._last = (float(last[0]), float(last[1]))


def _average_thresholds(limit: float) -> Thresholds:
    # The average is already smoothed: no debounce.  Critical at twice the limit, like CO₂'s 1000/2000.
    return Thresholds(Direction.HIGH_IS_BAD, limit, 2 * limit, round(0.95 * limit, 6), round(1.9 * limit, 6))


def _now_thresholds(air: AirLimit) -> Thresholds:
    # Warning only: the short-term mean above the limit is a forecast, not yet the standard's breach.
    # Back 10 % under the limit to clear, and both ways held, so a noisy signal at the limit does not flap.
    # The limit is the average's: a site's stricter limit is set once, on the average, and moves both.
    return Thresholds(
        Direction.HIGH_IS_BAD,
        warning=air.limit,
        warning_clear=round(0.9 * air.limit, 6),
        raise_after=air.raise_after,
        clear_after=air.raise_after / 2,
        follows=f"{ENVIRONMENT.id}.{air.quantity}",
        follows_clear=0.9,
    )


def _average_indicator(air: AirLimit) -> Indicator:
    name = f"{air.quantity}_average" if air.quantity == CO2 else air.quantity
    window, window_zh = _window_text(air.window), _window_zh(air.window)
    return _ind(
        name,
        Text(f"{air.label.en} ({window} average)", f"{air.label.zh}({window_zh}均值)"),
        air.unit,
        description=Text(
            f"GB/T 18883-2022: at most {air.limit:g} {air.unit}, {window} average",
            f"GB/T 18883-2022:{window_zh}平均不超过 {air.limit:g} {air.unit}",
        ),
        thresholds=_average_thresholds(air.limit),
        metric_unit=air.metric_unit,
    )


def _now_indicator(air: AirLimit) -> Indicator:
    minutes = f"{air.short / 60:g}"
    gap = " " if air.label.zh[-1].isascii() else ""
    return _ind(
        f"{air.quantity}_now",
        # "PM2.5 实时", "甲醛实时": a space between Latin and Chinese, none between Chinese words.
        Text(f"{air.label.en} now ({minutes}-min mean)", f"{air.label.zh}{gap}实时({minutes} 分钟均值)"),
        air.unit,
        description=Text(
            f"Early warning: above {air.limit:g} {air.unit} for {air.raise_after / 60:g} min, "
            f"the {_window_text(air.window)} average will follow",
            f"预警:超过 {air.limit:g} {air.unit} 达 {air.raise_after / 60:g} 分钟,"
            f"{_window_zh(air.window)}平均值将随之超标",
        ),
        thresholds=_now_thresholds(air),
        metric_unit=air.metric_unit,
    )


#: The standard's average of each pollutant (``environment.pm25`` …; CO₂'s is ``environment.co2_average``).
AVERAGE_INDICATORS: dict[str, Indicator] = {q: _average_indicator(a) for q, a in AIR_LIMITS.items()}
#: The short-term mean and early warning (``environment.pm25_now`` …); CO₂'s instant reading already is one.
NOW_INDICATORS: dict[str, Indicator] = {q: _now_indicator(a) for q, a in AIR_LIMITS.items() if q != CO2}

MSG_AVERAGE = Text(
    "Now {now} {unit}; {window} average over {covered} observed (GB/T 18883 limit {limit} {unit})",
    "当前 {now} {unit};{window}平均,已观测 {covered}(GB/T 18883 限值 {limit} {unit})",
)
MSG_NOT_COVERED = Text(
    "{window} average not observed yet: {covered} of the {needed} needed; now {now} {unit}",
    "{window}平均尚未观测足够:已观测 {covered},需要 {needed};当前 {now} {unit}",
)
MSG_NOW = Text(
    "GB/T 18883 limit {limit} {unit} ({window} average)",
    "GB/T 18883 限值 {limit} {unit}({window}平均)",
)
MSG_RISING = Text(
    "Rising: above the limit {limit} {unit}; if it stays, "
    "the {window} average reaches it in about {eta}. Ventilate.",
    "正在上升:超过限值 {limit} {unit};若持续,{window}平均约 {eta}后超标。请通风。",
)
MSG_RISING_OVER = Text(
    "Above the limit {limit} {unit}, and the {window} average is over it too. Ventilate.",
    "超过限值 {limit} {unit},{window}平均也已超标。请通风。",
)


def _duration(seconds: float) -> Text:
    if seconds < HOUR:
        return Text(f"{seconds / 60:.0f} min", f"{seconds / 60:.0f} 分钟")
    return Text(f"{seconds / HOUR:.1f} h", f"{seconds / HOUR:.1f} 小时")


MSG_CO2 = Text("GB/T 18883 limit 1000 ppm", "GB/T 18883 限值 1000 ppm")
MSG_NO_RECENT = Text("No valid reading for {seconds:.0f} s", "{seconds:.0f} 秒内无有效读数")
MSG_CONNECTED = Text("Connected on {port}", "已连接:{port}")
MSG_CONNECTING = Text("Connecting to {port} …", "正在连接 {port} …")
MSG_DISCONNECTED = Text(
    "Sensor disconnected ({port}): {error}. Check the cable; Deskwatch reconnects by itself.",
    "传感器已断开({port}):{error}。请检查连线,恢复后将自动重连。",
)
MSG_NO_ANSWER = Text(
    "Sensor on {port} gives no valid answer: {error}. Check its address, register map, baud rate and power.",
    "{port} 上的传感器无有效应答:{error}。请检查地址、寄存器设置、波特率和电源。",
)
MSG_MISCONFIGURED = Text(
    "Sensor {name} is not set up correctly: {error}",
    "传感器 {name} 配置有误:{error}",
)
MSG_FRESH = Text("Last valid reading {seconds:.0f} s ago", "上次有效读数在 {seconds:.0f} 秒前")
MSG_NEVER = Text("No valid reading yet", "尚无有效读数")
MSG_BAD_FRAMES = Text("Last problem: {problem}", "最近的问题:{problem}")
MSG_NO_BAD_FRAMES = Text("No corrupt data", "无损坏数据")

SETUP_HINT = Text(
    "No environmental sensor is configured. Add one to the config file "
    "(deskwatch config path shows where), for example:\n"
    "[[monitors.environment.sensors]]\n"
    'name = "desk"\n'
    'protocol = "text"        # text, modbus or mhz19\n'
    'port = "/dev/ttyUSB0"    # or "COM3", or usb_id = "1a86:7523"',
    "尚未配置环境传感器。请在配置文件中添加(用 deskwatch config path 查看位置),例如:\n"
    "[[monitors.environment.sensors]]\n"
    'name = "desk"\n'
    'protocol = "text"        # text、modbus 或 mhz19\n'
    'port = "/dev/ttyUSB0"    # 或 "COM3",或 usb_id = "1a86:7523"',
)


def season_of(day: dt.date, winter_from: int, winter_to: int) -> str:
    """``"winter"`` when ``day``'s month lies in winter_from…winter_to (wrapping the year end)."""
    month = day.month
    if winter_from <= winter_to:
        inside = winter_from <= month <= winter_to
    else:
        inside = month >= winter_from or month <= winter_to
    return "winter" if inside else "summer"


class EnvironmentMonitor(Monitor):
    """Judges room climate from one or more serial sensors."""

    id = "environment"
    device = ENVIRONMENT
    title = Text("Environment", "环境监控")
    indicators = (
        TEMPERATURE_IND,
        HUMIDITY_IND,
        CO2_IND,
        # Each pollutant's standard average beside its short-term mean: the two lines read together.
        *(ind for q, avg in AVERAGE_INDICATORS.items() for ind in (avg, NOW_INDICATORS.get(q)) if ind),
        LINK_IND,
        AGE_IND,
        BAD_FRAMES_IND,
    )
    #: The seasonal ranges were this monitor's own keys before they became the
    #: indicators' thresholds; a site's older file keeps its ranges.
    moved_settings = MappingProxyType(
        {
            **{
                f"{season}_{quantity}_{old}": (ind.id, f"{season}_{new}")
                for season in ("summer", "winter")
                for quantity, ind in ((TEMPERATURE, TEMPERATURE_IND), (HUMIDITY, HUMIDITY_IND))
                for old, new in (("min", "low"), ("max", "high"))
            },
            "temperature_critical_margin": (TEMPERATURE_IND.id, "critical_margin"),
        }
    )
    interval = 10.0
    timeout = 10.0
    # On by default: without sensors it only shows how to add one, never a fault.
    enabled_by_default = True
    settings = (
        Setting(
            "sensors",
            [],
            Text("Sensors", "传感器"),
            type=list,
            fields=SENSOR_FIELDS,
            check_table=sensor_problem,
            help=Text("[[monitors.environment.sensors]] tables", "[[monitors.environment.sensors]] 表"),
        ),
        Setting(
            "season",
            "auto",
            Text("Season for the GB/T 18883 ranges", "GB/T 18883 范围所用季节"),
            choices=SEASONS,
            help=Text("auto: winter from winter_from_month to winter_to_month", "auto:按月份自动判断"),
        ),
        Setting(
            "winter_from_month", 11, Text("Winter starts in month", "冬季起始月份"), minimum=1, maximum=12
        ),
        Setting("winter_to_month", 3, Text("Winter ends in month", "冬季结束月份"), minimum=1, maximum=12),
        Setting(
            "stale_after",
            120.0,
            Text("Alert when no valid reading for (s)", "多久无有效读数即告警(秒)"),
            minimum=1,
            maximum=86400,
        ),
    )

    #: Monotonic clock shared with the readers (replaceable in tests).
    clock: Callable[[], float] = staticmethod(time.monotonic)
    #: Wall clock of the rolling averages, so that they continue after a restart (replaceable in tests).
    wall: Callable[[], float] = staticmethod(time.time)
    #: Today's date, for choosing the season (replaceable in tests).
    today: Callable[[], dt.date] = staticmethod(dt.date.today)
    #: First and longest delay between attempts to reopen a vanished port (s).
    reconnect_delays: tuple[float, float] = (0.5, 30.0)

    def __init__(self, settings: Mapping[str, Any], context: MonitorContext) -> None:
        super().__init__(settings, context)
        self.definitions: list[SensorDefinition] = []
        #: Sensors whose definition is unusable, by name → reason.
        self.problems: dict[str, str] = {}
        seen: set[str] = set()
        for number, table in enumerate(self.options.get("sensors", []), start=1):
            try:
                definition = define_sensor(table, number, self._room_temperature)
            except ValueError as exc:
                name = str(table.get("name") or f"sensor-{number}")
                log.error("environment sensor %s: %s", name, exc)
                self.problems[name] = str(exc)
                continue
            name = definition.name
            while name in seen:  # two sensors with one name would share one card line
                name += "+"
            seen.add(name)
            self.definitions.append(SensorDefinition(name, definition.where, definition.make_session))
        self.readers: list[SensorReader] = []
        self._started_at: float | None = None
        self._first_poll = True
        #: Rolling averages by (sensor, quantity), and the reader time of the last sample fed to each.
        self.averages: dict[tuple[str, str], RollingAverage] = {}
        self._fed: dict[tuple[str, str], float] = {}
        self._windows_path = Path(context.data_dir) / WINDOWS_FILE
        self._saved_at: float | None = None

    def _room_temperature(self) -> float | None:
        """The room's temperature from this monitor's thermometers, for a ZE08's ppb → mg/m³.

        Called on a sensor's reader thread; ``status()`` is each reader's own locked snapshot.
        """
        statuses = [reader.status() for reader in list(self.readers)]
        return room_temperature(statuses, self.clock(), float(self.options["stale_after"]))

    def setup_hint(self) -> Text | None:
        if not self.options.get("sensors"):
            return SETUP_HINT
        return None

    def start(self) -> None:
        if self._started_at is not None:
            return
        self._started_at = self.clock()
        self._load_windows()
        for definition in self.definitions:
            first, longest = self.reconnect_delays
            reader = SensorReader(
                definition.name,
                definition.make_session,
                definition.where,
                clock=self.clock,
                backoff=Backoff(first, longest),
            )
            reader.start()
            self.readers.append(reader)

    def close(self) -> None:
        readers, self.readers = self.readers, []
        # Signal every reader first so that their last reads end together.
        for reader in readers:
            reader.request_stop()
        for reader in readers:
            reader.stop()
        if self._saved_at is not None or self.averages:
            self._save_windows()

    # -- polling --------------------------------------------------------------
    def season(self) -> str:
        """The season whose ranges apply now."""
        chosen = str(self.options.get("season", "auto"))
        if chosen != "auto":
            return chosen
        return season_of(
            self.today(), int(self.options["winter_from_month"]), int(self.options["winter_to_month"])
        )

    def poll(self) -> list[Reading]:
        self.start()
        if self._first_poll:
            # One-shot checks poll right after start: give sensors a moment to speak.
            self._first_poll = False
            deadline = time.monotonic() + min(
                FIRST_READING_WAIT_S, float(self.options.get("timeout", 10)) / 2
            )
            for reader in self.readers:
                reader.wait_settled(max(0.0, deadline - time.monotonic()))
        readings: list[Reading] = []
        if not self.options.get("sensors"):
            # Nothing configured: say so (grey, no alert) rather than show nothing or "ok".
            return [Reading(LINK_IND.id, None, Level.NOT_SET_UP, SETUP_HINT)]
        for name, problem in self.problems.items():
            message = MSG_MISCONFIGURED.format(name=name, error=problem)
            readings.append(Reading(LINK_IND.id, False, Level.CRITICAL, message, instance=name))
        season = self.season()
        for reader in self.readers:
            readings += self._sensor_readings(reader.status(), reader.where, season)
        wall = self.wall()
        if self.averages and (self._saved_at is None or wall - self._saved_at >= SAVE_EVERY_S):
            self._save_windows()
        return readings

    def _sensor_readings(self, status: SensorStatus, where: str, season: str) -> list[Reading]:
        now = self.clock()
        name = status.name
        stale_after = float(self.options["stale_after"])
        readings = [self._link_reading(status, where)]
        started = self._started_at if self._started_at is not None else now
        if status.last_valid is None:
            waited = now - started
            level = Level.WARNING if waited >= stale_after else Level.UNKNOWN
            message = MSG_NO_RECENT.format(seconds=waited) if level is Level.WARNING else MSG_NEVER
            readings.append(Reading(AGE_IND.id, None, level, message, instance=name))
        else:
            age = max(0.0, now - status.last_valid)
            stale = age >= stale_after
            message = (MSG_NO_RECENT if stale else MSG_FRESH).format(seconds=age)
            level = Level.WARNING if stale else Level.OK
            readings.append(Reading(AGE_IND.id, round(age, 1), level, message, instance=name))
        problem = (
            MSG_BAD_FRAMES.format(problem=status.last_problem) if status.last_problem else MSG_NO_BAD_FRAMES
        )
        detail = {"garbage_bytes": status.garbage_bytes, "reconnects": status.reconnects}
        readings.append(Reading(BAD_FRAMES_IND.id, status.bad_frames, Level.OK, problem, name, detail))
        for quantity, value in status.values.items():
            at = status.times.get(quantity, now)
            age = now - at
            if quantity in AIR_LIMITS:
                readings += self._air_readings(name, quantity, value, at, age)
            if quantity not in VALUE_INDICATORS:
                continue  # PM1.0 has no GB/T 18883 limit; pollutants are reported above
            if age >= stale_after:
                message = MSG_NO_RECENT.format(seconds=age)
                readings.append(Reading(VALUE_INDICATORS[quantity].id, None, Level.UNKNOWN, message, name))
                continue
            readings.append(self._judge(quantity, value, season, name))
        return readings

    def _link_reading(self, status: SensorStatus, where: str) -> Reading:
        detail = {"port": where, "state": status.state, "reconnects": status.reconnects}
        if status.state == CONNECTED:
            message, level, value = MSG_CONNECTED.format(port=where), Level.OK, True
        elif status.state == DISCONNECTED:
            message = MSG_DISCONNECTED.format(port=where, error=status.error)
            level, value = Level.CRITICAL, False
        elif status.state == NO_ANSWER:
            message = MSG_NO_ANSWER.format(port=where, error=status.error)
            level, value = Level.WARNING, False
        else:
            message, level, value = MSG_CONNECTING.format(port=where), Level.UNKNOWN, False
        return Reading(LINK_IND.id, value, level, message, status.name, detail)

    def _judge(self, quantity: str, value: float, season: str, instance: str) -> Reading:
        """A value reading; the engine judges it against the indicator's thresholds in force."""
        indicator = VALUE_INDICATORS[quantity]
        shown = round(value, 1) if quantity != CO2 else round(value)
        if quantity == CO2:
            return Reading(indicator.id, shown, None, MSG_CO2, instance)
        # The season picks the band of the two-sided range; the engine says where the value lies.
        return Reading(indicator.id, shown, None, None, instance, {"season": season}, band=season)

    # -- pollutants -------------------------------------------------------------
    def average(self, sensor: str, quantity: str) -> RollingAverage:
        """The rolling average of one sensor's quantity (made on first use)."""
        key = (sensor, quantity)
        found = self.averages.get(key)
        if found is None:
            window = AIR_LIMITS[quantity].window
            found = self.averages[key] = RollingAverage(window, float(self.options["stale_after"]))
        return found

    def _air_readings(self, sensor: str, quantity: str, value: float, at: float, age: float) -> list[Reading]:
        """The standard's average of a pollutant and its short-term mean (the early warning).

        ``at`` is the reader's clock time of the sample (each sample is fed once), ``age`` its age.
        """
        air = AIR_LIMITS[quantity]
        wall = self.wall()
        average = self.average(sensor, quantity)
        if self._fed.get((sensor, quantity)) != at:
            self._fed[(sensor, quantity)] = at
            average.add(wall - age, value)
        fresh = age < float(self.options["stale_after"])
        current = round(value, air.digits) if fresh else None
        mean, covered = average.mean(wall)
        window = Text(_window_text(air.window), _window_zh(air.window))
        needed = COVERAGE * air.window
        words = {
            "now": "—" if current is None else f"{current:g}",
            "unit": air.unit,
            "window": window,
            "limit": f"{air.limit:g}",
            "covered": _duration(covered),
        }
        detail = {"current": current, "window_s": air.window, "covered_s": round(covered), "needed_s": needed}
        indicator = AVERAGE_INDICATORS[quantity]
        if mean is None or covered < needed:
            # A day's average judged on ten minutes is a guess: grey until the standard's share is observed.
            message = MSG_NOT_COVERED.format(needed=_duration(needed), **words)
            readings = [Reading(indicator.id, None, Level.NOT_SET_UP, message, sensor, detail)]
        else:
            shown = round(mean, air.digits)
            readings = [Reading(indicator.id, shown, None, MSG_AVERAGE.format(**words), sensor, detail)]
        if quantity not in NOW_INDICATORS:
            return readings
        now_indicator = NOW_INDICATORS[quantity]
        if not fresh:
            # The sensor's data age carries the alert: one silent sensor, one alert.
            message, cause = MSG_NO_RECENT.format(seconds=age), make_key(AGE_IND.id, sensor)
            unknown = Reading(now_indicator.id, None, Level.UNKNOWN, message, sensor, caused_by=cause)
            return [*readings, unknown]
        short, _ = average.mean(wall, air.short)
        level_now = value if short is None else short
        eta = average.time_to_reach(wall, air.limit, level_now, needed) if level_now >= air.limit else None
        if eta is None:
            message = MSG_NOW.format(**words)
        elif eta <= 0:
            message = MSG_RISING_OVER.format(**words)
        else:
            message = MSG_RISING.format(eta=_duration(eta), **words)
        now_detail = {"current": current, "short_s": air.short, "eta_s": eta}
        shown_now = round(level_now, air.digits)
        return [*readings, Reading(now_indicator.id, shown_now, None, message, sensor, now_detail)]

    def _load_windows(self) -> None:
        """Continue the averages the application saved (one-shot checks read them too)."""
        try:
            saved = json.loads(self._windows_path.read_text("utf-8"))
            sensors = saved["sensors"] if isinstance(saved, dict) else {}
            wall = self.wall()
            known = {d.name for d in self.definitions}
            for sensor, quantities in sensors.items():
                if sensor not in known:
                    continue
                for quantity, state in quantities.items():
                    if quantity in AIR_LIMITS:
                        self.average(sensor, quantity).restore(state, wall)
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            log.info("cannot read %s (%s); the averages start now", self._windows_path, exc)
            self.averages.clear()

    def _save_windows(self) -> None:
        self._saved_at = self.wall()
        if self.context.mode != "app":
            return  # one-shot runs read the averages but leave them to the application
        sensors: dict[str, dict[str, Any]] = {}
        for (sensor, quantity), average in self.averages.items():
            sensors.setdefault(sensor, {})[quantity] = average.state()
        try:
            self._windows_path.parent.mkdir(parents=True, exist_ok=True)
            write_private(self._windows_path, json.dumps({"version": 1, "sensors": sensors}))
        except OSError as exc:  # a full or read-only disk must not stop monitoring
            log.warning("cannot save the air averages to %s: %s", self._windows_path, exc)
