"""The wheel on its own: installed into a clean venv, it works away from the checkout.

Deskwatch finds its shipped resources (defaults, icons, the zh_CN catalogue)
inside the installed package, never through the source tree: the commands run
from a folder that is not the checkout, with a private home.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from tests.deploy.conftest import RESOURCES_PROBE, ROOT, Built, private_env

TS_FILE = ROOT / "resources" / "i18n" / "deskwatch_zh_CN.ts"


def expected_translation(context: str, source: str) -> str:
    """What the zh_CN catalogue's source (``.ts``) says ``source`` is in ``context``."""
    for ctx in ET.parse(TS_FILE).getroot().iter("context"):
        if ctx.findtext("name") == context:
            for message in ctx.iter("message"):
                if message.findtext("source") == source:
                    return message.findtext("translation") or ""
    raise AssertionError(f"{source!r} is not in {context} of {TS_FILE}")


def test_wheel_carries_the_resources(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    shipped = {str(p.relative_to(ROOT)) for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert {"resources/i18n/deskwatch_zh_CN.qm", "resources/icons/deskwatch.svg"} <= shipped
    assert shipped <= names, sorted(shipped - names)
    for package in ("app", "monitors", "sensors"):
        assert f"{package}/__init__.py" in names


@pytest.mark.timeout(300)
def test_wheel_works_in_a_clean_venv_outside_the_checkout(built: Built, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
         "--no-compile", str(built.wheel)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = private_env(tmp_path / "home")
    deskwatch = venv / "bin" / "deskwatch"

    version = subprocess.run([deskwatch, "--version"], capture_output=True, text=True, cwd=elsewhere,
                             env=env, timeout=60, check=False)  # fmt: skip
    assert version.stdout.strip() == f"deskwatch {built.version}", version

    check = subprocess.run([deskwatch, "check", "--json", "--only", "computer"], capture_output=True,
                           text=True, cwd=elsewhere, env=env, timeout=60, check=False)  # fmt: skip
    assert check.returncode in (0, 1, 2, 3), check.stderr
    report = json.loads(check.stdout)
    assert report["config_errors"] == [], report["config_errors"]  # the shipped defaults were found
    assert report["indicators"] and {i["device"] for i in report["indicators"]} == {"computer"}

    probe = subprocess.run([venv / "bin" / "python", "-I", "-c", RESOURCES_PROBE], capture_output=True,
                           text=True, cwd=elsewhere, env=env, timeout=60, check=False)  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    site = str(venv / "lib")
    assert found["app"].startswith(site) and found["resources_dir"].startswith(site), found
    assert not found["resources_dir"].startswith(str(ROOT) + "/resources")
    assert found["qm_via_importlib"] and found["zh_CN_loaded"], found
    assert found["translated"] == expected_translation("SettingsDialog", "Start Deskwatch when I log in")
    shipped_icons = sorted(p.name for p in (ROOT / "resources" / "icons").iterdir())
    assert found["icons"] == shipped_icons
