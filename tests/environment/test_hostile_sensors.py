"""Hostile sensor data over a real pty: bad data is counted, the link stays up.

A board that prints absurd numbers (400 digits, digits of another script)
is still a connected board: every such line is a counted bad frame, the valid
lines between them keep arriving, nothing reads as "sensor disconnected", and
the log stays a few lines long however long the storm lasts.
"""

from __future__ import annotations

import logging
import termios
import threading
import time

import pytest

from app.core.engine import Engine
from app.kernel.model import Level
from sensors.reader import CONNECTED, DISCONNECTED, CycleResult, SensorReader, Session
from sensors.serial_transport import Backoff
from tests.environment.conftest import MakeMonitor, by_key
from tests.environment.simulators import TextLineBoard
from tests.environment.test_serial_sensors import poll_until, text_config, value

HUGE_INT = "1" * 400
#: Each tick the board prints two hostile lines and one good one.  Braces are
#: doubled because the simulator fills the template with str.format.
HOSTILE_TEMPLATE = (
    '{{"t": ' + HUGE_INT + ', "h": 50}}\r\n'
    "T=\u0663\u0662,H=50\r\n"  # Arabic-Indic ٣٢: float() would read 32
    "T={t:.1f},H={h:.1f}\r\n"
)


def test_absurd_and_non_ascii_numbers_are_bad_frames_not_a_lost_link(
    text_board: TextLineBoard,
    make_monitor: MakeMonitor,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="sensors")
    monitor = make_monitor(text_config(text_board))
    poll_until(monitor, lambda r: value(r, "environment.temperature[desk]") == 24.0)
    text_board.template = HOSTILE_TEMPLATE
    sent_before = text_board.lines_sent
    temperatures: set[float] = set()
    links: set[object] = set()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        readings = by_key(monitor.poll())
        engine.ingest(readings.values())
        temperatures.add(value(readings, "environment.temperature[desk]"))
        links.add(value(readings, "environment.sensor[desk]"))
        time.sleep(0.05)
    ticks = text_board.lines_sent - sent_before
    assert ticks >= 10, "the simulator should have sent a few dozen hostile lines"
    readings = poll_until(monitor, lambda r: value(r, "environment.bad_frames[desk]") >= 2 * ticks - 2)

    assert links == {True}, "bad data must never read as a disconnected sensor"
    assert temperatures == {24.0}, "neither 400 digits nor ٣٢ may become a temperature"
    assert readings["environment.sensor[desk]"].detail["reconnects"] == 0
    assert readings["environment.data_age[desk]"].level is Level.OK  # good lines kept coming
    assert engine.alerts.open_for("environment.sensor[desk]") is None
    assert not [a for a in engine.alerts.visible() if a.key.startswith("environment.")]
    reader_lines = [r for r in caplog.records if r.name.startswith("sensors.")]
    assert len(reader_lines) <= 3, [r.getMessage() for r in reader_lines]
    assert not [r for r in reader_lines if r.exc_info], "no traceback for data a parser rejects"


class _FailingSession(Session):
    """A session whose every read cycle raises ``error`` (after a short wait, like a read)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def open(self) -> None:
        pass

    def cycle(self, stop: threading.Event) -> CycleResult:
        stop.wait(0.01)
        raise self.error

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("error", "lost"),
    [
        (OverflowError("int too large to convert to float"), False),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), False),
        (KeyError("registers"), False),
        (OSError(5, "Input/output error"), True),
        (termios.error(5, "Input/output error"), True),
    ],
)
def test_only_transport_errors_mean_the_link_is_lost(error: Exception, lost: bool) -> None:
    reader = SensorReader("probe", lambda: _FailingSession(error), backoff=Backoff(0.01, 0.05))
    reader.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status = reader.status()
            if (status.state == DISCONNECTED) if lost else status.bad_frames >= 3:
                break
            time.sleep(0.02)
        status = reader.status()
    finally:
        reader.stop()
    if lost:
        assert status.state == DISCONNECTED
    else:
        assert (status.state, status.reconnects) == (CONNECTED, 0)
        assert status.bad_frames >= 3 and type(error).__name__ in status.last_problem
