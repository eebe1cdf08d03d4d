"""End to end: a seat's paper jam reaches a real Alertmanager through a real Prometheus, and resolves.

A headless Deskwatch watches a queue on the private cupsd and serves
``/metrics``; Prometheus scrapes it (the room's target carries
``room="3F-east"``, as the README's example) with the rules
``deskwatch export-rules`` generates and sends alerts to Alertmanager, whose
route picks the room's critical alerts by ``room`` and ``severity`` and
groups them by ``room`` and ``seat`` for a webhook receiver (a small HTTP
server in this test).  Every service runs on loopback from temporary
folders, and every configuration passes its own checker first
(``promtool check config``/``check rules``, ``amtool check-config``).

Intervals are short (scrape and evaluation 1 s, group wait and interval
1 s); waits are bounded polls with generous ceilings for a loaded machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.conftest import (
    ROOT,
    RunningPrometheus,
    deskwatch_command,
    free_port,
    http_get,
    only_monitors,
    prometheus_server,
    require,
    service,
    stop,
    wait_for,
)
from tests.printer.conftest import PrivateCups, cupsd, queue  # noqa: F401 - fixtures
from tests.services import check_config, wait_ready

ROOM = "3F-east"
#: What the rules make of the scrape target 127.0.0.1:<port> (no ``seat`` target label).
SEAT = "127.0.0.1"
RECEIVER = "room-3f-east"
#: Ceiling of each wait for a state to travel seat → Prometheus → Alertmanager (typically 3–10 s).
TRAVEL = 45.0


@dataclass
class Webhook:
    """An HTTP server on loopback that keeps every notification Alertmanager posts."""

    server: ThreadingHTTPServer
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/room"

    def notifications(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.received)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook: Webhook

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with hook.lock:
                hook.received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    hook = Webhook(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.server.shutdown()
        hook.server.server_close()
        thread.join(5)


@dataclass
class Seat:
    """A headless Deskwatch watching one printer queue, with its exporter."""

    proc: subprocess.Popen[bytes]
    port: int
    config: Path
    log: Path


@pytest.fixture
def seat(tmp_path: Path, cupsd: PrivateCups, queue: str) -> Iterator[Seat]:  # noqa: F811 - fixtures
    port = free_port()
    config = tmp_path / "seat" / "deskwatch.toml"
    config.parent.mkdir()
    config.write_text(
        f"""language = "en"
[exporter]
enabled = true
port = {port}

[monitors.printer]
interval = 0.5
server = "{cupsd.server}"
printers = ["{queue}"]

"""
        + only_monitors("printer"),
        "utf-8",
    )
    log = tmp_path / "seat" / "deskwatch.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            deskwatch_command(
                "run", "--headless", "--config", str(config), "--data-dir", str(tmp_path / "data")
            ),
            cwd=ROOT,
            env={**os.environ, "LANG": "en_US.UTF-8"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Seat(proc, port, config, log)
    try:
        wait_ready(
            "deskwatch seat",
            lambda: (
                f'indicator="printer.status",item="{queue}"' in http_get(f"http://127.0.0.1:{port}/metrics")
            ),
            process=proc,
            logs=[log],
            timeout=30,
        )
        yield running
    finally:
        stop(proc)


@dataclass
class Alertmanager:
    """A private Alertmanager (no cluster port)."""

    proc: subprocess.Popen[bytes]
    port: int
    config: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alerts(self) -> list[dict[str, Any]]:
        """Active, silenced and inhibited alerts from the API (resolved ones are not listed)."""
        return list(json.loads(http_get(f"{self.url}/api/v2/alerts")))

    def amtool(self, *args: str) -> str:
        done = subprocess.run(
            [require("amtool"), f"--alertmanager.url={self.url}", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


@pytest.fixture
def alertmanager(tmp_path: Path, webhook: Webhook) -> Iterator[Alertmanager]:
    binary = require("prometheus-alertmanager")
    base = tmp_path / "alertmanager"
    base.mkdir()
    config = base / "alertmanager.yml"
    config.write_text(
        f"""route:
  receiver: fallback
  group_by: [room, seat]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
  routes:
    - receiver: {RECEIVER}
      matchers: ['room="{ROOM}"', 'severity="critical"']
receivers:
  - name: fallback
  - name: {RECEIVER}
    webhook_configs:
      - url: {json.dumps(webhook.url)}
        send_resolved: true
""",
        "utf-8",
    )
    check_config("alertmanager", [require("amtool"), "check-config", str(config)])
    port = free_port()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.path={base / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # a single instance: no gossip port on 0.0.0.0:9094
    ]
    with service("alertmanager", command, base, lambda: http_get(f"http://127.0.0.1:{port}/-/ready")) as proc:
        yield Alertmanager(proc, port, config)


@pytest.fixture
def central(tmp_path: Path, seat: Seat, alertmanager: Alertmanager) -> Iterator[RunningPrometheus]:
    """The room's Prometheus: scrapes the seat, evaluates the generated rules, notifies Alertmanager."""
    base = tmp_path / "prometheus"
    base.mkdir()
    rules = base / "deskwatch-rules.yml"
    generated = subprocess.run(
        deskwatch_command("export-rules", "--config", str(seat.config), "--out", str(rules)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    check_config("rules", [require("promtool"), "check", "rules", str(rules)])
    config = f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {json.dumps(str(rules))}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{alertmanager.port}"]
scrape_configs:
  - job_name: deskwatch
    static_configs:
      - targets: ["127.0.0.1:{seat.port}"]
        labels: {{room: "{ROOM}"}}
"""
    # A firing alert is re-sent every 5 s and valid for 4 × 5 s: a busy machine's
    # slow evaluation does not let it lapse in Alertmanager.
    with prometheus_server(base, config, "--rules.alert.resend-delay=5s") as running:
        yield running


def _jam_alerts(alerts: list[dict[str, Any]], printer: str) -> list[dict[str, Any]]:
    return [
        a
        for a in alerts
        if a["labels"].get("alertname") == "DeskwatchDeviceCritical"
        and a["labels"].get("indicator") == "printer.status"
        and a["labels"].get("item") == printer
    ]


def _notified(hook: Webhook, status: str, printer: str) -> list[dict[str, Any]]:
    """The webhook notifications with ``status`` that hold the jam alert."""
    return [n for n in hook.notifications() if n["status"] == status and _jam_alerts(n["alerts"], printer)]


def test_alertmanager_routes_by_room_and_severity(alertmanager: Alertmanager) -> None:
    """The route, as Alertmanager's own tool reads it: the room's critical alerts go to the room."""

    def receiver(*labels: str) -> str:
        return alertmanager.amtool(
            "config", "routes", "test", f"--config.file={alertmanager.config}", *labels
        )

    assert receiver(f"room={ROOM}", "severity=critical", f"seat={SEAT}").strip() == RECEIVER
    assert receiver(f"room={ROOM}", "severity=warning", f"seat={SEAT}").strip() == "fallback"
    assert receiver("room=2F-west", "severity=critical", f"seat={SEAT}").strip() == "fallback"


def test_a_paper_jam_fires_in_alertmanager_with_seat_and_room_and_resolves(
    central: RunningPrometheus,
    alertmanager: Alertmanager,
    webhook: Webhook,
    cupsd: PrivateCups,  # noqa: F811 - the fixture
    queue: str,  # noqa: F811 - the fixture
) -> None:
    # Before the jam: scraped, judged OK, and nothing in Alertmanager (no false alarm).
    level = f'deskwatch_indicator_level{{indicator="printer.status", item="{queue}"}}'
    wait_for(
        lambda: [r for r in central.query(level) if r["value"][1] == "0"], "the seat scraped as OK", TRAVEL
    )
    wait_for(
        lambda: central.rule_state("DeskwatchDeviceCritical") == "inactive", "the rules evaluated", TRAVEL
    )
    assert _jam_alerts(alertmanager.alerts(), queue) == []

    cupsd.set_mode(queue, "jam")
    cupsd.submit(queue)
    (alert,) = wait_for(
        lambda: _jam_alerts(alertmanager.alerts(), queue),
        "the jam alert in Alertmanager",
        TRAVEL,
        alertmanager.proc,
    )
    labels = alert["labels"]
    assert (labels["room"], labels["seat"], labels["severity"]) == (ROOM, SEAT, "critical")
    assert (labels["device"], labels["job"]) == ("printer", "deskwatch")
    assert alert["status"]["state"] == "active"
    assert [r["name"] for r in alert["receivers"]] == [RECEIVER]  # routed on room and severity
    assert alert["annotations"]["summary"].startswith("printer: printer.status critical on 127.0.0.1:")

    # amtool reads the same alert.
    queried = json.loads(alertmanager.amtool("alert", "query", "-o", "json", f"item={queue}"))
    assert [(a["labels"]["alertname"], a["labels"]["seat"]) for a in queried] == [
        ("DeskwatchDeviceCritical", SEAT)
    ]

    # The room's receiver is notified once the group wait is over, grouped by room and seat.
    (firing, *_) = wait_for(lambda: _notified(webhook, "firing", queue), "the firing notification", TRAVEL)
    assert firing["receiver"] == RECEIVER
    assert firing["groupLabels"] == {"room": ROOM, "seat": SEAT}

    # The clerk clears the jam: the printer prints the held job, and the alert resolves.
    cupsd.set_mode(queue, "ok")
    subprocess.run(["cupsenable", queue], env=cupsd.env, check=True)
    wait_for(lambda: [r for r in central.query(level) if r["value"][1] == "0"], "the seat OK again", TRAVEL)
    wait_for(lambda: not _jam_alerts(alertmanager.alerts(), queue), "the alert to leave Alertmanager", TRAVEL)
    (resolved, *_) = wait_for(
        lambda: _notified(webhook, "resolved", queue), "the resolved notification", TRAVEL
    )
    (ended,) = _jam_alerts(resolved["alerts"], queue)
    assert ended["status"] == "resolved"
    assert not ended["endsAt"].startswith("0001")  # a real end time, not Go's zero time
    # The backend ran twice: the jam, then the same job printed once the queue was enabled.
    wait_for(lambda: cupsd.jobs_run(queue) == 2, "the held job to print", TRAVEL)
