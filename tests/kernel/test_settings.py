"""Settings that hold a list of tables (``[[monitors.<id>.<key>]]``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from app.core.config import load_config
from app.kernel.i18n import Text
from app.kernel.model import Device, Reading
from app.kernel.monitor import Monitor
from app.kernel.settings import Setting


def _needs_host_or_path(table: Mapping[str, Any]) -> str | None:
    return None if table.get("host") or table.get("path") else "set host or path"


ITEMS = Setting(
    "items",
    [],
    Text("Items", "项目"),
    type=list,
    fields=(
        Setting("host", "", Text("Host", "主机")),
        Setting("path", "", Text("Path", "路径")),
        Setting("port", 1, Text("Port", "端口"), minimum=1, maximum=65535),
    ),
    check_table=_needs_host_or_path,
)


class TableMonitor(Monitor):
    id = "tables"
    device = Device.COMPUTER
    title = Text("Tables", "表")
    indicators = ()
    settings: ClassVar[tuple[Setting, ...]] = (ITEMS,)

    def poll(self) -> list[Reading]:
        return []


def test_tables_keep_their_valid_keys_and_report_the_rest() -> None:
    tables, problems = ITEMS.coerce_tables([{"host": "a", "port": 0}, {"port": 5}, {"path": "p", "x": 1}])
    assert tables == [{"host": "a"}, {"port": 5}, {"path": "p"}]
    assert problems == [
        ("[1].port", "invalid value 0", "a whole number from 1 to 65535"),
        ("[2]", "set host or path", ""),
        ("[3].x", "unknown key", "one of host, path, port"),
    ]
    assert ITEMS.coerce([{"host": "a"}]) == [{"host": "a"}]
    with pytest.raises(ValueError):
        ITEMS.coerce([{"port": 5}])
    assert ITEMS.allowed() == "a list of tables ([[…items]]) with keys host, path, port"


def test_config_file_errors_name_the_table(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[monitors.tables.items]]\nhost = "h"\n[[monitors.tables.items]]\nport = "x"\n', "utf-8")
    config = load_config({"tables": TableMonitor}, path, shipped_path=Path("/nonexistent"))
    assert [str(e) for e in config.errors] == [
        f"{path}: monitors.tables.items[2].port: invalid value 'x' (allowed: a whole number from 1 to 65535)",
        f"{path}: monitors.tables.items[2]: set host or path",
    ]
    assert config.monitor("tables")["items"] == [{"host": "h"}, {}]
    path.write_text("[monitors.tables]\nitems = 3\n", "utf-8")
    config = load_config({"tables": TableMonitor}, path, shipped_path=Path("/nonexistent"))
    assert config.monitor("tables")["items"] == []  # the default stays in force
    assert "items: invalid value 3" in str(config.errors[0])
