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
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from app.kernel.i18n import Text
from app.kernel.model import Band, DemoSignal, Device, Direction, IndicatorMaker, Level, Reading, Thresholds
from app.kernel.monitor import Monitor, MonitorContext
from app.kernel.settings import Setting
from sensors.environment_sensors import SENSOR_FIELDS, SensorDefinition, define_sensor, sensor_problem
from sensors.measurement import CO2, HUMIDITY, TEMPERATURE
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
    indicators = (TEMPERATURE_IND, HUMIDITY_IND, CO2_IND, LINK_IND, AGE_IND, BAD_FRAMES_IND)
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
                definition = define_sensor(table, number)
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

    def setup_hint(self) -> Text | None:
        if not self.options.get("sensors"):
            return SETUP_HINT
        return None

    def start(self) -> None:
        if self._started_at is not None:
            return
        self._started_at = self.clock()
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
