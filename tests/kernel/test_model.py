"""The kernel's data model: thresholds with hysteresis, levels and how ``worst()`` ranks them."""

from __future__ import annotations

import pytest

from app.kernel.model import Direction, Level, Thresholds, worst

HIGH = Thresholds(Direction.HIGH_IS_BAD, warning=80, critical=90, warning_clear=70, critical_clear=85)
LOW = Thresholds(Direction.LOW_IS_BAD, warning=20, critical=10, warning_clear=25, critical_clear=12)


@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        (50, Level.OK, Level.OK),
        (80, Level.OK, Level.WARNING),  # the limit itself counts
        (79.9, Level.OK, Level.OK),
        (75, Level.WARNING, Level.WARNING),  # hysteresis: not yet back past 70
        (70, Level.WARNING, Level.OK),
        (90, Level.WARNING, Level.CRITICAL),
        (87, Level.CRITICAL, Level.CRITICAL),  # stays critical above 85
        (85, Level.CRITICAL, Level.WARNING),  # back past 85, still above 80
        (72, Level.CRITICAL, Level.WARNING),  # then the warning clear level applies
        (60, Level.CRITICAL, Level.OK),
        (75, Level.UNKNOWN, Level.OK),  # unknown is not a warning to hold on to
    ],
)
def test_high_is_bad_with_hysteresis(value: float, previous: Level, expected: Level) -> None:
    assert HIGH.judge(value, previous) is expected


@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        (50, Level.OK, Level.OK),
        (20, Level.OK, Level.WARNING),
        (22, Level.WARNING, Level.WARNING),
        (26, Level.WARNING, Level.OK),
        (9, Level.OK, Level.CRITICAL),
        (11, Level.CRITICAL, Level.CRITICAL),
        (13, Level.CRITICAL, Level.WARNING),
    ],
)
def test_low_is_bad_with_hysteresis(value: float, previous: Level, expected: Level) -> None:
    assert LOW.judge(value, previous) is expected


def test_clear_levels_default_to_the_limits() -> None:
    plain = Thresholds(Direction.HIGH_IS_BAD, warning=80, critical=90)
    assert plain.judge(79, Level.WARNING) is Level.OK
    assert plain.judge(80, Level.WARNING) is Level.WARNING


def test_worst_leaves_not_set_up_out() -> None:
    assert worst([Level.NOT_SET_UP]) is Level.OK
    assert worst([Level.NOT_SET_UP, Level.OK]) is Level.OK
    assert worst([Level.NOT_SET_UP, Level.UNKNOWN]) is Level.UNKNOWN
    assert worst([Level.UNKNOWN, Level.CRITICAL, Level.NOT_SET_UP]) is Level.CRITICAL
    assert not Level.NOT_SET_UP.is_problem and not Level.OK.is_problem
    assert all(level.is_problem for level in (Level.WARNING, Level.CRITICAL, Level.UNKNOWN))
    assert Level.NOT_SET_UP.text.en == "Not observed" and Level.NOT_SET_UP.text.zh == "未观测"


def test_worst_ranks_critical_over_warning_over_unknown_over_ok() -> None:
    assert worst([]) is Level.OK
    assert worst([Level.OK, Level.UNKNOWN]) is Level.UNKNOWN
    assert worst([Level.UNKNOWN, Level.WARNING]) is Level.WARNING
    assert worst([Level.WARNING, Level.CRITICAL, Level.UNKNOWN]) is Level.CRITICAL
