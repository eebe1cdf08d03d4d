"""Plain text escaped for Qt's rich text and for notification servers' body markup (a subset of HTML).

The same as the standard library's ``html.escape``, without importing
``html``: that package loads its entity tables (0.3 MiB resident in the tray
app) for ``unescape``, which Deskwatch never calls.
"""

from __future__ import annotations


def escape(text: str, quote: bool = True) -> str:
    """``&``, ``<`` and ``>`` (and with ``quote`` both quote marks) as character references."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("'", "&#x27;")
    return text
