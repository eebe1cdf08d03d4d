"""The app's side of the real-seat screenshots: ``python -m tests.screenshots.real_app PLAN.json run …``.

Runs Deskwatch's own ``run`` command (the tray app, as a clerk starts it)
with one hook: once every part of the seat in the plan has a state (each
monitor, each printer queue, sensor and SIP transport; or after
``settle_seconds`` at the latest) it fills the screen below the tray bar
with the panel and grabs the screen: the status panel (and every card
opened, at full height), the alert centre and one device's detail chart; then it quits.  The plan (JSON):
``out`` (folder), ``lang``, ``instances`` (names that must appear as
``indicator[name]``), ``detail`` (device id) and ``chart`` (part of the
indicator key to chart), ``settle_seconds``, ``at_least_seconds`` (wait this
long in any case: a warning's hold).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from tests.apprun import run_app_with

log = logging.getLogger("tests.screenshots.real")

#: Height of trayer's bar at the top of the screen (``tests.xserver``): the panel goes below it.
TRAY_BAR = 32
#: Readings keep arriving after the last part first reports: wait this long with no new key.
QUIET_SECONDS = 2.0
#: The screen grabs, and ``panel_all``: every card opened, at full height (the rows below the fold);
#: ``card_<device>``: that card alone, opened, at full height.
CARDS = ("environment", "headset")
SHOTS = ("panel", "panel_all", "alerts", "detail", *(f"card_{card}" for card in CARDS))


def missing(app: Any, instances: list[str]) -> list[str]:
    """The parts of the seat with no state yet: monitor ids and instance names."""
    keys = [state.key for state in app.engine.states()]
    lacking = [
        monitor.id
        for monitor in app.runtime.monitors
        if not any(key.startswith(f"{monitor.id}.") for key in keys)
    ]
    lacking += [name for name in instances if not any(key.endswith(f"[{name}]") for key in keys)]
    return lacking


def shoot(app: Any, plan: dict[str, Any]) -> None:
    """Lay the panel over the screen below the tray bar and save the three screen grabs."""
    from PySide6.QtWidgets import QApplication

    from tests.screenshots import settle

    out = Path(plan["out"])
    out.mkdir(parents=True, exist_ok=True)
    screen = QApplication.primaryScreen()
    size = screen.geometry()
    panel = app.panel
    app.show_panel()
    panel.setGeometry(0, TRAY_BAR, size.width(), size.height() - TRAY_BAR)
    device = next(d for d in panel.cards if d.id == plan["detail"])
    for name in SHOTS:
        if name in ("panel", "panel_all") or name.startswith("card_"):
            panel.tabs.setCurrentIndex(panel.STATUS_TAB)
            panel.stack.setCurrentIndex(0)
            for card in panel.cards.values():  # the panel as opened; panel_all with every card open
                card.set_expanded(name != "panel")
        elif name == "alerts":
            app.show_alerts()
        else:
            panel.show_detail(device)
            choose_indicator(panel.detail, plan["chart"])
            panel.detail.set_range("hour")
        panel.flush_pending()
        settle(1.0)
        path = str(out / f"{name}_{plan['lang']}.png")
        if name == "panel_all":
            panel.stack.widget(0).widget().grab().save(path)  # the scroll area's content, whole
        elif name.startswith("card_"):
            card_id = name.removeprefix("card_")
            next(card for dev, card in panel.cards.items() if dev.id == card_id).grab().save(path)
        else:
            screen.grabWindow(0).save(path)


def choose_indicator(detail: Any, part: str) -> None:
    """Chart the first indicator whose key contains ``part`` (as if the clerk picked it)."""
    for index in range(detail.indicator.count()):
        detail.indicator.setCurrentIndex(index)
        if part in (detail.current_key() or ""):
            return


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def started(app: Any) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + float(plan["settle_seconds"])
        earliest = time.monotonic() + float(plan.get("at_least_seconds", 0.0))
        last: dict[str, Any] = {"count": -1, "since": time.monotonic()}

        def check() -> None:
            count = len(app.engine.states())
            now = time.monotonic()
            if count != last["count"]:
                last.update(count=count, since=now)
            lacking = missing(app, plan["instances"])
            quiet = now - last["since"] >= QUIET_SECONDS
            if (lacking or not quiet or now < earliest) and now < deadline:
                return
            timer.stop()
            if lacking:
                log.warning("real seat: still no reading from %s; shooting anyway", ", ".join(lacking))
            try:
                shoot(app, plan)
            except Exception:
                log.exception("real seat: the screenshots failed")
                QApplication.exit(1)
            else:
                QApplication.exit(0)

        timer = QTimer(app)
        timer.setInterval(250)
        timer.timeout.connect(check)
        timer.start()
        app._shots_timer = timer

    return run_app_with(started, sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
