"""Where Deskwatch keeps its files: shipped resources, user config, user data."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "deskwatch"
CONFIG_FILE_NAME = "deskwatch.toml"


def resources_dir() -> Path:
    """The shipped ``resources/`` folder (next to the packages, in a checkout or a wheel)."""
    return Path(__file__).resolve().parents[2] / "resources"


def user_config_path() -> Path:
    """The user's TOML file (``$DESKWATCH_CONFIG`` overrides the platform default)."""
    override = os.environ.get("DESKWATCH_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / CONFIG_FILE_NAME


def user_data_dir() -> Path:
    """Folder for the history database and state files (``$DESKWATCH_DATA_DIR`` overrides)."""
    override = os.environ.get("DESKWATCH_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
