"""The Debian package: lintian's verdict, its files, and a real install, run and purge.

The install test runs ``dpkg -i`` on this machine (CI runs the tests as root)
and purges the package again whatever happens; it is skipped, saying why, when
not root or when a Deskwatch package is already installed here (the test would
replace it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import RESOURCES_PROBE, Built, private_env
from tests.deploy.test_wheel import expected_translation
from tests.services import require
from tests.xserver import xvfb

PREFIX = Path("/opt/deskwatch")
DESKTOP_ENTRIES = ("usr/share/applications/deskwatch.desktop", "etc/xdg/autostart/deskwatch.desktop")
#: Top-level names the package keeps inside its venv: none may reach the system Python.
OWN_TOP_LEVEL = ("app", "monitors", "sensors", "resources")


def run(
    *args: str | Path, timeout: float = 120, cwd: str | Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env, check=False
    )


def installed_version() -> str | None:
    done = run("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", "deskwatch")
    status, _, version = done.stdout.partition(" ")
    return version if done.returncode == 0 and status not in ("", "not-installed", "config-files") else None


def validate_desktop(path: Path) -> None:
    """``desktop-file-validate``: no errors and no warnings (its hints are advice)."""
    done = run(require("desktop-file-validate", "desktop-file-utils"), path)
    problems = [line for line in done.stdout.splitlines() if ": error: " in line or ": warning: " in line]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


@pytest.mark.timeout(300)
def test_lintian_reports_no_errors_or_unexplained_warnings(built: Built) -> None:
    lintian = require("lintian", "lintian")
    done = run(lintian, "--tag-display-limit", "0", built.deb, timeout=240)
    tags = [line for line in done.stdout.splitlines() if line[:2] in ("E:", "W:")]
    # Exit 0: no error tag. Warnings the package accepts are overridden, each with its reason,
    # in packaging/debian/lintian-overrides: an unexplained one fails too.
    assert done.returncode == 0 and not tags, done.stdout + done.stderr


def test_package_carries_what_a_seat_needs(built: Built, tmp_path: Path) -> None:
    contents = run("dpkg-deb", "-c", built.deb).stdout
    paths = {line.split(None, 5)[5].removeprefix("./").split(" -> ")[0] for line in contents.splitlines()}
    site = next(
        p.removesuffix("/app/__init__.py") for p in paths if p.endswith("site-packages/app/__init__.py")
    )
    assert site.startswith("opt/deskwatch/venv/lib/python3.")
    for path in (
        "usr/bin/deskwatch",
        *DESKTOP_ENTRIES,
        "usr/share/icons/hicolor/48x48/apps/deskwatch.png",
        "usr/share/icons/hicolor/scalable/apps/deskwatch.svg",
        "usr/share/doc/deskwatch/copyright",
        "usr/share/doc/deskwatch/changelog.gz",
        "usr/share/man/man1/deskwatch.1.gz",
        "usr/share/lintian/overrides/deskwatch",
        "opt/deskwatch/venv/bin/deskwatch",
        f"{site}/resources/i18n/deskwatch_zh_CN.qm",
        f"{site}/resources/deskwatch.toml",
    ):
        assert path in paths, f"{path} is not in the package"
    assert not [p for p in paths if p.endswith(".pyc") or "__pycache__" in p], "bytecode is postinst's job"
    outside = [p for p in paths if p.split("/")[0] not in ("opt", "usr", "etc", "")]
    assert not outside, outside
    assert not [p for p in paths if p.startswith("usr/lib/python3")], "nothing goes into the system Python"
    fields = run("dpkg-deb", "-f", built.deb, "Version", "Architecture", "Depends").stdout
    assert f"Version: {built.version}\n" in fields and "Architecture: amd64\n" in fields
    python = f"python{sys.version_info.major}.{sys.version_info.minor}"  # Debian's, at the build's version
    assert f"{python} (>= " in fields and "libportaudio2" in fields, fields
    # CUPS is read over IPP by Deskwatch's own client (sensors/ipp_http.py): no libcups.
    assert "libcups" not in fields, fields
    run("dpkg-deb", "-x", built.deb, tmp_path)
    for entry in DESKTOP_ENTRIES:
        validate_desktop(tmp_path / entry)
    # The autostart entry is a conffile: an IT department's edit survives an upgrade.
    assert run("dpkg-deb", "-I", built.deb, "conffiles").stdout.split() == [f"/{DESKTOP_ENTRIES[1]}"]


def docked_in_tray(tree: str) -> bool:
    """Whether ``xwininfo -root -tree`` shows a Deskwatch window inside trayer's panel."""
    lines = tree.splitlines()
    for index, line in enumerate(lines):
        if '("panel" "trayer")' in line:
            depth = len(line) - len(line.lstrip())
            for inner in lines[index + 1 :]:
                if inner.strip() and len(inner) - len(inner.lstrip()) <= depth:
                    break
                if '("deskwatch" "Deskwatch")' in inner:
                    return True
    return False


def tray_app_docks(env: dict[str, str], timeout: float = 45.0) -> None:
    """The installed tray app (demo devices) puts its icon into a real tray, then stops on SIGTERM."""
    with xvfb(with_tray=True) as x:
        gui_env = {k: v for k, v in env.items() if k != "QT_QPA_PLATFORM"} | x.env
        app = subprocess.Popen(
            ["/usr/bin/deskwatch", "run", "--demo"], cwd="/", env=gui_env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline, docked = time.monotonic() + timeout, False
            while not docked and app.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
                docked = docked_in_tray(run("xwininfo", "-root", "-tree", env=gui_env).stdout)
            assert docked, f"no Deskwatch icon in the tray (exit {app.poll()})"
        finally:
            app.send_signal(signal.SIGTERM)
            try:  # README: the tray app stops within 10 s of SIGTERM
                output, _ = app.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                app.kill()
                output, _ = app.communicate()
        code = app.returncode
        assert code == 0 and "Traceback" not in output, output[-3000:]


@pytest.fixture
def installed(built: Built) -> Iterator[Built]:
    """The package installed with ``dpkg -i``; purged afterwards even when the test fails."""
    if os.geteuid() != 0:
        pytest.skip("installing a .deb needs root (CI runs the tests as root)")
    already = installed_version()
    if already is not None:
        pytest.skip(f"deskwatch {already} is installed on this machine; the test would replace it")
    assert not PREFIX.exists(), f"{PREFIX} exists without the package: left over from an earlier run?"
    done = run("dpkg", "-i", built.deb, timeout=180, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        yield built
    finally:
        run("dpkg", "--purge", "deskwatch", timeout=120)


@pytest.mark.timeout(300)
def test_installed_package_runs_isolated_and_purges_clean(installed: Built, tmp_path: Path) -> None:
    env = private_env(tmp_path / "home")
    assert installed_version() == installed.version
    deskwatch = shutil.which("deskwatch", path="/usr/bin")
    assert deskwatch == "/usr/bin/deskwatch"

    version = run(deskwatch, "--version", cwd="/", env=env)
    assert version.returncode == 0 and version.stdout.strip() == f"deskwatch {installed.version}", version

    check = run(deskwatch, "check", "--json", cwd="/", env=env, timeout=90)
    assert check.returncode in (0, 1, 2, 3), check.stderr  # the worst level, Nagios style
    report = json.loads(check.stdout)
    devices = {indicator["device"] for indicator in report["indicators"]}
    assert {"computer", "printer", "headset", "telephone"} <= devices, devices
    assert {i["id"] for i in report["indicators"] if i["device"] == "computer" and i["level"] != "unknown"}

    table = run(deskwatch, "check", "--only", "computer", cwd="/", env=env, timeout=60)
    assert table.returncode in (0, 1, 2, 3) and "Computer" in table.stdout, table

    # The generic top-level packages are the venv's alone.
    for name in OWN_TOP_LEVEL:
        probe = run("/usr/bin/python3", "-c", f"import {name}", cwd="/", env=env)
        assert probe.returncode != 0 and "ModuleNotFoundError" in probe.stderr, (name, probe)

    # Resources and the zh_CN catalogue come from the installed venv.
    probe = run(PREFIX / "venv/bin/python", "-I", "-c", RESOURCES_PROBE, cwd="/", env=env)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["app"].startswith(f"{PREFIX}/venv/lib/") and found["resources_dir"].startswith(f"{PREFIX}/")
    assert found["zh_CN_loaded"] and found["qm_via_importlib"]
    assert found["translated"] == expected_translation("SettingsDialog", "Start Deskwatch when I log in")

    for entry in DESKTOP_ENTRIES:
        validate_desktop(Path("/") / entry)
    assert Path("/usr/share/icons/hicolor/256x256/apps/deskwatch.png").is_file()
    # The Qt left in the package runs the real tray app on a real X server.
    tray_app_docks(env)
    # postinst compiled the venv, so a clerk's start does not try to write under /opt.
    assert list((PREFIX / "venv/lib").rglob("__pycache__/*.pyc"))

    removed = run("dpkg", "--purge", "deskwatch", timeout=120)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert installed_version() is None
    left = sorted(str(p) for p in PREFIX.rglob("*")) if PREFIX.exists() else []
    assert not PREFIX.exists(), f"left under {PREFIX}: {left[:20]}"
    for path in ("/usr/bin/deskwatch", *(f"/{e}" for e in DESKTOP_ENTRIES)):
        assert not Path(path).exists(), path
