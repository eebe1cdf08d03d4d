"""Text-line sensors: USB boards (DHT22, SHT3x …) that print one reading per line.

Supported line formats, chosen per sensor:

``keyvalue``  ``T=23.5,H=45.1`` or ``temp: 23.5 C; hum: 45 %``
``csv``       ``23.5,45.1`` with configured columns (``temperature, humidity``)
``json``      ``{"temperature": 23.5, "humidity": 45.1}``
``regex``     a configured regular expression with named groups
              ``(?P<temperature>…)``, ``(?P<humidity>…)``, ``(?P<co2>…)``
``auto``      JSON when the line starts with ``{``, else key=value

Values may carry a unit (``23.5C``, ``23.5 °C``, ``74.3F``, ``45%``,
``450ppm``); Fahrenheit is converted to Celsius.  A line is accepted only as a
whole: one malformed token, an unknown unit or an impossible value rejects
it, so line noise never turns into a wrong reading.  Pure code: no I/O.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sensors.measurement import CO2, HUMIDITY, QUANTITIES, TEMPERATURE, FrameError, checked

FORMATS: tuple[str, ...] = ("auto", "keyvalue", "csv", "json", "regex")

#: Longest line kept; anything longer is noise (a board prints a few dozen bytes).
MAX_LINE_BYTES = 512

#: Key names boards commonly print, lower-case, mapped to quantities.
DEFAULT_KEYS: dict[str, str] = {
    "t": TEMPERATURE,
    "temp": TEMPERATURE,
    "temperature": TEMPERATURE,
    "tc": TEMPERATURE,
    "h": HUMIDITY,
    "hum": HUMIDITY,
    "humidity": HUMIDITY,
    "rh": HUMIDITY,
    "co2": CO2,
    "eco2": CO2,
    "ppm": CO2,
}

#: Units each quantity accepts (lower-case, spaces removed) → converter to the base unit.
_UNITS: dict[str, dict[str, str]] = {
    TEMPERATURE: {"": "", "c": "c", "°c": "c", "degc": "c", "℃": "c", "f": "f", "°f": "f", "degf": "f"},
    HUMIDITY: {"": "", "%": "", "%rh": "", "rh": ""},
    CO2: {"": "", "ppm": ""},
}

# ASCII digits only: Python's float() also takes "٣٢" or "３２", which no sensor prints,
# so a line in another script is noise, not a reading.
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NUMBER_RE = re.compile(rf"^{_NUMBER}$", re.ASCII)
_VALUE_RE = re.compile(rf"^\s*({_NUMBER})\s*(\S*)\s*$", re.ASCII)
_TOKEN_SPLIT = re.compile(r"[,;\t]|\s{2,}|\s+(?=[A-Za-z_][\w.]*\s*[=:])")


@dataclass(frozen=True)
class LineFormat:
    """How one sensor's lines are read."""

    kind: str = "auto"
    #: CSV: the quantity (or ``""`` to skip) in each column.
    columns: Sequence[str] = (TEMPERATURE, HUMIDITY)
    #: Extra key names (lower-case) → quantity, on top of :data:`DEFAULT_KEYS`.
    keys: Mapping[str, str] = field(default_factory=dict)
    #: Regular expression with named groups (``regex`` format).
    pattern: str = ""
    #: Unit of temperatures printed without a unit: ``"C"`` or ``"F"``.
    temperature_unit: str = "C"

    def __post_init__(self) -> None:
        if self.kind not in FORMATS:
            raise ValueError(f"unknown line format {self.kind!r}; use one of {', '.join(FORMATS)}")
        if self.temperature_unit.upper() not in ("C", "F"):
            raise ValueError("temperature unit must be C or F")
        for name in list(self.columns) + list(self.keys.values()):
            if name and name not in QUANTITIES:
                raise ValueError(f"unknown quantity {name!r}; use one of {', '.join(QUANTITIES)}")
        if self.kind == "regex":
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
            if not set(compiled.groupindex) & set(QUANTITIES):
                raise ValueError("the regular expression needs a named group (?P<temperature>…), "
                                 "(?P<humidity>…) or (?P<co2>…)")  # fmt: skip

    def quantity_of(self, key: str) -> str | None:
        """The quantity a printed key name stands for, or ``None`` for keys we ignore."""
        name = key.strip().lower()
        return self.keys.get(name) or DEFAULT_KEYS.get(name)


def convert(quantity: str, number: float, unit: str, default_temperature_unit: str = "C") -> float:
    """``number`` with ``unit`` in the quantity's base unit; :class:`FrameError` for unknown units."""
    unit_key = unit.strip().lower().replace(" ", "")
    known = _UNITS[quantity]
    if unit_key not in known:
        raise FrameError(f"unknown unit {unit!r} for {quantity}")
    scale = known[unit_key] or (default_temperature_unit.lower() if quantity == TEMPERATURE else "")
    if quantity == TEMPERATURE and scale == "f":
        number = (number - 32.0) * 5.0 / 9.0
    return checked(quantity, round(number, 6))


def ascii_number(text: str) -> float:
    """A finite number written in ASCII digits (``-1.5``, ``2e3``); :class:`FrameError` otherwise.

    Also the guard against absurd lengths: 400 digits become ``inf`` here and are
    rejected, where ``int``/``float`` conversions elsewhere would raise ``OverflowError``.
    """
    if _NUMBER_RE.match(text) is None:
        raise FrameError(f"not a number: {text[:40]!r}")
    number = float(text)
    if not math.isfinite(number):
        raise FrameError(f"number out of range: {text[:40]!r}")
    return number


def _value(quantity: str, text: str, fmt: LineFormat) -> float:
    match = _VALUE_RE.match(text)
    if match is None:
        raise FrameError(f"not a number: {text[:40]!r}")
    return convert(quantity, ascii_number(match.group(1)), match.group(2), fmt.temperature_unit)


class _JsonNumber(str):
    """A JSON number kept as the text the sensor sent, until :func:`ascii_number` checks it."""


def _json_constant(name: str) -> _JsonNumber:
    # NaN, Infinity and -Infinity are not JSON; the parser accepts them unless told otherwise.
    return _JsonNumber(name)


def _keyvalue(line: str, fmt: LineFormat) -> dict[str, float]:
    values: dict[str, float] = {}
    for token in _TOKEN_SPLIT.split(line):
        if not token.strip():
            continue
        key, sep, rest = token.partition("=")
        if not sep:
            key, sep, rest = token.partition(":")
        if not sep or not key.strip():
            raise FrameError(f"malformed token {token[:40]!r}")
        quantity = fmt.quantity_of(key)
        if quantity is None:
            continue  # boards print extras (battery, uptime); they are not ours to judge
        if quantity in values:
            raise FrameError(f"{quantity} appears twice")
        values[quantity] = _value(quantity, rest, fmt)
    return values


def _csv(line: str, fmt: LineFormat) -> dict[str, float]:
    cells = [cell.strip() for cell in re.split(r"[,;\t]", line)]
    if len(cells) != len(fmt.columns):
        raise FrameError(f"expected {len(fmt.columns)} columns, got {len(cells)}")
    return {q: _value(q, cell, fmt) for q, cell in zip(fmt.columns, cells, strict=True) if q}


def _json(line: str, fmt: LineFormat) -> dict[str, float]:
    try:
        # Numbers stay text: json would turn 400 digits into an int that float() cannot hold.
        data = json.loads(line, parse_int=_JsonNumber, parse_float=_JsonNumber, parse_constant=_json_constant)
    except (ValueError, RecursionError):
        raise FrameError("not valid JSON") from None
    if not isinstance(data, dict):
        raise FrameError("JSON line is not an object")
    values: dict[str, float] = {}
    for key, raw in data.items():
        quantity = fmt.quantity_of(str(key))
        if quantity is None:
            continue
        if quantity in values:
            raise FrameError(f"{quantity} appears twice")
        if isinstance(raw, _JsonNumber):
            values[quantity] = convert(quantity, ascii_number(raw), "", fmt.temperature_unit)
        elif isinstance(raw, str):  # a quoted value, which may carry a unit ("23.5 C")
            values[quantity] = _value(quantity, raw, fmt)
        else:
            raise FrameError(f"{key}: not a number")
    return values


def _regex(line: str, fmt: LineFormat) -> dict[str, float]:
    match = re.search(fmt.pattern, line)
    if match is None:
        raise FrameError("line does not match the configured pattern")
    values: dict[str, float] = {}
    for quantity in QUANTITIES:
        if quantity in match.re.groupindex and match.group(quantity) is not None:
            values[quantity] = _value(quantity, match.group(quantity), fmt)
    return values


def parse_line(line: str, fmt: LineFormat) -> dict[str, float]:
    """The quantities one line reports; :class:`FrameError` if it is not a valid reading."""
    text = line.strip().lstrip("\ufeff")
    if not text:
        raise FrameError("empty line")
    if any(ord(ch) < 32 and ch != "\t" for ch in text):
        raise FrameError("control characters in line")
    kind = fmt.kind
    if kind == "auto":
        kind = "json" if text.startswith("{") else "keyvalue"
    parser = {"keyvalue": _keyvalue, "csv": _csv, "json": _json, "regex": _regex}[kind]
    values = parser(text, fmt)
    if not values:
        raise FrameError("no temperature, humidity or CO₂ in line")
    return values


@dataclass
class LineSplitter:
    """Cuts a byte stream into lines (``\\n``, ``\\r\\n`` or ``\\r``), dropping overlong noise."""

    buffer: bytearray = field(default_factory=bytearray)
    #: Lines dropped for being longer than :data:`MAX_LINE_BYTES` or not UTF-8.
    dropped: int = 0
    _skipping: bool = False

    def feed(self, data: bytes) -> list[str]:
        """Add received bytes; return the complete lines (decoded) found so far."""
        self.buffer += data
        lines: list[str] = []
        while True:
            ends = [i for i in (self.buffer.find(b"\n"), self.buffer.find(b"\r")) if i >= 0]
            if not ends:
                break
            end = min(ends)
            raw = bytes(self.buffer[:end])
            del self.buffer[: end + 1]
            if self._skipping:
                self._skipping = False
                continue
            if len(raw) > MAX_LINE_BYTES:
                self.dropped += 1
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.dropped += 1
                continue
            if text.strip():
                lines.append(text)
        if len(self.buffer) > MAX_LINE_BYTES:
            # No line end in sight: discard, and also the rest of this line when it comes.
            self.buffer.clear()
            self.dropped += 1
            self._skipping = True
        return lines
