"""Prometheus metrics: a custom collector over the engine's latest states.

Every scrape reads the engine's current states and alerts (no metric objects
are kept in step with readings), so the exporter costs nothing between
scrapes.  Names follow Prometheus conventions: ``deskwatch_`` prefix, base
units from each indicator's ``metric_unit``/``metric_scale`` (percent →
``_ratio``, ms → ``_seconds``).  An indicator whose ``metric_unit`` is
``total`` counts events since start and is exported as a counter
(``promtool check metrics`` prints nothing for a scrape).

Every label value is made safe first (:func:`label_value`): a name from
outside — a recording's file name on a share, a printer's name — may hold
characters that are not valid UTF-8, and one such label would otherwise turn
every scrape into an HTTP 500.  Each series is exported once: an indicator
that flapped three times shows one ``deskwatch_alert_state`` series, not three.

Labels: ``device`` is the device group; ``item`` names the instance of an
indicator that exists once per printer, disk or sensor.  (Prometheus itself
sets ``instance`` to the scrape target — the seat — so a label of ours with
that name would be renamed ``exported_instance`` on ingestion.)

The endpoint binds to 127.0.0.1 unless configured otherwise; sites that want
no open port use node_exporter's textfile collector instead (atomic writes).
"""

from __future__ import annotations

import logging
import platform
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app import __version__
from app.core.alerts import Alert, AlertState
from app.core.config import Config
from app.core.engine import Engine
from app.core.history import History
from app.kernel.model import Indicator, Level

if TYPE_CHECKING:
    from app.core.breaks import BreakService

log = logging.getLogger(__name__)

PREFIX = "deskwatch"
_INVALID = re.compile(r"[^a-zA-Z0-9_]")
#: Lone surrogates: what Python makes of bytes that are not UTF-8 (os.fsdecode of a GBK name).
_SURROGATES = re.compile("[\ud800-\udfff]")
#: ``metric_unit`` of an indicator that counts events since start: exported as a counter.
COUNTER_UNIT = "total"


def metric_name(indicator: Indicator) -> str:
    """``deskwatch_<monitor>_<name>[_<metric_unit>]`` for a numeric indicator."""
    parts = [PREFIX, *indicator.id.split(".", 1)]
    if indicator.metric_unit and not indicator.name.endswith("_" + indicator.metric_unit):
        parts.append(indicator.metric_unit)
    return _INVALID.sub("_", "_".join(parts))


def label_value(value: object) -> str:
    """``value`` as a label value that always encodes as UTF-8.

    Undecodable characters (surrogates from a non-UTF-8 file name) become
    U+FFFD, as a UTF-8 decoder with ``errors="replace"`` would show them.
    """
    text = str(value)
    return text if text.isascii() else _SURROGATES.sub("\ufffd", text)


def _labels(*values: object) -> list[str]:
    return [label_value(v) for v in values]


def exported(indicator: Indicator) -> bool:
    """Whether an indicator's value becomes a gauge (levels are exported for all)."""
    return indicator.numeric


def _value_family(ind: Indicator, name: str) -> GaugeMetricFamily | CounterMetricFamily:
    """The metric family for an indicator's values: a counter for counts since start."""
    if ind.metric_unit == COUNTER_UNIT:
        # The client appends "_total" to a counter's samples itself.
        return CounterMetricFamily(name.removesuffix("_total"), ind.label.en, labels=["item", "device"])
    unit = f" ({ind.metric_unit})" if ind.metric_unit else ""
    return GaugeMetricFamily(name, f"{ind.label.en}{unit}", labels=["item", "device"])


def _matters_more(alert: Alert, other: Alert) -> bool:
    """Whether ``alert`` is the one to show for its indicator rather than ``other``.

    The present alert (active or acknowledged) first, then the most severe,
    then the most recent.
    """

    def order(a: Alert) -> tuple[bool, int, float]:
        return (a.state is not AlertState.CLEARED, a.level.rank, a.started)

    return order(alert) > order(other)


class DeskwatchCollector(Collector):
    """Collects readings, levels, alerts, self-test results, break state and build info on each scrape."""

    def __init__(
        self, engine: Engine, history: History | None = None, breaks: BreakService | None = None
    ) -> None:
        self.engine = engine
        self.history = history
        self.breaks = breaks
        self.started = time.time()

    def describe(self) -> list[Any]:
        """Nothing up front: the metric set depends on the monitors running."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Build every metric family from the current states."""
        yield from self._build_info()
        yield from self._readings()
        yield from self._alerts()
        yield from self._selftest()
        yield from self._breaks()

    def _build_info(self) -> Iterator[GaugeMetricFamily]:
        info = GaugeMetricFamily(
            f"{PREFIX}_build_info",
            "Deskwatch version and platform (always 1)",
            labels=["version", "python", "platform"],
        )
        info.add_metric(_labels(__version__, platform.python_version(), platform.system().lower()), 1.0)
        yield info
        start = GaugeMetricFamily(
            f"{PREFIX}_start_time_seconds", "When this Deskwatch process started (Unix time)"
        )
        start.add_metric([], self.started)
        yield start

    def _readings(self) -> Iterator[Metric]:
        states = self.engine.states()
        values: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        level = GaugeMetricFamily(
            f"{PREFIX}_indicator_level",
            "Indicator level: 0 ok, 1 warning, 2 critical, 3 unknown (tried and could not observe), "
            "4 not set up or not observed (nothing configured to observe, or nothing to measure "
            "right now, e.g. no speech for the speech level; never an alert)",
            labels=["indicator", "item", "device"],
        )
        updated = GaugeMetricFamily(
            f"{PREFIX}_indicator_updated_timestamp_seconds",
            "When the indicator's last reading arrived (Unix time)",
            labels=["indicator", "item", "device"],
        )
        band = GaugeMetricFamily(
            f"{PREFIX}_indicator_band",
            "The band of a two-sided range the indicator is judged in, e.g. the season (always 1)",
            labels=["indicator", "item", "device", "band"],
        )
        for state in states:
            ind = state.indicator
            labels = _labels(ind.id, state.instance, ind.device.id)
            level.add_metric(labels, float(int(state.level)))
            updated.add_metric(labels, state.updated)
            if state.band:
                band.add_metric([*labels, state.band], 1.0)
            value = state.value
            if not exported(ind) or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            name = metric_name(ind)
            family = values.get(name)
            if family is None:
                family = values[name] = _value_family(ind, name)
            family.add_metric(labels[1:], float(value) * ind.metric_scale)
        yield from values.values()
        yield level
        yield updated
        if band.samples:
            yield band

    def _alerts(self) -> Iterator[GaugeMetricFamily]:
        per_alert = GaugeMetricFamily(
            f"{PREFIX}_alert_state",
            "1 for each indicator with an alert shown to the clerk, by lifecycle state "
            "(active: present and unacknowledged; acknowledged; cleared: gone but not yet seen)",
            labels=["indicator", "item", "device", "state", "severity"],
        )
        since = GaugeMetricFamily(
            f"{PREFIX}_alert_started_timestamp_seconds",
            "When the indicator's alert was raised (Unix time; the present alert, else the latest)",
            labels=["indicator", "item", "device"],
        )
        counts = dict.fromkeys((AlertState.ACTIVE, AlertState.ACKNOWLEDGED, AlertState.CLEARED), 0)
        # One series per label set: repeated episodes of one indicator (flaps
        # nobody has seen yet) would otherwise give identical series, which
        # Prometheus rejects as duplicates.
        shown: dict[tuple[str, ...], None] = {}  # an ordered set
        started: dict[tuple[str, ...], Alert] = {}
        for alert in self.engine.alerts.visible():
            state = alert.state
            if state not in counts:
                continue
            counts[state] += 1
            labels = tuple(_labels(alert.indicator_id, alert.instance, alert.device.id))
            shown[(*labels, state.value, alert.level.name.lower())] = None
            if labels not in started or _matters_more(alert, started[labels]):
                started[labels] = alert
        for key in shown:
            per_alert.add_metric(list(key), 1.0)
        for key, alert in started.items():
            since.add_metric(list(key), alert.started)
        total = GaugeMetricFamily(
            f"{PREFIX}_alerts", "Number of alerts shown to the clerk, by state", labels=["state"]
        )
        for state, count in counts.items():
            total.add_metric([state.value], float(count))
        yield per_alert
        yield since
        yield total

    def _selftest(self) -> Iterator[GaugeMetricFamily]:
        if self.history is None:
            return
        from app.core import selftest

        found = selftest.latest(self.history)
        if found is None:
            return
        ts, result = found
        when = GaugeMetricFamily(
            f"{PREFIX}_selftest_timestamp_seconds", "When the last start-of-shift check finished"
        )
        when.add_metric([], ts)
        passed = GaugeMetricFamily(
            f"{PREFIX}_selftest_passed",
            "Last start-of-shift check per monitor: 1 passed, 0 failed (skipped monitors are absent)",
            labels=["monitor", "device"],
        )
        for check in result.checks:
            if check.status != selftest.SKIPPED:
                passed.add_metric(
                    _labels(check.monitor_id, check.device.id), 1.0 if check.status == "pass" else 0.0
                )
        yield when
        yield passed

    def _breaks(self) -> Iterator[GaugeMetricFamily]:
        """The break reminders' phase and activity source (their values are ``breaks.*`` readings)."""
        if self.breaks is None:
            return
        from app.core.breaks import Phase

        current = self.breaks.status().phase
        phase = GaugeMetricFamily(
            f"{PREFIX}_breaks_phase",
            "Break reminders' phase: 1 for the phase they are in (held: a call holds a due break)",
            labels=["phase"],
        )
        for each in Phase:
            phase.add_metric([each.value], 1.0 if each is current else 0.0)
        source = GaugeMetricFamily(
            f"{PREFIX}_breaks_activity_source_info",
            "Where keyboard/mouse idle time comes from (always 1; none: natural breaks cannot be seen)",
            labels=["source"],
        )
        source.add_metric(_labels(self.breaks.source_name), 1.0)
        yield phase
        yield source


class Exporter:
    """Serves ``/metrics`` and/or writes a node_exporter textfile, per the ``[exporter]`` config."""

    def __init__(
        self,
        engine: Engine,
        history: History | None,
        *,
        breaks: BreakService | None = None,
        address: str = "127.0.0.1",
        port: int | None = 9858,
        textfile: Path | None = None,
        textfile_interval: float = 15.0,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = DeskwatchCollector(engine, history, breaks)
        self.registry.register(self.collector)
        self.address = address
        self.port = port
        self.textfile = textfile
        self.textfile_interval = textfile_interval
        self.bound_port: int | None = None
        self.error: str | None = None
        self._server: Any = None
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None

    @classmethod
    def from_config(
        cls, config: Config, engine: Engine, history: History | None, breaks: BreakService | None = None
    ) -> Exporter | None:
        """The exporter the config asks for, or ``None`` when it is switched off."""
        section = config.app.get("exporter", {})
        textfile = str(section.get("textfile") or "")
        if not section.get("enabled") and not textfile:
            return None
        return cls(
            engine,
            history,
            breaks=breaks,
            address=str(section.get("address", "127.0.0.1")),
            port=int(section.get("port", 9858)) if section.get("enabled") else None,
            textfile=Path(textfile) if textfile else None,
            textfile_interval=float(section.get("textfile_interval", 15.0)),
        )

    def start(self) -> None:
        """Open the endpoint and start the textfile writer; failures are logged, not raised."""
        if self.port is not None:
            try:
                self._server, _thread = start_http_server(self.port, self.address, registry=self.registry)
                self.bound_port = int(self._server.server_port)
                log.info("metrics at http://%s:%d/metrics", self.address, self.bound_port)
            except OSError as exc:  # port taken, bad address: monitoring goes on without it
                self.error = f"cannot listen on {self.address}:{self.port}: {exc.strerror or exc}"
                log.error("exporter: %s", self.error)
        if self.textfile is not None:
            self._stop.clear()
            self._writer = threading.Thread(target=self._write_loop, name="deskwatch-textfile", daemon=True)
            self._writer.start()

    def write_textfile(self) -> bool:
        """Write the metrics file once (atomically: temp file, then rename)."""
        if self.textfile is None:
            return False
        try:
            self.textfile.parent.mkdir(parents=True, exist_ok=True)
            write_to_textfile(str(self.textfile), self.registry)
            return True
        except OSError as exc:
            self.error = f"cannot write {self.textfile}: {exc.strerror or exc}"
            log.error("exporter: %s", self.error)
            return False

    def _write_loop(self) -> None:
        while True:
            try:
                self.write_textfile()
            except Exception:  # a collector bug must not end the writes for the rest of the shift
                log.exception("exporter: writing %s failed", self.textfile)
            if self._stop.wait(self.textfile_interval):
                return

    def stop(self) -> None:
        """Close the endpoint and stop the writer, after a last write of the file."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._writer is not None:
            self._stop.set()
            self._writer.join(5.0)
            self._writer = None
            # The file's mtime then tells node_exporter users when Deskwatch stopped.
            self.write_textfile()

    def scrape(self) -> str:
        """The exposition text of one scrape, as ``/metrics`` serves it (tests read it directly)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry).decode("utf-8")


def numeric_indicators(indicators: Iterable[Indicator]) -> list[Indicator]:
    """Indicators that have a value gauge, in declaration order."""
    return [ind for ind in indicators if exported(ind)]


__all__ = ["DeskwatchCollector", "Exporter", "Level", "metric_name", "numeric_indicators"]
