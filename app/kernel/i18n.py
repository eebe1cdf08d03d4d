"""Bilingual text for the Qt-free layers.

Domain strings (indicator labels, monitor messages) are declared next to the
code that produces them as :class:`Text` pairs, so a new monitor brings its own
Chinese and English in its one file.  The Qt layer translates its own chrome
through Qt's ``.ts``/``.qm`` catalogue; both follow :func:`current_language`.
"""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass
from typing import Any

#: Languages Deskwatch speaks, in the form used by config and Qt (``zh_CN``, ``en``).
LANGUAGES: tuple[str, ...] = ("zh_CN", "en")

_override: str | None = None


def system_language() -> str:
    """Return ``zh_CN`` when the system locale is Chinese, otherwise ``en``."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:  # malformed locale settings must not stop the app
        code = ""
    # Windows reports e.g. "Chinese (Simplified)_China".
    return "zh_CN" if code.lower().startswith(("zh", "chinese")) else "en"


def set_language(language: str | None) -> None:
    """Force a language (``zh_CN``/``en``); ``None`` or ``auto`` follows the system."""
    global _override
    _override = None if language in (None, "", "auto") else language


def current_language() -> str:
    """The language in force: the configured override, else the system's."""
    return _override or system_language()


@dataclass(frozen=True)
class Text:
    """A user-visible string in English and Simplified Chinese."""

    en: str
    zh: str

    def __call__(self, language: str | None = None) -> str:
        """Render in ``language`` (default: the current language)."""
        lang = language or current_language()
        return self.zh if lang.startswith("zh") else self.en

    def __str__(self) -> str:
        return self()

    def format(self, **values: Any) -> Text:
        """Fill ``{placeholders}`` in both languages.

        A value that is itself a :class:`Text` is rendered in the matching
        language, so messages can nest translated names.
        """

        def fill(template: str, lang: str) -> str:
            rendered = {k: (v(lang) if isinstance(v, Text) else v) for k, v in values.items()}
            return template.format(**rendered)

        return Text(fill(self.en, "en"), fill(self.zh, "zh_CN"))

    def to_dict(self) -> dict[str, str]:
        """Plain form for JSON and the history database."""
        return {"en": self.en, "zh_CN": self.zh}

    @classmethod
    def from_dict(cls, data: dict[str, str] | None) -> Text | None:
        """Inverse of :meth:`to_dict`; ``None`` passes through."""
        if not data:
            return None
        return cls(data.get("en", ""), data.get("zh_CN", data.get("en", "")))

    @classmethod
    def same(cls, text: str) -> Text:
        """A string that reads the same in both languages (names, numbers)."""
        return cls(text, text)
