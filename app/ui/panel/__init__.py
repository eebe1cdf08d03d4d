"""The status panel, split along its seams.

- :mod:`~app.ui.panel.widgets`: small widgets (the level chip, a label that shortens itself);
- :mod:`~app.ui.panel.cards`: a card per device group, its summary first
  (:mod:`app.core.summary`), a row per indicator when opened;
- :mod:`~app.ui.panel.detail`: one device's charts over a chosen range;
- :mod:`~app.ui.panel.window`: :class:`~app.ui.panel.window.StatusPanel`, the
  main window holding the cards, the detail view and the alert centre.

Everything reaches the app through the :class:`~app.ui.surface.Surface`.
"""
