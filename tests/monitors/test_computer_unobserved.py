"""The computer monitor never reads "OK" for what it did not observe.

How the last session ended comes from the heartbeat file; with no file (the
first start), an unreadable one, a boot time that cannot be read or a
heartbeat that cannot be written, the restart indicator is not observed or
unknown and says why.  Memory, disks and processes read as unknown when the
system gives no figure, never as "0 % free" (a false alarm) or "no forbidden
programs" (a missed one).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

import monitors
from app.core.runtime import Runtime, build_runtime
from app.kernel.model import Level

RESTART = "computer.unexpected_restart"


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[Callable[[Path], Runtime]]:
    """Builds the computer monitor as the tray app runs it (``mode="app"``: heartbeats on)."""
    made: list[Runtime] = []

    def build(data_dir: Path) -> Runtime:
        runtime = build_runtime(
            monitor_classes=monitors.discover(),
            config_path=tmp_path / "none.toml",
            data_dir=data_dir,
            only=["computer"],
        )
        made.append(runtime)
        return runtime

    yield build
    for runtime in made:
        runtime.stop()


def restart_state(runtime: Runtime) -> tuple[Level, Any, str]:
    runtime.scheduler.poll_once()
    state = runtime.engine.state(RESTART)
    assert state is not None
    return state.level, state.value, state.message("en") or ""


def restart_alerts(runtime: Runtime) -> list[Any]:
    return [a for a in runtime.engine.alerts.visible() if a.key == RESTART]


def test_the_first_start_is_not_observed_rather_than_ok(tmp_path: Path, start_app: Any) -> None:
    runtime = start_app(tmp_path)
    for _poll in range(2):  # not just the first poll: nothing tells how an earlier session ended
        level, value, message = restart_state(runtime)
        assert (level, value) == (Level.NOT_SET_UP, None)
        assert message.startswith("Not observed: no record of an earlier session"), message
        assert "heartbeat.json" in message
    assert restart_alerts(runtime) == []
    runtime.stop()
    # This session left its record: the next start knows it ended cleanly.
    assert restart_state(start_app(tmp_path))[::2] == (Level.OK, "Last shutdown was clean")


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"boot_time": 1.0, "last_beat": 2.0}',  # no "clean"
        '{"boot_time": 1.0, "last_beat": 2.0, "clean": "yes"}',  # neither true nor false
        '{"boot_time": 1.0, "last_beat": NaN, "clean": false}',
        "[1, 2, 3]",
        "\udcff",
    ],
)
def test_an_unreadable_record_is_unknown_once_then_not_observed(
    tmp_path: Path, start_app: Any, content: str
) -> None:
    (tmp_path / "heartbeat.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    runtime = start_app(tmp_path)
    level, value, message = restart_state(runtime)
    assert (level, value) == (Level.UNKNOWN, None)
    assert message.startswith("Cannot tell how the last session ended"), message
    (alert,) = restart_alerts(runtime)
    level, value, message = restart_state(runtime)
    assert (level, value) == (Level.NOT_SET_UP, None) and message.startswith("Not observed"), message
    (still,) = restart_alerts(runtime)
    assert still.id == alert.id and still.needs_attention  # cleared, waiting to be seen


def test_after_a_crash_the_indicator_never_claims_a_clean_shutdown(tmp_path: Path, start_app: Any) -> None:
    beat = {"boot_time": psutil.boot_time() - 3600, "last_beat": time.time() - 60, "clean": False}
    (tmp_path / "heartbeat.json").write_text(json.dumps(beat))
    runtime = start_app(tmp_path)
    assert restart_state(runtime)[0] is Level.CRITICAL
    level, value, message = restart_state(runtime)
    assert (level, value) == (Level.OK, False)
    assert message.startswith("No unexpected restart since Deskwatch started at"), message


def test_an_unreadable_boot_time_is_unknown_not_a_guess(
    tmp_path: Path, start_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    beat = {"boot_time": psutil.boot_time(), "last_beat": time.time() - 60, "clean": False}
    (tmp_path / "heartbeat.json").write_text(json.dumps(beat))

    def no_btime() -> float:  # what psutil raises on a /proc/stat without its btime line
        raise RuntimeError("line 'btime' not found in /proc/stat")

    monkeypatch.setattr(psutil, "boot_time", no_btime)
    runtime = start_app(tmp_path)
    level, value, message = restart_state(runtime)
    assert (level, value) == (Level.UNKNOWN, None)
    assert "Cannot tell whether the computer restarted" in message and "btime" in message
    # The record written meanwhile says so, and the next start is unknown too (not a crash, not OK).
    assert json.loads((tmp_path / "heartbeat.json").read_text())["boot_time"] is None
    monkeypatch.undo()
    # Started again while the record is still unclean (as after a kill): unknown, not a crash, not OK.
    assert restart_state(start_app(tmp_path))[:2] == (Level.UNKNOWN, None)


def test_a_full_disk_makes_the_restart_check_unknown_until_space_is_back(
    tmp_path: Path, start_app: Any, tmpfs: Callable[[str], Path]
) -> None:
    disk = tmpfs("1m")
    data_dir = disk / "data"
    data_dir.mkdir()
    (data_dir / "heartbeat.json").write_text(json.dumps({"boot_time": 0, "last_beat": 0, "clean": True}))
    runtime = start_app(data_dir)
    assert restart_state(runtime)[0] is Level.OK
    filler = fill(disk)
    level, value, message = restart_state(runtime)
    assert (level, value) == (Level.UNKNOWN, None)
    assert message.startswith("Cannot record this session in") and "No space left" in message, message
    filler.unlink()
    level, value, message = restart_state(runtime)
    assert (level, message) == (Level.OK, "Last shutdown was clean")


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; the file that filled it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def check_computer(tmp_path: Path) -> dict[str, Any]:
    runtime = build_runtime(
        monitor_classes=monitors.discover(),
        config_path=tmp_path / "deskwatch.toml",
        data_dir=tmp_path,
        only=["computer"],
        mode="check",
    )
    try:
        runtime.scheduler.poll_once()
        return {s.key: s for s in runtime.engine.states()}
    finally:
        runtime.scheduler.stop()


def test_no_memory_figure_is_unknown_not_zero_percent_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = psutil.virtual_memory()
    monkeypatch.setattr(psutil, "virtual_memory", lambda: real._replace(total=0, available=0))
    state = check_computer(tmp_path)["computer.memory_available"]
    assert (state.level, state.value) == (Level.UNKNOWN, None)
    assert state.message("en").startswith("Cannot read the memory size")


def test_a_disk_that_cannot_be_read_is_unknown_not_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = psutil.disk_usage

    def usage(path: str) -> Any:
        if path == "/":  # a network drive gone, a folder we may not enter
            raise PermissionError(13, "Permission denied")
        return real(path)._replace(total=0, free=0)  # a file system that reports no size

    monkeypatch.setattr(psutil, "disk_usage", usage)
    states = check_computer(tmp_path)
    expected = {"computer.disk_free_system": "Permission denied", "computer.disk_free_recordings": "0 bytes"}
    for key, why in expected.items():
        state = states[key]
        assert (state.level, state.value) == (Level.UNKNOWN, None), key
        assert state.message("en").startswith("Cannot read the free space at") and why in state.message("en")


def test_an_unreadable_process_list_is_unknown_not_no_forbidden_programs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "deskwatch.toml").write_text(
        '[monitors.computer]\nforbidden_processes = ["game.exe"]\nrequired_processes = ["crm"]\n'
    )
    monkeypatch.setattr(psutil, "process_iter", lambda attrs=None: iter(()))
    states = check_computer(tmp_path)
    for key in ("computer.forbidden_processes", "computer.required_processes"):
        state = states[key]
        assert (state.level, state.value) == (Level.UNKNOWN, None), key
        assert state.message("en") == "Cannot list the running programs: no program names could be read"
