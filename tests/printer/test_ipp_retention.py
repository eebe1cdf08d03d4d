"""The IPP client keeps nothing per poll: memory and file descriptors stay flat over a day's polls.

The soak polls every second for hours; a buffer, an answer or a socket kept
per request would show there only as a slow RSS slope among Qt's and glibc's
warm-up.  Here the printer monitor polls a real cupsd (jobs printed, a jam,
finished jobs piling up in the history) and an address where nothing listens,
and the Python memory allocated from ``sensors/`` and ``monitors/`` that is
still held after the polls, and the open descriptors, are compared with
those after a warm-up.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from app.kernel.model import Level
from sensors.cups_printer import CupsServer
from tests.printer.conftest import PrivateCups, free_port, make_monitor

ROOT = Path(__file__).resolve().parents[2]
#: Python allocations from these files are the client's own (the parsers, the link, the monitor).
OWN = [
    tracemalloc.Filter(True, str(ROOT / "sensors" / "*")),
    tracemalloc.Filter(True, str(ROOT / "monitors" / "*")),
]
#: Held after the polls beyond what the warm-up held.  The creation-time cache
#: gains ~150 bytes per finished job; 300 polls that kept one 100-byte request
#: or a socket object each would be 30 KiB and more.
SLACK_BYTES = 16 * 1024


def _held() -> int:
    gc.collect()
    return sum(stat.size for stat in tracemalloc.take_snapshot().filter_traces(OWN).statistics("filename"))


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _retained(poll: Callable[[int], None], warm: int = 30, polls: int = 300) -> tuple[int, int]:
    """Bytes and descriptors still held after ``polls`` more polls than the warm-up."""
    tracemalloc.start(1)
    try:
        for n in range(warm):
            poll(n)
        before, fds = _held(), _fds()
        for n in range(warm, warm + polls):
            poll(n)
        return _held() - before, _fds() - fds
    finally:
        tracemalloc.stop()


def test_polls_of_a_busy_cupsd_keep_nothing_per_poll(tmp_path: Path, cupsd: PrivateCups, queue: str) -> None:
    server = CupsServer(cupsd.server)
    monitor = make_monitor(tmp_path, server, printers=[queue])

    def poll(n: int) -> None:
        if n % 60 == 5:  # a job every 60 polls: the finished list grows, a jam comes and goes
            cupsd.set_mode(queue, "jam" if n % 120 == 5 else "ok")
            cupsd.submit(queue)
        readings = monitor.poll()
        assert readings and all(r.level is not Level.UNKNOWN for r in readings if r.instance == queue)

    grown, fds = _retained(poll)
    assert next(server._request_ids) > 3 * 330, "every poll asks cupsd"
    assert fds == 0, f"{fds} descriptors more after 300 polls"
    assert grown < SLACK_BYTES, f"{grown} bytes more held after 300 polls"


def test_polls_of_an_unreachable_server_keep_nothing_per_poll(tmp_path: Path) -> None:
    # Every poll fails (refused) through the exception path, whose chained
    # exceptions and tracebacks must not be kept either.
    monitor = make_monitor(tmp_path, CupsServer(f"127.0.0.1:{free_port()}"), printers=["front"])

    def poll(n: int) -> None:
        (status,) = monitor.poll()
        assert status.level is Level.UNKNOWN

    grown, fds = _retained(poll)
    assert fds == 0, f"{fds} descriptors more after 300 polls"
    assert grown < SLACK_BYTES, f"{grown} bytes more held after 300 polls"
