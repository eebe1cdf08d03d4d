"""Shared pieces of the sensor fuzz suite (tests/environment/test_fuzz_*.py).

The promise every parser of outside bytes keeps: a reading, or a counted bad
frame; never an exception, never a non-finite or impossible value.  Example
counts are bounded so that the whole fuzz set runs in CI in well under 30 s.
"""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sensors.measurement import QUANTITIES, VALID_RANGE
from sensors.reader import CycleResult

#: Examples per fuzz test: bounded for CI; ``DESKWATCH_FUZZ_EXAMPLES=5000`` digs deeper by hand.
EXAMPLES = int(os.environ.get("DESKWATCH_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Numbers as a sensor (or a hostile one) might print them.
number_texts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.integers(min_value=300, max_value=5000).map(lambda n: "9" * n),  # beyond float and int() limits
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=4),  # digits of any script
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "1e999", "-1e-999", "1_000", "0x1A", "٣٢", "２３.５"]),
    st.from_regex(r"\A[-+]?[0-9]{0,4}(\.[0-9]{0,3})?([eE][-+]?[0-9]{1,4})?\Z"),
)


def assert_sound(result: CycleResult) -> None:
    """What a read cycle may produce: real readings and counted bad frames, nothing else."""
    assert result.parser_errors == [], f"a parser raised: {result.parser_errors!r}"
    assert result.bad_frames >= 0 and result.garbage_bytes >= 0
    for reading in result.readings:
        assert reading, "a reading with no values"
        for quantity, value in reading.items():
            assert quantity in QUANTITIES
            assert isinstance(value, float) and math.isfinite(value), (quantity, value)
            low, high = VALID_RANGE[quantity]
            assert low <= value <= high, (quantity, value)
