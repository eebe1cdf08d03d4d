"""What the ``deskwatch config`` commands print: the merged configuration and file checks.

``config show`` lists every setting in force with the layer it came from
(``default``, ``site`` or ``user``, with the file), as TOML that can be
pasted into a file, or as JSON.  ``config check`` validates the files in
force, or one file as a user's file (under the site file, so locked keys are
named) or as a site file.  The functions return text; the CLI prints it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.config import Config, ConfigError, KeyPath, check_file_notes, format_key, load_config
from app.kernel.monitor import Monitor

#: Comments start in this column when the value leaves room (wider values push them right).
COMMENT_COLUMN = 40


def toml_value(value: Any) -> str:
    """``value`` written as a TOML value (strings, numbers, booleans, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes (\\" \\\\ \\n \\uXXXX) are all TOML basic-string escapes too.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        pairs = (f"{format_key((str(k),))} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    raise TypeError(f"no TOML form for {value!r}")


@dataclass(frozen=True)
class Entry:
    """One setting in force: where it lives, its value, the layer it came from, and its lock."""

    path: KeyPath
    value: Any
    layer: str
    file: str
    lock: str | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``config show --json``."""
        return {
            "key": format_key(self.path),
            "path": list(self.path),
            "value": self.value,
            "layer": self.layer,
            "file": self.file or None,
            "locked": self.lock is not None,
            "lock": self.lock,
        }


def entries(config: Config) -> list[Entry]:
    """Every setting in force, in file order."""
    result = []
    for path in config.key_paths():
        origin = config.origin(path)
        lock = config.lock_for(path)
        result.append(
            Entry(
                path,
                config.value(path),
                origin.layer,
                origin.file,
                None if lock is None else config.locks[lock],
            )
        )
    return result


def show_json(config: Config) -> dict[str, Any]:
    """``config show --json``: the files, the locks, every setting with its layer, the problems."""
    user = config.user_path
    return {
        "files": {
            "default": str(config.shipped_path) if config.shipped_path else None,
            "site": str(config.site_path) if config.site_path else None,
            "site_search": [str(path) for path in config.site_search],
            "user": str(user) if user else None,
            "user_exists": bool(user and user.exists()),
        },
        "locked": list(config.locks.values()),
        "settings": [entry.to_dict() for entry in entries(config)],
        "errors": [str(error) for error in config.errors],
        "notices": [str(notice) for notice in config.notices],
    }


def show_text(config: Config) -> str:
    """``config show``: TOML of the configuration in force, each line's comment naming its layer."""
    user = config.user_path
    site = str(config.site_path) if config.site_path else "none (looked for " + _search(config) + ")"
    lines = [
        "# Deskwatch configuration in force; each value's comment says where it came from.",
        f"# default: declared by Deskwatch, or {config.shipped_path}",
        f"# site:    {site}",
        f"# user:    {user if user else 'none'}"
        + ("" if user is None or user.exists() else " (not created yet)"),
    ]
    if config.locks:
        lines.append("# locked by IT: " + ", ".join(config.locks.values()))
    section: KeyPath | None = None
    for entry in entries(config):
        here = entry.path[:-1]
        if here != section:
            section = here
            if here:
                lines += ["", f"[{format_key(here)}]"]
        key = format_key(entry.path[-1:])
        comment = f"{entry.layer}: {entry.file}" if entry.file else entry.layer
        if entry.lock is not None:
            comment += f" (locked: {entry.lock})"
        text = f"# {key} is not set" if entry.value is None else f"{key} = {toml_value(entry.value)}"
        lines.append(f"{text.ljust(COMMENT_COLUMN - 1)} # {comment}")
    if config.errors or config.notices:
        lines.append("")
        lines += [f"# error: {error}" for error in config.errors]
        lines += [f"# note: {notice}" for notice in config.notices]
    return "\n".join(lines) + "\n"


def _search(config: Config) -> str:
    return os.pathsep.join(str(path) for path in config.site_search) or "nowhere"


@dataclass
class CheckReport:
    """What ``config check`` prints, and its exit code (1 when any file has an error)."""

    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    failed: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every file checked is valid."""
        return 1 if self.failed else 0

    def add(self, file: str, errors: list[ConfigError], notices: list[ConfigError]) -> None:
        """One file's result: its notes and errors, then OK or the number of errors."""
        self.err += [f"note: {notice}" for notice in notices]
        self.err += [str(error) for error in errors]
        if errors:
            self.failed = True
            self.err.append(f"{file}: {len(errors)} error(s)")
        else:
            self.out.append(f"{file}: OK")


def check(
    monitor_classes: Mapping[str, type[Monitor]],
    file: Path | None,
    user_path: Path | None,
    *,
    as_site: bool = False,
) -> CheckReport:
    """``config check [FILE] [--site]``.

    Without ``file``: the site file and the user's file in force, as Deskwatch
    reads them.  ``file`` is checked as a site file with ``as_site`` or when it
    is the site file in force, otherwise as a user's file under the site file
    in force (its keys that IT locked are named).
    """
    report = CheckReport()
    config = load_config(monitor_classes, user_path)
    if file is None:
        for path in (config.site_path, user_path):
            if path is not None and (path == config.site_path or path.exists()):
                ours = str(path)
                report.add(
                    ours,
                    [e for e in config.errors if e.file == ours],
                    [n for n in config.notices if n.file == ours],
                )
        checked = (str(config.site_path), str(user_path))
        report.err += [f"note: {n}" for n in config.notices if n.file not in checked]  # shadowed site files
        others = [e for e in config.errors if e.file not in checked]
        if others:  # the shipped defaults (a broken installation)
            report.add(others[0].file, others, [])
        if not report.out and not report.err:
            report.out.append("no site file and no user file: Deskwatch runs on its defaults")
        return report
    in_force = config.site_path is not None and _same_file(file, config.site_path)
    if as_site or in_force:
        errors, notices = check_file_notes(monitor_classes, file, as_site=True)
    else:
        errors, notices = check_file_notes(monitor_classes, file, site_paths=config.site_search)
    report.add(str(file), errors, notices)
    return report


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return a == b
