"""Global options (--config, --data-dir, --lang, -v) work before and after every subcommand.

argparse copies a sub-parser's defaults over the main parser's values, which once made
``deskwatch --config F --data-dir D check`` silently read neither.  Each case here runs
the real command and looks for an effect of every option.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import build_parser
from tests.cli import run_deskwatch

#: Every subcommand with the arguments it needs to parse.
SUBCOMMANDS: list[list[str]] = [
    ["run"],
    ["check"],
    ["config", "check", "x.toml"],
    ["config", "path"],
    ["config", "show"],
    ["selftest"],
    ["report"],
    ["export-rules"],
]
GLOBALS = ["--config", "c.toml", "--data-dir", "d", "--lang", "zh_CN", "-v"]


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_parse_in_either_position(command: list[str], where: str) -> None:
    argv = [*GLOBALS, *command] if where == "before" else [*command, *GLOBALS]
    args = build_parser().parse_args(argv)
    assert args.config == Path("c.toml")
    assert args.data_dir == Path("d")
    assert args.lang == "zh_CN"
    assert args.verbose is True


def test_defaults_without_options() -> None:
    args = build_parser().parse_args(["check"])
    assert (args.config, args.data_dir, args.lang, args.verbose) == (None, None, None, False)


ONLY_COMPUTER = """
language = "en"
[monitors.telephone]
enabled = false
[monitors.headset]
enabled = false
[monitors.hearing]
enabled = false
[monitors.printer]
enabled = false
[monitors.recorder]
enabled = false
[monitors.environment]
enabled = false
[monitors.computer]
required_processes = ["no-such-program-deskwatch-test"]
"""


@pytest.mark.parametrize("where", ["before", "after"])
def test_check_reads_config_and_language_in_either_position(tmp_path: Path, where: str) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text(ONLY_COMPUTER, "utf-8")
    options = ["--config", str(config), "--data-dir", str(tmp_path / "data"), "--lang", "zh_CN"]
    argv = [*options, "check", "--json"] if where == "before" else ["check", "--json", *options]
    result = run_deskwatch(*argv)
    payload = json.loads(result.stdout)
    devices = {i["device"] for i in payload["indicators"]}
    # Only the config file switches the other monitors off …
    assert devices == {"computer"}, result.stderr
    # … only the config file asks for the missing program (a critical, exit 2) …
    missing = [i for i in payload["indicators"] if i["id"].startswith("computer.required_processes")]
    assert missing and missing[0]["level"] == "critical"
    assert result.returncode == 2
    # … and --lang beats the file's language.
    assert any("\u4e00" <= ch <= "\u9fff" for i in payload["indicators"] for ch in i["label"])


@pytest.mark.parametrize("where", ["before", "after"])
def test_report_reads_data_dir_in_either_position(tmp_path: Path, where: str) -> None:
    data = tmp_path / "elsewhere"
    argv = ["--data-dir", str(data), "report"] if where == "before" else ["report", "--data-dir", str(data)]
    result = run_deskwatch(*argv)
    assert result.returncode == 2
    assert str(data) in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_path_reads_config_in_either_position(tmp_path: Path, where: str) -> None:
    config = tmp_path / "mine.toml"
    argv = ["--config", str(config), "config", "path"]
    if where == "after":
        argv = ["config", "path", "--config", str(config)]
    result = run_deskwatch(*argv)
    assert result.stdout.strip() == str(config)
