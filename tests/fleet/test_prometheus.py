"""A real Prometheus scrapes a running headless Deskwatch; readings and alert states come back."""

from __future__ import annotations

import subprocess

import psutil
from prometheus_client.parser import text_string_to_metric_families

from tests.fleet.conftest import RunningDeskwatch, RunningPrometheus, http_get, require, wait_for


def test_prometheus_reads_a_reading_in_base_units(prometheus: RunningPrometheus) -> None:
    result = prometheus.wait_query('deskwatch_computer_memory_available_ratio{job="deskwatch"}')
    sample = result[0]
    value = float(sample["value"][1])
    # Memory available is declared in percent and exported as a ratio.
    assert 0.0 < value <= 1.0
    assert sample["metric"]["device"] == "computer"
    assert sample["metric"]["room"] == "3F-east"
    expected = psutil.virtual_memory().available / psutil.virtual_memory().total
    assert abs(value - expected) < 0.2


def test_prometheus_reads_an_alert_state(prometheus: RunningPrometheus) -> None:
    expr = 'deskwatch_alert_state{indicator="computer.required_processes", state="active"}'
    sample = prometheus.wait_query(expr)[0]
    assert sample["value"][1] == "1"
    assert sample["metric"]["severity"] == "critical"
    level = prometheus.wait_query('deskwatch_indicator_level{indicator="computer.required_processes"}')
    assert level[0]["value"][1] == "2"
    counts = prometheus.wait_query('deskwatch_alerts{state="active"}')
    assert float(counts[0]["value"][1]) >= 1


def test_shipped_rules_fire_on_the_scraped_state(prometheus: RunningPrometheus) -> None:
    """The generated rules, loaded into Prometheus, turn the missing program into a firing alert."""
    firing = prometheus.wait_query(
        'ALERTS{alertname="DeskwatchDeviceCritical", alertstate="firing", '
        'indicator="computer.required_processes"}'
    )
    assert firing[0]["metric"]["severity"] == "critical"
    # No threshold rule fires for a healthy reading: free disk space is not below 10 % here.
    assert prometheus.query('ALERTS{alertname="DeskwatchComputerDiskFreeSystemCritical"}') == []


def test_build_info_and_levels_are_exported(deskwatch: RunningDeskwatch) -> None:
    text = http_get(deskwatch.metrics_url)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["deskwatch_build_info"].samples[0].labels["version"]
    levels = {s.labels["indicator"]: s.value for s in families["deskwatch_indicator_level"].samples}
    assert levels["computer.required_processes"] == 2.0
    assert levels["computer.cpu"] in (0.0, 1.0, 2.0)


def test_endpoint_listens_on_loopback_only(deskwatch: RunningDeskwatch) -> None:
    listening = [
        c.laddr
        for c in psutil.Process(deskwatch.proc.pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening, "the exporter is not listening"
    assert {addr.ip for addr in listening} == {"127.0.0.1"}
    assert {addr.port for addr in listening} == {deskwatch.port}


def test_textfile_mode_writes_the_same_metrics(deskwatch: RunningDeskwatch) -> None:
    text = wait_for(lambda: deskwatch.textfile.exists() and deskwatch.textfile.read_text("utf-8"), "textfile")
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"deskwatch_computer_cpu_ratio", "deskwatch_alert_state", "deskwatch_build_info"} <= names
    # Written atomically (temporary file, then rename): no temporary files are left next to it.
    wait_for(
        lambda: [p.name for p in deskwatch.textfile.parent.iterdir()] == ["deskwatch.prom"],
        "only the metrics file in the textfile folder",
    )


def test_a_real_scrape_lints_clean(deskwatch: RunningDeskwatch) -> None:
    """``promtool check metrics`` on what the running exporter serves prints nothing."""
    text = http_get(deskwatch.metrics_url)
    assert "deskwatch_alert_state{" in text  # the scrape holds an alert, not only readings
    done = subprocess.run(
        [require("promtool"), "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
