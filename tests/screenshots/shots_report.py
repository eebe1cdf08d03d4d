"""Screenshot of a supervisor report, rendered by headless Chromium (the report is plain HTML + SVG)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.fleet import histdata

FIRST = dt.date(2026, 3, 2)
DAYS = 5
WINDOW = "1200,1900"


def render(html_path: Path, png_path: Path, window: str = WINDOW) -> Path:
    """Screenshot ``html_path`` into ``png_path`` with ``chromium --headless``."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise RuntimeError("chromium is not installed; run ./.ci/bootstrap screenshots to install it")
    with tempfile.TemporaryDirectory(prefix="deskwatch-chromium-") as profile:
        # A private profile and HOME: nothing of the user's browser is touched.
        env = {**os.environ, "HOME": profile}
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={window}",
                f"--screenshot={png_path}",
                html_path.as_uri(),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
    return png_path


def take(outdir: Path, lang: str) -> list[Path]:
    """Write ``report-<lang>.png`` (per day) and ``report-shift-<lang>.png`` from a test week."""
    outdir.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory(prefix="deskwatch-report-") as work:
        history_file = Path(work) / "history.sqlite3"
        histdata.build(history_file, FIRST, DAYS)
        for per in ("day", "shift"):
            html_path, _csv = histdata.write_report(history_file, FIRST, DAYS, Path(work) / per, per, lang)
            name = f"report-{lang}.png" if per == "day" else f"report-shift-{lang}.png"
            shots.append(render(html_path, outdir / name))
    return shots
