"""Register maps of Modbus RTU temperature/humidity/CO₂ transmitters.

RS-485 transmitters all speak Modbus RTU (usually 9600 8N1, slave 1) but
differ in where they keep their values: function 3 (holding) or 4 (input
registers), registers 0/1 or 1/2, tenths of a unit, signed temperatures,
32-bit values in either word order.  A :class:`RegisterMap` describes one
vendor's layout; :data:`PRESETS` holds common ones.  Decoding is pure; the
reader in :mod:`sensors.reader` asks for the registers through
:mod:`sensors.modbus_rtu`.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sensors.measurement import CO2, HUMIDITY, QUANTITIES, TEMPERATURE, FrameError, checked

WORD_ORDERS: tuple[str, ...] = ("big", "little")
#: How a field's registers are read: an integer, or an IEEE-754 single-precision float in
#: two registers (RS-485 TVOC, PM and gas transmitters often send these).
VALUE_TYPES: tuple[str, ...] = ("int", "float32")
#: Longest block read in one request; farther-apart registers are read separately.
MAX_BLOCK = 16
_FLOAT = struct.Struct(">f")
_WORDS = struct.Struct(">HH")
_SWAPPED = struct.Struct("<HH")


@dataclass(frozen=True)
class RegisterField:
    """Where one quantity lives and how its raw register value becomes a reading."""

    address: int
    scale: float = 1.0
    signed: bool = False
    #: 1 for 16-bit values, 2 for 32-bit values spread over two registers.
    words: int = 1
    #: ``big``: the first register holds the high word; ``little``: the low word.  For
    #: float32 (bytes A B C D, A holding the sign) ``big`` is ABCD and ``little`` CDAB.
    word_order: str = "big"
    #: ``int`` or ``float32`` (see :data:`VALUE_TYPES`).
    value_type: str = "int"
    #: Swap the two bytes of every register first (float32 BADC with ``big``, DCBA with ``little``).
    byte_swap: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.address <= 0xFFFF - (self.words - 1):
            raise ValueError(f"register address {self.address} out of range 0…65535")
        if self.words not in (1, 2):
            raise ValueError("a value spans 1 or 2 registers")
        if self.word_order not in WORD_ORDERS:
            raise ValueError(f"word order must be one of {', '.join(WORD_ORDERS)}")
        if self.value_type not in VALUE_TYPES:
            raise ValueError(f"value type must be one of {', '.join(VALUE_TYPES)}")
        if self.value_type == "float32" and self.words != 2:
            raise ValueError("a float32 value spans 2 registers (words = 2)")
        if not math.isfinite(self.scale):
            raise ValueError("scale must be a finite number")  # nan×raw would read as "no value"
        if self.scale == 0:
            raise ValueError("scale must not be 0")

    def decode(self, registers: Sequence[int]) -> float:
        """The scaled value from this field's registers (``words`` of them, in bus order)."""
        if len(registers) != self.words:
            raise FrameError(f"expected {self.words} registers, got {len(registers)}")
        if min(registers) < 0 or max(registers) > 0xFFFF:
            raise FrameError("register value outside 0…65535")
        if self.value_type == "float32":
            high, low = registers if self.word_order == "big" else reversed(registers)
            # Packing the words little-endian swaps the bytes of each (BADC, DCBA).
            value: float = _FLOAT.unpack((_SWAPPED if self.byte_swap else _WORDS).pack(high, low))[0]
            if not math.isfinite(value):  # NaN is how several transmitters say "no value yet"
                raise FrameError("float32 register value is not a finite number")
            return value * self.scale
        words = list(registers) if self.word_order == "big" else list(reversed(registers))
        if self.byte_swap:
            words = [((word & 0xFF) << 8) | (word >> 8) for word in words]
        raw = 0
        for word in words:
            raw = (raw << 16) | word
        bits = 16 * self.words
        if self.signed and raw >= 1 << (bits - 1):
            raw -= 1 << bits
        return raw * self.scale


@dataclass(frozen=True)
class RegisterMap:
    """A transmitter's register layout: function code and one field per quantity."""

    function: int = 3
    fields: Mapping[str, RegisterField] | None = None

    def __post_init__(self) -> None:
        if self.function not in (3, 4):
            raise ValueError("function code must be 3 (holding) or 4 (input registers)")
        if not self.fields:
            raise ValueError(
                f"the register map has no temperature, humidity or other register ({', '.join(QUANTITIES)})"
            )
        unknown = set(self.fields) - set(QUANTITIES)
        if unknown:
            raise ValueError(f"unknown quantities {', '.join(sorted(unknown))}")

    def blocks(self) -> list[tuple[int, int]]:
        """(start address, count) of the requests that read every field, few and short."""
        spans = sorted((f.address, f.address + f.words) for f in (self.fields or {}).values())
        blocks: list[list[int]] = []
        for start, end in spans:
            if blocks and end - blocks[-1][0] <= MAX_BLOCK and start <= blocks[-1][1] + MAX_BLOCK:
                blocks[-1][1] = max(blocks[-1][1], end)
            else:
                blocks.append([start, end])
        return [(start, end - start) for start, end in blocks]

    def decode(self, registers: Mapping[int, int]) -> dict[str, float]:
        """Quantities from registers read (address → value); :class:`FrameError` if any is bad."""
        values: dict[str, float] = {}
        for quantity, spec in (self.fields or {}).items():
            try:
                words = [registers[spec.address + n] for n in range(spec.words)]
            except KeyError:
                raise FrameError(f"register {spec.address} was not read") from None
            values[quantity] = checked(quantity, round(spec.decode(words), 6))
        return values

    def decode_block(self, start: int, registers: Sequence[int]) -> dict[str, float]:
        """Quantities from one block of registers read from ``start``, as :meth:`decode` gives them
        (the map's fields must all lie in it, as when :meth:`blocks` is one block)."""
        values: dict[str, float] = {}
        for quantity, spec in (self.fields or {}).items():
            offset = spec.address - start
            words = registers[offset : offset + spec.words] if offset >= 0 else ()
            if len(words) != spec.words:
                raise FrameError(f"register {spec.address} was not read")
            values[quantity] = checked(quantity, round(spec.decode(words), 6))
        return values


def _th(function: int, temperature: int, humidity: int) -> RegisterMap:
    return RegisterMap(
        function,
        {
            TEMPERATURE: RegisterField(temperature, 0.1, signed=True),
            HUMIDITY: RegisterField(humidity, 0.1),
        },
    )


#: Common transmitter layouts, by preset name.
PRESETS: dict[str, RegisterMap] = {
    # Typical Chinese RS-485 wall transmitters (e.g. Renke RS-WS-N01 family):
    # holding registers, humidity at 0 and temperature at 1, both ×10.
    "holding-h0-t1": _th(3, temperature=1, humidity=0),
    # XY-MD02 / SHT20 modules: input registers, temperature at 1, humidity at 2, ×10.
    "xy-md02": _th(4, temperature=1, humidity=2),
    # Same layout served as holding registers (several clones).
    "holding-t1-h2": _th(3, temperature=1, humidity=2),
    # Transmitters with temperature first: holding, temperature at 0, humidity at 1.
    "holding-t0-h1": _th(3, temperature=0, humidity=1),
    # Temperature, humidity and CO₂ transmitters: holding 0/1/2, CO₂ in whole ppm.
    "holding-h0-t1-co2-2": RegisterMap(
        3,
        {
            HUMIDITY: RegisterField(0, 0.1),
            TEMPERATURE: RegisterField(1, 0.1, signed=True),
            CO2: RegisterField(2, 1.0),
        },
    ),
}


DEFAULT_PRESET = "holding-h0-t1"


def build_map(preset: str = "", function: int | None = None, **overrides: Any) -> RegisterMap:
    """A register map from a preset (or none) with per-quantity overrides.

    ``overrides`` holds keys such as ``temperature_register`` (−1 removes the
    quantity), ``temperature_scale``, ``temperature_signed``, ``words``,
    ``word_order``, ``value_type`` and ``byte_swap`` (the last four apply to every
    field; ``value_type = "float32"`` implies ``words = 2``).  Raises ``ValueError``
    with a readable reason for an impossible map.
    """
    if preset and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    # Without a preset, start from the most common layout (holding, humidity 0, temperature 1, ×10).
    base = PRESETS[preset or DEFAULT_PRESET]
    fields: dict[str, RegisterField | None] = dict(base.fields or {})
    words, order = overrides.get("words"), overrides.get("word_order")
    value_type, byte_swap = overrides.get("value_type"), overrides.get("byte_swap")
    if value_type == "float32" and words is None:
        words = 2
    for quantity in QUANTITIES:
        address = overrides.get(f"{quantity}_register")
        current = fields.get(quantity)
        if address is not None and address < 0:
            fields[quantity] = None
            continue
        if current is None and address is None:
            continue
        spec = current or RegisterField(int(address or 0))
        changes: dict[str, Any] = {}
        if address is not None:
            changes["address"] = int(address)
        if value_type == "float32" and spec.value_type != "float32":
            # A float carries its unit already; a preset's ×0.1 was for its integers.
            changes["scale"] = 1.0
        for key, attr in (("scale", "scale"), ("signed", "signed")):
            value = overrides.get(f"{quantity}_{key}")
            if value is not None:
                changes[attr] = value
        if words is not None:
            changes["words"] = int(words)
        if order is not None:
            changes["word_order"] = str(order)
        if value_type is not None:
            changes["value_type"] = str(value_type)
        if byte_swap is not None:
            changes["byte_swap"] = bool(byte_swap)
        fields[quantity] = replace(spec, **changes) if changes else spec
    chosen = {q: f for q, f in fields.items() if f is not None}
    return RegisterMap(base.function if function is None else function, chosen)
