"""Screenshots of every window in both languages (``./.ci/bootstrap screenshots``).

Each ``tests/screenshots/shots_<name>.py`` module defines ``take(outdir: Path,
lang: str) -> None`` and writes its PNGs into ``outdir``.  The runner starts
one real X server with a tray (Xvfb + trayer) and runs every module once per
language in its own process on that display, so modules cannot disturb each
other and each gets a fresh ``QApplication``.  Helpers for modules:
:func:`qt_app` (a QApplication in the right language and style) and
:func:`settle` (let windows lay out and paint before grabbing them).
"""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "screenshots"
LANGUAGES = ("zh_CN", "en")
SCREEN_SIZE = "1600x1200x24"


def qt_app(lang: str):  # type: ignore[no-untyped-def]
    """The process's QApplication, set up for ``lang`` like the real app does."""
    from PySide6.QtWidgets import QApplication

    from app.kernel import i18n
    from app.ui.theme import apply_style
    from app.ui.translations import Translations

    app = QApplication.instance() or QApplication(["deskwatch-screenshots"])
    i18n.set_language(lang)
    translations = Translations()
    translations.install(lang)
    app._deskwatch_translations = translations  # keep the translators alive
    apply_style(app, lang)
    return app


def settle(seconds: float = 0.4) -> None:
    """Process events for a while so layouts, timers and background loads finish."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
