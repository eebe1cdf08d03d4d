"""Break reminders in the desktop app (the ``app.ui.breaks`` feature: :func:`install`).

* :mod:`~app.ui.breaks.windows` — the pre-break notice, the break windows, the quiet notice;
* :mod:`~app.ui.breaks.card` — the breaks card and its week chart;
* :mod:`~app.ui.breaks.controller` — keeps them in step with the runtime's break service.
"""

from app.ui.breaks.controller import BreaksController, install

__all__ = ["BreaksController", "install"]
