"""The site file: a layer between the shipped defaults and the user's file, and its locks.

Real files in temporary XDG folders, found the way Deskwatch finds them
(``$XDG_CONFIG_DIRS``, which the suite's autouse fixture points at an empty folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import monitors
from app.core.config import (
    Config,
    Origin,
    check_file_notes,
    format_key,
    load_config,
    parse_key,
)
from app.kernel.monitor import Monitor

CLASSES: dict[str, type[Monitor]] = monitors.discover()
DISK = "computer.disk_free_system"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def load(user_file: Path) -> Config:
    return load_config(CLASSES, user_file)


def test_site_file_sits_between_shipped_defaults_and_the_user(site_file: Path, user_file: Path) -> None:
    write(
        site_file,
        '[alerts]\nit_email = "it@example.cn"\nsounds = true\n[monitors.telephone]\npbx_port = 5070\n',
    )
    write(user_file, "[alerts]\nsounds = false\n")
    config = load(user_file)
    assert config.site_path == site_file
    assert config.get("alerts", "it_email") == "it@example.cn"
    assert config.get("alerts", "sounds") is False  # not locked: the user's file wins
    assert config.monitor("telephone")["pbx_port"] == 5070
    assert config.origin(("alerts", "it_email")) == Origin("site", str(site_file))
    assert config.origin(("alerts", "sounds")) == Origin("user", str(user_file))
    assert config.origin(("monitors", "telephone", "pbx_port")) == Origin("site", str(site_file))
    assert config.origin(("history", "retention_days")).layer == "default"  # the shipped file
    assert config.origin(("alerts", "it_email")) != config.origin(("monitors", "telephone", "pbx_host"))
    assert config.origin(("monitors", "telephone", "pbx_host")) == Origin("default", "")
    assert config.errors == [] and config.notices == []


def test_a_locked_key_in_the_user_file_is_ignored_and_the_notice_names_the_lock(
    site_file: Path, user_file: Path
) -> None:
    write(
        site_file,
        'locked = ["monitors.telephone.pbx_host", "exporter"]\n'
        '[monitors.telephone]\npbx_host = "pbx.corp.example"\n[exporter]\nenabled = true\n',
    )
    write(
        user_file, '[monitors.telephone]\npbx_host = "10.9.9.9"\npbx_port = 5080\n[exporter]\nport = 1234\n'
    )
    config = load(user_file)
    assert config.monitor("telephone")["pbx_host"] == "pbx.corp.example"
    assert config.monitor("telephone")["pbx_port"] == 5080  # the same section's other keys are the user's
    # A locked section holds also what the site file leaves at the default.
    assert config.get("exporter", "port") == 9858 and config.get("exporter", "enabled") is True
    assert config.errors == []
    notes = {n.key: n for n in config.notices}
    assert set(notes) == {"monitors.telephone.pbx_host", "exporter.port"}
    pbx = notes["monitors.telephone.pbx_host"]
    assert pbx.file == str(user_file)
    text = str(pbx)
    assert text.startswith(f"{user_file}: monitors.telephone.pbx_host: ignored: locked by your IT department")
    assert f"lock monitors.telephone.pbx_host in the site file {site_file}" in text
    assert "in force: 'pbx.corp.example'" in text
    assert f"lock exporter in the site file {site_file}" in str(notes["exporter.port"])
    assert config.lock_for(("exporter", "address")) == ("exporter",)
    assert config.lock_for(("monitors", "telephone", "pbx_port")) is None


def test_locks_cover_thresholds_and_keys_that_moved(site_file: Path, user_file: Path) -> None:
    write(
        site_file,
        f"locked = ['indicators.\"{DISK}\".warning', 'indicators.\"environment.temperature\"']\n"
        f'[indicators."{DISK}"]\nwarning = 20.0\nwarning_clear = 22.0\n',
    )
    # The environment's seasonal ranges moved to [indicators]; the old place is read and still locked.
    write(
        user_file,
        f'[indicators."{DISK}"]\nwarning = 15.0\ncritical = 4.0\n'
        "[monitors.environment]\nsummer_temperature_max = 31.0\n",
    )
    config = load(user_file)
    th = config.thresholds[DISK]
    assert (th.value("warning"), th.value("critical")) == (20.0, 4.0)
    assert config.origin(("indicators", DISK, "critical")) == Origin("user", str(user_file))
    assert config.thresholds["environment.temperature"].value("summer_high") == 28.0
    keys = [n.key for n in config.notices]
    assert f'indicators."{DISK}".warning' in keys
    assert "monitors.environment.summer_temperature_max" in keys  # "has moved to …"
    assert 'indicators."environment.temperature".summer_high' in keys  # … and that place is locked


def test_a_lock_on_a_moved_key_locks_its_new_place(site_file: Path, user_file: Path) -> None:
    write(site_file, 'locked = ["monitors.environment.summer_temperature_max"]\n')
    write(user_file, '[indicators."environment.temperature"]\nsummer_high = 30.0\n')
    config = load(user_file)
    assert config.thresholds["environment.temperature"].value("summer_high") == 28.0
    assert ("indicators", "environment.temperature", "summer_high") in config.locks
    assert any("has moved to" in n.message and n.file == str(site_file) for n in config.notices)


def test_first_xdg_dir_wins_and_the_other_site_file_is_named(
    isolated_user_dirs: Path, monkeypatch: pytest.MonkeyPatch, user_file: Path
) -> None:
    first = write(isolated_user_dirs / "a" / "deskwatch" / "deskwatch.toml", '[alerts]\nit_email = "first"\n')
    second = write(
        isolated_user_dirs / "b" / "deskwatch" / "deskwatch.toml", '[alerts]\nit_email = "second"\n'
    )
    empty = isolated_user_dirs / "none"
    monkeypatch.setenv("XDG_CONFIG_DIRS", f"{empty}:{first.parents[1]}:{second.parents[1]}")
    config = load(user_file)
    assert config.site_path == first
    assert config.get("alerts", "it_email") == "first"
    assert [str(n) for n in config.notices] == [
        f"{second}: (file): not read: the site file {first} comes first"
    ]


def test_broken_site_file_is_skipped_whole_and_named(site_file: Path, user_file: Path) -> None:
    write(site_file, 'locked = ["exporter"\n[exporter]\nenabled = true\n')
    write(user_file, "[exporter]\nport = 9999\n")
    config = load(user_file)
    assert [(e.file, e.key) for e in config.errors] == [(str(site_file), "(file)")]
    assert "not valid TOML" in config.errors[0].message
    assert config.locks == {} and config.get("exporter", "port") == 9999
    assert config.get("exporter", "enabled") is False


def test_bad_keys_in_the_site_file_are_skipped_alone(site_file: Path, user_file: Path) -> None:
    write(
        site_file,
        'locked = ["exporter", "exportr", "monitors.telephone..x", 7]\n',
    )
    config = load(user_file)
    assert [(e.file, e.key) for e in config.errors] == [(str(site_file), "locked")]
    assert "must be a list of strings" in str(config.errors[0])
    write(
        site_file,
        'locked = ["exporter", "exportr", "monitors.telephone..x", "monitors.nosuch"]\n'
        '[exporter]\nenabled = true\nport = "high"\n[alerts]\nsounds = true\n',
    )
    write(user_file, "[exporter]\nport = 9999\n")
    config = load(user_file)
    errors = {e.key: str(e) for e in config.errors}
    assert set(errors) == {"locked[2]", "locked[3]", "locked[4]", "exporter.port"}
    assert all(text.startswith(f"{site_file}: ") for text in errors.values())
    assert "'exportr' names no setting or section (allowed: did you mean exporter" in errors["locked[2]"]
    assert "is not a dotted key" in errors["locked[3]"]
    assert "invalid value 'high'" in errors["exporter.port"]
    # What was right in the site file holds: its lock, its other values.
    assert config.locks == {("exporter",): "exporter"}
    assert config.get("exporter", "enabled") is True and config.get("alerts", "sounds") is True
    assert config.get("exporter", "port") == 9858


def test_only_the_site_file_can_lock(site_file: Path, user_file: Path) -> None:
    write(user_file, 'locked = ["alerts"]\n[alerts]\nsounds = true\n')
    config = load(user_file)
    assert [e.key for e in config.errors] == ["locked"]
    assert "only the site file can lock settings" in config.errors[0].message
    assert config.locks == {} and config.get("alerts", "sounds") is True


def test_an_unreadable_site_file_is_an_error_not_a_crash(site_file: Path, user_file: Path) -> None:
    write(site_file, "[alerts]\nsounds = true\n")
    site_file.chmod(0)
    try:
        if os.access(site_file, os.R_OK):  # root reads anything: make the path a folder instead
            site_file.chmod(0o644)
            site_file.unlink()
            site_file.mkdir()
        config = load(user_file)
    finally:
        if site_file.is_file():
            site_file.chmod(0o644)
    assert config.site_path == site_file
    assert [(e.file, e.key) for e in config.errors] == [(str(site_file), "(file)")]
    assert "cannot be read" in config.errors[0].message
    assert "every user can read" in config.errors[0].allowed
    assert config.get("alerts", "sounds") is False


def test_check_file_names_locks_under_the_site_file_and_checks_a_site_file(
    site_file: Path, user_file: Path
) -> None:
    write(site_file, 'locked = ["exporter", "alertz"]\n[exporter]\nenabled = true\n')
    write(user_file, "[exporter]\nenabled = false\n")
    alone = check_file_notes(CLASSES, user_file)
    assert alone == ([], [])  # on its own the file is fine
    errors, notices = check_file_notes(CLASSES, user_file, site_paths=[site_file])
    assert errors == []
    assert [n.key for n in notices] == ["exporter.enabled"]
    assert "in force: True" in notices[0].message
    errors, notices = check_file_notes(CLASSES, site_file, as_site=True)
    assert [e.key for e in errors] == ["locked[2]"] and errors[0].file == str(site_file)


def test_keys_read_and_written_the_same_way() -> None:
    for path in (("exporter",), ("monitors", "telephone", "pbx_host"), ("indicators", DISK, "warning")):
        assert parse_key(format_key(path)) == path
    assert format_key(("indicators", DISK)) == f'indicators."{DISK}"'
    assert parse_key("indicators.'a.b' . c") == ("indicators", "a.b", "c")
    for bad in ("", "a..b", "a b", '"open', "a.", "a = 1", "[exporter]"):
        assert parse_key(bad) is None


def test_the_readme_site_example_is_a_valid_site_file(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    start = readme.index("# /etc/xdg/deskwatch/deskwatch.toml")
    example = write(tmp_path / "site.toml", readme[start : readme.index("```", start)])
    assert check_file_notes(CLASSES, example, as_site=True) == ([], [])
    config = load_config(CLASSES, None, site_paths=[example])
    assert set(config.locks) == {("monitors", "telephone", "pbx_host"), ("exporter",), ("indicators", DISK)}
