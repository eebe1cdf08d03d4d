"""Fixtures shared by the whole suite. Area-specific fixtures live in each folder's conftest."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests judge correctness, not speed: on a loaded 2-core machine a
# per-example deadline only produces flaky failures.
settings.register_profile("deskwatch", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("deskwatch")

# Tests never touch the real user's files, whatever they call.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


class FakeClock:
    """A settable clock for stepping debounce, alerts and schedules."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point config and data at temporary folders so no test reads or writes ~/."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("DESKWATCH_CONFIG", str(base / "config" / "deskwatch.toml"))
    monkeypatch.setenv("DESKWATCH_DATA_DIR", str(base / "data"))
    # No site file from this machine's /etc/xdg: a test that wants one writes it here.
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(base / "site"))
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    from app.kernel import i18n

    i18n.set_language(None)
    yield base
    i18n.set_language(None)


@pytest.fixture
def site_file(isolated_user_dirs: Path) -> Path:
    """Where this test's site file goes (in its ``$XDG_CONFIG_DIRS``); not created."""
    return isolated_user_dirs / "site" / "deskwatch" / "deskwatch.toml"


@pytest.fixture
def user_file(isolated_user_dirs: Path) -> Path:
    """This test's user file (``$DESKWATCH_CONFIG``); not created."""
    return Path(os.environ["DESKWATCH_CONFIG"])


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs file systems (``tmpfs("4m")``) that a test can fill up.

    Needs root, which CI and this project's machines have; a real full disk
    is the only honest test of what happens when one fills.
    """
    mounts: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.fail("mounting a scratch tmpfs needs root (CI runs as root)")
        point = tmp_path / f"tmpfs{len(mounts)}"
        point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], check=True)
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", "-l", str(point)], check=False)
