"""On a real X server with two screens: the break window covers every screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.xserver import xvfb

ROOT = Path(__file__).resolve().parents[2]


def test_break_windows_cover_both_screens_of_a_two_screen_display(tmp_path: Path) -> None:
    with xvfb(False, "1024x768x24", "800x600x24") as x:
        env = {**x.env, "XDG_RUNTIME_DIR": str(tmp_path)}
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        os.chmod(tmp_path, 0o700)
        result = subprocess.run(
            [sys.executable, "-m", "tests.breaks.x_break_app"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["source"] == "x11"
    screens = report["screens"]
    assert [s["size"] for s in screens] == [[1024, 768], [800, 600]]
    for screen in screens:
        assert screen["window"] == screen["size"]
        assert screen["on_screen"]
        assert screen["corners_are_break_colour"]
        assert screen["countdown"] == "10:00"
