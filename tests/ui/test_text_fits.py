"""No text of the panel, alert centre, settings or self-check is wider than its space on a real seat.

At both office screen sizes, in both languages, at 100 % and 150 % scaling
(``QT_SCALE_FACTOR`` has to be set before Qt starts: each case is a process
of its own, :mod:`tests.ui.fit_walk`).  A text shortened on purpose must carry
its whole wording in a tooltip; a panel label wraps only where it is meant to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("scale", ["1", "1.5"])
@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("size", ["1280x800", "1366x768"])
def test_every_text_fits_its_space(size: str, language: str, scale: str) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": scale}
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.fit_walk", size, language],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    too_wide = json.loads(done.stdout.strip().splitlines()[-1])
    assert too_wide == [], "\n".join(too_wide)
