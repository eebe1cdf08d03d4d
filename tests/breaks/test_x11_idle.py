"""On a real X server: xdotool input resets the idle time Deskwatch reads; idling is a natural break.

And the ways the X11 source cannot answer, each on a private Xvfb: no
display, a server without the MIT-SCREEN-SAVER extension, and a server that
goes away while Deskwatch runs (libX11 would end the process).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.core.breaks import BreakPlan, BreakRule, BreakScheduler, BreakSettings, EventKind
from sensors.idle import IdleUnavailable, X11IdleSource, select_source
from tests.services import require, stop
from tests.xserver import XServer, _announced_display, xvfb

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def xserver() -> Iterator[XServer]:
    with xvfb(with_tray=False) as server:
        yield server


def xdotool(server: XServer, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=server.env, check=True, timeout=10)


def test_xdotool_input_resets_x11_idle_time(xserver: XServer) -> None:
    source = X11IdleSource(xserver.display)
    try:
        time.sleep(1.0)
        before = source.idle_seconds()
        assert before >= 0.9
        xdotool(xserver, "mousemove", "100", "120")
        assert source.idle_seconds() < 0.5
        time.sleep(0.6)
        assert source.idle_seconds() >= 0.5
        xdotool(xserver, "key", "a")
        assert source.idle_seconds() < 0.5
    finally:
        source.close()


def test_auto_selection_picks_x11(xserver: XServer) -> None:
    env = {"DISPLAY": xserver.display}
    source = select_source("auto", env, "linux")
    try:
        assert source.name == "x11"
    finally:
        source.close()


def test_idling_on_the_real_display_is_a_natural_break(xserver: XServer) -> None:
    # A 3 s "micro-break" so the real-time test stays short (and survives a busy machine).
    settings = BreakSettings(plan=BreakPlan(BreakRule(60, 3.0), BreakRule(0, 0), 0))
    scheduler = BreakScheduler(settings, clock=time.time)
    source = X11IdleSource(xserver.display)
    events: list[EventKind] = []
    try:
        deadline = time.monotonic() + 2.0
        x = 100
        while time.monotonic() < deadline:  # the clerk works: the mouse moves
            x += 7
            xdotool(xserver, "mousemove", str(x), "200")
            sample = source.sample()
            events += [e.kind for e in scheduler.tick(time.time(), sample.idle_seconds, False, sample.locked)]
            time.sleep(0.1)
        assert EventKind.NATURAL not in events
        worked = scheduler.today.work_seconds
        assert worked >= 1.5
        deadline = time.monotonic() + 8.0
        while time.monotonic() < deadline and EventKind.NATURAL not in events:  # hands off
            sample = source.sample()
            events += [e.kind for e in scheduler.tick(time.time(), sample.idle_seconds, False, sample.locked)]
            time.sleep(0.1)
        assert EventKind.NATURAL in events
        assert scheduler.today.natural == 1
        assert scheduler.work[next(iter(scheduler.work))] == 0  # the micro interval restarted
    finally:
        source.close()


@contextmanager
def bare_xvfb(*args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private Xvfb started with ``args``: its display name and its process (for killing it)."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [require("Xvfb", "xvfb"), "-displayfd", str(write_fd), "-nolisten", "tcp", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_fd,),
    )
    os.close(write_fd)
    try:
        yield _announced_display(read_fd, server, Path(os.devnull)), server
    finally:
        stop(server, timeout=5)


def test_no_display_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(IdleUnavailable, match="DISPLAY is not set"):
        X11IdleSource()
    # A display nobody serves (a socket path in an empty folder).
    with pytest.raises(IdleUnavailable, match="cannot open X display"):
        X11IdleSource(f"unix:{tmp_path}/nothing:0")


def test_a_server_without_the_screensaver_extension_is_unavailable() -> None:
    with bare_xvfb("-extension", "MIT-SCREEN-SAVER") as (display, _server):
        with pytest.raises(IdleUnavailable, match="no MIT-SCREEN-SAVER extension"):
            X11IdleSource(display)
        # Auto selection falls back to "none" (every minute counts as work), never raises.
        source = select_source("auto", {"DISPLAY": display}, "linux")
        assert source.name == "none"


#: In a child process: a source on the display, then the X server is killed; prints what each query said.
SERVER_GOES_AWAY = textwrap.dedent(
    """
    import os, signal, sys, time
    from sensors.idle import IdleUnavailable, X11IdleSource
    source = X11IdleSource(sys.argv[1])
    print("idle", source.idle_seconds(), flush=True)
    os.kill(int(sys.argv[2]), signal.SIGKILL)
    time.sleep(0.5)
    for _ in range(2):
        try:
            print("idle", source.idle_seconds(), flush=True)
        except IdleUnavailable as exc:
            print("unavailable", exc, flush=True)
    source.close()
    source.close()
    print("still running", flush=True)
    """
)


def test_a_server_that_goes_away_makes_the_source_unavailable_not_the_process_exit() -> None:
    with bare_xvfb() as (display, server):
        result = subprocess.run(
            [sys.executable, "-c", SERVER_GOES_AWAY, display, str(server.pid)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    lines = result.stdout.splitlines()
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert lines[0].startswith("idle ") and float(lines[0].split()[1]) >= 0
    assert [line.split(" ", 1)[0] for line in lines[1:]] == ["unavailable", "unavailable", "still"]
    assert "connection to the X server" in lines[1]


def test_a_missing_library_is_unavailable_not_an_error() -> None:
    from sensors.idle import _load_library

    with pytest.raises(IdleUnavailable, match=r"libXdeskwatchmissing\.so\.1 is not installed"):
        _load_library("libXdeskwatchmissing.so.1", "Xdeskwatchmissing")
