"""Real services for the fleet tests: a headless Deskwatch with its exporter, and Prometheus scraping it.

Both run on loopback ports in temporary folders for the whole session and are
stopped at the end.  A missing binary fails the tests (CI installs it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.services import check_config, wait_ready

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "resources" / "prometheus" / "deskwatch-rules.yml"
#: A program no machine runs: requiring it makes the computer check fail.
MISSING_PROGRAM = "deskwatch-test-missing-crm"


def require(binary: str) -> str:
    """Path of ``binary``, or a failure that says how to get it."""
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} is not installed; run ./.ci/bootstrap test to install it", pytrace=False)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 2.0) -> str:
    """GET ``url`` and return the body as text."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        # An HTTPError holds the open response: close it now, or its socket is
        # reported unclosed (an error under -W error) in whichever test runs next.
        error.close()
        raise


def wait_for(
    predicate: Callable[[], Any],
    what: str,
    timeout: float = 20.0,
    proc: subprocess.Popen[bytes] | None = None,
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: process exited with {proc.returncode}", pytrace=False)
        try:
            value = predicate()
            if value:
                return value
        except (OSError, urllib.error.URLError, ValueError, KeyError) as exc:
            last_error = exc
        time.sleep(0.2)
    pytest.fail(f"{what}: not ready after {timeout} s (last error: {last_error})", pytrace=False)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it does not go within 10 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def deskwatch_command(*args: str) -> list[str]:
    """The ``deskwatch`` CLI run with this interpreter from the checkout."""
    return [sys.executable, "-m", "app.cli", *args]


def only_monitors(*wanted: str) -> str:
    """Config lines switching off every discovered monitor except ``wanted``.

    Other areas' monitors need their own services, which their tests start;
    the fleet tests pin the set so a new monitor does not change their outcome.
    """
    import monitors

    return "".join(
        f"[monitors.{mid}]\nenabled = false\n\n" for mid in monitors.discover() if mid not in wanted
    )


@dataclass
class RunningDeskwatch:
    """A ``deskwatch run --headless`` process with its exporter."""

    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    textfile: Path
    log: Path

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"


@pytest.fixture(scope="session")
def deskwatch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDeskwatch]:
    """Deskwatch headless, exporter on a free loopback port, one required program missing."""
    base = tmp_path_factory.mktemp("deskwatch-headless")
    port = free_port()
    textfile = base / "textfile" / "deskwatch.prom"
    config = base / "deskwatch.toml"
    config.write_text(
        f"""
[exporter]
enabled = true
port = {port}
textfile = "{textfile}"
textfile_interval = 1.0

[monitors.computer]
interval = 1.0
slow_interval = 1.0
required_processes = ["{MISSING_PROGRAM}"]

"""
        + only_monitors("computer"),
        "utf-8",
    )
    log = base / "deskwatch.log"
    env = {**os.environ, "LANG": "en_US.UTF-8"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            deskwatch_command("run", "--headless", "--config", str(config), "--data-dir", str(base / "data")),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = RunningDeskwatch(proc, port, base / "data", textfile, log)
    try:
        wait_ready(
            "deskwatch exporter",
            lambda: "deskwatch_computer_cpu_ratio" in http_get(running.metrics_url),
            process=proc,
            logs=[log],
            timeout=20,
        )
        yield running
    finally:
        stop(proc)


@dataclass
class RunningPrometheus:
    """A private Prometheus server."""

    proc: subprocess.Popen[bytes]
    port: int

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query through the HTTP API; returns the result vector."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        body = json.loads(http_get(url))
        if body.get("status") != "success":
            raise ValueError(f"query {expr!r} failed: {body}")
        return list(body["data"]["result"])

    def wait_query(self, expr: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Query until the result is not empty."""
        return list(wait_for(lambda: self.query(expr), f"Prometheus query {expr!r}", timeout, self.proc))

    def rule_state(self, name: str) -> str | None:
        """``inactive``, ``pending`` or ``firing`` once the rule's group has been evaluated, else None."""
        body = json.loads(http_get(f"http://127.0.0.1:{self.port}/api/v1/rules"))
        for group in body["data"]["groups"]:
            for rule in group["rules"]:
                if rule["name"] == name and not group["lastEvaluation"].startswith("0001"):
                    return str(rule["state"])
        return None


@contextlib.contextmanager
def service(
    what: str, command: list[str], base: Path, ready: Callable[[], object], timeout: float = 20.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` in ``base`` (its log there too) until the block ends; ready when ``ready()`` is."""
    log = base / f"{what}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=base, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(what, ready, process=proc, logs=[log], timeout=timeout)
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def prometheus_server(base: Path, config_text: str, *flags: str) -> Iterator[RunningPrometheus]:
    """A private Prometheus on a free loopback port with this configuration (checked by promtool first)."""
    binary = require("prometheus")
    config = base / "prometheus.yml"
    config.write_text(config_text, "utf-8")
    # promtool also checks the rule files the config names.
    check_config("prometheus", [require("promtool"), "check", "config", str(config)])
    port = free_port()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={base / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        *flags,
    ]

    def ready() -> bool:
        return "Ready" in http_get(f"http://127.0.0.1:{port}/-/ready")

    with service("prometheus", command, base, ready, timeout=30) as proc:
        yield RunningPrometheus(proc, port)


@pytest.fixture(scope="session")
def prometheus(
    deskwatch: RunningDeskwatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPrometheus]:
    """Prometheus scraping the headless Deskwatch every second, with the shipped rules loaded."""
    config = f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {json.dumps(str(RULES))}
scrape_configs:
  - job_name: deskwatch
    static_configs:
      - targets: ["127.0.0.1:{deskwatch.port}"]
        labels:
          room: "3F-east"
"""
    with prometheus_server(
        tmp_path_factory.mktemp("prometheus"), config, "--web.enable-lifecycle"
    ) as running:
        yield running
