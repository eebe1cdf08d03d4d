"""Keyboard and assistive-technology helpers shared by the windows.

A mnemonic (``&Skip``, ``跳过(&S)``) is the one place a button's key is
written; :func:`mnemonic_key` reads it back so the tooltip can say
"Alt+S" in whichever language the text is in, and :func:`label` sets
text, tooltip and accessible name together so they cannot disagree.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractButton, QWidget


def mnemonic_key(text: str) -> str | None:
    """The Alt key a ``&``-mnemonic in ``text`` gives ("Alt+S"), or ``None`` without one."""
    sequence = QKeySequence.mnemonic(text)
    return sequence.toString(QKeySequence.SequenceFormat.NativeText) or None


def plain(text: str) -> str:
    """``text`` without its mnemonic marker, as a screen reader should say it."""
    # "跳过(&S)": the bracketed key is only there for the mnemonic; "Start &now": just the marker.
    text = re.sub(r"\s*\(&[^&)]\)", "", text)
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def with_key(text: str, key: str | None) -> str:
    """``text (Ctrl+2)``: a tooltip that names the key."""
    return f"{text} ({key})" if key else text


def label(button: QAbstractButton, text: str, tip: str = "") -> None:
    """Set a button's text (with its mnemonic), a tooltip naming the key, and its accessible name."""
    button.setText(text)
    key = mnemonic_key(text)
    button.setToolTip(with_key(tip or plain(text), key))
    button.setAccessibleName(plain(text))
    if tip:
        button.setAccessibleDescription(tip)


def name(widget: QWidget, accessible_name: str, description: str = "") -> None:
    """Name a widget for a screen reader (and describe it, when there is more to say)."""
    widget.setAccessibleName(accessible_name)
    if description:
        widget.setAccessibleDescription(description)
