"""The one level palette: the colour of each level, for the windows and for the HTML/SVG reports.

Plain hex strings, so the Qt-free reports and the Qt windows (``app.ui.theme``)
paint a level in the same colour.
"""

from __future__ import annotations

from app.kernel.model import Level

#: Level colours: calm green, amber, red, grey for "we do not know", pale grey for "not set up".
LEVEL_COLOURS: dict[Level, str] = {
    Level.OK: "#2e9d5b",
    Level.WARNING: "#e0a100",
    Level.CRITICAL: "#d63b3b",
    Level.UNKNOWN: "#8a94a3",
    Level.NOT_SET_UP: "#b8bec8",
}
#: Light tints of the level colours for card headers and table rows.
LEVEL_TINTS: dict[Level, str] = {
    Level.OK: "#e8f5ed",
    Level.WARNING: "#fff5d6",
    Level.CRITICAL: "#fde7e7",
    Level.UNKNOWN: "#eef0f3",
    Level.NOT_SET_UP: "#f4f5f7",
}
