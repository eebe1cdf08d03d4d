"""The user's config and data folders on Linux: the XDG spec's, as platformdirs gives them, without it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import platformdirs
import pytest

from app.kernel import paths

ROOT = Path(__file__).resolve().parents[2]

#: (variable, value): set, empty, relative (ignored by the spec), and ``HOME`` relative or unset.
CASES = [
    {},
    {"XDG_CONFIG_HOME": "/srv/conf", "XDG_DATA_HOME": "/srv/data"},
    {"XDG_CONFIG_HOME": "", "XDG_DATA_HOME": ""},
    {"XDG_CONFIG_HOME": "relative/conf", "XDG_DATA_HOME": "relative/data"},
    {"HOME": "/home/clerk"},
    {"HOME": "not/absolute"},
    {"HOME": None},
]


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG folders are the Linux answer")
@pytest.mark.parametrize("env", CASES, ids=lambda env: ",".join(f"{k}={v}" for k, v in env.items()) or "none")
def test_the_xdg_folders_are_platformdirs_answer(
    env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "DESKWATCH_CONFIG", "DESKWATCH_DATA_DIR"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    assert paths.user_data_dir() == Path(platformdirs.user_data_dir("deskwatch", appauthor=False))
    config = Path(platformdirs.user_config_dir("deskwatch", appauthor=False)) / "deskwatch.toml"
    assert paths.user_config_path() == config


#: The paths a start asks for, in a fresh interpreter: platformdirs must stay unloaded on Linux.
FRESH = textwrap.dedent(
    """
    import sys
    from app.kernel import paths
    paths.user_config_path(), paths.user_data_dir(), paths.site_config_paths()
    print("platformdirs" in sys.modules)
    """
)


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="platformdirs answers there")
def test_linux_folders_do_not_load_platformdirs() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FRESH], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["False"], result.stdout + result.stderr


def test_windows_and_macos_still_ask_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def user_data_dir(name: str, appauthor: bool) -> str:
        asked.append(name)
        return "/pd/data"

    monkeypatch.setattr(platformdirs, "user_data_dir", user_data_dir)
    assert paths._user_dir("data", platform="win32") == Path("/pd/data")
    assert paths._user_dir("data", platform="darwin") == Path("/pd/data")
    assert asked == ["deskwatch", "deskwatch"]
