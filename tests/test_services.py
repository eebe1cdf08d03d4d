"""The test services' configurations pass their own validators, and a refused one says why at once."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.printer.conftest import PrivateCups
from tests.services import ServiceError, check_config, require
from tests.telephone.conftest import start_sipp
from tests.xserver import xvfb


def test_the_private_cupsd_configuration_passes_cupsd_t(tmp_path: Path) -> None:
    cups = PrivateCups(tmp_path)
    output = check_config("cupsd", ["cupsd", "-t", *cups.config_files])
    assert 'cupsd.conf" is OK' in output and 'cups-files.conf" is OK' in output


def test_a_refused_cupsd_directive_is_quoted_before_cupsd_starts(tmp_path: Path) -> None:
    cups = PrivateCups(tmp_path)
    conf = tmp_path / "cupsd.conf"
    conf.write_text(conf.read_text("utf-8") + "NoSuchDirective yes\n", "utf-8")
    with pytest.raises(ServiceError) as refused:
        cups.start()
    message = str(refused.value)
    assert "configuration refused by `cupsd -t" in message
    assert "Unknown directive NoSuchDirective on line" in message
    assert cups.proc is None  # never started


def test_promtool_refusals_are_quoted(tmp_path: Path) -> None:
    promtool = require("promtool", "prometheus")
    config = tmp_path / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: soon\n", "utf-8")
    with pytest.raises(ServiceError, match=r"(?s)prometheus: configuration refused.*soon"):
        check_config("prometheus", [promtool, "check", "config", str(config)])
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up ==\n", "utf-8")
    with pytest.raises(ServiceError, match=r"(?s)rules: configuration refused.*parse error"):
        check_config("rules", [promtool, "check", "rules", str(rules)])


def test_a_broken_sipp_scenario_fails_with_the_parser_position(tmp_path: Path) -> None:
    # "]]>" in the reply ends the scenario's CDATA section early: not XML any more.
    with pytest.raises(ServiceError, match=r"sipp scenario: .* is not valid XML: .*line \d+, column \d+"):
        start_sipp(tmp_path, reply="200 ]]> OK")
    # Refused before SIPp ran: no process was started on the scenario.
    assert not [
        p for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]


def test_a_server_that_exits_at_start_is_quoted_with_its_stderr() -> None:
    with pytest.raises(ServiceError) as failed, xvfb(False, "not-a-geometry"):
        pass
    message = str(failed.value)
    assert "Xvfb exited with 1 before announcing its display" in message
    assert "Invalid screen configuration not-a-geometry" in message
