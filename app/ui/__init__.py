"""The Qt edge: tray, windows, and the glue that brings engine events to the GUI thread.

Importing this package loads PySide6 and makes one change to how it watches
imports (:func:`_read_sources_without_caching`), before any other module of
the app is imported after Qt.
"""

from __future__ import annotations

import linecache
import logging
import sys
from types import ModuleType

import PySide6.QtCore  # noqa: F401  (installs PySide6's import hook, which is adjusted below)

log = logging.getLogger(__name__)


def _uses_pyside(module: ModuleType) -> bool:
    """Whether a module's source file names PySide6 — read once, never cached.

    PySide6 asks this of every module imported after it (for its optional
    ``__feature__`` switches, which Deskwatch never turns on) and answers it
    with ``inspect.getsource``, which keeps every source file in
    ``linecache`` for good: some 300 files, 12 MiB of lines, about a tenth
    of the tray app's memory, plus the time to split them into lines.  The
    same question, answered from the file's bytes, costs neither.
    """
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None)
    if not isinstance(origin, str) or not origin.endswith(".py"):
        return False  # built-in, extension or source-less module: PySide6 says False too
    try:
        with open(origin, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return False


def _read_sources_without_caching() -> None:
    """Swap PySide6's source check for :func:`_uses_pyside` (a no-op where PySide6 has none)."""
    feature = sys.modules.get("PySide6.support.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        setattr(feature, "_mod_uses_pyside", _uses_pyside)  # noqa: B010  (a private name of PySide6)
        # What PySide6 read before the swap stays cached otherwise: its own ``__init__`` files and
        # ``enum.py``, about 0.2 MiB of lines; a traceback reads them again if it ever needs them.
        linecache.clearcache()
    else:  # a PySide6 that changed its internals: memory grows, nothing breaks
        log.debug("PySide6 has no _mod_uses_pyside; its source check is left as it is")


_read_sources_without_caching()
