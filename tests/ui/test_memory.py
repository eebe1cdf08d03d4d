"""The Qt layer does not accumulate objects over a shift of state changes (issue 13's soak)."""

from __future__ import annotations

import time
from typing import Any

from app.kernel.model import Level
from app.ui.theme import level_icon
from tests.ui.conftest import CPU, reading


def test_tray_icons_are_shared_per_level_and_badge(qapp: Any) -> None:
    # A new QIcon per tray change means new QPixmapCache entries per change.
    keys = {level_icon(level, badge).cacheKey() for _ in range(50) for level in Level for badge in (0, 1, 3)}
    assert len(keys) == len(Level) * 3
    # Every badge above nine reads "9+": one icon for all of them.
    assert len({level_icon(Level.CRITICAL, badge).cacheKey() for badge in range(10, 200)}) == 1


def test_tray_icon_changes_reuse_the_same_icons(make_app: Any) -> None:
    app = make_app(tray=True)
    assert app.tray is not None
    seen: set[int] = set()
    now = time.time()
    for cycle in range(40):
        # The CPU alarm comes and goes (past its debounce): level and badge change each time.
        app.engine.ingest([reading(CPU, 99.0 if cycle % 2 else 10.0)], now=now + cycle * 600)
        app.tray.refresh()
        seen.add(app.tray.icon.icon().cacheKey())
    assert 2 <= len(seen) <= 4


def test_banner_style_sheet_is_set_only_when_its_colour_changes(make_app: Any) -> None:
    app = make_app()
    banner = app.panel.banner
    calls = 0
    original = banner.setStyleSheet

    def counting(style: str) -> None:
        nonlocal calls
        calls += 1
        original(style)

    banner.setStyleSheet = counting
    for _ in range(200):
        app.panel._update_header()
    assert calls == 0


def test_closed_alerts_older_than_the_acknowledged_group_are_let_go(make_app: Any) -> None:
    from app.core.alerts import Alert, AlertEvent, AlertEventKind
    from app.kernel.model import Device
    from app.ui.alerts_view import RECENT_SECONDS

    app = make_app()
    centre = app.panel.alerts
    old = time.time() - RECENT_SECONDS - 3600

    def closed(n: int, ended: float) -> AlertEvent:
        alert = Alert(n, "pc.cpu", "pc.cpu", "", Device.COMPUTER, Level.OK, Level.CRITICAL, ended - 60)
        alert.ended = alert.acked_at = ended
        return AlertEvent(AlertEventKind.CLOSED, alert, ended)

    # A week of uptime: every closed alert arrives here once.
    for n in range(1, 301):
        centre._on_event(closed(n, old))
    centre._on_event(closed(999, time.time()))
    assert [a.id for a in centre._closed] == [999]
    assert centre.groups[centre.ACKED].childCount() == 1
