"""Nothing an SNMP agent sends stops the printer monitor (issue 13), over real loopback UDP.

One junk datagram before the real answer, a reply to another request, a
2 KB INTEGER, an agent without the Printer MIB: each affects at most that
printer, never the CUPS queues or the other printers, and polling goes on.
"""

from __future__ import annotations

from pathlib import Path

from app.kernel.model import Level, Reading
from app.kernel.monitor import MonitorContext
from monitors.printer import PrinterMonitor
from sensors.snmp_printer import _INTEGER
from tests.printer.conftest import PrivateCups
from tests.printer.snmp_agent import HEALTHY, JAMMED, NO_SUCH_OBJECT, agent, response


def monitor(tmp_path: Path, targets: list[str], server: str | None = None, queue: str = "") -> PrinterMonitor:
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {
        "snmp_printers": targets,
        "connect_timeout": 0.6,
    }
    settings |= {"server": server, "printers": [queue]} if server else {"transport": "none"}
    return PrinterMonitor(settings, MonitorContext(data_dir=tmp_path))


def statuses(readings: list[Reading]) -> dict[str, Reading]:
    return {r.instance: r for r in readings if r.indicator_id == "printer.status"}


def test_junk_before_the_real_answer_is_skipped_not_read_as_not_responding(tmp_path: Path) -> None:
    def junk_then_real(rid: bytes) -> list[bytes]:
        other = bytes([rid[0] ^ 0x55]) + rid[1:]
        return [b"\x00junk\xff", b"\x30\x03\x02\x01", response(other, HEALTHY), response(rid, JAMMED)]

    with agent(junk_then_real) as port:
        watched = monitor(tmp_path, [f"Hall=127.0.0.1:{port}"])
        for _ in range(2):  # and polling goes on
            hall = statuses(watched.poll())["Hall"]
            assert hall.level is Level.CRITICAL and hall.message is not None
            assert hall.message.en.startswith("Paper jam"), (
                hall.message.en
            )  # the real answer, not "not responding"


def test_a_2_kb_integer_makes_only_that_printer_unknown(
    tmp_path: Path, cupsd: PrivateCups, queue: str
) -> None:
    huge = [(_INTEGER, b"\x01" * 2048), *HEALTHY[1:]]
    with (
        agent(lambda rid: [response(rid, huge)]) as bad_port,
        agent(lambda rid: [response(rid, HEALTHY)]) as good_port,
    ):
        watched = monitor(
            tmp_path, [f"Bad=127.0.0.1:{bad_port}", f"Good=127.0.0.1:{good_port}"], cupsd.server, queue
        )
        for _ in range(2):
            got = statuses(watched.poll())
            assert got["Bad"].level is Level.UNKNOWN and got["Bad"].value is None
            assert got["Bad"].message is not None and "invalid" in got["Bad"].message.en
            assert got["Good"].level is Level.OK
            assert got[queue].level is Level.OK  # the CUPS queue is judged as ever


def test_an_agent_without_the_printer_mib_is_unknown_not_ready(tmp_path: Path) -> None:
    with agent(lambda rid: [response(rid, NO_SUCH_OBJECT)]) as port:
        got = statuses(monitor(tmp_path, [f"Hall=127.0.0.1:{port}"]).poll())["Hall"]
    assert got.level is Level.UNKNOWN and got.value is None


def test_a_silent_printer_is_still_not_responding(tmp_path: Path) -> None:
    with agent(lambda rid: []) as port:
        got = statuses(monitor(tmp_path, [f"Hall=127.0.0.1:{port}"]).poll())["Hall"]
    assert got.level is Level.CRITICAL and got.message is not None
    assert got.message.en.startswith("Printer not responding")


def test_only_a_wrong_request_id_reads_as_unknown(tmp_path: Path) -> None:
    with agent(lambda rid: [response(b"\x7f" + rid, HEALTHY)]) as port:
        got = statuses(monitor(tmp_path, [f"Hall=127.0.0.1:{port}"]).poll())["Hall"]
    assert got.level is Level.UNKNOWN and got.detail["bad_replies"] >= 1
