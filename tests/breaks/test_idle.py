"""Activity sources: pure parsing, selection, and Windows logic with fakes."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import pytest

from sensors.idle import (
    ActivitySource,
    IdleUnavailable,
    LockDetector,
    MutterIdleSource,
    WindowsIdleSource,
    candidate_order,
    parse_gdbus_bool,
    parse_gdbus_uint,
    parse_locked_hint,
    select_source,
    tick_difference_ms,
)


def test_gdbus_replies_are_parsed() -> None:
    assert parse_gdbus_uint("(uint64 12345,)\n") == 12345
    assert parse_gdbus_uint("(uint32 7,)") == 7
    assert parse_gdbus_bool("(true,)\n") is True
    assert parse_gdbus_bool("(false,)") is False
    for bad in ("", "(uint64 -1,)", "Error: GDBus.Error", "(int32 'x',)"):
        with pytest.raises(IdleUnavailable):
            parse_gdbus_uint(bad)
    with pytest.raises(IdleUnavailable):
        parse_gdbus_bool("(1,)")


def test_logind_locked_hint() -> None:
    assert parse_locked_hint("LockedHint=yes\n") is True
    assert parse_locked_hint("LockedHint=no\n") is False
    with pytest.raises(IdleUnavailable):
        parse_locked_hint("Failed to get session\n")


def test_tick_count_wraps_after_49_days() -> None:
    assert tick_difference_ms(5000, 2000) == 3000
    assert tick_difference_ms(100, 0xFFFFFF00) == 356


class FakeRunner:
    """Answers gdbus/loginctl commands from a table; unknown commands fail like a missing service."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> str:
        self.calls.append(list(args))
        for needle, answer in self.answers.items():
            if needle in " ".join(args):
                return answer
        raise IdleUnavailable("GDBus.Error:org.freedesktop.DBus.Error.ServiceUnknown")


def test_mutter_source_reads_the_idle_monitor() -> None:
    runner = FakeRunner({"GetIdletime": "(uint64 65432,)"})
    source = MutterIdleSource(runner=runner)
    assert source.idle_seconds() == pytest.approx(65.432)
    assert runner.calls[0][-1] == "org.gnome.Mutter.IdleMonitor.GetIdletime"


def test_lock_detector_falls_back_to_logind_and_caches() -> None:
    now = [0.0]
    runner = FakeRunner({"loginctl": "LockedHint=yes\n"})
    env = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x", "XDG_SESSION_ID": "3"}
    detector = LockDetector(runner, env, clock=lambda: now[0])
    assert detector.locked() is True
    calls = len(runner.calls)
    assert detector.locked() is True  # cached: no new processes every second
    assert len(runner.calls) == calls
    now[0] = 10.0
    runner.answers["loginctl"] = "LockedHint=no\n"
    assert detector.locked() is False
    # Screensaver services that failed once are not asked again.
    assert len(runner.calls) == calls + 1


def test_lock_detector_uses_the_gnome_screensaver() -> None:
    runner = FakeRunner({"org.gnome.ScreenSaver.GetActive": "(true,)"})
    detector = LockDetector(runner, {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"})
    assert detector.locked() is True


class FakeWinApi:
    """Stands in for ctypes.windll: GetLastInputInfo fills the struct, GetTickCount returns ticks."""

    def __init__(self, ticks: int, last_input: int, locked: bool = False) -> None:
        api = self

        class User32:
            def GetLastInputInfo(self, pointer: Any) -> int:
                info = ctypes.cast(pointer, ctypes.POINTER(WindowsIdleSource._LastInputInfo)).contents
                assert info.cbSize == 8
                info.dwTime = api.last_input
                return 1

            def OpenInputDesktop(self, *args: Any) -> int:
                return 0 if api.locked else 42

            def CloseDesktop(self, handle: int) -> int:
                return 1

        class Kernel32:
            def GetTickCount(self) -> int:
                return api.ticks

        self.ticks, self.last_input, self.locked = ticks, last_input, locked
        self.user32, self.kernel32 = User32(), Kernel32()


def test_windows_source_with_a_fake_api() -> None:
    api = FakeWinApi(ticks=1_000_000, last_input=940_000)
    source = WindowsIdleSource(api=api)
    sample = source.sample()
    assert sample.idle_seconds == 60.0 and sample.locked is False
    api.locked = True
    assert source.sample().locked is True
    api.ticks, api.last_input = 500, 0xFFFFFF00  # wrapped
    assert source.idle_seconds() == pytest.approx(0.756)


def test_windows_source_refuses_elsewhere() -> None:
    with pytest.raises(IdleUnavailable):
        WindowsIdleSource()


def test_candidate_order() -> None:
    assert candidate_order({}, "win32") == ["windows", "none"]
    assert candidate_order({"DISPLAY": ":0"}, "linux") == ["x11", "none"]
    gnome_wayland = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "GNOME"}
    assert candidate_order(gnome_wayland, "linux") == ["mutter", "x11", "none"]
    assert candidate_order({"DBUS_SESSION_BUS_ADDRESS": "unix:x"}, "linux") == ["mutter", "none"]


def test_select_source_falls_back_and_never_raises() -> None:
    def broken() -> ActivitySource:
        raise IdleUnavailable("no X")

    class Answering(ActivitySource):
        name = "mutter"

        def idle_seconds(self) -> float:
            return 3.0

    env = {"DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:x"}
    chosen = select_source("x11", env, "linux", {"x11": broken, "mutter": Answering})
    assert chosen.name == "mutter"
    assert select_source("auto", {}, "linux").name == "none"
    nothing = select_source("auto", {"DISPLAY": ":0"}, "linux", {"x11": broken})
    assert nothing.name == "none" and nothing.sample().idle_seconds == 0.0
