"""Where the site file is looked for, per platform (Windows faked through ``platform``/``environ``)."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

from app.kernel.paths import site_config_locations


def test_windows_reads_programdata() -> None:
    found = site_config_locations("win32", {"PROGRAMDATA": "D:\\ProgramData"})
    assert found == [PureWindowsPath("D:\\ProgramData\\deskwatch\\deskwatch.toml")]
    assert str(found[0]) == "D:\\ProgramData\\deskwatch\\deskwatch.toml"


def test_windows_without_programdata_falls_back_to_the_usual_folder() -> None:
    assert site_config_locations("win32", {}) == [
        PureWindowsPath("C:\\ProgramData\\deskwatch\\deskwatch.toml")
    ]
    assert site_config_locations("win32", {"ALLUSERSPROFILE": "E:\\All"}) == [
        PureWindowsPath("E:\\All\\deskwatch\\deskwatch.toml")
    ]


def test_xdg_config_dirs_in_order_most_important_first() -> None:
    found = site_config_locations("linux", {"XDG_CONFIG_DIRS": "/etc/xdg/xdg-ubuntu:/etc/xdg"})
    assert found == [
        PurePosixPath("/etc/xdg/xdg-ubuntu/deskwatch/deskwatch.toml"),
        PurePosixPath("/etc/xdg/deskwatch/deskwatch.toml"),
    ]


def test_xdg_default_when_unset_or_empty_and_relative_entries_ignored() -> None:
    default = [PurePosixPath("/etc/xdg/deskwatch/deskwatch.toml")]
    assert site_config_locations("linux", {}) == default
    assert site_config_locations("linux", {"XDG_CONFIG_DIRS": ""}) == default
    assert site_config_locations("linux", {"XDG_CONFIG_DIRS": "relative/dir::"}) == default
    assert site_config_locations("linux", {"XDG_CONFIG_DIRS": "rel:/opt/it::/opt/it"}) == [
        PurePosixPath("/opt/it/deskwatch/deskwatch.toml")
    ]


def test_macos_library() -> None:
    assert site_config_locations("darwin", {"XDG_CONFIG_DIRS": "/ignored"}) == [
        PurePosixPath("/Library/Application Support/deskwatch/deskwatch.toml")
    ]
