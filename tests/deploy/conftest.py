"""The packages under test: built once per session by ``packaging/build.py``.

``DESKWATCH_DIST=<folder>`` uses the wheel and ``.deb`` a ``./.ci/bootstrap
package`` already wrote there (CI builds once and tests what it ships);
otherwise the session builds both into a temporary folder, sharing pip's
cache with ``./.ci/bootstrap package`` (``build/pip-cache``) so a rebuild
takes well under a minute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Built:
    """The two artefacts of one build, and the version they must report."""

    wheel: Path
    deb: Path
    version: str


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version: str = tomllib.load(handle)["project"]["version"]
    return version


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    version = project_version()
    given = os.environ.get("DESKWATCH_DIST")
    if given:
        dist = Path(given)
    else:
        work = tmp_path_factory.mktemp("package")
        dist = work / "dist"
        done = subprocess.run(
            [sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(dist),
             "--build-dir", str(work / "build")],
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"packaging/build.py failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    wheel = dist / f"deskwatch-{version}-py3-none-any.whl"
    deb = dist / f"deskwatch_{version}_amd64.deb"
    assert wheel.is_file() and deb.is_file(), f"{dist} holds {sorted(p.name for p in dist.iterdir())}"
    return Built(wheel, deb, version)


def private_env(home: Path) -> dict[str, str]:
    """A clean environment with a home and XDG folders of its own: nothing of the tester's leaks in."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_RUNTIME_DIR": str(home / "runtime"),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    for name in ("config", "data", "cache", "state", "runtime"):
        (home / name).mkdir(parents=True, exist_ok=True, mode=0o700)
    return env


#: Run with the package's interpreter: Deskwatch's resources are found through
#: its own path logic and importlib.resources, not the checkout, and Qt loads
#: the zh_CN catalogue from there.
RESOURCES_PROBE = """
import importlib.resources, json, sys
from pathlib import Path
import app
from app.kernel.paths import resources_dir
from PySide6.QtWidgets import QApplication
from app.ui.translations import Translations, catalogue_path
qt = QApplication([])
files = importlib.resources.files("resources")
print(json.dumps({
    "app": app.__file__,
    "resources_dir": str(resources_dir()),
    "qm_via_importlib": (files / "i18n" / "deskwatch_zh_CN.qm").is_file(),
    "icons": sorted(p.name for p in (resources_dir() / "icons").iterdir()),
    "qm": str(catalogue_path("zh_CN")),
    "zh_CN_loaded": Translations().install("zh_CN"),
    "translated": QApplication.translate("SettingsDialog", "Start Deskwatch when I log in"),
}))
"""
