"""A private cupsd with a fault-injecting backend, for the printer tests.

The daemon runs from its own configuration, state, spool and backend folders
in a temporary directory and listens on a free loopback port, so the tests
never see the system's CUPS (whether it runs or not).  Its one backend,
``faulty``, reads a control file per queue and behaves like a printer that
prints, jams, runs out of paper, runs low on toner, has its door open, goes
offline, prints slowly or fails the job.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.kernel.monitor import MonitorContext
from monitors.printer import PrinterMonitor
from tests.services import ServiceError, check_config, wait_ready

REQUIRED = ("cupsd", "lpadmin", "lp", "cancel", "cupsenable", "cupsdisable", "cupsaccept", "lpstat")
#: Every fault the backend can set; "ok" clears them all, as a printer does once fixed.
FAULTS = (
    "media-jam-error",
    "media-empty-error",
    "toner-low-warning",
    "marker-supply-low-warning",
    "door-open-error",
    "offline-report",
)

BACKEND = r"""#!/bin/sh
# Fault-injecting CUPS backend for Deskwatch's tests (see backend(7)).
if [ $# -eq 0 ]; then
  echo 'direct faulty "Deskwatch" "Fault-injecting test printer"'
  exit 0
fi
control="@CONTROL@/$PRINTER"
mode=$(cat "$control" 2>/dev/null || echo ok)
# Swallow the document like a printer would (stdin, or the file in $6).
if [ -n "$6" ]; then cat "$6" > /dev/null; else cat > /dev/null; fi
echo "$(date +%s) job $1 mode $mode" >> "$control.log"
case "$mode" in
  ok)      echo "STATE: -@FAULTS@" >&2; exit 0 ;;
  jam)     echo "STATE: +media-jam-error" >&2; echo "ERROR: Paper jam in tray 1" >&2; exit 4 ;;
  empty)   echo "STATE: +media-empty-error" >&2; echo "ERROR: Tray 1 is empty" >&2; exit 4 ;;
  toner)   echo "STATE: +toner-low-warning,marker-supply-low-warning" >&2; exit 0 ;;
  door)    echo "STATE: +door-open-error" >&2; echo "ERROR: Front door open" >&2; exit 4 ;;
  offline)
    # Like the socket/ipp backends: report offline and keep trying until the printer is back.
    echo "STATE: +offline-report" >&2; echo "INFO: Printer not responding" >&2
    while [ "$(cat "$control")" = offline ]; do sleep 0.1; done
    echo "STATE: -offline-report" >&2; exit 0 ;;
  slow*)   sleep "${mode#slow}"; exit 0 ;;
  fail)    echo "ERROR: Printer rejected the job" >&2; exit 1 ;;
  *)       echo "ERROR: unknown test mode $mode" >&2; exit 1 ;;
esac
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true; fail the test with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class PrivateCups:
    """One private cupsd and the command-line tools pointed at it."""

    _names = itertools.count(1)

    def __init__(self, root: Path) -> None:
        missing = [tool for tool in REQUIRED if shutil.which(tool) is None]
        if missing:
            pytest.fail(
                f"CUPS tools missing: {', '.join(missing)} (install cups-daemon cups-client cups-bsd)"
            )
        self.root = root
        self.port = free_port()
        self.server = f"127.0.0.1:{self.port}"
        #: The same server on a local socket, as CUPS listens on /run/cups/cups.sock.
        self.socket = str(root / "cups.sock")
        self.control = root / "control"
        self.proc: subprocess.Popen[bytes] | None = None
        self._configure()

    def _configure(self) -> None:
        root = self.root
        for sub in ("state", "cache", "spool/tmp", "log", "ppd", "bin/backend", "control"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        for sub in ("daemon", "notifier", "filter", "cgi-bin", "monitor"):
            system = Path("/usr/lib/cups") / sub
            if system.exists() and not (root / "bin" / sub).exists():
                (root / "bin" / sub).symlink_to(system)
        backend = root / "bin" / "backend" / "faulty"
        script = BACKEND.replace("@CONTROL@", str(self.control)).replace("@FAULTS@", ",".join(FAULTS))
        backend.write_text(script, "utf-8")
        # Mode 0700: cupsd runs a backend nobody else may execute as root,
        # which lets it read the control files in this private folder.
        backend.chmod(0o700)
        (root / "cupsd.conf").write_text(
            f"""LogLevel info
Listen 127.0.0.1:{self.port}
Listen {self.socket}
Browsing Off
WebInterface No
DefaultAuthType None
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  # Job attributes (names, users, times) visible to the tests' anonymous client.
  # Only valid inside <Policy>: CUPS 2.4.2-3+deb12u10 refuses them at top level.
  JobPrivateAccess all
  JobPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
""",
            "utf-8",
        )
        (root / "cups-files.conf").write_text(
            f"""ServerRoot {root}
StateDir {root}/state
CacheDir {root}/cache
RequestRoot {root}/spool
TempDir {root}/spool/tmp
ServerBin {root}/bin
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
SystemGroup root
Sandboxing Relaxed
""",
            "utf-8",
        )

    @property
    def env(self) -> dict[str, str]:
        """Environment for CUPS command-line tools aimed at this server."""
        return {**os.environ, "CUPS_SERVER": self.server}

    @property
    def config_files(self) -> list[str]:
        """cupsd's ``-c``/``-s`` arguments: this server's two configuration files."""
        return ["-c", str(self.root / "cupsd.conf"), "-s", str(self.root / "cups-files.conf")]

    def start(self) -> None:
        """Check the configuration with ``cupsd -t``, start cupsd and wait until it answers."""
        check_config("cupsd", ["cupsd", "-t", *self.config_files])
        self._stderr = open(self.root / "log" / "cupsd.stderr", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["cupsd", "-f", *self.config_files], stdout=subprocess.DEVNULL, stderr=self._stderr
        )

        def answers() -> bool:
            # "lpstat -r" exits 0 either way; what it prints tells.
            done = subprocess.run(["lpstat", "-r"], env=self.env, capture_output=True, text=True)
            return done.stdout.strip() == "scheduler is running"

        try:
            wait_ready(
                f"cupsd on {self.server}",
                answers,
                process=self.proc,
                logs=[self.root / "log" / "cupsd.stderr", self.root / "log" / "error_log"],
                timeout=10,
            )
        except ServiceError:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop cupsd (as an administrator stopping the print service would)."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()
        self.proc = None

    def run(self, *command: str) -> str:
        """Run a CUPS tool against this server; fail loudly if it fails."""
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        return done.stdout

    def add_queue(self, prefix: str = "desk") -> str:
        """A new, enabled queue on the faulty backend, printing normally."""
        name = f"{prefix}{next(self._names)}"
        self.set_mode(name, "ok")
        self.run("lpadmin", "-p", name, "-v", f"faulty:/{name}", "-E")
        return name

    def set_mode(self, queue: str, mode: str) -> None:
        """What the backend does with the next job on ``queue``."""
        (self.control / queue).write_text(mode, "utf-8")

    def submit(self, queue: str, text: str = "Deskwatch test job\n") -> int:
        """Print a small job; returns its id."""
        out = subprocess.run(
            ["lp", "-d", queue, "-t", "deskwatch-test"],
            input=text,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        # "request id is desk1-3 (1 file(s))"
        return int(out.split("request id is ", 1)[1].split()[0].rsplit("-", 1)[1])

    def jobs_run(self, queue: str) -> int:
        """How many jobs the backend has handled on ``queue``."""
        log = self.control / f"{queue}.log"
        return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture(scope="session")
def cupsd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateCups]:
    """The session's private cupsd."""
    server = PrivateCups(tmp_path_factory.mktemp("cups"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def queue(cupsd: PrivateCups) -> Iterator[str]:
    """A fresh queue per test, so faults and job history never leak between tests."""
    name = cupsd.add_queue()
    yield name
    subprocess.run(["cancel", "-a", name], env=cupsd.env, capture_output=True)
    subprocess.run(["lpadmin", "-x", name], env=cupsd.env, capture_output=True)


def make_monitor(tmp_path: Path, server: Any, **options: Any) -> PrinterMonitor:
    """A printer monitor on ``server`` (any :class:`~sensors.print_server.PrintServer`, or ``None``)."""
    settings = {s.key: s.default for s in PrinterMonitor.settings} | {"transport": "none"} | options
    monitor = PrinterMonitor(settings, MonitorContext(data_dir=tmp_path))
    monitor._server = server
    return monitor
