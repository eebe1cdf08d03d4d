"""Fixtures for the core services' tests that need a real component."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def print_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A private cupsd (the printer tests' fault-injecting one) with one working queue: (server, queue)."""
    from tests.printer.conftest import PrivateCups

    cups = PrivateCups(tmp_path_factory.mktemp("fleet-cups"))
    cups.start()
    try:
        yield cups.server, cups.add_queue("fleet")
    finally:
        cups.stop()
