"""Loads Qt translation catalogues: Deskwatch's own ``.qm`` and Qt's for standard dialogs."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from app.kernel.paths import resources_dir

log = logging.getLogger(__name__)

I18N_DIR = resources_dir() / "i18n"
CATALOGUE = "deskwatch"


def catalogue_path(language: str) -> Path:
    """The compiled catalogue for ``language`` (``resources/i18n/deskwatch_zh_CN.qm``)."""
    return I18N_DIR / f"{CATALOGUE}_{language}.qm"


class Translations:
    """Installs and swaps translators when the language changes at run time."""

    def __init__(self) -> None:
        self._installed: list[QTranslator] = []
        self.language = "en"

    def install(self, language: str) -> bool:
        """Use ``language``; returns False when its catalogue is missing (English is then shown)."""
        app = QCoreApplication.instance()
        assert app is not None
        for translator in self._installed:
            app.removeTranslator(translator)
        self._installed.clear()
        self.language = language
        QLocale.setDefault(QLocale(language))
        if language.startswith("en"):
            return True  # the source strings are English
        ours = QTranslator(app)
        ok = ours.load(str(catalogue_path(language)))
        if ok:
            app.installTranslator(ours)
            self._installed.append(ours)
        else:
            log.warning("no translation catalogue for %s at %s", language, catalogue_path(language))
        qt_own = QTranslator(app)
        if qt_own.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt_own)
            self._installed.append(qt_own)
        return ok
