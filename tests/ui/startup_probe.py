"""The real ``deskwatch run``, recording which libraries were loaded when (for ``test_startup.py``).

``python -m tests.ui.startup_probe OUT [deskwatch arguments…]`` runs
``app.cli`` in this process and writes ``OUT`` (JSON) with the watched
modules that were in ``sys.modules``

- ``at_icon``: when the starting icon was put in the tray;
- ``started``: once the app had started and every monitor had answered at
  least once (so a library a first poll imports is counted), or after 60 s;

and the process's thread names then; then it quits.  Unlike
:mod:`tests.apprun` it hooks the start-up itself, so that nothing of the app
is imported before ``app.cli`` imports it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: Libraries (and app parts) that must wait until something configured needs them.
WATCHED = (
    "monitors",
    "numpy",
    "pyaudio",
    "prometheus_client",
    "cups",
    "serial",
    "psutil",
    "tomlkit",
    "PySide6.QtNetwork",
    "app.core.runtime",
    "app.ui.main",
    "app.ui.panel.window",
    "platformdirs",  # never on Linux (see test_startup.NEVER)
)
POLL_WAIT_S = 60.0


def loaded() -> list[str]:
    """The watched modules loaded now."""
    return [name for name in WATCHED if name in sys.modules]


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    record: dict[str, Any] = {}

    import app.ui.startup as startup

    original_show = startup.StartingIcon.show

    def show(self: Any) -> None:
        record["at_icon"] = loaded()
        original_show(self)

    startup.StartingIcon.show = show  # type: ignore[method-assign]

    original_built = startup.Startup._built

    def built(self: Any, runtime: Any) -> None:
        original_built(self, runtime)
        record["starting_icon_closed"] = self.starting is None
        on_started(self.app)

    startup.Startup._built = built  # type: ignore[method-assign]

    def on_started(app: Any) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        record.setdefault("at_icon", None)  # no tray: no starting icon
        deadline = time.monotonic() + POLL_WAIT_S
        ids = {monitor.id for monitor in app.runtime.monitors}
        timer = QTimer(app)

        def look() -> None:
            answered = {state.indicator.id.partition(".")[0] for state in app.engine.states()}
            if ids <= answered or time.monotonic() > deadline:
                timer.stop()
                record["started"] = loaded()
                record["answered"] = sorted(answered & ids)
                record["monitors"] = sorted(ids)
                record["threads"] = sorted(t.name for t in threading.enumerate())
                out.write_text(json.dumps(record), "utf-8")
                QApplication.exit(0)

        timer.timeout.connect(look)
        timer.start(200)

    from app.cli import main as cli_main

    return cli_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
