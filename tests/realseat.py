"""A real seat's services and the real tray app on them, shared by the soak and the screenshots.

The soak (``python -m tests.soak``) and the real-seat screenshots
(``python -m tests.screenshots --seat real``) both start the test fixtures'
real services — a private cupsd, PulseAudio with a null sink as the headset,
SIPp as the PBX, pty sensors — and run Deskwatch's own ``run`` command on an
Xvfb display with a tray.  What they share lives here:

- :class:`Phone`: SIPp answering OPTIONS on UDP and TCP at one port;
- :func:`app_env` and :func:`app_command`: how the app process is started;
- :func:`tests.apprun.run_app_with` (a module of its own, so that the app's
  process imports none of the fixtures) runs ``app.cli`` with a hook on the
  started app.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.audio.conftest import PulseServer
from tests.services import require
from tests.telephone.conftest import SippServer, free_port, start_sipp
from tests.xserver import XServer

ROOT = Path(__file__).resolve().parents[1]

#: Programs a seat needs, with the Debian package that brings each one.
SEAT_PROGRAMS = {
    "Xvfb": "xvfb",
    "trayer": "trayer",
    "cupsd": "cups-daemon",
    "lpadmin": "cups-client",
    "pulseaudio": "pulseaudio",
    "pactl": "pulseaudio-utils",
    "pacat": "pulseaudio-utils",
    "sipp": "sip-tester",
}


def require_seat() -> None:
    """Fail at once, naming the package, when a program a seat needs is missing.

    The fixtures check too, but only when each service starts: this way a
    missing SIPp is reported before cupsd and PulseAudio have been started.
    """
    for binary, package in SEAT_PROGRAMS.items():
        require(binary, package)


class Phone:
    """SIPp answering OPTIONS on UDP and TCP at one port, which a caller can take away and bring back."""

    transports = ("udp", "tcp")

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.servers: list[SippServer] = []

    def start(self) -> None:
        self.servers = [start_sipp(self.workdir, transport=t, port=self.port) for t in self.transports]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []


def app_env(x: XServer, pulse: PulseServer, tmp: Path, lang: str = "zh_CN") -> dict[str, str]:
    """The app's environment: the X display with its tray, the private PulseAudio, a private TMPDIR."""
    qt_tmp = tmp / "qt-tmp"
    qt_tmp.mkdir(exist_ok=True)
    locale = "en_US.UTF-8" if lang == "en" else f"{lang}.UTF-8"
    return {**x.env, **pulse.env, "TMPDIR": str(qt_tmp), "LANG": locale}


def app_command(entry: list[str], config: Path, data_dir: Path, *extra: str) -> list[str]:
    """``python -m <entry…> run --config … --data-dir …`` (``entry``: ``["app.cli"]`` or a wrapper)."""
    return [sys.executable, "-m", *entry, "run", "--config", str(config), "--data-dir", str(data_dir), *extra]
