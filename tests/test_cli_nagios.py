"""``deskwatch check --nagios`` on real checks: the computer, a jammed printer, no print server.

Every output is parsed with the strict Monitoring Plugins grammar of
``tests/core/test_nagios.py``, and the exit code must be the status word's.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psutil

from tests.cli import run_deskwatch
from tests.core.test_nagios import EXIT_CODE, PluginOutput, parse_plugin_output
from tests.printer.conftest import PrivateCups, cupsd, free_port, queue, wait_for  # noqa: F401 - fixtures

MISSING = "deskwatch-nagios-test-missing-crm"


def nagios_check(config: Path | None, *only: str) -> PluginOutput:
    """Run ``check --nagios`` like NRPE would; the output parsed, the exit code checked against it."""
    args = ["check", "--nagios", "--lang", "en", *(a for m in only for a in ("--only", m))]
    if config is not None:
        args += ["--config", str(config)]
    done = run_deskwatch(*args)
    out = parse_plugin_output(done.stdout)
    assert done.returncode == EXIT_CODE[out.status], (done.returncode, done.stdout, done.stderr)
    return out


def test_computer_check_follows_the_grammar() -> None:
    out = nagios_check(None, "computer")
    cpu = out.perfdata["computer.cpu"]
    assert cpu.uom == "%" and cpu.value is not None and 0.0 <= cpu.value <= 100.0
    assert (cpu.warn, cpu.crit) == ("@90:", "@98:")
    memory = out.perfdata["computer.memory_available"]
    expected = 100.0 * psutil.virtual_memory().available / psutil.virtual_memory().total
    assert memory.value is not None and abs(memory.value - expected) < 20.0
    assert memory.warn == "@~:15"
    assert all(
        line.split(":", 1)[0] in {*EXIT_CODE, "NOT SET UP", "NOT OBSERVED"} for line in out.long_output
    )


def test_a_missing_program_is_critical(tmp_path: Path) -> None:
    config = tmp_path / "deskwatch.toml"
    config.write_text(f'[monitors.computer]\nrequired_processes = ["{MISSING}"]\n', "utf-8")
    out = nagios_check(config, "computer")
    assert out.status == "CRITICAL"
    assert MISSING in out.summary
    assert f"CRITICAL: Computer — Required programs missing: 1 — Not running: {MISSING}" in out.long_output


def _printer_config(tmp_path: Path, server: str, printer: str) -> Path:
    config = tmp_path / "deskwatch.toml"
    config.write_text(f'[monitors.printer]\nserver = "{server}"\nprinters = ["{printer}"]\n', "utf-8")
    return config


def _queue_state(server: PrivateCups, name: str) -> str:
    return subprocess.run(["lpstat", "-p", name], env=server.env, capture_output=True, text=True).stdout


def test_a_jammed_printer_is_critical_and_ok_once_cleared(
    tmp_path: Path,
    cupsd: PrivateCups,  # noqa: F811 - the fixture
    queue: str,  # noqa: F811 - the fixture
) -> None:
    config = _printer_config(tmp_path, cupsd.server, queue)
    cupsd.set_mode(queue, "jam")
    cupsd.submit(queue)
    wait_for(lambda: "disabled" in _queue_state(cupsd, queue), 20, "the jam to stop the queue")

    out = nagios_check(config, "printer")
    assert out.status == "CRITICAL"
    assert out.summary.startswith(f"Printer — Printer status — {queue}: Paper jam")
    assert out.long_output[0].startswith(f"CRITICAL: Printer — Printer status — {queue}")
    waiting = out.perfdata[f"printer.queued_jobs[{queue}]"]
    assert (waiting.value, waiting.uom, waiting.warn, waiting.crit) == (1.0, "", "@5:", "@10:")
    assert out.perfdata[f"printer.oldest_job_age[{queue}]"].uom == "s"

    cupsd.set_mode(queue, "ok")
    subprocess.run(["cupsenable", queue], env=cupsd.env, check=True)
    wait_for(lambda: cupsd.jobs_run(queue) >= 2, 20, "the jammed job to print")
    wait_for(lambda: "idle" in _queue_state(cupsd, queue), 20, "the queue to be idle")
    deadline = time.monotonic() + 20
    while (out := nagios_check(config, "printer")).status != "OK" and time.monotonic() < deadline:
        time.sleep(0.5)  # CUPS may finish the job's bookkeeping a moment after the queue is idle
    assert out.status == "OK", out
    assert out.summary == "6 indicators observed, all normal"
    assert all(line.startswith("OK: Printer") for line in out.long_output)
    assert out.perfdata[f"printer.queued_jobs[{queue}]"].value == 0.0


def test_no_print_server_is_unknown_without_invented_values(tmp_path: Path) -> None:
    out = nagios_check(_printer_config(tmp_path, f"127.0.0.1:{free_port()}", "desk1"), "printer")
    assert out.status == "UNKNOWN"
    assert out.summary.startswith("Printer — Printer status — desk1: Print server CUPS 127.0.0.1:")
    assert "cannot be reached" in out.summary
    assert out.perfdata == {}  # nothing was observed: no readings, so no values (not zeros)


def test_nagios_and_json_exclude_each_other() -> None:
    done = run_deskwatch("check", "--nagios", "--json")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
