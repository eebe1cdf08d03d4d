"""A private D-Bus session with today's desktop pieces: a StatusNotifierItem tray host and dunst.

Everything here is real and from Debian:

- :func:`session_bus` runs ``dbus-daemon`` on its own configuration (checked
  with an XML parser first), without service activation, so nothing starts
  by itself on the test's bus — a test without a notification server really
  has none;
- :func:`sni_host` runs ``status-notifier-watcher``
  (``haskell-status-notifier-item-utils``), the ``org.kde.StatusNotifierWatcher``,
  and ``gtk-sni-tray-standalone`` (``haskell-gtk-sni-tray-utils``), a host
  that draws the items on the X display, as KDE, Kylin, UOS and GNOME's
  AppIndicator extension do;
- :func:`dunst_server` runs ``dunst`` (the ``org.freedesktop.Notifications``
  server) with a rule whose script logs every notification that arrives,
  urgency included (``dunstctl history`` leaves urgency out in Debian 12's
  dunst 1.9);
- :func:`busctl` reads properties and calls methods (``busctl --json``, from
  ``systemd``) the way any other client on the bus would.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.services import ServiceError, check_xml, quote_logs, require, stop, wait_ready
from tests.xserver import XServer

#: A session bus with no service directories: nothing is activated behind the test's back.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

WATCHER = "org.kde.StatusNotifierWatcher"
NOTIFICATIONS = "org.freedesktop.Notifications"


@dataclass
class SessionBus:
    """A running private session bus; ``env`` is what a client needs to reach it."""

    address: str
    env: dict[str, str]


def _read_line(stream: Any, process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    """The first line a just-started server prints on ``stream`` (its address)."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([stream], [], [], left)[0]:
            raise ServiceError(f"dbus-daemon printed no address within {timeout:g} s\n{quote_logs([log])}")
        chunk = os.read(stream.fileno(), 256)
        if not chunk:
            raise ServiceError(f"dbus-daemon exited with {process.wait()}\n{quote_logs([log])}")
        line += chunk
    return line.decode().strip()


@contextmanager
def session_bus(base_env: dict[str, str] | None = None) -> Iterator[SessionBus]:
    """Start a private ``dbus-daemon`` session bus; stop it on exit."""
    daemon = require("dbus-daemon", "dbus-daemon")
    folder = Path(tempfile.mkdtemp(prefix="dw-bus-"))
    config, log = folder / "session.conf", folder / "dbus-daemon.log"
    config.write_text(BUS_CONFIG.format(socket_dir=folder), "utf-8")
    check_xml("dbus-daemon", config, "busconfig")
    with log.open("wb") as err:
        process = subprocess.Popen(
            [daemon, "--config-file", str(config), "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        assert process.stdout is not None
        address = _read_line(process.stdout, process, log, timeout=10)
        env = {**(base_env if base_env is not None else os.environ), "DBUS_SESSION_BUS_ADDRESS": address}
        yield SessionBus(address, env)
    finally:
        stop(process, timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)


def busctl(bus: SessionBus, *args: str, timeout: float = 10.0) -> Any:
    """``busctl --json=short`` on the private bus: the decoded reply (``ServiceError`` on failure)."""
    exe = require("busctl", "systemd")
    done = subprocess.run(
        [exe, f"--address={bus.address}", "--json=short", "--", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise ServiceError(f"busctl {' '.join(args)}: {done.stderr.strip()}")
    return json.loads(done.stdout) if done.stdout.strip() else None


def _ask_bus(bus: SessionBus, method: str, name: str) -> Any:
    """The first value of an ``org.freedesktop.DBus`` method that takes a bus name."""
    reply = busctl(
        bus,
        "call",
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        method,
        "s",
        name,
    )
    return reply["data"][0]


def has_owner(bus: SessionBus, name: str) -> bool:
    """Whether a connection owns ``name`` on the bus."""
    return bool(_ask_bus(bus, "NameHasOwner", name))


def pid_of(bus: SessionBus, service: str) -> int:
    """The process id behind a bus name."""
    return int(_ask_bus(bus, "GetConnectionUnixProcessID", service))


def property_of(bus: SessionBus, service: str, path: str, interface: str, name: str) -> Any:
    """One D-Bus property's value."""
    return busctl(bus, "get-property", service, path, interface, name)["data"]


def _watcher_property(bus: SessionBus, name: str) -> Any:
    """A property of the watcher; ``None`` while it is not (or no longer) answering."""
    try:
        return property_of(bus, WATCHER, "/StatusNotifierWatcher", WATCHER, name)
    except ServiceError:
        return None


@contextmanager
def sni_host(xserver: XServer, bus: SessionBus) -> Iterator[subprocess.Popen[bytes]]:
    """A StatusNotifierWatcher (``status-notifier-watcher``) and a tray host on the X display.

    The watcher runs on its own and must answer before the host
    (``gtk-sni-tray-standalone``) starts: the host's own ``--watcher`` races
    its registration against the watcher it starts, and loses now and then.
    """
    watcher_exe = require("status-notifier-watcher", "haskell-status-notifier-item-utils")
    host_exe = require("gtk-sni-tray-standalone", "haskell-gtk-sni-tray-utils")
    folder = Path(tempfile.mkdtemp(prefix="dw-sni-"))
    watcher_log, host_log = folder / "watcher.log", folder / "sni-host.log"
    env = {**xserver.env, "DBUS_SESSION_BUS_ADDRESS": bus.address, "NO_AT_BRIDGE": "1"}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with watcher_log.open("wb") as err:
            watcher = subprocess.Popen([watcher_exe], env=env, stdout=err, stderr=err)
        processes.append(watcher)
        wait_ready(
            "status-notifier-watcher",
            lambda: _watcher_property(bus, "IsStatusNotifierHostRegistered") is not None,
            process=watcher,
            logs=[watcher_log],
            timeout=20,
        )
        with host_log.open("wb") as err:
            host = subprocess.Popen(
                [host_exe, "--top", "--end", "--size", "32"], env=env, stdout=subprocess.DEVNULL, stderr=err
            )
        processes.append(host)
        wait_ready(
            "gtk-sni-tray-standalone registered as the host",
            lambda: _watcher_property(bus, "IsStatusNotifierHostRegistered") is True,
            process=host,
            logs=[host_log, watcher_log],
            timeout=20,
        )
        yield host
    finally:
        for process in reversed(processes):
            stop(process, timeout=5)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Dunst:
    """A running dunst; :meth:`arrived` is every notification it received, in order."""

    process: subprocess.Popen[bytes]
    bus: SessionBus
    log: Path
    arrivals: Path

    def arrived(self) -> list[dict[str, str]]:
        """What reached dunst: ``DUNST_*`` fields without the prefix (``URGENCY``: LOW/NORMAL/CRITICAL)."""
        try:
            lines = self.arrivals.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]

    def displayed(self) -> int:
        """How many notifications dunst shows on screen now."""
        reply = busctl(
            self.bus, "get-property", NOTIFICATIONS, "/org/freedesktop/Notifications",
            "org.dunstproject.cmd0", "displayedLength",
        )  # fmt: skip
        return int(reply["data"])

    def invoke_default_action(self) -> None:
        """What a click on the top notification does: its default action (``dunstctl action 0``)."""
        busctl(
            self.bus, "call", NOTIFICATIONS, "/org/freedesktop/Notifications",
            "org.dunstproject.cmd0", "NotificationAction", "u", "0",
        )  # fmt: skip

    def forget(self) -> None:
        """Close everything on screen and start a fresh arrivals log (between tests)."""
        busctl(
            self.bus, "call", NOTIFICATIONS, "/org/freedesktop/Notifications",
            "org.dunstproject.cmd0", "NotificationCloseAll",
        )  # fmt: skip
        self.arrivals.write_text("", "utf-8")


DUNSTRC = """[global]
    history_length = 100
    sticky_history = yes
    stack_duplicates = false
    always_run_script = true
    notification_limit = 0
    idle_threshold = 0
[urgency_low]
    timeout = 10
[urgency_normal]
    timeout = 10
[urgency_critical]
    timeout = 0
[log_arrivals]
    appname = "*"
    script = {script}
"""

#: Run by dunst for every notification: one JSON line of its DUNST_* variables.
LOG_SCRIPT = """#!{python}
import json, os
fields = {{k[len("DUNST_"):]: v for k, v in os.environ.items() if k.startswith("DUNST_")}}
with open({log!r}, "a", encoding="utf-8") as out:
    out.write(json.dumps(fields) + "\\n")
"""


@contextmanager
def dunst_server(xserver: XServer, bus: SessionBus) -> Iterator[Dunst]:
    """dunst on the X display and the private bus, logging what arrives."""
    exe = require("dunst", "dunst")
    folder = Path(tempfile.mkdtemp(prefix="dw-dunst-"))
    arrivals, script, config, log = (folder / n for n in ("arrived.jsonl", "log.py", "dunstrc", "dunst.log"))
    script.write_text(LOG_SCRIPT.format(python=sys.executable, log=str(arrivals)), "utf-8")
    script.chmod(0o755)
    config.write_text(DUNSTRC.format(script=script), "utf-8")
    env = {**xserver.env, "DBUS_SESSION_BUS_ADDRESS": bus.address}
    with log.open("wb") as err:
        process = subprocess.Popen([exe, "-config", str(config)], env=env, stdout=err, stderr=err)
    try:
        wait_ready(
            "dunst owning org.freedesktop.Notifications",
            lambda: has_owner(bus, NOTIFICATIONS),
            process=process,
            logs=[log],
            timeout=15,
        )
        yield Dunst(process, bus, log, arrivals)
    finally:
        stop(process, timeout=5)
        shutil.rmtree(folder, ignore_errors=True)
