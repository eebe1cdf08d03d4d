"""Environment sensors as the config file declares them: the table schema and the session factory.

One ``[[monitors.environment.sensors]]`` table names a sensor, its serial
port and its protocol; :func:`define_sensor` turns a validated table into a
:class:`SensorDefinition` whose ``make_session`` opens the right protocol
session for :class:`sensors.reader.SensorReader`.  The environment monitor
keeps the indicators and the judging.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.kernel.i18n import Text
from app.kernel.settings import Setting
from sensors import modbus_env, plantower
from sensors.measurement import HUMIDITY, QUANTITIES, TEMPERATURE
from sensors.pollutant_sessions import MODES, PlantowerSession, Ze08Session
from sensors.reader import Mhz19Session, ModbusSession, SensorStatus, Session, TextLineSession
from sensors.serial_transport import PARITIES, SerialSettings
from sensors.textline import FORMATS, LineFormat

#: ``pms``: Plantower PMS5003 / PMS7003 particulates; ``ze08``: Winsen ZE08-CH2O formaldehyde.
PROTOCOLS: tuple[str, ...] = ("text", "modbus", "mhz19", "pms", "ze08")


def _quantity_list() -> str:
    return ", ".join(QUANTITIES)


#: Keys of one ``[[monitors.environment.sensors]]`` table.
SENSOR_FIELDS: tuple[Setting, ...] = (
    Setting("name", "", Text("Name (shown on the card)", "名称(显示在卡片上)")),
    Setting("protocol", "text", Text("Protocol", "协议"), choices=PROTOCOLS),
    Setting("port", "", Text("Port (path, COM name or pyserial URL)", "端口(路径、COM 名或 pyserial URL)")),
    Setting("usb_id", "", Text("USB VID:PID (instead of port)", "USB VID:PID(代替端口)")),
    Setting("baudrate", 9600, Text("Baud rate", "波特率"), minimum=50, maximum=4_000_000),
    Setting("bytesize", 8, Text("Data bits", "数据位"), minimum=5, maximum=8),
    Setting("parity", "N", Text("Parity", "校验位"), choices=PARITIES),
    Setting("stopbits", 1.0, Text("Stop bits", "停止位"), minimum=1, maximum=2),
    Setting("period", 2.0, Text("Seconds between requests", "请求间隔(秒)"), minimum=0.2, maximum=3600),
    Setting(
        "mode",
        "active",
        Text(
            "PMS/ZE08 mode (active: the sensor sends; passive: asked every period)",
            "PMS/ZE08 模式(active:主动上传;passive:按间隔问答)",
        ),
        choices=MODES,
    ),
    Setting(
        "model",
        "pms5003",
        Text(
            "PMS model (pms5003t: adds temperature and humidity; pms5003st: also formaldehyde)",
            "PMS 型号(pms5003t:另测温湿度;pms5003st:另测甲醛和温湿度)",
        ),
        choices=plantower.MODELS,
    ),
    Setting("format", "auto", Text("Line format", "文本行格式"), choices=FORMATS),
    Setting(
        "columns",
        [TEMPERATURE, HUMIDITY],
        Text("CSV columns", "CSV 列"),
        type=list,
        help=Text(
            f"each one of {_quantity_list()}, or empty to skip", f"每列为 {_quantity_list()} 之一,留空跳过"
        ),
    ),
    Setting(
        "keys",
        [],
        Text("Extra key names (key=quantity)", "附加键名(键=物理量)"),
        type=list,
        help=Text('e.g. "tmp=temperature"', '例如 "tmp=temperature"'),
    ),
    Setting("regex", "", Text("Regular expression with named groups", "带命名分组的正则表达式")),
    Setting(
        "temperature_unit", "C", Text("Unit of bare temperatures", "无单位温度的单位"), choices=("C", "F")
    ),
    Setting(
        "preset",
        "",
        Text("Modbus register map preset", "Modbus 寄存器预设"),
        choices=("", *modbus_env.PRESETS),
    ),
    Setting("slave", 1, Text("Modbus slave address", "Modbus 从站地址"), minimum=1, maximum=247),
    Setting(
        "function", 3, Text("Modbus function code (3 or 4)", "Modbus 功能码(3 或 4)"), minimum=3, maximum=4
    ),
    *(
        Setting(
            f"{q}_register",
            -1,
            Text(f"Register of {q} (−1: none)", f"{q} 寄存器(−1 表示无)"),
            minimum=-1,
            maximum=65535,
        )
        for q in QUANTITIES
    ),
    *(Setting(f"{q}_scale", 0.1, Text(f"Scale of {q}", f"{q} 比例系数"), type=float) for q in QUANTITIES),
    Setting("signed", True, Text("Temperature register is signed", "温度寄存器为有符号数")),
    Setting(
        "words", 1, Text("Registers per value (1 or 2)", "每个数值的寄存器数(1 或 2)"), minimum=1, maximum=2
    ),
    Setting(
        "word_order",
        "big",
        Text("Word order of 2-register values", "双寄存器字序"),
        choices=modbus_env.WORD_ORDERS,
    ),
    Setting(
        "value_type",
        "int",
        Text(
            "Modbus value type (float32: IEEE-754 in 2 registers)",
            "Modbus 数值类型(float32:双寄存器 IEEE-754)",
        ),
        choices=modbus_env.VALUE_TYPES,
    ),
    Setting(
        "byte_swap",
        False,
        Text("Swap the bytes of each register (BADC/DCBA)", "交换每个寄存器的高低字节(BADC/DCBA)"),
    ),
)
_FIELD_DEFAULTS = {f.key: f.default for f in SENSOR_FIELDS}


@dataclass(frozen=True)
class SensorDefinition:
    """One configured sensor: its name, where it is, and how to talk to it."""

    name: str
    where: str
    make_session: Callable[[], Session]


def _line_format(table: Mapping[str, Any]) -> LineFormat:
    keys: dict[str, str] = {}
    for entry in table.get("keys", []):
        key, sep, quantity = str(entry).partition("=")
        if not sep or not key.strip():
            raise ValueError(f'keys: {entry!r} is not "name=quantity"')
        keys[key.strip().lower()] = quantity.strip()
    return LineFormat(
        kind=str(table.get("format", "auto")),
        columns=tuple(str(c) for c in table.get("columns", _FIELD_DEFAULTS["columns"])),
        keys=keys,
        pattern=str(table.get("regex", "")),
        temperature_unit=str(table.get("temperature_unit", "C")),
    )


def _register_map(table: Mapping[str, Any]) -> modbus_env.RegisterMap:
    overrides: dict[str, Any] = {}
    for quantity in QUANTITIES:
        for suffix in ("register", "scale"):
            key = f"{quantity}_{suffix}"
            if key in table:
                overrides[key] = table[key]
    if "signed" in table:
        overrides["temperature_signed"] = bool(table["signed"])
    for key in ("words", "word_order", "value_type", "byte_swap"):
        if key in table:
            overrides[key] = table[key]
    function = table.get("function")
    return modbus_env.build_map(str(table.get("preset", "")), function, **overrides)


def room_temperature(statuses: Iterable[SensorStatus], now: float, max_age: float) -> float | None:
    """The mean of the temperatures other sensors read within ``max_age`` s before ``now``, or ``None``.

    What a formaldehyde sensor converts ppb to mg/m³ at (see :func:`define_sensor`).
    """
    fresh = [
        status.values[TEMPERATURE]
        for status in statuses
        if TEMPERATURE in status.values and now - status.times.get(TEMPERATURE, -float("inf")) <= max_age
    ]
    return sum(fresh) / len(fresh) if fresh else None


def define_sensor(
    table: Mapping[str, Any], number: int, room_temperature: Callable[[], float | None] | None = None
) -> SensorDefinition:
    """Turn one validated sensor table into a definition; ``ValueError`` with a readable reason.

    ``room_temperature`` gives the room's temperature now (°C, or ``None``) for
    sensors whose unit conversion depends on it (the ZE08's ppb → mg/m³); a
    monitor passes :func:`room_temperature` over its other sensors.
    """
    protocol = str(table.get("protocol", "text"))
    serial_settings = SerialSettings(
        port=str(table.get("port", "")),
        usb_id=str(table.get("usb_id", "")),
        baudrate=int(table.get("baudrate", 9600)),
        bytesize=int(table.get("bytesize", 8)),
        parity=str(table.get("parity", "N")),
        stopbits=float(table.get("stopbits", 1.0)),
    )
    # Brackets would clash with the indicator key form "id[instance]".
    name = str(table.get("name") or f"{protocol}-{number}").replace("[", "(").replace("]", ")")
    period = float(table.get("period", _FIELD_DEFAULTS["period"]))
    make_session: Callable[[], Session]
    if protocol == "text":
        line_format = _line_format(table)

        def make_session() -> Session:
            return TextLineSession(serial_settings, line_format)

    elif protocol == "mhz19":

        def make_session() -> Session:
            return Mhz19Session(serial_settings, period)

    elif protocol in ("pms", "ze08"):
        mode = str(table.get("mode", "active"))
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        model = str(table.get("model", _FIELD_DEFAULTS["model"]))
        if model not in plantower.MODELS:
            raise ValueError(f"model must be one of {', '.join(plantower.MODELS)}")

        def make_session() -> Session:
            if protocol == "pms":
                return PlantowerSession(serial_settings, mode, period, model)
            return Ze08Session(serial_settings, mode, period, room_temperature)

    else:
        register_map = _register_map(table)
        slave = int(table.get("slave", 1))

        def make_session() -> Session:
            return ModbusSession(serial_settings, register_map, slave, period)

    return SensorDefinition(name, serial_settings.where, make_session)


def sensor_problem(table: Mapping[str, Any]) -> str | None:
    """What makes a sensor table unusable (for ``deskwatch config check``), or ``None``."""
    try:
        define_sensor(table, 1)
    except ValueError as exc:
        return str(exc)
    return None
