"""Text from outside, made safe where it is parsed: no control characters, bounded length.

A SIP reason phrase, a printer's state message or a job name comes from a
peer Deskwatch does not control.  Shown raw, ESC sequences would repaint the
clerk's terminal, a CR would hide the start of a log line, a NUL would cut a
C string and a 60 KB phrase would flood the table, the log and the history.
:func:`clean_text` is applied once, at the parsing boundary, so everything
after it can treat the text as plain.
"""

from __future__ import annotations

import unicodedata

#: Longest peer text kept (characters); a longer one is cut and ends with "…".
MAX_TEXT = 200
#: Unicode categories dropped: controls, format characters (bidi overrides,
#: zero-width joiners), lone surrogates, private use and unassigned code points.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def clean_text(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as a printable one-line string of at most ``limit`` characters.

    Tabs, line breaks and other whitespace controls become one space; every
    other control or format character is removed; runs of spaces collapse.
    """
    text = value if isinstance(value, str) else str(value)
    # Bound the work first: a hostile peer may send far more than we keep.
    text = text[: limit * 4]
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
        elif unicodedata.category(ch) not in _DROPPED:
            out.append(ch)
    cleaned = "".join(out).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def decode_text(data: bytes, limit: int = MAX_TEXT) -> str:
    """Bytes from a peer (UTF-8 expected, anything tolerated) as :func:`clean_text`."""
    return clean_text(data[: limit * 8].decode("utf-8", "replace"), limit)
