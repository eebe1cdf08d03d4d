"""The fault suite reuses the device areas' real services."""

from tests.printer.conftest import cupsd  # noqa: F401 - the session's private cupsd
