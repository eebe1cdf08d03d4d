"""What every environmental sensor protocol produces: named quantities in base units.

Parsers reject anything a real sensor cannot report (non-finite numbers,
values outside the physical range of the quantity) as a corrupt frame, so a
garbled line never becomes a plausible-looking wrong reading.
"""

from __future__ import annotations

import math
from typing import Final

TEMPERATURE: Final = "temperature"  # °C
HUMIDITY: Final = "humidity"  # % relative humidity
CO2: Final = "co2"  # ppm
PM1: Final = "pm1"  # µg/m³, particulate matter below 1 µm
PM25: Final = "pm25"  # µg/m³, below 2.5 µm
PM10: Final = "pm10"  # µg/m³, below 10 µm
HCHO: Final = "hcho"  # mg/m³ formaldehyde
TVOC: Final = "tvoc"  # mg/m³ total volatile organic compounds

QUANTITIES: tuple[str, ...] = (TEMPERATURE, HUMIDITY, CO2, PM1, PM25, PM10, HCHO, TVOC)

#: Physically possible range of each quantity for room sensors (inclusive).
#: DHT22/SHT3x measure −40…125 °C and 0…100 %RH; NDIR CO₂ sensors up to 10 000 ppm.
#: Plantower PMS5003/7003 give a "maximum range ≥ 1000 µg/m³" (effective 0…500): twice that
#: keeps a saturated sensor in smoke a (very high) reading, while 16-bit garbage (up to
#: 65 535) is rejected.  The ZE08-CH2O spans 0…5 ppm, 7.9 mg/m³ at −40 °C (the coldest
#: temperature accepted): 10 mg/m³.  Room TVOC transmitters (MOX or PID) span 0…10 mg/m³, a few
#: 0…50 ppm isobutylene ≈ 0…115 mg/m³ at 20 °C: 200 mg/m³.
VALID_RANGE: dict[str, tuple[float, float]] = {
    TEMPERATURE: (-40.0, 125.0),
    HUMIDITY: (0.0, 100.0),
    CO2: (0.0, 10_000.0),
    PM1: (0.0, 2000.0),
    PM25: (0.0, 2000.0),
    PM10: (0.0, 2000.0),
    HCHO: (0.0, 10.0),
    TVOC: (0.0, 200.0),
}


class FrameError(ValueError):
    """A line or frame that is not a valid sensor message (garbage, bad checksum …)."""


def checked(quantity: str, value: float) -> float:
    """Return ``value`` if it is a possible reading of ``quantity``, else raise :class:`FrameError`."""
    if quantity not in VALID_RANGE:
        raise FrameError(f"unknown quantity {quantity!r}")
    if not math.isfinite(value):
        raise FrameError(f"{quantity} is not a finite number")
    low, high = VALID_RANGE[quantity]
    if not low <= value <= high:
        raise FrameError(f"{quantity} {value:g} outside {low:g}…{high:g}")
    return value
