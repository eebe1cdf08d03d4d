"""Break state on ``/metrics``: ``deskwatch run --headless`` with the exporter on (a real process)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app.core.breaks import STATE_KEY, BreakPlan, BreakRule, BreakService, BreakSettings
from app.core.engine import Engine
from app.core.exporter import Exporter
from app.core.history import History
from app.core.runtime import HISTORY_FILE
from app.kernel.callstate import CallState
from tests.breaks.sim import MONDAY_9AM, FakeSource
from tests.cli import ROOT
from tests.conftest import FakeClock
from tests.core.fakes import fake_config
from tests.fleet.conftest import deskwatch_command, free_port, http_get, only_monitors, stop
from tests.services import wait_ready


def _samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_headless_exports_break_state(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "deskwatch.toml"
    config.write_text(
        f'[exporter]\nenabled = true\nport = {port}\n\n[breaks]\nactivity_source = "none"\n\n'
        + only_monitors(),
        "utf-8",
    )
    log = tmp_path / "deskwatch.log"
    url = f"http://127.0.0.1:{port}/metrics"
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
    try:
        wait_ready(
            "break metrics",
            lambda: "deskwatch_breaks_screen_work_today_seconds" in http_get(url),
            process=proc,
            logs=[log],
            timeout=20,
        )
        samples = _samples(http_get(url))
    finally:
        stop(proc)
    device = (("device", "breaks"), ("item", ""))
    assert samples["deskwatch_breaks_screen_work_today_seconds"][device] >= 0
    # The default preset: a micro-break after 20 minutes of screen work, just started.
    assert 19 * 60 <= samples["deskwatch_breaks_next_break_seconds"][device] <= 20 * 60
    assert samples["deskwatch_breaks_stretch_seconds"][device] >= 0
    assert samples["deskwatch_breaks_taken_today"][device] == 0
    assert samples["deskwatch_breaks_skipped_today"][device] == 0
    levels = {dict(k)["indicator"]: v for k, v in samples["deskwatch_indicator_level"].items()}
    assert levels["breaks.screen_work_today"] == 0
    assert levels["breaks.activity_source"] == 1  # no idle time: natural breaks cannot be seen
    assert samples["deskwatch_breaks_activity_source_info"] == {(("source", "none"),): 1.0}
    phases = {dict(k)["phase"]: v for k, v in samples["deskwatch_breaks_phase"].items()}
    assert phases["working"] == 1 and sum(phases.values()) == 1
    # SIGTERM stops the break service before the history closes: the state is saved.
    assert proc.returncode == 0, log.read_text("utf-8", "replace")
    history = History(tmp_path / "data" / HISTORY_FILE)
    try:
        saved = history.get_state(STATE_KEY)
        assert saved is not None and saved["stats"]["date"]
    finally:
        history.close()


def test_the_phase_on_metrics_follows_the_service() -> None:
    clock = FakeClock(MONDAY_9AM)
    calls = CallState(hangover_seconds=0, clock=clock)
    engine = Engine(fake_config(), [], clock=clock)
    settings = BreakSettings(plan=BreakPlan(BreakRule(60, 20), BreakRule(0, 0), 0))
    service = BreakService(settings, engine, call_state=calls, source=FakeSource("x11"), clock=clock)
    exporter = Exporter(engine, None, breaks=service)

    def phase() -> str:
        found = _samples(exporter.scrape())["deskwatch_breaks_phase"]
        return next(dict(labels)["phase"] for labels, value in found.items() if value == 1)

    assert phase() == "working"
    calls.set_source("headset", True)
    for _ in range(61):
        clock.advance(1)
        service.step(0.0, False)
    assert phase() == "held"  # due, and a call holds it
    assert _samples(exporter.scrape())["deskwatch_breaks_activity_source_info"] == {(("source", "x11"),): 1.0}
    assert "deskwatch_breaks_phase" not in _samples(Exporter(engine, None).scrape())  # no service, no phase
    service.close()
