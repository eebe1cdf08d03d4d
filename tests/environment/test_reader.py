"""A text board's reader thread sleeps in one long read, yet stops and notices a pulled cable at once.

Against a simulated board on a real pty pair.  Wake-ups are the reader
thread's voluntary context switches, read from ``/proc`` (Linux): the
thread goes to sleep once per wait, so each switch is one wake-up.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from sensors.reader import CONNECTED, DISCONNECTED, SensorReader, TextLineSession
from sensors.serial_transport import SerialSettings
from sensors.textline import LineFormat
from tests.bench.threads import wakes
from tests.environment.simulators import TextLineBoard

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads the thread's counters from /proc")


def _wakes(reader: SensorReader) -> int:
    assert reader._thread is not None
    return wakes(reader._thread)


@pytest.fixture
def reader(text_board: TextLineBoard) -> Iterator[SensorReader]:
    settings = SerialSettings(port=str(text_board.link))
    made = SensorReader("desk", lambda: TextLineSession(settings, LineFormat()), where=str(text_board.link))
    made.start()
    yield made
    made.stop()


def _wait_for(check: object, timeout: float) -> float:
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < timeout, "not within the time"
        time.sleep(0.02)
    return time.monotonic() - started


def test_a_board_that_talks_every_2_s_wakes_its_reader_about_once_a_line(
    text_board: TextLineBoard, reader: SensorReader
) -> None:
    text_board.interval = 2.0  # a DHT22 board's pace
    _wait_for(lambda: reader.status().last_valid is not None, 5)
    lines, wakes = text_board.lines_sent, _wakes(reader)
    time.sleep(6.0)
    lines, wakes = text_board.lines_sent - lines, _wakes(reader) - wakes
    assert lines >= 2
    # Short read timeouts woke it five times a second (30 here); a line costs a wake or two.
    assert wakes <= 2 * lines + 3, (wakes, lines)
    assert reader.status().state == CONNECTED


def test_stop_ends_a_long_read_at_once(text_board: TextLineBoard, reader: SensorReader) -> None:
    _wait_for(lambda: reader.status().last_valid is not None, 5)
    text_board.interval = 3600.0  # quiet: the reader sits in its read
    time.sleep(0.5)
    thread = reader._thread
    assert thread is not None
    started = time.monotonic()
    reader.stop()
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0  # not the read's whole wait


def test_a_pulled_cable_is_noticed_while_the_reader_waits_for_a_quiet_board(
    text_board: TextLineBoard, reader: SensorReader
) -> None:
    _wait_for(lambda: reader.status().last_valid is not None, 5)
    text_board.interval = 3600.0
    time.sleep(0.5)
    text_board.unplug()
    took = _wait_for(lambda: reader.status().state == DISCONNECTED, 3)
    assert took < 1.0, took  # the port hangs up: the read ends then, not at its timeout
