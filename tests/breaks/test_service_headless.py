"""Break state on ``/metrics``: ``deskwatch run --headless`` with the exporter on (a real process)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

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
from tests.xserver import xvfb


def _samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _run_headless(
    tmp_path: Path, source: str, env: dict[str, str], ready: str
) -> tuple[dict[str, Any], int, str]:
    """Run ``deskwatch run --headless`` with the exporter until ``ready`` is on /metrics; its samples."""
    port = free_port()
    config = tmp_path / "deskwatch.toml"
    config.write_text(
        f'[exporter]\nenabled = true\nport = {port}\n\n[breaks]\nactivity_source = "{source}"\n\n'
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
            env={**env, "LANG": "en_US.UTF-8"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready("break metrics", lambda: ready in http_get(url), process=proc, logs=[log], timeout=20)
        samples = _samples(http_get(url))
    finally:
        stop(proc)
    return samples, proc.returncode, log.read_text("utf-8", "replace")


def _levels(samples: dict[str, Any]) -> dict[str, float]:
    return {dict(k)["indicator"]: v for k, v in samples["deskwatch_indicator_level"].items()}


def test_headless_exports_break_state(tmp_path: Path) -> None:
    """With an idle-time source (a real X server's screensaver extension) the break clock runs headless."""
    with xvfb(with_tray=False) as server:
        samples, returncode, log = _run_headless(
            tmp_path, "auto", {**os.environ, **server.env}, "deskwatch_breaks_screen_work_today_seconds"
        )
    device = (("device", "breaks"), ("item", ""))
    assert samples["deskwatch_breaks_screen_work_today_seconds"][device] >= 0
    # The default preset: a micro-break after 20 minutes of screen work, just started.
    assert 19 * 60 <= samples["deskwatch_breaks_next_break_seconds"][device] <= 20 * 60
    assert samples["deskwatch_breaks_stretch_seconds"][device] >= 0
    assert samples["deskwatch_breaks_taken_today"][device] == 0
    assert samples["deskwatch_breaks_skipped_today"][device] == 0
    levels = _levels(samples)
    assert levels["breaks.screen_work_today"] == 0
    assert levels["breaks.activity_source"] == 0  # observed: the X server's idle time
    assert samples["deskwatch_breaks_activity_source_info"] == {(("source", "x11"),): 1.0}
    phases = {dict(k)["phase"]: v for k, v in samples["deskwatch_breaks_phase"].items()}
    assert phases["working"] == 1 and sum(phases.values()) == 1
    # SIGTERM stops the break service before the history closes: the state is saved.
    assert returncode == 0, log
    history = History(tmp_path / "data" / HISTORY_FILE)
    try:
        saved = history.get_state(STATE_KEY)
        assert saved is not None and saved["stats"]["date"]
    finally:
        history.close()


def test_headless_without_idle_time_counts_nothing_and_cries_no_wolf(tmp_path: Path) -> None:
    """No display, no session bus: nobody to remind and nothing seen, so no clock and no alert."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
    }
    env["XDG_CURRENT_DESKTOP"] = ""
    samples, returncode, log = _run_headless(tmp_path, "auto", env, 'indicator="breaks.activity_source"')
    assert returncode == 0, log
    assert _levels(samples)["breaks.activity_source"] == 4  # not set up: grey, never an alert
    # Wall-clock time is not screen work: no screen-work figures at all rather than made-up ones.
    assert "deskwatch_breaks_screen_work_today_seconds" not in samples
    assert not any(
        dict(k).get("indicator", "").startswith("breaks.") for k in samples.get("deskwatch_alert_state", {})
    )


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
