"""The tray icon on today's desktops: a StatusNotifierItem on a real watcher and host (D-Bus, not XEmbed).

Kylin, UOS, KDE and GNOME with the AppIndicator extension show tray icons
that register with ``org.kde.StatusNotifierWatcher`` on the session bus;
Qt's tray uses that protocol when a watcher with a host is there.  Here the
watcher is ``status-notifier-watcher`` and the host ``gtk-sni-tray-standalone``
on Xvfb, on a private session bus, with dunst as the notification server.
The test reads what any host reads — the watcher's items, the item's
``IconPixmap``, ``ToolTip`` and ``Status``, its ``com.canonical.dbusmenu``
menu — and what the host draws on screen, clicks the drawn icon, and reads
the notification that reached dunst.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.kernel.model import Level
from tests.desktop_bus import (
    WATCHER,
    Dunst,
    SessionBus,
    busctl,
    dunst_server,
    pid_of,
    property_of,
    session_bus,
    sni_host,
)
from tests.ui.xtray import level_of_pixels, screen_pixels, tray_app, visible_window, wait_for
from tests.xserver import XServer, xvfb

PANEL_TITLE = "Deskwatch — workstation status"
ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"
#: The host's bar: 32 px high along the top, items at its right end.
BAR_HEIGHT, BAR_SCAN_WIDTH = 32, 96

pytestmark = pytest.mark.xserver


@pytest.fixture(scope="module")
def desktop() -> Iterator[tuple[XServer, SessionBus, Dunst]]:
    with (
        xvfb(with_tray=False) as xserver,  # no XEmbed tray: only the StatusNotifierItem host
        session_bus(xserver.env) as bus,
        sni_host(xserver, bus),
        dunst_server(xserver, bus) as dunst,
    ):
        yield xserver, bus, dunst


def registered_item(bus: SessionBus, pid: int) -> tuple[str, str] | None:
    """The (bus name, object path) of the item that process ``pid`` registered with the watcher."""
    for entry in property_of(
        bus, WATCHER, "/StatusNotifierWatcher", WATCHER, "RegisteredStatusNotifierItems"
    ):
        name, _, path = entry.partition("/")
        if pid_of(bus, name) == pid:
            return name, "/" + path if path else "/StatusNotifierItem"
    return None


def pixmap_level(pixmaps: list[Any]) -> Level | None:
    """The level colour of the largest image in an ``IconPixmap`` (ARGB32, network byte order)."""
    width, height, data = max(pixmaps, key=lambda p: p[0] * p[1])
    pixels = [(data[i + 1], data[i + 2], data[i + 3]) for i in range(0, len(data) - 3, 4) if data[i] > 128]
    return level_of_pixels(pixels, width * height)


def menu_items(bus: SessionBus, name: str, menu_path: str) -> dict[str, dict[str, Any]]:
    """The menu's entries by label (``_`` marks the mnemonic), after the host's ``AboutToShow``."""
    busctl(bus, "call", name, menu_path, MENU, "AboutToShow", "i", "0")
    layout = busctl(bus, "call", name, menu_path, MENU, "GetLayout", "iias", "0", "-1", "0")["data"][1]
    items: dict[str, dict[str, Any]] = {}

    def walk(node: list[Any]) -> None:
        _ident, props, children = node
        values = {key: value["data"] for key, value in props.items()}
        if "label" in values:
            items[values["label"]] = values
        for child in children:
            walk(child["data"])

    walk(layout)
    return items


def drawn_icon(display: str) -> tuple[Level | None, tuple[int, int] | None]:
    """The level colour the host draws at the right end of its bar, and where (its centre)."""
    from Xlib.display import Display

    conn = Display(display)
    width = conn.screen().width_in_pixels
    conn.close()
    x0 = width - BAR_SCAN_WIDTH
    pixels = screen_pixels(display, x0, 0, BAR_SCAN_WIDTH, BAR_HEIGHT)
    level = level_of_pixels(pixels, BAR_HEIGHT * BAR_HEIGHT // 2)
    if level is None:
        return None, None
    coloured = [
        (i % BAR_SCAN_WIDTH, i // BAR_SCAN_WIDTH)
        for i, rgb in enumerate(pixels)
        if level_of_pixels([rgb], 1) is level
    ]
    xs, ys = [c[0] for c in coloured], [c[1] for c in coloured]
    return level, (x0 + (min(xs) + max(xs)) // 2, (min(ys) + max(ys)) // 2)


def test_status_notifier_item_icon_menu_colour_click_and_notification(
    desktop: tuple[XServer, SessionBus, Dunst], tmp_path: Path
) -> None:
    assert shutil.which("xdotool"), "xdotool is missing: run ./.ci/bootstrap test"
    xserver, bus, dunst = desktop
    env = {**xserver.env, "DBUS_SESSION_BUS_ADDRESS": bus.address}
    with tray_app(env, tmp_path) as app:
        found: list[tuple[str, str]] = []

        def registered() -> bool:
            item = registered_item(bus, app.process.pid)
            if item is not None:
                found.append(item)
            return item is not None

        wait_for(registered, 20, "the app registered a StatusNotifierItem with the watcher")
        name, path = found[-1]

        def item(prop: str) -> Any:
            return property_of(bus, name, path, ITEM, prop)

        def shows(level: Level) -> bool:
            return pixmap_level(item("IconPixmap")) is level and drawn_icon(xserver.display)[0] is level

        wait_for(lambda: shows(Level.OK), 15, "the item's icon and the host's drawing turned green")
        assert item("Status") != "Passive"  # a passive item is tucked away by KDE and others
        menu_path = item("Menu")
        entries = menu_items(bus, name, menu_path)
        for label in ("_Open status panel", "_Alert centre", "Acknowledge a_ll alerts", "_Quit Deskwatch"):
            assert label in entries, f"{label!r} missing from the exported menu {sorted(entries)}"
        assert entries["Acknowledge a_ll alerts"]["enabled"] is False  # nothing to acknowledge yet

        app.set_level("critical")
        wait_for(lambda: shows(Level.CRITICAL), 15, "the item's icon and the host's drawing turned red")
        tooltip = item("ToolTip")
        assert "Control level" in tooltip[2] + tooltip[3]
        # The menu is not built once: the host's AboutToShow brings it up to date.
        assert menu_items(bus, name, menu_path)["Acknowledge a_ll alerts"]["enabled"] is True
        wait_for(
            lambda: any(n["URGENCY"] == "CRITICAL" for n in dunst.arrived()), 10, "a critical notification"
        )
        [critical] = [n for n in dunst.arrived() if n["URGENCY"] == "CRITICAL"]
        assert critical["APP_NAME"] == "Deskwatch" and critical["SUMMARY"] == "Computer: Critical"
        assert "Control level critical" in critical["BODY"]

        app.set_level("warning")
        wait_for(lambda: shows(Level.WARNING), 15, "the item's icon and the host's drawing turned amber")

        assert not visible_window(env, PANEL_TITLE)
        centre = drawn_icon(xserver.display)[1]
        assert centre is not None
        time.sleep(0.3)  # let the host settle after redrawing
        subprocess.run(
            ["xdotool", "mousemove", str(centre[0]), str(centre[1]), "sleep", "0.2", "click", "1"],
            env=env,
            check=True,
        )
        wait_for(lambda: visible_window(env, PANEL_TITLE), 10, "a click on the drawn icon opened the panel")


def test_a_tray_host_that_starts_after_deskwatch_gets_the_icon(tmp_path: Path) -> None:
    """At login the panel (and its watcher) may come up after the autostarted Deskwatch."""
    with xvfb(with_tray=False) as xserver, session_bus(xserver.env) as bus:
        env = {**xserver.env, "DBUS_SESSION_BUS_ADDRESS": bus.address}
        with tray_app(env, tmp_path) as app:
            assert app.process.stdout is not None
            assert app.process.stdout.readline().split() == ["no-tray"]  # runs in its window for now
            with sni_host(xserver, bus):
                # The app looks for a tray every 4 s (TRAY_PROBE_MS) for two minutes.
                wait_for(
                    lambda: registered_item(bus, app.process.pid) is not None,
                    20,
                    "the late host got the item",
                )
                name, path = registered_item(bus, app.process.pid) or ("", "")
                wait_for(
                    lambda: pixmap_level(property_of(bus, name, path, ITEM, "IconPixmap")) is Level.OK,
                    10,
                    "the adopted icon is green",
                )
