"""Run the real ``app.cli`` in this process with a hook on the started tray app.

The soak's probe (snapshots of the live app) and the real-seat screenshots
(windows grabbed once readings have settled) both need Deskwatch exactly as a
clerk starts it, plus one hook.  This module imports nothing of the test
fixtures, so the app's process carries no test code but the hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def run_app_with(on_started: Callable[[Any], None], argv: list[str]) -> int:
    """Run ``app.cli`` with ``argv`` here; ``on_started(app)`` right after the tray app has started."""
    import app.ui.main as ui_main

    original_start = ui_main.DeskwatchApp.start

    def start(self: Any) -> None:
        original_start(self)
        on_started(self)

    ui_main.DeskwatchApp.start = start  # type: ignore[method-assign]
    from app.cli import main as cli_main

    return cli_main(argv)
