"""A module imported on first use: for heavy libraries that modules loaded at monitor discovery need
only once a device is really read (numpy: about 13 MiB of objects and native libraries).

``np = lazy_import("numpy", globals())`` puts a stand-in under the name; the
first attribute taken from it imports the module and puts the real one under
that name in the same namespace, so later uses cost nothing extra.  For type
checkers the importer imports the module under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from collections.abc import MutableMapping
from typing import Any


class LazyModule:
    """Stands in for a module in an importer's namespace until an attribute is taken from it."""

    def __init__(self, name: str, namespace: MutableMapping[str, Any]) -> None:
        self._name = name
        self._namespace = namespace

    def __getattr__(self, attribute: str) -> Any:
        # Python's import lock makes concurrent first uses import the module once, fully.
        module = importlib.import_module(self._name)
        for key, value in list(self._namespace.items()):
            if value is self:
                self._namespace[key] = module
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def lazy_import(name: str, namespace: MutableMapping[str, Any]) -> Any:
    """A stand-in for module ``name``, to be bound to a name in ``namespace`` (the caller's ``globals()``)."""
    return LazyModule(name, namespace)
