"""The printer monitor's own judgement (``monitors.printer``): set-up, bad settings, the worst reason.

Its transports have their own files: ``test_cups_printer*.py`` (a real
cupsd), ``test_windows_printer.py``, ``test_snmp_printer*.py``.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.kernel.model import Level
from app.kernel.monitor import MonitorContext
from monitors.printer import PrinterMonitor
from sensors import printing as p
from tests.printer.conftest import make_monitor


def test_transport_not_available_here_is_unknown_not_a_crash(tmp_path: Path) -> None:
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {
        "transport": "windows",
        "printers": ["P1"],
    }
    monitor = PrinterMonitor(settings, MonitorContext(data_dir=tmp_path))
    (status,) = monitor.poll()
    assert status.level is Level.UNKNOWN and status.instance == "P1"
    assert status.message is not None and "cannot be read with 'windows'" in status.message.en
    assert "win32print" in status.message.en
    results = monitor.self_test({"test_page": True})
    assert results is not None and [r.status for r in results] == ["fail", "skipped"]


def test_nothing_to_watch_has_a_setup_hint(tmp_path: Path) -> None:
    monitor = make_monitor(tmp_path, None)
    hint = monitor.setup_hint()
    assert hint is not None and "snmp_printers" in hint.en
    (reading,) = monitor.poll()
    assert reading.level is Level.NOT_SET_UP and reading.value is None and reading.message == hint


def test_bad_server_setting_is_unknown_with_the_reason(tmp_path: Path) -> None:
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {"server": "printsrv:ipp"}
    (status,) = PrinterMonitor(settings, MonitorContext(data_dir=tmp_path)).poll()
    assert status.level is Level.UNKNOWN and status.message is not None
    assert status.message.en == "Print server setting not understood: bad port in print server 'printsrv:ipp'"


MONITOR = PrinterMonitor(
    {s.key: s.default for s in PrinterMonitor.settings} | {"transport": "none"},
    MonitorContext(data_dir=Path("/nonexistent")),  # judging only: never touched
)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(p.MESSAGES)),
            st.sampled_from(["", "-report", "-warning", "-error"]),
        ),
        max_size=6,
    )
)
def test_status_level_is_the_worst_reason(pairs: list[tuple[str, str]]) -> None:
    raw = [keyword + suffix for keyword, suffix in pairs]
    (status,) = MONITOR.judge(p.PrinterSnapshot("P", p.STATE_IDLE, tuple(raw), has_queue=False))
    clerk = [p.clerk_severity(p.parse_reason(r)) for r in raw]
    expected = {None: Level.OK, p.Severity.REPORT: Level.OK, p.Severity.WARNING: Level.WARNING}.get(
        max(clerk, default=None), Level.CRITICAL
    )
    assert status.level is expected
    assert set(status.detail["reasons"]) <= set(raw)
    assert status.message is not None
    # Every fault the clerk must act on is named in both languages.
    for reason in p.normalise_reasons(raw):
        if p.clerk_severity(reason) > p.Severity.REPORT and reason.keyword not in p.SAME_AS:
            assert reason.message.en in status.message.en and reason.message.zh in status.message.zh


def test_a_cups_seat_loads_neither_the_windows_spooler_nor_snmp(tmp_path: Path) -> None:
    """The monitor on a CUPS seat with no SNMP printer: those transports' modules stay unloaded."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from app.kernel.monitor import MonitorContext\n"
        "from monitors.printer import PrinterMonitor\n"
        "settings = {s.key: s.default for s in PrinterMonitor.settings}\n"
        "options = settings | {'transport': 'cups', 'server': '127.0.0.1:9'}\n"
        "PrinterMonitor(options, MonitorContext(data_dir=Path(sys.argv[1])))\n"
        "print(sorted(m for m in sys.modules if m in ('sensors.windows_printer', 'sensors.snmp_printer')))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
