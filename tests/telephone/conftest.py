"""SIPp (Debian's sip-tester) as a PBX that answers OPTIONS on 127.0.0.1.

``sipp_server(reply, delay_ms, transport, port)`` starts a SIPp UAS running
``scenarios/reply.xml`` with the reply line and delay filled in; every
server is stopped at the end of the test (or earlier with ``.stop()``, which
is how a test makes the PBX go away).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from tests.audio.helpers import stop_process
from tests.services import check_xml, require, wait_ready

SCENARIO = Path(__file__).parent / "scenarios" / "reply.xml"


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                    udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class SippServer:
    """One running SIPp UAS."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, transport: str, log: Path) -> None:
        self.process = process
        self.port = port
        self.transport = transport
        #: SIPp's stderr (a scenario it refuses, a port it cannot bind).
        self.log = log

    def wait_listening(self, timeout: float = 10.0) -> None:
        kind = "udp" if self.transport == "udp" else "tcp"

        def listening() -> bool:
            try:
                sockets = psutil.Process(self.process.pid).net_connections(kind)
            except psutil.Error:  # gone (or a zombie): wait_ready reports the exit and the log
                return False
            return any(c.laddr and c.laddr.port == self.port for c in sockets)

        wait_ready(
            f"sipp listening on {kind} port {self.port}",
            listening,
            process=self.process,
            logs=[self.log],
            timeout=timeout,
        )

    def stop(self) -> None:
        stop_process(self.process)


SippFactory = Callable[..., SippServer]


def start_sipp(
    workdir: Path, reply: str = "200 OK", delay_ms: int = 0, transport: str = "udp", port: int = 0
) -> SippServer:
    """Start a SIPp UAS answering OPTIONS with ``reply`` (for tests, the fault suite and the soak)."""
    binary = require("sipp", "sip-tester")
    port = port or free_port()
    scenario = workdir / f"uas-{transport}-{port}-{time.monotonic_ns()}.xml"
    text = SCENARIO.read_text("utf-8").replace("__REPLY__", reply).replace("__DELAY_MS__", str(delay_ms))
    scenario.write_text(text, "utf-8")
    # SIPp has no dry run: parse the filled-in scenario first, so a broken one
    # fails with the parser's line and column rather than SIPp's exit code.
    check_xml("sipp scenario", scenario, "scenario")
    mode = {"udp": "u1", "tcp": "t1"}[transport]
    log = scenario.with_suffix(".stderr")
    with log.open("wb") as err:
        process = subprocess.Popen(
            [binary, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-t", mode, "-nostdin"],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    server = SippServer(process, port, transport, log)
    try:
        server.wait_listening()
    except RuntimeError:
        server.stop()
        raise
    return server


@pytest.fixture
def sipp_server(tmp_path: Path) -> Iterator[SippFactory]:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed (Debian package sip-tester); .ci/bootstrap installs it")
    servers: list[SippServer] = []

    def start(reply: str = "200 OK", delay_ms: int = 0, transport: str = "udp", port: int = 0) -> SippServer:
        server = start_sipp(tmp_path, reply, delay_ms, transport, port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
