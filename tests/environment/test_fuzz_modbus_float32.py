"""Fuzz: float32 register values in every word and byte order, through the pure decoder.

Any two registers: a finite, possible reading or a :class:`FrameError`,
never an exception of another kind, never NaN or infinity; a float written
in a layout reads back in the same layout.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sensors.measurement import QUANTITIES, VALID_RANGE, FrameError
from sensors.modbus_env import RegisterField, build_map
from tests.environment.fuzz import FUZZ

layouts = st.tuples(st.sampled_from(["big", "little"]), st.booleans())
register = st.integers(0, 0xFFFF)


@FUZZ
@given(
    st.sampled_from(QUANTITIES),
    layouts,
    register,
    register,
    st.floats(-1e6, 1e6, allow_nan=False).filter(lambda s: s != 0),
)
def test_any_two_registers_are_a_reading_or_a_bad_frame(
    quantity: str, layout: tuple[str, bool], first: int, second: int, scale: float
) -> None:
    order, swap = layout
    # Only this quantity: the default map's temperature and humidity are removed.
    overrides: dict[str, Any] = {f"{q}_register": -1 for q in ("temperature", "humidity") if q != quantity}
    overrides |= {f"{quantity}_register": 0, f"{quantity}_scale": scale}
    register_map = build_map("", value_type="float32", word_order=order, byte_swap=swap, **overrides)
    try:
        values = register_map.decode({0: first, 1: second})
    except FrameError:
        return
    value = values[quantity]
    low, high = VALID_RANGE[quantity]
    assert math.isfinite(value) and low <= value <= high


@FUZZ
@given(layouts, st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_a_float_reads_back_in_its_own_layout(layout: tuple[str, bool], value: float) -> None:
    order, swap = layout
    a, b, c, d = struct.pack(">f", value)
    pairs = [(b, a), (d, c)] if swap else [(a, b), (c, d)]
    words = [(x << 8) | y for x, y in pairs]
    words = words if order == "big" else words[::-1]
    field = RegisterField(0, words=2, word_order=order, value_type="float32", byte_swap=swap)
    assert field.decode(words) == value
