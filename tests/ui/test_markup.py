"""The tray app's own markup escape is the standard library's ``html.escape``, without its entity tables."""

from __future__ import annotations

import html

from hypothesis import given
from hypothesis import strategies as st

from app.ui.markup import escape


@given(st.text(alphabet=st.sampled_from("&<>\"'a;#x 中\n")), st.booleans())
def test_escape_is_html_escape(text: str, quote: bool) -> None:
    assert escape(text, quote) == html.escape(text, quote)


def test_examples() -> None:
    assert escape('<b>"R&D" 5 > 3</b>') == "&lt;b&gt;&quot;R&amp;D&quot; 5 &gt; 3&lt;/b&gt;"
    assert escape("it's <1>", quote=False) == "it's &lt;1&gt;"
